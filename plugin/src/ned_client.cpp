#include "ned_client.h"

#include <cstdlib>
#include <map>
#include <utility>

#include "shared_memory.h"

namespace ned {

struct Connection {
  std::shared_ptr<grpc::Channel> channel;
  std::unique_ptr<v1::EmotionDirector::Stub> stub;
};

namespace {

std::mutex gConnectionsMutex;
std::map<std::string, std::shared_ptr<Connection>> gConnections;

std::mutex gSharedMemoryMutex;
std::map<std::string, bool> gSharedMemory;  // address -> the server maps our segments

}  // namespace

std::chrono::milliseconds timeoutFromEnv(const char* variable, std::chrono::milliseconds fallback) {
  if (const char* env = std::getenv(variable)) {
    char* end = nullptr;
    const long long ms = std::strtoll(env, &end, 10);
    if (end != env && ms > 0) {
      return std::chrono::milliseconds(ms);
    }
  }
  return fallback;
}

namespace {

std::shared_ptr<Connection> connect(const std::string& address) {
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(-1);  // a 4K float frame is 133 MB
  args.SetMaxSendMessageSize(-1);
  // Our own subchannels, so a fresh channel never inherits another one's reconnect backoff.
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
  args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, 100);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 1000);
  auto connection = std::make_shared<Connection>();
  connection->channel = grpc::CreateCustomChannel(address, grpc::InsecureChannelCredentials(), args);
  connection->stub = v1::EmotionDirector::NewStub(connection->channel);
  return connection;
}

std::shared_ptr<Connection> connectionFor(const std::string& address) {
  const std::lock_guard<std::mutex> lock(gConnectionsMutex);
  std::shared_ptr<Connection>& slot = gConnections[address];
  if (!slot) {
    slot = connect(address);
  }
  return slot;
}

// Drops `connection` (if it is still the current one for `address`) so the next call reconnects.
void forget(const std::string& address, const std::shared_ptr<Connection>& connection) {
  const std::lock_guard<std::mutex> lock(gConnectionsMutex);
  const auto it = gConnections.find(address);
  if (it != gConnections.end() && it->second == connection) {
    gConnections.erase(it);
  }
}

void setDeadline(grpc::ClientContext& context, std::chrono::milliseconds timeout) {
  context.set_deadline(std::chrono::system_clock::now() + timeout);
}

}  // namespace

const char* statusCodeName(grpc::StatusCode code) {
  switch (code) {
    case grpc::StatusCode::OK: return "OK";
    case grpc::StatusCode::CANCELLED: return "CANCELLED";
    case grpc::StatusCode::UNKNOWN: return "UNKNOWN";
    case grpc::StatusCode::INVALID_ARGUMENT: return "INVALID_ARGUMENT";
    case grpc::StatusCode::DEADLINE_EXCEEDED: return "DEADLINE_EXCEEDED";
    case grpc::StatusCode::NOT_FOUND: return "NOT_FOUND";
    case grpc::StatusCode::ALREADY_EXISTS: return "ALREADY_EXISTS";
    case grpc::StatusCode::PERMISSION_DENIED: return "PERMISSION_DENIED";
    case grpc::StatusCode::RESOURCE_EXHAUSTED: return "RESOURCE_EXHAUSTED";
    case grpc::StatusCode::FAILED_PRECONDITION: return "FAILED_PRECONDITION";
    case grpc::StatusCode::ABORTED: return "ABORTED";
    case grpc::StatusCode::OUT_OF_RANGE: return "OUT_OF_RANGE";
    case grpc::StatusCode::UNIMPLEMENTED: return "UNIMPLEMENTED";
    case grpc::StatusCode::INTERNAL: return "INTERNAL";
    case grpc::StatusCode::UNAVAILABLE: return "UNAVAILABLE";
    case grpc::StatusCode::DATA_LOSS: return "DATA_LOSS";
    case grpc::StatusCode::UNAUTHENTICATED: return "UNAUTHENTICATED";
    default: return "UNKNOWN_STATUS";
  }
}

std::string describeFailure(const std::string& address, const grpc::Status& status, const char* timeoutVariable) {
  const std::string detail = std::string("(") + statusCodeName(status.error_code()) + ": " +
                             status.error_message() + ")";
  switch (status.error_code()) {
    case grpc::StatusCode::UNAVAILABLE:
      return "server " + address + " unreachable " + detail + ". Start it with: ned-server --listen " + address;
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      return "server " + address + " did not answer in time " + detail +
             ". If it is only slow, raise " + timeoutVariable + " (milliseconds)";
    case grpc::StatusCode::UNIMPLEMENTED:
      return "server " + address + " does not offer this call " + detail + ". Update ned-server";
    case grpc::StatusCode::CANCELLED:
      return "call to server " + address + " cancelled " + detail;
    default:
      return "server " + address + " failed " + detail;
  }
}

// ---------------------------------------------------------------------------------- NedClient

NedClient::NedClient(std::string address) : address_(std::move(address)) {}

void NedClient::raise(const std::shared_ptr<Connection>& connection, const grpc::Status& status) const {
  if (status.error_code() == grpc::StatusCode::UNAVAILABLE) {
    forget(address_, connection);
  }
  throw ServerError(describeFailure(address_, status), status.error_code());
}

v1::RenderFrameResponse NedClient::renderFrame(const v1::RenderFrameRequest& request,
                                               std::chrono::milliseconds timeout) {
  const std::shared_ptr<Connection> connection = connectionFor(address_);
  grpc::ClientContext context;
  setDeadline(context, timeout);
  v1::RenderFrameResponse response;
  const grpc::Status status = connection->stub->RenderFrame(&context, request, &response);
  if (!status.ok()) {
    raise(connection, status);
  }
  return response;
}

std::optional<v1::ShotInfo> NedClient::getShot(const std::string& shotId, bool includeRegions,
                                               std::chrono::milliseconds timeout) {
  const std::shared_ptr<Connection> connection = connectionFor(address_);
  grpc::ClientContext context;
  setDeadline(context, timeout);
  v1::GetShotRequest request;
  request.set_shot_id(shotId);
  request.set_include_regions(includeRegions);
  v1::ShotInfo info;
  const grpc::Status status = connection->stub->GetShot(&context, request, &info);
  if (status.error_code() == grpc::StatusCode::NOT_FOUND ||
      status.error_code() == grpc::StatusCode::UNIMPLEMENTED) {
    return std::nullopt;
  }
  if (!status.ok()) {
    raise(connection, status);
  }
  return info;
}

std::unique_ptr<AnalyzeCall> NedClient::analyzeShot(std::chrono::milliseconds timeout) {
  return std::make_unique<AnalyzeCall>(connectionFor(address_), address_, timeout);
}

std::unique_ptr<TrainCall> NedClient::trainRenderer(const v1::TrainRendererRequest& request,
                                                    std::chrono::milliseconds timeout) {
  return std::make_unique<TrainCall>(connectionFor(address_), address_, timeout, request);
}

bool NedClient::acceptsSharedMemory(std::chrono::milliseconds timeout) {
  if (!sharedMemoryAllowed() || !isLoopbackAddress(address_)) {
    return false;
  }
  {
    const std::lock_guard<std::mutex> lock(gSharedMemoryMutex);
    const auto known = gSharedMemory.find(address_);
    if (known != gSharedMemory.end()) {
      return known->second;
    }
  }
  const std::shared_ptr<Connection> connection = connectionFor(address_);
  grpc::ClientContext context;
  setDeadline(context, timeout);
  v1::ServerInfo info;
  const grpc::Status status = connection->stub->GetServerInfo(&context, v1::GetServerInfoRequest(), &info);
  if (!status.ok()) {
    return false;
  }
  const std::lock_guard<std::mutex> lock(gSharedMemoryMutex);
  return gSharedMemory.emplace(address_, info.shared_memory()).first->second;
}

void NedClient::refuseSharedMemory() {
  const std::lock_guard<std::mutex> lock(gSharedMemoryMutex);
  gSharedMemory[address_] = false;
}

// ------------------------------------------------------------------------------ StreamingCall

template <class Stream, class Response>
StreamingCall<Stream, Response>::StreamingCall(std::shared_ptr<Connection> connection, std::string address,
                                               std::chrono::milliseconds timeout, const char* timeoutVariable)
    : connection_(std::move(connection)), address_(std::move(address)), timeoutVariable_(timeoutVariable) {
  setDeadline(context_, timeout);
}

template <class Stream, class Response>
StreamingCall<Stream, Response>::~StreamingCall() {
  if (!finished_ && stream_) {
    context_.TryCancel();
    if (reader_.joinable()) {
      reader_.join();
    }
    stream_->Finish();
  }
}

template <class Stream, class Response>
v1::EmotionDirector::Stub& StreamingCall<Stream, Response>::stub() const {
  return *connection_->stub;
}

template <class Stream, class Response>
void StreamingCall<Stream, Response>::start(std::unique_ptr<Stream> stream) {
  stream_ = std::move(stream);
  reader_ = std::thread([this] { readLoop(); });
}

template <class Stream, class Response>
void StreamingCall<Stream, Response>::readLoop() {
  try {
    Response message;
    while (stream_->Read(&message)) {
      const std::lock_guard<std::mutex> lock(mutex_);
      progress_.latest = message;
      progress_.received = true;
      ++messages_;
      changed_.notify_all();
    }
  } catch (...) {
    context_.TryCancel();  // an exception must not escape a thread; the call ends as CANCELLED
  }
  const std::lock_guard<std::mutex> lock(mutex_);
  progress_.ended = true;
  changed_.notify_all();
}

template <class Stream, class Response>
typename StreamingCall<Stream, Response>::Progress StreamingCall<Stream, Response>::waitForProgress(
    std::chrono::milliseconds wait) {
  std::unique_lock<std::mutex> lock(mutex_);
  changed_.wait_for(lock, wait, [this] { return progress_.ended || messages_ != messagesSeen_; });
  messagesSeen_ = messages_;
  return progress_;
}

template <class Stream, class Response>
void StreamingCall<Stream, Response>::cancel() {
  context_.TryCancel();
}

template <class Stream, class Response>
Response StreamingCall<Stream, Response>::finish() {
  reader_.join();
  const grpc::Status status = stream_->Finish();
  finished_ = true;
  if (!status.ok()) {
    if (status.error_code() == grpc::StatusCode::UNAVAILABLE) {
      forget(address_, connection_);
    }
    throw ServerError(describeFailure(address_, status, timeoutVariable_), status.error_code());
  }
  const std::lock_guard<std::mutex> lock(mutex_);
  return progress_.latest;
}

template class StreamingCall<AnalyzeStream, v1::AnalyzeShotProgress>;
template class StreamingCall<TrainStream, v1::TrainProgress>;

// -------------------------------------------------------------------------------- AnalyzeCall

AnalyzeCall::AnalyzeCall(std::shared_ptr<Connection> connection, std::string address,
                         std::chrono::milliseconds timeout)
    : StreamingCall(std::move(connection), std::move(address), timeout, "NED_ANALYZE_TIMEOUT_MS") {
  start(stub().AnalyzeShot(&context()));
}

bool AnalyzeCall::write(const v1::AnalyzeShotRequest& request) { return stream().Write(request); }

void AnalyzeCall::closeWrites() { stream().WritesDone(); }

// ---------------------------------------------------------------------------------- TrainCall

TrainCall::TrainCall(std::shared_ptr<Connection> connection, std::string address, std::chrono::milliseconds timeout,
                     const v1::TrainRendererRequest& request)
    : StreamingCall(std::move(connection), std::move(address), timeout, "NED_TRAIN_TIMEOUT_MS") {
  start(stub().TrainRenderer(&context(), request));
}

}  // namespace ned

// Thin gRPC client for ned-server (service ned.v1.EmotionDirector). Knows no OFX types.
//
// Channels are process-global, one per server address, created on first use (never at plugin
// load: hosts load plugins many times, e.g. for `melt -query`). A channel whose call failed with
// UNAVAILABLE is dropped, so the next call starts a fresh connection attempt at once and a server
// that comes back is used by the very next render, without restarting the host.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>

#include <grpcpp/grpcpp.h>

#include "ned/v1/ned.grpc.pb.h"

namespace ned {

// A failed call, with a message for the user that names the server and the gRPC status.
class ServerError : public std::runtime_error {
 public:
  ServerError(const std::string& message, grpc::StatusCode code) : std::runtime_error(message), code_(code) {}
  grpc::StatusCode code() const { return code_; }

 private:
  grpc::StatusCode code_;
};

// The call timeout: the environment variable `variable` in milliseconds when set to a positive
// number (tests and unusually slow machines raise it), else `fallback`.
std::chrono::milliseconds timeoutFromEnv(const char* variable, std::chrono::milliseconds fallback);

// "UNAVAILABLE", "NOT_FOUND", ... for a status code.
const char* statusCodeName(grpc::StatusCode code);

// The user-facing sentence for a failed call to `address`, e.g. "server 127.0.0.1:50051
// unreachable (UNAVAILABLE: failed to connect ...). Start it with: ned-server --listen ...".
// `timeoutVariable` is the environment variable a DEADLINE_EXCEEDED message tells the user to raise.
std::string describeFailure(const std::string& address, const grpc::Status& status,
                            const char* timeoutVariable = "NED_RENDER_TIMEOUT_MS");

struct Connection;

// A running call whose server streams progress (AnalyzeShot, TrainRenderer). A reader thread takes
// every message as it arrives, so the caller (the host's thread, which must keep the progress bar
// and its Cancel button answered) never blocks on the network: it polls for the latest message,
// then finishes or cancels the call. Defined for the two calls below only (ned_client.cpp).
template <class Stream, class Response>
class StreamingCall {
 public:
  struct Progress {
    Response latest;        // the last message the server sent
    bool received = false;  // at least one message arrived
    bool ended = false;     // the server closed its side
  };

  StreamingCall(const StreamingCall&) = delete;
  StreamingCall& operator=(const StreamingCall&) = delete;

  // Waits up to `wait` for a new message or the end of the stream; returns what is known.
  Progress waitForProgress(std::chrono::milliseconds wait);
  // Cancels the call (the server sees its client gone).
  void cancel();
  // Waits for the end of the stream and returns the last message; throws ServerError on failure.
  Response finish();

 protected:
  StreamingCall(std::shared_ptr<Connection> connection, std::string address, std::chrono::milliseconds timeout,
                const char* timeoutVariable);
  ~StreamingCall();

  v1::EmotionDirector::Stub& stub() const;
  grpc::ClientContext& context() { return context_; }
  Stream& stream() { return *stream_; }
  // Takes the stream the derived call opened on context() and starts reading it.
  void start(std::unique_ptr<Stream> stream);

 private:
  void readLoop();

  std::shared_ptr<Connection> connection_;
  std::string address_;
  const char* timeoutVariable_;
  grpc::ClientContext context_;
  std::unique_ptr<Stream> stream_;
  std::mutex mutex_;
  std::condition_variable changed_;
  Progress progress_;
  std::uint64_t messages_ = 0;
  std::uint64_t messagesSeen_ = 0;
  std::thread reader_;
  bool finished_ = false;
};

using AnalyzeStream = grpc::ClientReaderWriter<v1::AnalyzeShotRequest, v1::AnalyzeShotProgress>;
using TrainStream = grpc::ClientReader<v1::TrainProgress>;
extern template class StreamingCall<AnalyzeStream, v1::AnalyzeShotProgress>;
extern template class StreamingCall<TrainStream, v1::TrainProgress>;

// A running AnalyzeShot stream: the caller writes frames; finish() ends with the stored ShotInfo in
// the last message. Cancelling discards the partial analysis.
class AnalyzeCall : public StreamingCall<AnalyzeStream, v1::AnalyzeShotProgress> {
 public:
  AnalyzeCall(std::shared_ptr<Connection> connection, std::string address, std::chrono::milliseconds timeout);

  // Sends one message; false when the stream is broken (finish() then says why).
  bool write(const v1::AnalyzeShotRequest& request);
  // Tells the server no more frames come.
  void closeWrites();
};

// A running TrainRenderer call: progress until the stage "done". Cancelling stops the training;
// the server keeps its last checkpoint and exports nothing.
class TrainCall : public StreamingCall<TrainStream, v1::TrainProgress> {
 public:
  TrainCall(std::shared_ptr<Connection> connection, std::string address, std::chrono::milliseconds timeout,
            const v1::TrainRendererRequest& request);
};

class NedClient {
 public:
  explicit NedClient(std::string address);

  const std::string& address() const { return address_; }

  v1::RenderFrameResponse renderFrame(const v1::RenderFrameRequest& request, std::chrono::milliseconds timeout);

  // The server's record of a shot; std::nullopt when it has none yet (NOT_FOUND) or does not
  // serve shot records (UNIMPLEMENTED), both meaning "no regions known".
  std::optional<v1::ShotInfo> getShot(const std::string& shotId, bool includeRegions,
                                      std::chrono::milliseconds timeout);

  std::unique_ptr<AnalyzeCall> analyzeShot(std::chrono::milliseconds timeout);
  std::unique_ptr<TrainCall> trainRenderer(const v1::TrainRendererRequest& request,
                                           std::chrono::milliseconds timeout);

  // True when the server is on this machine and accepts pixels in shared memory: a loopback
  // address, NED_SHARED_MEMORY not 0, and GetServerInfo.shared_memory (asked once per address and
  // process). False, and asked again next time, when the server cannot be asked now: the render
  // then sends inline bytes and reports any failure itself.
  bool acceptsSharedMemory(std::chrono::milliseconds timeout);
  // Sends inline bytes to this server from now on (it could not map our segments).
  void refuseSharedMemory();

 private:
  // Throws ServerError for a failed status, after dropping the channel when it was unreachable.
  void raise(const std::shared_ptr<Connection>& connection, const grpc::Status& status) const;

  std::string address_;
};

}  // namespace ned

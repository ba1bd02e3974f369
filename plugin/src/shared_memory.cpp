#include "shared_memory.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <set>
#include <system_error>

namespace ned {
namespace {

// Segments grow in whole MiB, so a face region that changes size by a few pixels per frame does not
// make a new segment every frame.
constexpr std::size_t kGranule = std::size_t{1} << 20;

// Names of this process's live segments, for the exit handler. Never destroyed: the handler may run
// after static destructors.
std::mutex& namesMutex() {
  static auto* mutex = new std::mutex;
  return *mutex;
}

std::set<std::string>& liveNames() {
  static auto* names = new std::set<std::string>;
  return *names;
}

std::string ownPrefix() { return "/ned-" + std::to_string(::getpid()) + "-"; }

// Runs at exit (or when the host unloads the plugin): unlinks what threads still alive hold. A forked
// child that exits inherits the handler and the list, so only names of this very process go.
void unlinkLiveSegments() {
  const std::lock_guard<std::mutex> lock(namesMutex());
  const std::string prefix = ownPrefix();
  for (const std::string& name : liveNames()) {
    if (name.compare(0, prefix.size(), prefix) == 0) {
      ::shm_unlink(name.c_str());
    }
  }
  liveNames().clear();
}

void track(const std::string& name) {
  static std::once_flag registered;
  std::call_once(registered, [] { std::atexit(unlinkLiveSegments); });
  const std::lock_guard<std::mutex> lock(namesMutex());
  liveNames().insert(name);
}

void untrack(const std::string& name) {
  const std::lock_guard<std::mutex> lock(namesMutex());
  liveNames().erase(name);
}

std::string nextName() {
  static std::atomic<unsigned long> counter{0};
  return ownPrefix() + std::to_string(counter.fetch_add(1));
}

[[noreturn]] void fail(const std::string& name, const char* what, int error) {
  ::shm_unlink(name.c_str());
  untrack(name);
  throw std::system_error(error, std::generic_category(), std::string(what) + " " + name);
}

struct ThreadSegments {
  std::unique_ptr<SharedSegment> request;
  std::unique_ptr<SharedSegment> reply;
};

thread_local ThreadSegments tSegments;

SharedSegment& atLeast(std::unique_ptr<SharedSegment>& slot, std::size_t size) {
  if (!slot || slot->size() < size) {
    slot.reset();  // the old one goes first: only one pair per thread is ever mapped
    slot = std::make_unique<SharedSegment>(size);
  }
  return *slot;
}

bool startsWith(const std::string& text, const char* prefix) { return text.rfind(prefix, 0) == 0; }

}  // namespace

SharedSegment::SharedSegment(std::size_t size)
    : name_(nextName()), size_((std::max<std::size_t>(size, 1) + kGranule - 1) / kGranule * kGranule) {
  const int fd = ::shm_open(name_.c_str(), O_CREAT | O_EXCL | O_RDWR, 0600);
  if (fd < 0) {
    throw std::system_error(errno, std::generic_category(), "shm_open " + name_);
  }
  track(name_);
  if (::ftruncate(fd, static_cast<off_t>(size_)) != 0) {
    const int error = errno;
    ::close(fd);
    fail(name_, "ftruncate", error);
  }
  void* mapped = ::mmap(nullptr, size_, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  const int error = errno;
  ::close(fd);
  if (mapped == MAP_FAILED) {
    fail(name_, "mmap", error);
  }
  data_ = static_cast<unsigned char*>(mapped);
}

SharedSegment::~SharedSegment() {
  ::munmap(data_, size_);
  ::shm_unlink(name_.c_str());
  untrack(name_);
}

SharedSegment& threadRequestSegment(std::size_t size) { return atLeast(tSegments.request, size); }

SharedSegment& threadReplySegment(std::size_t size) { return atLeast(tSegments.reply, size); }

bool isLoopbackAddress(const std::string& address) {
  if (startsWith(address, "unix:") || startsWith(address, "unix-abstract:")) {
    return true;
  }
  std::string host = address;
  for (const char* scheme : {"dns:///", "ipv4:", "ipv6:"}) {
    if (startsWith(host, scheme)) {
      host.erase(0, std::char_traits<char>::length(scheme));
    }
  }
  if (startsWith(host, "[")) {
    return host.compare(0, 5, "[::1]") == 0;
  }
  host = host.substr(0, host.rfind(':'));
  return host == "localhost" || startsWith(host, "127.");
}

bool sharedMemoryAllowed() {
  static const bool allowed = [] {
    const char* value = std::getenv("NED_SHARED_MEMORY");
    return value == nullptr || std::string(value) != "0";
  }();
  return allowed;
}

}  // namespace ned

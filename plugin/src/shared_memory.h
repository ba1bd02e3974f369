// Same-host pixel transport: POSIX shared-memory segments this process owns (proto ned.v1.SharedBuffer).
//
// A 1080p face region is megabytes each way; inside a gRPC message it is copied into protobuf,
// through HTTP/2 and out again on both sides. When the server runs on this machine the plugin
// instead packs the pixels into a segment it created (mode 0600, named "/ned-<pid>-<n>") and asks
// for the patch in a second one; only the names cross the wire. Each render thread keeps its own
// pair and reuses it (grown when a frame needs more), so a render costs no system call beyond
// the server's mapping. Every segment is unlinked when it is replaced, when its thread ends, and
// at process exit (for threads still alive then). Knows no OFX and no gRPC types.
#pragma once

#include <cstddef>
#include <string>

namespace ned {

class SharedSegment {
 public:
  // Creates and maps a new segment of at least `size` bytes; throws std::system_error on failure.
  explicit SharedSegment(std::size_t size);
  ~SharedSegment();
  SharedSegment(const SharedSegment&) = delete;
  SharedSegment& operator=(const SharedSegment&) = delete;

  const std::string& name() const { return name_; }  // shm_open name, "/ned-<pid>-<n>"
  unsigned char* data() const { return data_; }
  std::size_t size() const { return size_; }

 private:
  std::string name_;
  unsigned char* data_ = nullptr;
  std::size_t size_ = 0;
};

// The calling thread's request and reply segments, each at least `size` bytes (replaced by a
// larger one when needed). Throws std::system_error when a segment cannot be made.
SharedSegment& threadRequestSegment(std::size_t size);
SharedSegment& threadReplySegment(std::size_t size);

// True for addresses that can only reach this machine: 127.x.x.x, localhost, [::1], unix: sockets.
bool isLoopbackAddress(const std::string& address);

// False when the environment says NED_SHARED_MEMORY=0 (always inline bytes: for comparisons and
// for servers whose /dev/shm is not ours, e.g. in another container on the same network).
bool sharedMemoryAllowed();

}  // namespace ned

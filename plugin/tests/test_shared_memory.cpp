// Unit tests of shared_memory: segment names, permissions, size rounding, reuse and growth of the
// per-thread segments, unlinking, and which server addresses count as this machine. Plain asserts,
// no framework: ctest runs it.
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <string>
#include <thread>

#include "shared_memory.h"

namespace {

int gFailures = 0;

void expect(bool ok, const std::string& what) {
  if (!ok) {
    ++gFailures;
    std::fprintf(stderr, "FAIL: %s\n", what.c_str());
  }
}

bool exists(const std::string& name) {
  struct stat info {};
  return ::stat(("/dev/shm" + name).c_str(), &info) == 0;
}

unsigned modeOf(const std::string& name) {
  struct stat info {};
  ::stat(("/dev/shm" + name).c_str(), &info);
  return info.st_mode & 0777U;
}

void testSegment() {
  std::string name;
  {
    ned::SharedSegment segment(1000);
    name = segment.name();
    const std::string prefix = "/ned-" + std::to_string(::getpid()) + "-";
    expect(name.compare(0, prefix.size(), prefix) == 0, "name is /ned-<pid>-<n>: " + name);
    expect(exists(name), "the segment exists in /dev/shm");
    expect((modeOf(name) & 0077U) == 0, "only its owner may open it");
    expect(segment.size() >= 1000 && segment.size() % (1U << 20) == 0, "size rounded up to whole MiB");
    std::memset(segment.data(), 0x5A, segment.size());  // the whole mapping is writable
    ned::SharedSegment other(1);
    expect(other.name() != name, "every segment has its own name");
  }
  expect(!exists(name), "destroying a segment unlinks it");
}

void testThreadSegments() {
  ned::SharedSegment& first = ned::threadRequestSegment(100);
  const std::string firstName = first.name();
  const std::size_t firstSize = first.size();
  expect(&ned::threadRequestSegment(200) == &first, "a request that fits reuses the thread's segment");
  const ned::SharedSegment& grown = ned::threadRequestSegment(firstSize + 1);  // `first` is gone after this
  expect(grown.size() > firstSize && grown.name() != firstName, "a larger request gets a larger segment");
  expect(!exists(firstName), "the outgrown segment is unlinked");
  expect(ned::threadReplySegment(100).name() != grown.name(), "request and reply segments differ");

  std::string otherThread;
  std::thread([&otherThread] { otherThread = ned::threadRequestSegment(100).name(); }).join();
  expect(otherThread != grown.name(), "each thread has its own segments");
  expect(!exists(otherThread), "a thread's segments are unlinked when it ends");
}

void testLoopback() {
  for (const char* yes : {"127.0.0.1:50051", "localhost:50051", "[::1]:50051", "ipv4:127.0.0.1:1", "ipv6:[::1]:1",
                          "unix:/tmp/ned.sock", "dns:///localhost:50051", "127.3.2.1:5"}) {
    expect(ned::isLoopbackAddress(yes), std::string(yes) + " is this machine");
  }
  for (const char* no : {"10.0.0.2:50051", "example.com:50051", "[::2]:50051", "127example.com:5",
                         "localhost.example.com:1"}) {
    expect(!ned::isLoopbackAddress(no), std::string(no) + " is not this machine");
  }
}

}  // namespace

int main() {
  testSegment();
  testThreadSegments();
  testLoopback();
  if (gFailures != 0) {
    std::fprintf(stderr, "%d check(s) failed\n", gFailures);
    return 1;
  }
  std::printf("shared_memory: all checks passed\n");
  return 0;
}

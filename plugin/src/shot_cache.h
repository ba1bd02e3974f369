// Process-global knowledge about each shot this process rendered: the server's render regions
// (so a render can send only the face's part of the frame) and the analysis revision they belong to.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <utility>

#include "frame_codec.h"
#include "ned/v1/ned.pb.h"

namespace ned {

class ShotCache {
 public:
  static ShotCache& global();

  // True once regions were fetched for the shot (even when the server had none).
  bool hasRegions(const std::string& shotId) const;
  std::uint64_t revision(const std::string& shotId) const;
  // The region (at render scale 1) a render of `faceIndex` at `time` touches, if the server said so.
  std::optional<FrameRect> region(const std::string& shotId, double time, int faceIndex) const;
  // Replaces the shot's regions with those in `info` (std::nullopt: the server has no analysis).
  void storeRegions(const std::string& shotId, const std::optional<v1::ShotInfo>& info);

  // True until markRendered() was called for the shot: its first render may take long (the server
  // loads models and analyses online).
  bool isFirstRender(const std::string& shotId) const;
  void markRendered(const std::string& shotId);

 private:
  struct Shot {
    bool regionsFetched = false;
    bool rendered = false;
    std::uint64_t revision = 0;
    std::map<std::pair<double, int>, FrameRect> regions;  // (time, face index) -> rect
  };

  mutable std::mutex mutex_;
  std::map<std::string, Shot> shots_;
};

}  // namespace ned

#include "shot_cache.h"

namespace ned {

ShotCache& ShotCache::global() {
  static ShotCache cache;
  return cache;
}

bool ShotCache::hasRegions(const std::string& shotId) const {
  const std::lock_guard<std::mutex> lock(mutex_);
  const auto it = shots_.find(shotId);
  return it != shots_.end() && it->second.regionsFetched;
}

std::uint64_t ShotCache::revision(const std::string& shotId) const {
  const std::lock_guard<std::mutex> lock(mutex_);
  const auto it = shots_.find(shotId);
  return it != shots_.end() ? it->second.revision : 0;
}

std::optional<FrameRect> ShotCache::region(const std::string& shotId, double time, int faceIndex) const {
  const std::lock_guard<std::mutex> lock(mutex_);
  const auto shot = shots_.find(shotId);
  if (shot == shots_.end()) {
    return std::nullopt;
  }
  const auto it = shot->second.regions.find({time, faceIndex});
  if (it == shot->second.regions.end()) {
    return std::nullopt;
  }
  return it->second;
}

void ShotCache::storeRegions(const std::string& shotId, const std::optional<v1::ShotInfo>& info) {
  const std::lock_guard<std::mutex> lock(mutex_);
  Shot& shot = shots_[shotId];
  shot.regionsFetched = true;
  shot.regions.clear();
  shot.revision = info ? info->revision() : 0;
  if (!info) {
    return;
  }
  for (const v1::RenderRegion& r : info->regions()) {
    shot.regions[{r.time(), r.face_index()}] = FrameRect{r.rect().x(), r.rect().y(), r.rect().width(),
                                                         r.rect().height()};
  }
}

bool ShotCache::isFirstRender(const std::string& shotId) const {
  const std::lock_guard<std::mutex> lock(mutex_);
  const auto it = shots_.find(shotId);
  return it == shots_.end() || !it->second.rendered;
}

void ShotCache::markRendered(const std::string& shotId) {
  const std::lock_guard<std::mutex> lock(mutex_);
  shots_[shotId].rendered = true;
}

}  // namespace ned

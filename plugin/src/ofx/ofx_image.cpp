#include "ofx/ofx_image.h"

#include <string>

#include "ofx/ofx_host.h"

namespace ofx {

Clip::Clip(OfxImageEffectHandle effect, const char* name) : name_(name) {
  check(suites().imageEffect->clipGetHandle(effect, name, &handle_, nullptr), std::string("finding clip ") + name);
}

PropertySet Clip::properties() const {
  OfxPropertySetHandle props = nullptr;
  check(suites().imageEffect->clipGetPropertySet(handle_, &props), std::string("reading clip ") + name_);
  return PropertySet(props);
}

OfxRectD Clip::regionOfDefinition(OfxTime time) const {
  OfxRectD rect{};
  check(suites().imageEffect->clipGetRegionOfDefinition(handle_, time, &rect),
        std::string("reading the region of definition of clip ") + name_);
  return rect;
}

ClipImage::ClipImage(const Clip& clip, OfxTime time) {
  const OfxStatus status = suites().imageEffect->clipGetImage(clip.handle(), time, nullptr, &handle_);
  if (status != kStatOK || handle_ == nullptr) {
    throw OfxError(status == kStatOK ? kStatFailed : status,
                   std::string("the host gave no ") + clip.name() + " image at time " + std::to_string(time));
  }
}

ClipImage::~ClipImage() { suites().imageEffect->clipReleaseImage(handle_); }

}  // namespace ofx

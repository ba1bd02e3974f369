// Clips and the images fetched from them.
#pragma once

#include "ofx/ofx_api.h"
#include "ofx/ofx_props.h"

namespace ofx {

class Clip {
 public:
  Clip(OfxImageEffectHandle effect, const char* name);

  const char* name() const { return name_; }
  OfxImageClipHandle handle() const { return handle_; }
  PropertySet properties() const;
  // The clip's region of definition at `time`, in canonical coordinates (render scale 1, x scaled
  // by the pixel aspect ratio).
  OfxRectD regionOfDefinition(OfxTime time) const;

 private:
  const char* name_;
  OfxImageClipHandle handle_ = nullptr;
};

// An image of a clip at one time, released when this object goes away.
class ClipImage {
 public:
  // Throws OfxError when the host has no image for the clip at `time`.
  ClipImage(const Clip& clip, OfxTime time);
  ~ClipImage();
  ClipImage(const ClipImage&) = delete;
  ClipImage& operator=(const ClipImage&) = delete;

  PropertySet properties() const { return PropertySet(handle_); }

 private:
  OfxPropertySetHandle handle_ = nullptr;
};

}  // namespace ofx

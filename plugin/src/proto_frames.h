// Host images <-> ned.v1 messages: packing a frame (or a part of it) into a FrameRegion and pasting
// a RenderFrame patch back. Knows no OFX handles; geometry and memory work is in frame_codec.
#pragma once

#include "frame_codec.h"
#include "ned/v1/ned.pb.h"
#include "shared_memory.h"

namespace ned {

v1::PixelFormat pixelFormatOf(PixelDepth depth);

// Fills `out` with the pixels of `region` (frame coordinates) of `image`. `frame` is the full frame
// in OFX pixel coordinates; its size, `renderScale` and `pixelAspect` describe the frame. With a
// `segment`, the pixels are packed into it (from its first byte) and `out.image.shared` names it;
// otherwise they go inline into `out.image.data`. Throws std::invalid_argument when they do not fit.
void fillFrameRegion(v1::FrameRegion& out, const ImageView& image, const PixelRect& frame, const FrameRect& region,
                     double renderScale, double pixelAspect, const SharedSegment* segment = nullptr);

// Pastes the patch of `reply` into `dst`, only inside `clip`. A patch in shared memory must lie in
// `replyBuffer`, the segment the request named. Returns false when the patch is empty (no face at
// this time). Throws std::invalid_argument for a patch that does not fit its placement, its buffer
// or the image's pixel format.
bool pastePatch(const v1::RenderFrameResponse& reply, const ImageView& dst, const PixelRect& frame,
                const PixelRect& clip, const SharedSegment* replyBuffer = nullptr);

}  // namespace ned

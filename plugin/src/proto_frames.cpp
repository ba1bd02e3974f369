#include "proto_frames.h"

#include <stdexcept>
#include <string>

namespace ned {

v1::PixelFormat pixelFormatOf(PixelDepth depth) {
  switch (depth) {
    case PixelDepth::Byte:
      return v1::PIXEL_FORMAT_RGBA8;
    case PixelDepth::Short:
      return v1::PIXEL_FORMAT_RGBA16;
    case PixelDepth::Float:
      return v1::PIXEL_FORMAT_RGBA32F;
  }
  throw std::invalid_argument("unknown pixel depth");
}

void fillFrameRegion(v1::FrameRegion& out, const ImageView& image, const PixelRect& frame, const FrameRect& region,
                     double renderScale, double pixelAspect, const SharedSegment* segment) {
  v1::Image& pixels = *out.mutable_image();
  pixels.set_width(static_cast<std::uint32_t>(region.width));
  pixels.set_height(static_cast<std::uint32_t>(region.height));
  pixels.set_format(pixelFormatOf(image.depth));
  pixels.set_row_bytes(static_cast<std::uint32_t>(static_cast<std::size_t>(region.width) * bytesPerPixel(image.depth)));
  const PixelRect rect = toPixelRect(region, frame);
  RowOrder order;
  if (segment != nullptr) {
    order = packRect(image, rect, segment->data(), segment->size());
    v1::SharedBuffer& shared = *pixels.mutable_shared();
    shared.set_name(segment->name());
    shared.set_offset(0);
    shared.set_size(packedSize(rect, image.depth));
  } else {
    std::string& data = *pixels.mutable_data();
    data.clear();
    order = packRect(image, rect, data);
  }
  pixels.set_row_order(order == RowOrder::TopDown ? v1::ROW_ORDER_TOP_DOWN : v1::ROW_ORDER_BOTTOM_UP);

  v1::Rect& placed = *out.mutable_region();
  placed.set_x(region.x);
  placed.set_y(region.y);
  placed.set_width(region.width);
  placed.set_height(region.height);
  out.set_frame_width(static_cast<std::uint32_t>(frame.width()));
  out.set_frame_height(static_cast<std::uint32_t>(frame.height()));
  out.set_render_scale(renderScale);
  out.set_pixel_aspect(pixelAspect);
}

namespace {

// Where the patch's bytes are: inline, or in the reply segment (checked against what it holds).
PackedPixels patchBytes(const v1::Image& patch, const SharedSegment* replyBuffer) {
  PackedPixels pixels;
  if (patch.storage_case() == v1::Image::kShared) {
    const v1::SharedBuffer& shared = patch.shared();
    if (replyBuffer == nullptr || shared.name() != replyBuffer->name()) {
      throw std::invalid_argument("patch came in shared memory '" + shared.name() + "', not in the reply buffer " +
                                  (replyBuffer ? "'" + replyBuffer->name() + "'" : std::string("(none asked)")));
    }
    if (shared.offset() > replyBuffer->size() || shared.size() > replyBuffer->size() - shared.offset()) {
      throw std::invalid_argument("patch range " + std::to_string(shared.offset()) + "+" +
                                  std::to_string(shared.size()) + " exceeds the " +
                                  std::to_string(replyBuffer->size()) + "-byte reply buffer");
    }
    pixels.data = replyBuffer->data() + shared.offset();
    pixels.size = static_cast<std::size_t>(shared.size());
  } else {
    pixels.data = reinterpret_cast<const unsigned char*>(patch.data().data());
    pixels.size = patch.data().size();
  }
  pixels.rowBytes = patch.row_bytes();
  pixels.width = static_cast<int>(patch.width());
  pixels.height = static_cast<int>(patch.height());
  pixels.order = patch.row_order() == v1::ROW_ORDER_TOP_DOWN ? RowOrder::TopDown : RowOrder::BottomUp;
  return pixels;
}

}  // namespace

bool pastePatch(const v1::RenderFrameResponse& reply, const ImageView& dst, const PixelRect& frame,
                const PixelRect& clip, const SharedSegment* replyBuffer) {
  const v1::Image& patch = reply.patch();
  const bool inlineBytes = patch.storage_case() != v1::Image::kShared;
  if (patch.width() == 0 || patch.height() == 0 || (inlineBytes && patch.data().empty())) {
    return false;
  }
  if (patch.format() != pixelFormatOf(dst.depth)) {
    throw std::invalid_argument("patch pixel format " + std::to_string(patch.format()) + " differs from the frame's " +
                                std::to_string(pixelFormatOf(dst.depth)));
  }
  if (patch.row_order() != v1::ROW_ORDER_TOP_DOWN && patch.row_order() != v1::ROW_ORDER_BOTTOM_UP) {
    throw std::invalid_argument("patch has no row order");
  }
  const v1::Rect& placement = reply.placement();
  const FrameRect target{placement.x(), placement.y(), placement.width(), placement.height()};
  pastePacked(patchBytes(patch, replyBuffer), toPixelRect(target, frame), dst, clip);
  return true;
}

}  // namespace ned

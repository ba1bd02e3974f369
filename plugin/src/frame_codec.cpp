#include "frame_codec.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <stdexcept>

namespace ned {

std::size_t bytesPerPixel(PixelDepth depth) {
  switch (depth) {
    case PixelDepth::Byte:
      return 4;
    case PixelDepth::Short:
      return 8;
    case PixelDepth::Float:
      return 16;
  }
  throw std::invalid_argument("unknown pixel depth");
}

PixelRect intersect(const PixelRect& a, const PixelRect& b) {
  PixelRect r{std::max(a.x1, b.x1), std::max(a.y1, b.y1), std::min(a.x2, b.x2), std::min(a.y2, b.y2)};
  if (r.empty()) {
    return PixelRect{};
  }
  return r;
}

bool contains(const PixelRect& outer, const PixelRect& inner) {
  return inner.x1 >= outer.x1 && inner.y1 >= outer.y1 && inner.x2 <= outer.x2 && inner.y2 <= outer.y2;
}

FrameRect toFrameRect(const PixelRect& rect, const PixelRect& frame) {
  return FrameRect{rect.x1 - frame.x1, frame.y2 - rect.y2, rect.width(), rect.height()};
}

PixelRect toPixelRect(const FrameRect& rect, const PixelRect& frame) {
  return PixelRect{frame.x1 + rect.x, frame.y2 - rect.y - rect.height, frame.x1 + rect.x + rect.width,
                   frame.y2 - rect.y};
}

FrameRect scaleToFrame(const FrameRect& atScaleOne, double scaleX, double scaleY, int frameWidth,
                       int frameHeight) {
  const auto lo = [](double v, int limit) { return std::clamp(static_cast<int>(std::floor(v)), 0, limit); };
  const auto hi = [](double v, int limit) { return std::clamp(static_cast<int>(std::ceil(v)), 0, limit); };
  const int x1 = lo(atScaleOne.x * scaleX, frameWidth);
  const int y1 = lo(atScaleOne.y * scaleY, frameHeight);
  const int x2 = hi((atScaleOne.x + atScaleOne.width) * scaleX, frameWidth);
  const int y2 = hi((atScaleOne.y + atScaleOne.height) * scaleY, frameHeight);
  return FrameRect{x1, y1, std::max(0, x2 - x1), std::max(0, y2 - y1)};
}

unsigned char* ImageView::pixel(int x, int y) const {
  return origin + static_cast<std::ptrdiff_t>(y - bounds.y1) * rowBytes +
         static_cast<std::ptrdiff_t>(x - bounds.x1) * static_cast<std::ptrdiff_t>(bytesPerPixel(depth));
}

void copyWindow(const ImageView& src, const ImageView& dst, const PixelRect& window) {
  if (src.depth != dst.depth) {
    throw std::invalid_argument("copyWindow: source and output pixel depths differ");
  }
  const PixelRect target = intersect(window, dst.bounds);
  const std::size_t bpp = bytesPerPixel(dst.depth);
  for (int y = target.y1; y < target.y2; ++y) {
    unsigned char* row = dst.pixel(target.x1, y);
    const bool rowInSource = y >= src.bounds.y1 && y < src.bounds.y2;
    const int cx1 = rowInSource ? std::max(target.x1, src.bounds.x1) : target.x2;
    const int cx2 = rowInSource ? std::min(target.x2, src.bounds.x2) : target.x2;
    if (cx1 >= cx2) {
      std::memset(row, 0, static_cast<std::size_t>(target.width()) * bpp);
      continue;
    }
    std::memset(row, 0, static_cast<std::size_t>(cx1 - target.x1) * bpp);
    std::memmove(dst.pixel(cx1, y), src.pixel(cx1, y), static_cast<std::size_t>(cx2 - cx1) * bpp);
    std::memset(dst.pixel(cx2, y), 0, static_cast<std::size_t>(target.x2 - cx2) * bpp);
  }
}

namespace {

// Hands `write(rowStart, rowLength)` the rows of `rect` in memory order (one call when they are
// contiguous) and returns that order.
void checkPackable(const ImageView& src, const PixelRect& rect) {
  if (rect.empty() || !contains(src.bounds, rect)) {
    throw std::invalid_argument("packRect: rectangle is empty or outside the image");
  }
  if (src.rowBytes == 0) {
    throw std::invalid_argument("packRect: image has zero row bytes");
  }
}

template <typename Write>
RowOrder forEachPackedRun(const ImageView& src, const PixelRect& rect, Write write) {
  checkPackable(src, rect);
  const std::size_t rowLength = static_cast<std::size_t>(rect.width()) * bytesPerPixel(src.depth);
  const std::size_t rows = static_cast<std::size_t>(rect.height());
  // Negative rowBytes: the top row has the lowest address, so memory order is top-down.
  const bool topDown = src.rowBytes < 0;
  const int firstRow = topDown ? rect.y2 - 1 : rect.y1;
  const unsigned char* first = src.pixel(rect.x1, firstRow);
  const std::size_t stride = static_cast<std::size_t>(topDown ? -src.rowBytes : src.rowBytes);
  if (stride == rowLength) {
    write(first, rows * rowLength);
  } else {
    for (std::size_t r = 0; r < rows; ++r) {
      write(first + r * stride, rowLength);
    }
  }
  return topDown ? RowOrder::TopDown : RowOrder::BottomUp;
}

}  // namespace

std::size_t packedSize(const PixelRect& rect, PixelDepth depth) {
  return rect.empty() ? 0
                      : static_cast<std::size_t>(rect.width()) * static_cast<std::size_t>(rect.height()) *
                            bytesPerPixel(depth);
}

RowOrder packRect(const ImageView& src, const PixelRect& rect, std::string& out) {
  checkPackable(src, rect);
  out.reserve(out.size() + packedSize(rect, src.depth));
  return forEachPackedRun(src, rect, [&out](const unsigned char* run, std::size_t length) {
    out.append(reinterpret_cast<const char*>(run), length);
  });
}

RowOrder packRect(const ImageView& src, const PixelRect& rect, unsigned char* out, std::size_t capacity) {
  checkPackable(src, rect);
  if (capacity < packedSize(rect, src.depth)) {
    throw std::invalid_argument("packRect: " + std::to_string(capacity) + " bytes cannot hold " +
                                std::to_string(packedSize(rect, src.depth)) + " bytes of pixels");
  }
  return forEachPackedRun(src, rect, [&out](const unsigned char* run, std::size_t length) {
    std::memcpy(out, run, length);
    out += length;
  });
}

void pastePacked(const PackedPixels& patch, const PixelRect& target, const ImageView& dst,
                 const PixelRect& clip) {
  const std::size_t bpp = bytesPerPixel(dst.depth);
  if (patch.width != target.width() || patch.height != target.height() || patch.width < 0 ||
      patch.height < 0) {
    throw std::invalid_argument("patch is " + std::to_string(patch.width) + "x" + std::to_string(patch.height) +
                                " pixels but its placement is " + std::to_string(target.width()) + "x" +
                                std::to_string(target.height()));
  }
  if (patch.height == 0 || patch.width == 0) {
    return;
  }
  const std::size_t rowLength = static_cast<std::size_t>(patch.width) * bpp;
  const std::size_t needed = (static_cast<std::size_t>(patch.height) - 1) * patch.rowBytes + rowLength;
  if (patch.rowBytes < rowLength || patch.size < needed || patch.data == nullptr) {
    throw std::invalid_argument("patch of " + std::to_string(patch.width) + "x" + std::to_string(patch.height) +
                                " pixels has row bytes " + std::to_string(patch.rowBytes) + " and " +
                                std::to_string(patch.size) + " bytes of data");
  }
  const PixelRect region = intersect(intersect(target, clip), dst.bounds);
  const std::size_t length = static_cast<std::size_t>(region.width()) * bpp;
  const std::size_t columnOffset = static_cast<std::size_t>(region.x1 - target.x1) * bpp;
  for (int y = region.y1; y < region.y2; ++y) {
    const int row = patch.order == RowOrder::TopDown ? target.y2 - 1 - y : y - target.y1;
    const unsigned char* from = patch.data + static_cast<std::size_t>(row) * patch.rowBytes + columnOffset;
    std::memcpy(dst.pixel(region.x1, y), from, length);
  }
}

}  // namespace ned

// OFX image <-> packed pixel blocks, and the two coordinate systems the plugin stands between.
//
// OFX pixel coordinates: x right, y UP; an image's data pointer addresses pixel (bounds.x1, bounds.y1),
// its bottom-left pixel, and row y+1 lies rowBytes after row y. rowBytes may be negative (MLT 7.40+
// hands out top-down memory that way). Frame coordinates (the server's, proto ned.v1.Rect): x right,
// y DOWN, origin at the top-left corner of the full frame. Everything here is plain memory work: no
// OFX handles, no protobuf, so it is unit-tested on synthetic buffers.
#pragma once

#include <cstddef>
#include <string>

namespace ned {

// RGBA with one of the three channel types the effect supports.
enum class PixelDepth { Byte, Short, Float };

std::size_t bytesPerPixel(PixelDepth depth);  // RGBA: 4, 8 or 16

// A half-open rectangle in OFX pixel coordinates (Y up): x1 <= x < x2, y1 <= y < y2.
struct PixelRect {
  int x1 = 0, y1 = 0, x2 = 0, y2 = 0;
  int width() const { return x2 - x1; }
  int height() const { return y2 - y1; }
  bool empty() const { return x2 <= x1 || y2 <= y1; }
};

PixelRect intersect(const PixelRect& a, const PixelRect& b);
bool contains(const PixelRect& outer, const PixelRect& inner);

// A rectangle in frame coordinates (Y down, origin top-left of the full frame).
struct FrameRect {
  int x = 0, y = 0, width = 0, height = 0;
  bool empty() const { return width <= 0 || height <= 0; }
};

// Conversions between the two systems; `frame` is the full frame in OFX pixel coordinates.
FrameRect toFrameRect(const PixelRect& rect, const PixelRect& frame);
PixelRect toPixelRect(const FrameRect& rect, const PixelRect& frame);

// Scales a rectangle given at render scale 1 by (scaleX, scaleY), growing it to whole pixels, and
// clamps it to a frame of frameWidth x frameHeight. The result may be empty.
FrameRect scaleToFrame(const FrameRect& atScaleOne, double scaleX, double scaleY, int frameWidth,
                       int frameHeight);

enum class RowOrder { TopDown, BottomUp };

// A host image in memory (see the file comment for the addressing).
struct ImageView {
  unsigned char* origin = nullptr;  // pixel (bounds.x1, bounds.y1)
  std::ptrdiff_t rowBytes = 0;      // from row y to row y + 1; may be negative
  PixelRect bounds;
  PixelDepth depth = PixelDepth::Byte;

  unsigned char* pixel(int x, int y) const;
};

// Copies `src` into `dst` over `window` (clipped to dst's bounds), bit for bit. Pixels of the window
// that `src` does not cover are set to zero (transparent black), as OFX defines them.
void copyWindow(const ImageView& src, const ImageView& dst, const PixelRect& window);

// Appends the pixels of `rect` (which must lie inside src.bounds) to `out`, packed (width * bytes
// per pixel per row), rows in the order they already lie in memory, and returns that order. A single
// copy when the rows are contiguous. Throws std::invalid_argument for a rect outside the image.
RowOrder packRect(const ImageView& src, const PixelRect& rect, std::string& out);

// The same, written to `out` (e.g. shared memory), which must hold packedSize(rect, src.depth)
// bytes; throws std::invalid_argument when `capacity` is smaller.
RowOrder packRect(const ImageView& src, const PixelRect& rect, unsigned char* out, std::size_t capacity);

// Bytes of `rect` packed at `depth`.
std::size_t packedSize(const PixelRect& rect, PixelDepth depth);

// A packed block of pixels with the same depth as the image it goes into.
struct PackedPixels {
  const unsigned char* data = nullptr;
  std::size_t size = 0;      // bytes available at data
  std::size_t rowBytes = 0;  // >= width * bytes per pixel
  int width = 0;
  int height = 0;
  RowOrder order = RowOrder::TopDown;
};

// Writes `patch`, which covers `target` (OFX pixel coordinates), into `dst`, only inside
// `clip` and dst's bounds. Throws std::invalid_argument when the patch's size, row bytes or
// dimensions do not match `target`.
void pastePacked(const PackedPixels& patch, const PixelRect& target, const ImageView& dst,
                 const PixelRect& clip);

}  // namespace ned

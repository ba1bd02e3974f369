// Unit tests of frame_codec: OFX image addressing (bounds not at 0, positive and negative
// rowBytes, padded rows), packing to top-down/bottom-up blocks, copying a render window and
// pasting patches, for Byte, Short and Float RGBA. Plain asserts, no framework: ctest runs it.
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

#include "frame_codec.h"

using ned::FrameRect;
using ned::ImageView;
using ned::PixelDepth;
using ned::PixelRect;
using ned::RowOrder;

namespace {

int gFailures = 0;

void expect(bool ok, const std::string& what) {
  if (!ok) {
    ++gFailures;
    std::fprintf(stderr, "FAIL: %s\n", what.c_str());
  }
}

const PixelDepth kDepths[] = {PixelDepth::Byte, PixelDepth::Short, PixelDepth::Float};

const char* nameOf(PixelDepth depth) {
  return depth == PixelDepth::Byte ? "Byte" : depth == PixelDepth::Short ? "Short" : "Float";
}

// The test value of channel c of pixel (x, y), written in the depth's own type. Float values
// include negatives and values above 1, which must survive bit for bit.
void writePixel(unsigned char* at, PixelDepth depth, int x, int y, int salt) {
  for (int c = 0; c < 4; ++c) {
    const int v = x * 7 + y * 131 + c * 29 + salt * 1009;
    if (depth == PixelDepth::Byte) {
      at[c] = static_cast<std::uint8_t>(v);
    } else if (depth == PixelDepth::Short) {
      const auto s = static_cast<std::uint16_t>(v * 37);
      std::memcpy(at + 2 * c, &s, 2);
    } else {
      const float f = static_cast<float>(v) / 97.0f - 3.0f;
      std::memcpy(at + 4 * c, &f, 4);
    }
  }
}

std::vector<unsigned char> pixelBytes(PixelDepth depth, int x, int y, int salt) {
  std::vector<unsigned char> bytes(ned::bytesPerPixel(depth));
  writePixel(bytes.data(), depth, x, y, salt);
  return bytes;
}

// A host-style image over its own storage. Negative rowBytes puts the top row first in memory,
// the way MLT hands images out; padding adds unused bytes at the end of every row.
struct TestImage {
  std::vector<unsigned char> storage;
  ImageView view;

  TestImage(PixelDepth depth, PixelRect bounds, bool negativeRowBytes, int padding, int salt) {
    const std::size_t bpp = ned::bytesPerPixel(depth);
    const std::size_t stride = static_cast<std::size_t>(bounds.width()) * bpp + static_cast<std::size_t>(padding);
    storage.assign(stride * static_cast<std::size_t>(bounds.height()), 0xAB);
    view.depth = depth;
    view.bounds = bounds;
    view.rowBytes = negativeRowBytes ? -static_cast<std::ptrdiff_t>(stride) : static_cast<std::ptrdiff_t>(stride);
    view.origin = negativeRowBytes ? storage.data() + stride * static_cast<std::size_t>(bounds.height() - 1)
                                   : storage.data();
    if (salt >= 0) {
      for (int y = bounds.y1; y < bounds.y2; ++y) {
        for (int x = bounds.x1; x < bounds.x2; ++x) {
          writePixel(view.pixel(x, y), depth, x, y, salt);
        }
      }
    }
  }

  bool pixelIs(int x, int y, const std::vector<unsigned char>& bytes) const {
    return std::memcmp(view.pixel(x, y), bytes.data(), bytes.size()) == 0;
  }
};

void testGeometry() {
  expect(ned::bytesPerPixel(PixelDepth::Byte) == 4, "Byte RGBA is 4 bytes");
  expect(ned::bytesPerPixel(PixelDepth::Short) == 8, "Short RGBA is 8 bytes");
  expect(ned::bytesPerPixel(PixelDepth::Float) == 16, "Float RGBA is 16 bytes");

  const PixelRect frame{10, 20, 110, 70};  // 100 x 50, bounds not at the origin
  const FrameRect top = ned::toFrameRect(PixelRect{10, 60, 20, 70}, frame);
  expect(top.x == 0 && top.y == 0 && top.width == 10 && top.height == 10, "top rows map to frame y = 0");
  const FrameRect bottom = ned::toFrameRect(PixelRect{100, 20, 110, 25}, frame);
  expect(bottom.x == 90 && bottom.y == 45 && bottom.width == 10 && bottom.height == 5,
         "bottom-right corner maps to frame (90, 45)");
  const PixelRect back = ned::toPixelRect(FrameRect{3, 7, 11, 13}, frame);
  const FrameRect again = ned::toFrameRect(back, frame);
  expect(back.x1 == 13 && back.y2 == 63 && back.width() == 11 && back.height() == 13, "frame to OFX rect");
  expect(again.x == 3 && again.y == 7 && again.width == 11 && again.height == 13, "round trip of a rect");

  const FrameRect half = ned::scaleToFrame(FrameRect{10, 10, 20, 20}, 0.5, 0.5, 100, 100);
  expect(half.x == 5 && half.y == 5 && half.width == 10 && half.height == 10, "scale by 0.5");
  const FrameRect grown = ned::scaleToFrame(FrameRect{3, 3, 5, 5}, 0.5, 0.5, 100, 100);
  expect(grown.x == 1 && grown.y == 1 && grown.width == 3 && grown.height == 3, "scaling grows to whole pixels");
  const FrameRect clamped = ned::scaleToFrame(FrameRect{-10, 90, 40, 40}, 1.0, 1.0, 100, 100);
  expect(clamped.x == 0 && clamped.y == 90 && clamped.width == 30 && clamped.height == 10, "clamped to the frame");
  expect(ned::scaleToFrame(FrameRect{200, 0, 10, 10}, 1.0, 1.0, 100, 100).empty(), "outside the frame is empty");

  expect(ned::intersect(PixelRect{0, 0, 10, 10}, PixelRect{5, 5, 20, 20}).width() == 5, "intersection");
  expect(ned::intersect(PixelRect{0, 0, 10, 10}, PixelRect{10, 0, 20, 10}).empty(), "touching rects do not meet");
}

// Packs `rect` and checks every byte against the pixels it came from, in the returned row order.
void checkPack(PixelDepth depth, bool negative, int padding, const PixelRect& bounds, const PixelRect& rect) {
  const std::string label = std::string(nameOf(depth)) + (negative ? " rowBytes<0" : " rowBytes>0") +
                            " padding " + std::to_string(padding) + " rect at " + std::to_string(rect.x1) + "," +
                            std::to_string(rect.y1);
  const TestImage image(depth, bounds, negative, padding, 1);
  std::string packed = "prefix";  // packRect appends
  const RowOrder order = ned::packRect(image.view, rect, packed);
  expect(order == (negative ? RowOrder::TopDown : RowOrder::BottomUp), label + ": row order follows memory");
  const std::size_t bpp = ned::bytesPerPixel(depth);
  expect(packed.size() == 6 + static_cast<std::size_t>(rect.width() * rect.height()) * bpp, label + ": size");
  bool same = packed.compare(0, 6, "prefix") == 0;
  for (int row = 0; row < rect.height() && same; ++row) {
    const int y = order == RowOrder::TopDown ? rect.y2 - 1 - row : rect.y1 + row;
    for (int col = 0; col < rect.width() && same; ++col) {
      const auto want = pixelBytes(depth, rect.x1 + col, y, 1);
      const std::size_t at = 6 + (static_cast<std::size_t>(row * rect.width() + col)) * bpp;
      same = std::memcmp(packed.data() + at, want.data(), bpp) == 0;
    }
  }
  expect(same, label + ": packed pixels equal the source, bit for bit");

  // Into raw memory (shared memory in the plugin): the same bytes and order, nothing written past them.
  const std::size_t size = ned::packedSize(rect, depth);
  std::vector<unsigned char> raw(size + 1, 0xA5);
  const RowOrder rawOrder = ned::packRect(image.view, rect, raw.data(), size);
  expect(rawOrder == order, label + ": raw packing keeps the row order");
  expect(std::memcmp(raw.data(), packed.data() + 6, size) == 0, label + ": raw packing gives the same bytes");
  expect(raw[size] == 0xA5, label + ": raw packing stays inside its buffer");
}

void testPack() {
  const PixelRect bounds{-4, 3, 13, 14};  // 17 x 11, negative x1
  for (const PixelDepth depth : kDepths) {
    for (const bool negative : {false, true}) {
      for (const int padding : {0, 12}) {
        checkPack(depth, negative, padding, bounds, bounds);                  // whole image
        checkPack(depth, negative, padding, bounds, PixelRect{0, 5, 7, 9});    // interior sub-rectangle
        checkPack(depth, negative, padding, bounds, PixelRect{-4, 3, 13, 4});  // bottom row only
        checkPack(depth, negative, padding, bounds, PixelRect{12, 13, 13, 14});  // top-right pixel
      }
    }
  }
  const TestImage image(PixelDepth::Byte, bounds, true, 0, 1);
  std::string out;
  bool threw = false;
  try {
    ned::packRect(image.view, PixelRect{-5, 3, 0, 5}, out);
  } catch (const std::invalid_argument&) {
    threw = true;
  }
  expect(threw, "packing a rect outside the image throws");
  std::vector<unsigned char> small(ned::packedSize(bounds, PixelDepth::Byte) - 1);
  threw = false;
  try {
    ned::packRect(image.view, bounds, small.data(), small.size());
  } catch (const std::invalid_argument&) {
    threw = true;
  }
  expect(threw, "packing into a buffer one byte too small throws");
}

void testCopyWindow() {
  for (const PixelDepth depth : kDepths) {
    // Source and output differ in rowBytes sign, padding and bounds; the window pokes out of
    // the source (those pixels become 0) and of the output (clipped).
    const TestImage source(depth, PixelRect{0, 0, 20, 10}, true, 0, 2);
    TestImage output(depth, PixelRect{-2, -1, 22, 12}, false, 8, 3);
    const PixelRect window{-1, 2, 21, 40};
    ned::copyWindow(source.view, output.view, window);
    const std::vector<unsigned char> zero(ned::bytesPerPixel(depth), 0);
    bool ok = true;
    for (int y = output.view.bounds.y1; y < output.view.bounds.y2; ++y) {
      for (int x = output.view.bounds.x1; x < output.view.bounds.x2; ++x) {
        const bool inWindow = x >= window.x1 && x < window.x2 && y >= window.y1 && y < window.y2;
        const bool inSource = x >= 0 && x < 20 && y >= 0 && y < 10;
        const auto want = !inWindow ? pixelBytes(depth, x, y, 3) : inSource ? pixelBytes(depth, x, y, 2) : zero;
        ok = ok && output.pixelIs(x, y, want);
      }
    }
    expect(ok, std::string(nameOf(depth)) + ": copyWindow copies inside the window, zeroes uncovered pixels, "
                                            "leaves the rest");
  }
}

// Pastes a patch built by packing another image, clipped by a window, and checks every pixel.
void checkPaste(PixelDepth depth, bool negative, RowOrder order) {
  const std::string label = std::string(nameOf(depth)) + (negative ? " output rowBytes<0" : " output rowBytes>0") +
                            (order == RowOrder::TopDown ? " top-down patch" : " bottom-up patch");
  TestImage output(depth, PixelRect{5, 5, 25, 20}, negative, 4, 4);
  // The patch: pixels of a source image over `target`, packed in the requested order.
  const PixelRect target{3, 8, 15, 22};  // sticks out left and top of the output
  const TestImage patchSource(depth, target, order == RowOrder::TopDown, 0, 5);
  std::string packed;
  ned::packRect(patchSource.view, target, packed);
  ned::PackedPixels patch;
  patch.data = reinterpret_cast<const unsigned char*>(packed.data());
  patch.size = packed.size();
  patch.rowBytes = static_cast<std::size_t>(target.width()) * ned::bytesPerPixel(depth);
  patch.width = target.width();
  patch.height = target.height();
  patch.order = order;
  const PixelRect clip{5, 5, 12, 30};
  ned::pastePacked(patch, target, output.view, clip);
  bool ok = true;
  for (int y = 5; y < 20; ++y) {
    for (int x = 5; x < 25; ++x) {
      const bool pasted = x >= 5 && x < 12 && x >= target.x1 && x < target.x2 && y >= target.y1 && y < target.y2;
      ok = ok && output.pixelIs(x, y, pixelBytes(depth, x, y, pasted ? 5 : 4));
    }
  }
  expect(ok, label + ": patch lands at its place, clipped to window and bounds");
}

void testPaste() {
  for (const PixelDepth depth : kDepths) {
    for (const bool negative : {false, true}) {
      checkPaste(depth, negative, RowOrder::TopDown);
      checkPaste(depth, negative, RowOrder::BottomUp);
    }
  }
  TestImage output(PixelDepth::Byte, PixelRect{0, 0, 4, 4}, true, 0, 1);
  const std::vector<unsigned char> data(4 * 4 * 2);
  ned::PackedPixels patch;
  patch.data = data.data();
  patch.size = data.size();
  patch.rowBytes = 16;
  patch.width = 4;
  patch.height = 4;  // needs 64 bytes, has 32
  bool threw = false;
  try {
    ned::pastePacked(patch, PixelRect{0, 0, 4, 4}, output.view, PixelRect{0, 0, 4, 4});
  } catch (const std::invalid_argument&) {
    threw = true;
  }
  expect(threw, "a patch with too few bytes is rejected");
  patch.height = 2;
  threw = false;
  try {
    ned::pastePacked(patch, PixelRect{0, 0, 4, 4}, output.view, PixelRect{0, 0, 4, 4});
  } catch (const std::invalid_argument&) {
    threw = true;
  }
  expect(threw, "a patch whose size differs from its placement is rejected");
  bool untouched = true;
  for (int y = 0; y < 4; ++y) {
    for (int x = 0; x < 4; ++x) {
      untouched = untouched && output.pixelIs(x, y, pixelBytes(PixelDepth::Byte, x, y, 1));
    }
  }
  expect(untouched, "a rejected patch writes nothing");
}

// Float pixels travel as raw bytes: values outside 0..1, negative zero and NaN survive.
void testFloatBitExact() {
  TestImage image(PixelDepth::Float, PixelRect{0, 0, 2, 1}, true, 0, -1);
  const float special[8] = {-0.0f, 7.5f, -3.25f, std::numeric_limits<float>::quiet_NaN(),
                            1e30f, std::numeric_limits<float>::denorm_min(), 1.0f, 0.0f};
  std::memcpy(image.view.pixel(0, 0), special, sizeof(special));
  std::string packed;
  ned::packRect(image.view, image.view.bounds, packed);
  expect(packed.size() == sizeof(special) && std::memcmp(packed.data(), special, sizeof(special)) == 0,
         "float specials are packed bit for bit");
}

}  // namespace

int main() {
  testGeometry();
  testPack();
  testCopyWindow();
  testPaste();
  testFloatBitExact();
  if (gFailures != 0) {
    std::fprintf(stderr, "%d check(s) failed\n", gFailures);
    return 1;
  }
  std::printf("frame_codec: all checks passed\n");
  return 0;
}

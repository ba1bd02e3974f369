"""YUV <-> RGB at the media edge, with one rule for decoding and encoding so a round trip keeps values.

Frames leave this module as (H, W, 3) RGB, uint8 for 8-bit sources and uint16 (0..65535 scale) for
deeper ones: a 10-bit source is never squeezed into 8 bits. The YUV matrix is the one the source is
tagged with; an untagged source gets the usual guess (BT.709 for HD, BT.601 below), and the output is
tagged exactly as the source was, so a player reads both files the same way.
"""

from __future__ import annotations

from dataclasses import dataclass

import av
import numpy as np
from av.video.reformatter import ColorRange, Colorspace, Interpolation

__all__ = [
    "ColorTags",
    "YuvRule",
    "rule_for_source",
    "rule_for_output",
    "output_tags",
    "component_bits",
    "is_rgb_format",
    "frame_to_rgb",
    "rgb_to_frame",
]

# H.273 code points (FFmpeg's AVColorSpace / AVColorPrimaries / AVColorTransferCharacteristic use them).
_UNSPECIFIED = 2
_BT709 = 1
_RANGE_UNSPECIFIED, _RANGE_LIMITED, _RANGE_FULL = 0, 1, 2
_SWS_MATRIX = {
    1: Colorspace.ITU709,
    4: Colorspace.FCC,
    5: Colorspace.ITU601,  # BT.470 BG
    6: Colorspace.ITU601,  # SMPTE 170M (same matrix as BT.601)
    7: Colorspace.SMPTE240M,
    9: Colorspace.BT2020,  # BT.2020 non-constant luminance
    10: Colorspace.BT2020,
}
# swscale's default 8-bit YUV->RGB path shifts luma by about one code value on average (measured on
# the 720p test clips); accurate rounding plus full chroma interpolation makes decode + re-encode give
# back the source's luma exactly, for about 2 ms per 720p frame. Full chroma interpolation corrupts
# 10-bit 4:2:0 -> 48-bit RGB (FFmpeg 8 swscale), so deep frames use accurate rounding alone.
_EXACT_8BIT = Interpolation.BILINEAR | Interpolation.ACCURATE_RND | Interpolation.FULL_CHR_H_INT
_EXACT_DEEP = Interpolation.BILINEAR | Interpolation.ACCURATE_RND
# swscale's SIMD path: about 10x faster (1 vs 10 ms per 720p frame on one core), fine for analysis
_FAST = Interpolation.BILINEAR


@dataclass(frozen=True)
class ColorTags:
    """How a stream describes its colour, as H.273 code points (2 = unspecified, range 0 = unspecified)."""

    matrix: int = _UNSPECIFIED
    range: int = _RANGE_UNSPECIFIED
    primaries: int = _UNSPECIFIED
    transfer: int = _UNSPECIFIED

    @classmethod
    def of_frame(cls, frame: av.VideoFrame) -> ColorTags:
        """The tags a decoder put on `frame`."""
        return cls(int(frame.colorspace), int(frame.color_range), int(frame.color_primaries),
                   int(frame.color_trc))


@dataclass(frozen=True)
class YuvRule:
    """The matrix and range used to turn YUV into RGB or back."""

    matrix: Colorspace
    full_range: bool

    @property
    def color_range(self) -> ColorRange:
        return ColorRange.JPEG if self.full_range else ColorRange.MPEG


def component_bits(pix_fmt: str) -> int:
    """Bits per colour component of an FFmpeg pixel format (alpha ignored), e.g. 10 for yuv420p10le."""
    fmt = av.VideoFormat(pix_fmt)
    return max(c.bits for c in fmt.components if not c.is_alpha)


def is_rgb_format(pix_fmt: str) -> bool:
    """True for formats that need no YUV matrix (RGB, palette, grey)."""
    fmt = av.VideoFormat(pix_fmt)
    return fmt.is_rgb or fmt.has_palette or len([c for c in fmt.components if not c.is_alpha]) == 1


def rule_for_source(tags: ColorTags, pix_fmt: str, width: int, height: int) -> YuvRule:
    """The rule that decodes a source: its tagged matrix, or mpv's guess (HD -> BT.709) when untagged."""
    matrix = _SWS_MATRIX.get(tags.matrix)
    if matrix is None:
        matrix = Colorspace.ITU709 if (width >= 1280 or height > 576) else Colorspace.ITU601
    full = tags.range == _RANGE_FULL or pix_fmt.startswith("yuvj")
    return YuvRule(matrix, full)


def rule_for_output(source_rule: YuvRule | None) -> YuvRule:
    """The rule an encoder uses: the source's matrix (BT.709 for RGB sources), limited range."""
    matrix = source_rule.matrix if source_rule is not None else Colorspace.ITU709
    return YuvRule(matrix, full_range=False)


def output_tags(source: ColorTags, source_is_yuv: bool) -> ColorTags:
    """Tags for a YUV output: the source's own (untagged stays untagged), BT.709 for RGB sources."""
    if not source_is_yuv:
        return ColorTags(_BT709, _RANGE_LIMITED, _BT709, _BT709)
    return ColorTags(source.matrix, _RANGE_LIMITED, source.primaries, source.transfer)


def frame_to_rgb(frame: av.VideoFrame, rule: YuvRule | None, dtype: np.dtype, *, exact: bool = True
                 ) -> np.ndarray:
    """(H, W, 3) RGB top-down in `dtype` (uint8 or uint16) from a decoded frame; alpha is dropped.

    `exact=False` takes swscale's fast path (about one code value of luma shift): for analysis only,
    never for frames that are written back.
    """
    eight_bit = np.dtype(dtype) == np.uint8
    target, flags = ("rgb24", _EXACT_8BIT) if eight_bit else ("rgb48le", _EXACT_DEEP)
    if not exact:
        flags = _FAST
    if rule is None or is_rgb_format(frame.format.name):
        image = frame.to_ndarray(format=target, interpolation=flags)
    else:
        image = frame.to_ndarray(format=target, src_colorspace=rule.matrix,
                                 src_color_range=rule.color_range, interpolation=flags)
    return np.ascontiguousarray(image)


def rgb_to_frame(image: np.ndarray, rule: YuvRule | None, pix_fmt: str) -> av.VideoFrame:
    """An encoder-ready frame in `pix_fmt` from (H, W, 3) uint8/uint16 RGB."""
    source, flags = ("rgb24", _EXACT_8BIT) if image.dtype == np.uint8 else ("rgb48le", _EXACT_DEEP)
    frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(image), format=source)
    if pix_fmt == source:
        return frame
    if rule is None or is_rgb_format(pix_fmt):
        return frame.reformat(format=pix_fmt, interpolation=flags)
    return frame.reformat(format=pix_fmt, dst_colorspace=rule.matrix, dst_color_range=rule.color_range,
                          interpolation=flags)

"""Images the ctypes OFX host hands to a plugin: numpy buffers exposed with OFX addressing.

OFX addresses pixel (x, y) with y UP: `data + (y - y1) * rowBytes + (x - x1) * bytesPerPixel`, where
`data` is the bottom-left pixel. Two memory layouts give the same picture to a correct plugin:

- `RowLayout.NEGATIVE`: memory holds the top row first; `data` points at the LAST memory row and
  rowBytes < 0. This is MLT 7.40+ (what the brief calls "bottom-up").
- `RowLayout.POSITIVE`: memory holds the bottom row first; `data` is the buffer start and
  rowBytes > 0 (the textbook OFX layout; the brief's "top-down").

Pictures on the Python side are always (H, W, 4) top-down arrays.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from enum import Enum

import numpy as np

from tests.hosts.ofx_abi import COMPONENTS_RGBA, FIELD_NONE, UNPREMULTIPLIED
from tests.hosts.ofx_props import HandleRegistry, Kind, PropertySet


class Depth(Enum):
    """Pixel depths this host offers (OFX name, numpy dtype)."""

    BYTE = ("OfxBitDepthByte", np.dtype(np.uint8))
    SHORT = ("OfxBitDepthShort", np.dtype(np.uint16))
    FLOAT = ("OfxBitDepthFloat", np.dtype(np.float32))

    @property
    def ofx_name(self) -> str:
        return self.value[0]

    @property
    def dtype(self) -> np.dtype:
        return self.value[1]

    @classmethod
    def of(cls, value: Depth | str | np.dtype | type) -> Depth:
        """Accepts a Depth, "byte"/"short"/"float", an OFX depth name, or a numpy dtype."""
        if isinstance(value, Depth):
            return value
        if isinstance(value, str):
            for depth in cls:
                if value.lower() in (depth.name.lower(), depth.ofx_name.lower()):
                    return depth
            raise ValueError(f"unknown pixel depth {value!r}; use byte, short or float")
        dtype = np.dtype(value)
        for depth in cls:
            if depth.dtype == dtype:
                return depth
        raise ValueError(f"no OFX depth for numpy dtype {dtype}; use uint8, uint16 or float32")


class RowLayout(Enum):
    NEGATIVE = "negative"  # top row first in memory, data -> last memory row, rowBytes < 0 (MLT 7.40+)
    POSITIVE = "positive"  # bottom row first in memory, rowBytes > 0


@dataclass(frozen=True)
class ImageSpec:
    """How pictures of one clip are presented to the plugin."""

    depth: Depth = Depth.FLOAT
    layout: RowLayout = RowLayout.NEGATIVE
    render_scale: float = 1.0
    pixel_aspect: float = 1.0
    row_padding: int = 0  # extra bytes at the end of every row (rowBytes > width * bytes per pixel)

    def __post_init__(self) -> None:
        if not 0 < self.render_scale <= 1:
            raise ValueError(f"render_scale must be in (0, 1], got {self.render_scale}")
        if self.pixel_aspect <= 0 or self.row_padding < 0:
            raise ValueError(f"bad pixel_aspect {self.pixel_aspect} or row_padding {self.row_padding}")


_unique = itertools.count(1)


class PixelBuffer:
    """Memory for one picture in a given layout; `picture` is its (H, W, 4) top-down view."""

    def __init__(self, height: int, width: int, spec: ImageSpec):
        if height <= 0 or width <= 0:
            raise ValueError(f"empty image {width}x{height}")
        self.spec = spec
        self.width, self.height = width, height
        pixel_bytes = 4 * spec.depth.dtype.itemsize
        self.stride = width * pixel_bytes + spec.row_padding
        self.memory = np.zeros((height, self.stride), np.uint8)
        rows = self.memory[:, : width * pixel_bytes].view(spec.depth.dtype).reshape(height, width, 4)
        self.picture = rows if spec.layout is RowLayout.NEGATIVE else rows[::-1]

    @classmethod
    def holding(cls, picture: np.ndarray, spec: ImageSpec) -> PixelBuffer:
        check_picture(picture, spec.depth)
        buf = cls(picture.shape[0], picture.shape[1], spec)
        buf.picture[...] = picture
        return buf

    @property
    def data_address(self) -> int:
        """Address of the bottom-left pixel (OfxImagePropData)."""
        base = self.memory.ctypes.data
        return base + (self.height - 1) * self.stride if self.spec.layout is RowLayout.NEGATIVE else base

    @property
    def row_bytes(self) -> int:
        return -self.stride if self.spec.layout is RowLayout.NEGATIVE else self.stride

    def rod_canonical(self) -> tuple[float, float, float, float]:
        """Region of definition in canonical coordinates (render scale and pixel aspect removed)."""
        s, par = self.spec.render_scale, self.spec.pixel_aspect
        return 0.0, 0.0, self.width * par / s, self.height / s


class HostImage(PropertySet):
    """An `OfxPropertySetHandle` describing one fetched image over a `PixelBuffer`."""

    def __init__(self, registry: HandleRegistry, buffer: PixelBuffer, clip_name: str, time: float,
                 clip_handle: int = 0):
        super().__init__(registry, f"image {clip_name}@{time:g}", read_only=True)
        self.buffer = buffer
        self.clip_handle = clip_handle
        self.clip_name, self.time = clip_name, time
        spec = buffer.spec
        bounds = [0, 0, buffer.width, buffer.height]
        for name, kind, value in (
            ("OfxPropType", Kind.STRING, "OfxTypeImage"),
            ("OfxImageEffectPropPixelDepth", Kind.STRING, spec.depth.ofx_name),
            ("OfxImageEffectPropComponents", Kind.STRING, COMPONENTS_RGBA),
            ("OfxImageEffectPropPreMultiplication", Kind.STRING, UNPREMULTIPLIED),
            ("OfxImageEffectPropRenderScale", Kind.DOUBLE, [spec.render_scale, spec.render_scale]),
            ("OfxImagePropPixelAspectRatio", Kind.DOUBLE, spec.pixel_aspect),
            ("OfxImagePropData", Kind.POINTER, buffer.data_address),
            ("OfxImagePropBounds", Kind.INT, bounds),
            ("OfxImagePropRegionOfDefinition", Kind.INT, bounds),
            ("OfxImagePropRowBytes", Kind.INT, buffer.row_bytes),
            ("OfxImagePropField", Kind.STRING, FIELD_NONE),
            ("OfxImagePropUniqueIdentifier", Kind.STRING, f"{clip_name}-{time:g}-{next(_unique)}"),
        ):
            self.declare(name, kind, value)


def check_picture(picture: np.ndarray, depth: Depth) -> None:
    """Raise ValueError unless `picture` is an (H, W, 4) array of `depth`'s dtype."""
    if not isinstance(picture, np.ndarray) or picture.ndim != 3 or picture.shape[2] != 4:
        shape = getattr(picture, "shape", type(picture).__name__)
        raise ValueError(f"a picture must be an (H, W, 4) RGBA array, got {shape}")
    if picture.dtype != depth.dtype:
        raise ValueError(f"picture dtype {picture.dtype} does not match depth {depth.name} ({depth.dtype})")

"""The only place where protobuf messages become NumPy arrays and ned_models values, and back.

Incoming images are validated here (sizes, row bytes, formats) so that every other module can
trust the arrays it receives; a bad message raises `InvalidRequest` with a detail that names the
field and the problem, which the servicer returns as INVALID_ARGUMENT.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ned_models.edit import EditParams, Emotion, RendererKind
from ned_server._gen.ned.v1 import ned_pb2

__all__ = ["InvalidRequest", "FrameInput", "image_to_array", "array_to_image", "frame_from_proto",
           "params_from_proto", "rect_to_proto", "DTYPES"]

# proto pixel format -> (numpy dtype of one channel, bytes per pixel)
DTYPES: dict[int, tuple[np.dtype, int]] = {
    ned_pb2.PIXEL_FORMAT_RGBA8: (np.dtype(np.uint8), 4),
    ned_pb2.PIXEL_FORMAT_RGBA16: (np.dtype("<u2"), 8),
    ned_pb2.PIXEL_FORMAT_RGBA32F: (np.dtype("<f4"), 16),
}
FORMAT_OF_DTYPE = {np.dtype(np.uint8): ned_pb2.PIXEL_FORMAT_RGBA8, np.dtype(np.uint16): ned_pb2.PIXEL_FORMAT_RGBA16,
                   np.dtype(np.float32): ned_pb2.PIXEL_FORMAT_RGBA32F}


class InvalidRequest(ValueError):
    """A request field is malformed; the message is the user-facing detail."""


@dataclass(frozen=True)
class FrameInput:
    """A validated frame region.

    Attributes:
        pixels: (h, w, 4) RGBA top-down view of the sent pixels (read-only, may alias the message).
        origin_xy: top-left of `pixels` in the full frame, pixels at `render_scale`.
        frame_size_hw: full frame size at `render_scale`.
        render_scale: host render scale (1 = full resolution).
        pixel_aspect: width / height of one pixel.
    """

    pixels: np.ndarray
    origin_xy: tuple[int, int]
    frame_size_hw: tuple[int, int]
    render_scale: float
    pixel_aspect: float

    @property
    def is_whole_frame(self) -> bool:
        return self.origin_xy == (0, 0) and self.pixels.shape[:2] == self.frame_size_hw


def image_to_array(image: ned_pb2.Image, what: str = "image", buffer: memoryview | None = None) -> np.ndarray:
    """View a proto Image as an (H, W, 4) top-down array without copying the pixels.

    Args:
        image: the message; its pixels are inline (`data`) unless `buffer` is given.
        what: the field's name, used in error details.
        buffer: the bytes of `image.shared`, already mapped by the caller.

    Raises:
        InvalidRequest: unknown format or row order, inconsistent sizes.
    """
    if image.format not in DTYPES:
        name = ned_pb2.PixelFormat.Name(image.format) if image.format in ned_pb2.PixelFormat.values() \
            else str(image.format)
        raise InvalidRequest(f"{what}: unsupported pixel format {name}; expected RGBA8, RGBA16 or RGBA32F")
    if image.row_order not in (ned_pb2.ROW_ORDER_TOP_DOWN, ned_pb2.ROW_ORDER_BOTTOM_UP):
        raise InvalidRequest(f"{what}: row_order must be TOP_DOWN or BOTTOM_UP")
    dtype, bpp = DTYPES[image.format]
    w, h = image.width, image.height
    if w == 0 or h == 0:
        raise InvalidRequest(f"{what}: empty image ({w}x{h})")
    if image.row_bytes < w * bpp:
        raise InvalidRequest(f"{what}: row_bytes {image.row_bytes} < width {w} x {bpp} bytes per pixel")
    if image.row_bytes % dtype.itemsize:
        raise InvalidRequest(f"{what}: row_bytes {image.row_bytes} is not a multiple of {dtype.itemsize}")
    data = buffer if buffer is not None else image.data
    need = h * image.row_bytes
    if len(data) != need:
        raise InvalidRequest(f"{what}: {len(data)} bytes of pixels, expected {need} "
                             f"({h} rows x {image.row_bytes} row_bytes)")
    flat = np.frombuffer(data, dtype=dtype, count=need // dtype.itemsize)
    rows = flat.reshape(h, image.row_bytes // dtype.itemsize)[:, : w * 4].reshape(h, w, 4)
    return rows[::-1] if image.row_order == ned_pb2.ROW_ORDER_BOTTOM_UP else rows


def array_to_image(pixels: np.ndarray) -> ned_pb2.Image:
    """Pack an (H, W, 4) array into a top-down, packed proto Image of the matching format."""
    if pixels.ndim != 3 or pixels.shape[2] != 4:
        raise ValueError(f"expected (H, W, 4) RGBA pixels, got shape {pixels.shape}")
    fmt = FORMAT_OF_DTYPE.get(pixels.dtype.newbyteorder("=")) if pixels.dtype.byteorder in "<=|" else None
    if fmt is None:
        raise ValueError(f"unsupported pixel dtype {pixels.dtype}")
    h, w = pixels.shape[:2]
    return ned_pb2.Image(width=w, height=h, format=fmt, row_order=ned_pb2.ROW_ORDER_TOP_DOWN,
                         row_bytes=w * 4 * pixels.dtype.itemsize,
                         data=np.ascontiguousarray(pixels).tobytes())


def frame_from_proto(frame: ned_pb2.FrameRegion, buffer: memoryview | None = None) -> FrameInput:
    """Validate a FrameRegion and view its pixels (see `image_to_array`)."""
    if not frame.HasField("image"):
        raise InvalidRequest("frame.image is missing")
    pixels = image_to_array(frame.image, "frame.image", buffer)
    h, w = pixels.shape[:2]
    if frame.HasField("region"):
        r = frame.region
        if (r.width, r.height) != (w, h):
            raise InvalidRequest(f"frame.region is {r.width}x{r.height} but frame.image is {w}x{h}")
        origin = (r.x, r.y)
    else:
        origin = (0, 0)
    fw, fh = (frame.frame_width or w), (frame.frame_height or h)
    if origin[0] < 0 or origin[1] < 0 or origin[0] + w > fw or origin[1] + h > fh:
        raise InvalidRequest(f"frame.region {w}x{h}+{origin[0]}+{origin[1]} lies outside the {fw}x{fh} frame")
    scale = frame.render_scale or 1.0
    aspect = frame.pixel_aspect or 1.0
    if not (0 < scale <= 16) or not (0.1 < aspect < 10):
        raise InvalidRequest(f"frame.render_scale {scale} / pixel_aspect {aspect} out of range")
    return FrameInput(pixels=pixels, origin_xy=origin, frame_size_hw=(fh, fw), render_scale=scale,
                      pixel_aspect=aspect)


def params_from_proto(params: ned_pb2.EffectParams) -> EditParams:
    """The effect parameters, validated (the ranges are `EditParams`'s, as the plugin exposes them)."""
    if params.emotion not in ned_pb2.Emotion.values():
        raise InvalidRequest(f"params.emotion {params.emotion} is not one of the 7 NED labels (0..6)")
    renderer = {ned_pb2.RENDERER_UNSPECIFIED: RendererKind.WARP, ned_pb2.RENDERER_WARP: RendererKind.WARP,
                ned_pb2.RENDERER_NEURAL: RendererKind.NEURAL, ned_pb2.RENDERER_PASSTHROUGH: RendererKind.PASSTHROUGH,
                ned_pb2.RENDERER_DEBUG: RendererKind.DEBUG}.get(params.renderer)
    if renderer is None:
        raise InvalidRequest(f"params.renderer {params.renderer} is unknown")
    try:  # EditParams owns the ranges
        return EditParams(emotion=Emotion(params.emotion), intensity=params.intensity,
                          mouth_preservation=params.mouth_preservation, face_index=params.face_index,
                          renderer=renderer, feather=params.feather)
    except ValueError as exc:
        raise InvalidRequest(f"params: {exc}") from None


def rect_to_proto(x: int, y: int, width: int, height: int) -> ned_pb2.Rect:
    return ned_pb2.Rect(x=int(x), y=int(y), width=int(width), height=int(height))

"""proto <-> NumPy conversion: layouts, row orders, strides, validation details."""

import numpy as np
import pytest
from ned_server._gen.ned.v1 import ned_pb2
from ned_server.convert import InvalidRequest, array_to_image, frame_from_proto, image_to_array, params_from_proto

from ned_models.edit import Emotion, RendererKind

FORMATS = [(np.uint8, ned_pb2.PIXEL_FORMAT_RGBA8), (np.uint16, ned_pb2.PIXEL_FORMAT_RGBA16),
           (np.float32, ned_pb2.PIXEL_FORMAT_RGBA32F)]


def _pixels(dtype, h=5, w=7):
    rng = np.random.default_rng(3)
    if dtype == np.float32:
        return rng.normal(0.5, 2.0, (h, w, 4)).astype(np.float32)  # values outside 0..1 on purpose
    return rng.integers(0, np.iinfo(dtype).max, (h, w, 4), endpoint=True).astype(dtype)


@pytest.mark.parametrize("dtype,fmt", FORMATS)
def test_round_trip_is_exact(dtype, fmt):
    px = _pixels(dtype)
    image = array_to_image(px)
    assert image.format == fmt and image.row_order == ned_pb2.ROW_ORDER_TOP_DOWN
    np.testing.assert_array_equal(image_to_array(image), px)


@pytest.mark.parametrize("dtype,fmt", FORMATS)
def test_bottom_up_with_padded_rows(dtype, fmt):
    px = _pixels(dtype)
    h, w = px.shape[:2]
    pad = 3 * np.dtype(dtype).itemsize
    row_bytes = w * 4 * np.dtype(dtype).itemsize + pad
    raw = bytearray()
    for row in px[::-1]:  # bottom row first, as OFX stores it
        raw += row.tobytes() + b"\xee" * pad
    image = ned_pb2.Image(width=w, height=h, format=fmt, row_order=ned_pb2.ROW_ORDER_BOTTOM_UP,
                          row_bytes=row_bytes, data=bytes(raw))
    np.testing.assert_array_equal(image_to_array(image), px)


@pytest.mark.parametrize("mutate,detail", [
    (lambda im: setattr(im, "format", ned_pb2.PIXEL_FORMAT_UNSPECIFIED), "unsupported pixel format"),
    (lambda im: setattr(im, "row_bytes", 4), "row_bytes 4 <"),
    (lambda im: setattr(im, "data", im.data[:-1]), "bytes of pixels, expected"),
    (lambda im: setattr(im, "row_order", ned_pb2.ROW_ORDER_UNSPECIFIED), "row_order"),
    (lambda im: setattr(im, "width", 0), "empty image"),
])
def test_malformed_images_name_the_problem(mutate, detail):
    image = array_to_image(_pixels(np.uint8))
    mutate(image)
    with pytest.raises(InvalidRequest, match=detail):
        image_to_array(image)


def test_region_must_lie_inside_the_frame():
    px = _pixels(np.uint8, 4, 4)
    frame = ned_pb2.FrameRegion(image=array_to_image(px), region=ned_pb2.Rect(x=8, y=0, width=4, height=4),
                                frame_width=10, frame_height=10)
    with pytest.raises(InvalidRequest, match="outside the 10x10 frame"):
        frame_from_proto(frame)
    frame.region.x = 6
    got = frame_from_proto(frame)
    assert got.origin_xy == (6, 0) and got.frame_size_hw == (10, 10) and not got.is_whole_frame


def test_params_are_validated_and_mapped():
    p = params_from_proto(ned_pb2.EffectParams(emotion=ned_pb2.EMOTION_SAD, intensity=1.5, mouth_preservation=1,
                                               renderer=ned_pb2.RENDERER_PASSTHROUGH, feather=0.3))
    assert p.emotion is Emotion.SAD and p.renderer is RendererKind.PASSTHROUGH
    assert params_from_proto(ned_pb2.EffectParams()).renderer is RendererKind.WARP  # unspecified = default
    with pytest.raises(InvalidRequest, match="intensity 1.6 out of range"):
        params_from_proto(ned_pb2.EffectParams(intensity=1.6))
    with pytest.raises(InvalidRequest, match="emotion 9"):
        params_from_proto(ned_pb2.EffectParams(emotion=9))

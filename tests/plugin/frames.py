"""Real frames for the plugin tests (decoded with PyAV) and exact pixel comparisons."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np

UINT8_TO_UINT16 = 257  # 0..255 -> 0..65535 exactly


def read_rgba_frames(path: Path, count: int, start: int = 0) -> list[np.ndarray]:
    """`count` decoded frames from index `start` as (H, W, 4) uint8 RGBA, top-down."""
    frames: list[np.ndarray] = []
    with av.open(str(path)) as container:
        for index, frame in enumerate(container.decode(video=0)):
            if index >= start:
                frames.append(frame.to_ndarray(format="rgba"))
            if len(frames) == count:
                return frames
    raise ValueError(f"{path} has only {len(frames) + start} frames, {start + count} needed")


def as_depth(rgba8: np.ndarray, depth: str) -> np.ndarray:
    """The same picture at OFX depth "byte", "short" or "float" (float in 0..1)."""
    if depth == "byte":
        return rgba8.copy()
    if depth == "short":
        return rgba8.astype(np.uint16) * UINT8_TO_UINT16
    if depth == "float":
        return rgba8.astype(np.float32) / 255.0
    raise ValueError(f"unknown depth {depth!r}; use byte, short or float")


def beyond_unit_range(rgba_float: np.ndarray) -> np.ndarray:
    """A float frame whose values leave 0..1 everywhere: scene-referred values a grade can produce.

    Colour spans about -0.3..1.3, alpha stays as it was; a few extreme values sit in the corners.
    """
    out = rgba_float.copy()
    out[..., :3] = out[..., :3] * 1.6 - 0.3
    out[:4, :4, :3] = -1e4
    out[-4:, -4:, :3] = 1e4
    out[:4, -4:, :3] = 7.5
    return out


def on_canvas(frame: np.ndarray, width: int, height: int) -> np.ndarray:
    """`frame` centred on a (height, width) canvas that extends its border pixels (no scaling)."""
    h, w = frame.shape[:2]
    if w > width or h > height:
        raise ValueError(f"a {w}x{h} frame does not fit a {width}x{height} canvas")
    left, top = (width - w) // 2, (height - h) // 2
    return np.pad(frame, ((top, height - h - top), (left, width - w - left), (0, 0)), mode="edge")


def bitwise_equal(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(H, W) bool: True where every byte of the pixel is the same (so -0.0 != 0.0, NaN == NaN)."""
    if a.shape != b.shape or a.dtype != b.dtype:
        raise ValueError(f"cannot compare {a.shape} {a.dtype} with {b.shape} {b.dtype}")
    h, w = a.shape[:2]
    return (a.view(np.uint8).reshape(h, w, -1) == b.view(np.uint8).reshape(h, w, -1)).all(axis=2)


def differing_pixels(actual: np.ndarray, expected: np.ndarray,
                     region: tuple[int, int, int, int] | None = None) -> tuple[int, int]:
    """(pixels differing outside `region`, pixels differing inside it); region = (x, y, w, h) top-left."""
    diff = ~bitwise_equal(actual, expected)
    inside = np.zeros_like(diff)
    if region is not None:
        x, y, w, h = region
        inside[max(y, 0):max(y + h, 0), max(x, 0):max(x + w, 0)] = True
    return int((diff & ~inside).sum()), int((diff & inside).sum())


def difference_box(actual: np.ndarray, expected: np.ndarray) -> tuple[int, int, int, int] | None:
    """Smallest (x, y, w, h) holding every differing pixel, or None when identical."""
    ys, xs = np.nonzero(~bitwise_equal(actual, expected))
    if len(xs) == 0:
        return None
    return int(xs.min()), int(ys.min()), int(xs.max() - xs.min() + 1), int(ys.max() - ys.min() + 1)

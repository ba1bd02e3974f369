"""The conventions every stage of ned_models shares, stated once (and pinned by tests).

Images
    A frame is a NumPy array (H, W, C), rows top-down, C = 3 (RGB) or 4 (RGBA), holding the host's
    values unchanged: uint8, uint16 or float32 (float may be below 0 or above 1; nothing clamps it).
    Stages that need a model input make their own normalised copy. Alpha is straight.
Coordinates
    Points are pixel (x, y) with the origin at the top-left corner of the top-left pixel, so the
    centre of pixel (i, j) (column i, row j) is (i + 0.5, j + 0.5). Sizes are written `size_hw`
    (height, width) when they are a tuple. Depth z (when present) is in the same pixel units as x,
    larger = farther from the camera.
Transforms
    3x3 homogeneous matrices named destination-from-source: `crop_from_frame` maps frame pixels to
    crop pixels; its inverse is `frame_from_crop`.
Emotions
    NED's label order: 0 neutral, 1 angry, 2 disgusted, 3 fearful, 4 happy, 5 sad, 6 surprised.
"""

from __future__ import annotations

import numpy as np

__all__ = ["pixel_center_grid", "as_float_image", "from_float_image"]


def pixel_center_grid(size_hw: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """Return (x, y) float32 grids of pixel-centre coordinates for an image of `size_hw`."""
    h, w = size_hw
    xs = np.arange(w, dtype=np.float32) + 0.5
    ys = np.arange(h, dtype=np.float32) + 0.5
    return np.meshgrid(xs, ys)


def as_float_image(image: np.ndarray) -> np.ndarray:
    """Return float32 values on a 0..1 scale: uint8 / 255, uint16 / 65535, float32 as is (no clamp)."""
    if image.dtype == np.uint8:
        return image.astype(np.float32) * np.float32(1.0 / 255.0)
    if image.dtype == np.uint16:
        return image.astype(np.float32) * np.float32(1.0 / 65535.0)
    if image.dtype == np.float32:
        return image
    raise ValueError(f"unsupported image dtype {image.dtype}; expected uint8, uint16 or float32")


def from_float_image(values: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """Inverse of `as_float_image`: round and clamp to the integer range, or keep float32 as is."""
    dtype = np.dtype(dtype)
    if dtype == np.uint8:
        return np.clip(np.rint(values * 255.0), 0, 255).astype(np.uint8)
    if dtype == np.uint16:
        return np.clip(np.rint(values * 65535.0), 0, 65535).astype(np.uint16)
    if dtype == np.float32:
        return values.astype(np.float32, copy=False)
    raise ValueError(f"unsupported image dtype {dtype}; expected uint8, uint16 or float32")

"""Bicubic resampling through a map, with the detail that sub-pixel interpolation loses put back.

Any interpolator sampling between pixels attenuates the finest detail (grain, pores, lashes); how
much depends only on the sample's sub-pixel phase t (distance to the nearest pixel centre, 0..0.5
per axis): nothing at t = 0, most at t = 0.5, where OpenCV's cubic (a = -0.75) keeps about 40% of a
flat (grain-like) spectrum's Laplacian energy. The warp's phase varies across the face, so the
softening would too. Each axis therefore gets the 3-tap correction [-c, 1 + 2c, -c] with c(t)
fitted so the cubic's flat-spectrum Laplacian energy is restored, scaled by `DETAIL_STRENGTH`
because natural images hold less energy near Nyquist than grain does (1 would over-sharpen them).
The result has the same sharpness whatever the phase: cubic followed by this correction is a
6-tap, phase-dependent interpolation kernel. (OpenCV's a = -0.75 kernel also does not reproduce a
linear ramp exactly: positions are off by up to 0.048 px depending on the phase.)
"""

from __future__ import annotations

import functools

import cv2
import numpy as np

__all__ = ["resample", "DETAIL_STRENGTH"]

DETAIL_STRENGTH = 0.35
# c(t) = t^2 (p0 + p1 t + p2 t^2): least-squares fit of the flat-spectrum gain for OpenCV's cubic
_GAIN_POLY = (0.3497, 5.382, -8.281)
_LUT_SIZE = 256  # phase 0..0.5 quantised to 1/510 pixel
_SECOND_DIFF_X = np.array([[-1.0, 2.0, -1.0]], dtype=np.float32)
_SECOND_DIFF_Y = _SECOND_DIFF_X.T.copy()


def resample(source: np.ndarray, maps: np.ndarray, *, detail: float = DETAIL_STRENGTH,
             dtype: np.dtype | None = None) -> np.ndarray:
    """Sample `source` at `maps` bicubically, in float32, restoring detail by sub-pixel phase.

    Callers should pass blocks of a few tens of rows (see `warp.warp_image`) and a float32 source
    they converted once: the temporaries then stay in cache and are reused.

    Args:
        source: (H, W, C) uint8/uint16/float32, C <= 4.
        maps: (h, w, 2) float32 sample positions (x, y) in source pixel indices (centre of pixel
            (i, j) at (i, j)); positions outside are clamped to the border.
        detail: strength of the restoration (0 = plain bicubic).
        dtype: the result's type, the source's when None: integers are rounded and saturated,
            float32 is kept as computed (no clamp).

    Returns:
        (h, w, C) of `dtype`.
    """
    src = source if source.dtype == np.float32 else source.astype(np.float32)
    out = cv2.remap(src, maps, None, cv2.INTER_CUBIC, borderMode=cv2.BORDER_REPLICATE)
    out = out.reshape(maps.shape[0], maps.shape[1], source.shape[2])
    if detail > 0:
        _restore_detail(out, maps, _gain_table(float(detail)))
    return _to_dtype(out, np.dtype(dtype or source.dtype))


def _restore_detail(image: np.ndarray, maps: np.ndarray, table: np.ndarray) -> None:
    """Sharpen each axis by its sub-pixel phase, in place (OpenCV ops: numpy's broadcasting over
    3 channels is several times slower)."""
    t = maps - np.rint(maps)
    np.abs(t, out=t)  # (h, w, 2) phase per axis, 0..0.5
    gain = cv2.LUT(cv2.convertScaleAbs(t, alpha=(_LUT_SIZE - 1) * 2.0), table)
    gx, gy = cv2.split(gain)
    channels = image.shape[2]
    for kernel, g in ((_SECOND_DIFF_X, gx), (_SECOND_DIFF_Y, gy)):
        diff = cv2.filter2D(image, -1, kernel, borderType=cv2.BORDER_REPLICATE).reshape(image.shape)
        g = cv2.merge([g] * channels) if channels > 1 else g[..., None]
        cv2.multiply(diff, g, dst=diff)
        cv2.add(image, diff, dst=image)


def _to_dtype(values: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """Round float32 results back to the source's integer type (float stays as it is)."""
    if dtype == np.float32:
        return values
    if dtype == np.uint8:  # rounding, saturating; negatives clamped first since it takes |x|
        return cv2.convertScaleAbs(cv2.max(values, 0.0)).reshape(values.shape)
    values = np.clip(values, 0.0, float(np.iinfo(dtype).max))
    values += np.float32(0.5)  # non-negative now, so truncation rounds half up
    return values.astype(dtype)


@functools.lru_cache(maxsize=8)
def _gain_table(strength: float) -> np.ndarray:
    """c(t) for t = index / 510, as a (1, 256) float32 look-up table."""
    t = np.arange(_LUT_SIZE, dtype=np.float64) / ((_LUT_SIZE - 1) * 2.0)
    p0, p1, p2 = _GAIN_POLY
    return (strength * t * t * (p0 + t * (p1 + t * p2))).astype(np.float32).reshape(1, _LUT_SIZE)

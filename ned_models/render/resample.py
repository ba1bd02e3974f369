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

Where the warp magnifies (a raised brow stretches the lid skin below it: sample spacing 1/s source
pixels along an axis, s > 1), the finest detail is not attenuated but missing: the output's band
above 1/s of Nyquist is empty, since the source has nothing finer than its pixels to stretch into
it (on face crops a 10 % stretch keeps 0.77 of the Laplacian energy that sampling at s = 1 does).
The same 3-tap kernel boosts what is left near the top of the band; its gain c(s) is the one that
brings magnified face images back to the Laplacian energy they have at s = 1 (fitted on face crops
of the expressive and MEAD neutral clips for s = 1.05 .. 1.5, none of them an evaluation clip),
capped at s = 1.3, beyond which it would ring on edges. Minified axes (s < 1) get nothing: they keep
their detail.
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
# c(s) = (s - 1) (m0 + m1 (s - 1)), fitted as described above (within 0.011 of it up to the cap)
_MAGNIFICATION_POLY = (0.62, 0.35)
_MAX_STRETCH = 0.3  # s - 1 beyond which the boost would ring on edges
_SECOND_DIFF_X = np.array([[-1.0, 2.0, -1.0]], dtype=np.float32)
_SECOND_DIFF_Y = _SECOND_DIFF_X.T.copy()


def resample(source: np.ndarray, maps: np.ndarray, *, detail: float = DETAIL_STRENGTH,
             dtype: np.dtype | None = None) -> np.ndarray:
    """Sample `source` at `maps` bicubically, in float32, restoring detail by sub-pixel phase and
    by the map's local magnification.

    Callers should pass blocks of a few tens of rows (see `warp.warp_image`) and a float32 source
    they converted once: the temporaries then stay in cache and are reused.

    Args:
        source: (H, W, C) uint8/uint16/float32, C <= 4.
        maps: (h, w, 2) float32 sample positions (x, y) in source pixel indices (centre of pixel
            (i, j) at (i, j)); positions outside are clamped to the border.
        detail: strength of the phase restoration (0 = plain bicubic, without the magnification
            boost either).
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
    """Sharpen each axis by its sub-pixel phase and magnification, in place (OpenCV ops: numpy's broadcasting over
    3 channels is several times slower)."""
    t = maps - np.rint(maps)
    np.abs(t, out=t)  # (h, w, 2) phase per axis, 0..0.5
    gain = cv2.LUT(cv2.convertScaleAbs(t, alpha=(_LUT_SIZE - 1) * 2.0), table)
    gx, gy = cv2.split(gain)
    if min(maps.shape[:2]) > 1:
        cv2.add(gx, _magnification_gain(maps[:, 1:] - maps[:, :-1], (0, 1)), dst=gx)
        cv2.add(gy, _magnification_gain(maps[1:] - maps[:-1], (1, 0)), dst=gy)
    channels = image.shape[2]
    for kernel, g in ((_SECOND_DIFF_X, gx), (_SECOND_DIFF_Y, gy)):
        diff = cv2.filter2D(image, -1, kernel, borderType=cv2.BORDER_REPLICATE).reshape(image.shape)
        g = cv2.merge([g] * channels) if channels > 1 else g[..., None]
        cv2.multiply(diff, g, dst=diff)
        cv2.add(image, diff, dst=image)


def _magnification_gain(step: np.ndarray, pad: tuple[int, int]) -> np.ndarray:
    """c(s) per pixel, from the map's step between neighbours along one axis ((h, w, 2), one short
    along that axis: `pad` rows and columns are repeated to give the full size back)."""
    spacing = cv2.magnitude(*cv2.split(step))  # source pixels per output pixel
    excess = np.clip(1.0 / np.maximum(spacing, 1e-6) - 1.0, 0.0, _MAX_STRETCH)  # s - 1 where magnified
    m0, m1 = _MAGNIFICATION_POLY
    gain = excess * (m0 + m1 * excess)
    return cv2.copyMakeBorder(gain, 0, pad[0], 0, pad[1], cv2.BORDER_REPLICATE)


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

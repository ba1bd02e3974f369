"""Multi-band (Laplacian pyramid) compositing of a rendered face into its source frame.

For renderers that make new pixels (a neural renderer): the warp renderer does not need it, since
it fades its displacement instead and so never mixes two images (see `warp`). Burt and Adelson's
scheme: each frequency band is blended with its own transition width, the finest band (grain,
pores) switching sharply at the mask's 0.5 level so grain is never doubled or averaged, and each
coarser band over twice the width of the one above, so colour and shading differences melt away.

Only the difference `rendered - source` is blended and added back to the source, in float32:
wherever the blended difference is not needed the source is copied bit for bit, and float values
outside 0..1 pass unchanged.
"""

from __future__ import annotations

import cv2
import numpy as np

__all__ = ["blend", "blend_reach"]

_DTYPES = (np.uint8, np.uint16, np.float32)


def blend_reach(levels: int) -> int:
    """How far (pixels) beyond the mask's 0.5 level a `levels`-band blend can change the source.

    Each pyrDown/pyrUp pair spreads a value by 2 pixels at its own scale, 2**(k + 1) at full
    resolution for band k, both going down and coming back up.
    """
    return sum(2 * 2 ** (k + 1) for k in range(levels)) + 1


def blend(source: np.ndarray, rendered: np.ndarray, mask: np.ndarray, *,
          levels: int = 4) -> tuple[np.ndarray, np.ndarray]:
    """Blend `rendered` into `source` where `mask` says, band by band.

    Args:
        source: (H, W, C) uint8/uint16/float32, the original pixels.
        rendered: (H, W, C) same dtype, the new face (values outside the face are not used where
            the mask and its reach are zero).
        mask: (H, W) float in [0, 1]; its 0.5 level is where the finest band switches. Keep it
            `blend_reach(levels)` pixels inside whatever must not change (hair, background).
        levels: number of bands below the finest, >= 0 (0 = a hard switch at the 0.5 level).

    Returns:
        result: (H, W, C) source's dtype.
        support: (H, W) bool, where the result may differ from the source; elsewhere it is a
            bit-exact copy.

    Raises:
        ValueError: mismatched shapes, an unsupported dtype, or a negative `levels`.
    """
    _check(source, rendered, mask, levels)
    hard = np.asarray(mask) >= 0.5
    out = source.copy()
    support = np.zeros(hard.shape, dtype=bool)
    rows, cols = np.flatnonzero(hard.any(axis=1)), np.flatnonzero(hard.any(axis=0))
    if len(rows) == 0:
        return out, support
    # beyond `reach` of the hard mask every band's weight is exactly 0: work on that box only
    reach = blend_reach(levels)
    h, w = hard.shape
    box = np.s_[max(rows[0] - reach, 0):min(rows[-1] + reach + 1, h),
                max(cols[0] - reach, 0):min(cols[-1] + reach + 1, w)]
    hard_box = hard[box].astype(np.uint8)
    distance = cv2.distanceTransform(1 - hard_box, cv2.DIST_L2, cv2.DIST_MASK_5)
    support[box] = distance <= reach
    src = source[box]
    difference = rendered[box].astype(np.float32) - src.astype(np.float32)
    result = src.astype(np.float32)
    result += _blend_difference(difference, hard_box.astype(np.float32), levels)
    blended = _to_dtype(result, source.dtype)
    if source.shape[2] == 4:  # the host's alpha belongs to the source
        blended[..., 3] = src[..., 3]
    cv2.copyTo(blended, support[box].view(np.uint8), out[box])
    return out, support


def _blend_difference(difference: np.ndarray, hard: np.ndarray, levels: int) -> np.ndarray:
    """Laplacian bands of `difference`, each weighted by the matching Gaussian level of `hard`."""
    gauss_d, gauss_m = [difference], [hard]
    for _ in range(levels):
        gauss_d.append(cv2.pyrDown(gauss_d[-1]))
        gauss_m.append(cv2.pyrDown(gauss_m[-1]))
    out = _weigh(gauss_d[-1], gauss_m[-1])
    for k in range(levels - 1, -1, -1):
        size = (gauss_d[k].shape[1], gauss_d[k].shape[0])
        band = gauss_d[k] - _channels(cv2.pyrUp(gauss_d[k + 1], dstsize=size), gauss_d[k])
        out = _channels(cv2.pyrUp(out, dstsize=size), gauss_d[k]) + _weigh(band, gauss_m[k])
    return out


def _weigh(band: np.ndarray, weight: np.ndarray) -> np.ndarray:
    return band * weight.reshape(weight.shape[0], weight.shape[1], 1)


def _channels(image: np.ndarray, like: np.ndarray) -> np.ndarray:
    """OpenCV drops a trailing channel axis of 1; put it back."""
    return image.reshape(like.shape)


def _to_dtype(values: np.ndarray, dtype: np.dtype) -> np.ndarray:
    if dtype == np.float32:
        return values
    top = float(np.iinfo(dtype).max)
    return np.clip(np.rint(values), 0.0, top).astype(dtype)


def _check(source: np.ndarray, rendered: np.ndarray, mask: np.ndarray, levels: int) -> None:
    if source.ndim != 3 or source.shape != rendered.shape:
        raise ValueError(f"source and rendered must be the same (H, W, C), got {source.shape} and "
                         f"{rendered.shape}")
    if source.dtype not in _DTYPES or rendered.dtype != source.dtype:
        raise ValueError(f"source and rendered must share a dtype of uint8, uint16 or float32, got "
                         f"{source.dtype} and {rendered.dtype}")
    if np.shape(mask) != source.shape[:2]:
        raise ValueError(f"mask must be {source.shape[:2]}, got {np.shape(mask)}")
    if levels < 0:
        raise ValueError(f"levels must be >= 0, got {levels}")

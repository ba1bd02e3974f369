"""Shading of skin creases: the darkening of a fold that moving pixels cannot make.

A warp moves the source's own pixels, so it can carry a fold the actor already shows but cannot
deepen one: a smile's nasolabial furrow stays as shallow as it was on a face that was not smiling.
A crease is drawn across its curve as a furrow lit from the front: a narrow dark line where the
skin folds in, a wider soft shadow on the slope that turns away from the light, and a faint sheen
on the skin that bulges over it. Shading is multiplicative, so grain and float values outside 0..1
keep their relation to their neighbours; a shadow on skin is warm (light scattered under the skin
comes back reddish), so blue and green darken a little more than red. Everything is faded by the
face mask, so nothing changes where the warp does not reach.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

__all__ = ["CreaseStroke", "shade_creases"]

_REACH = 7.0           # widths from the curve where the shading has faded to exactly 0
_EDGE_FADE = 2.0       # widths over which it fades there
_TAPER = 0.3           # fraction of the curve's length over which each end fades in
# Across the fold, in widths u (positive toward the bulge): the crease line, the slope's shadow
# (centred 1.5 widths off the line, 2 wide, half as dark) and the bulge's sheen (3 widths out).
_SLOPE_OFFSET, _SLOPE_WIDTH, _SLOPE_SHARE = 1.5, 2.0, 0.5
_SHEEN_OFFSET, _SHEEN_WIDTH, _SHEEN_SHARE = 3.0, 2.0, 0.25
_SHADOW_RGB = np.array([0.8, 1.0, 1.1], dtype=np.float32)  # relative darkening of R, G, B


@dataclass(frozen=True)
class CreaseStroke:
    """One crease in one frame.

    Attributes:
        curve: (n, 2) frame pixels (render scale) along the fold, n >= 2, in order.
        depth: the fold's strength, in [0, 0.5]: green on the crease line darkens by about 1.2 x
            depth (the line's own shadow and the slope's together), red by 0.8 of that.
        width: the crease line's Gaussian sigma across the fold, pixels.
        bulge_side: +1 if the skin bulges over the fold on the image's left of a curve running
            down the image (the side where direction x offset > 0, y down), -1 on the other side.
    """

    curve: np.ndarray
    depth: float
    width: float
    bulge_side: int


def shade_creases(patch: np.ndarray, placement: tuple[int, int, int, int], alpha: np.ndarray,
                  strokes: list[CreaseStroke]) -> None:
    """Shade `patch` in place along each stroke, weighted by the face mask `alpha`.

    Args:
        patch: (h, w, C) uint8/uint16/float32; channels past the third (alpha) are left alone.
        placement: (x, y, w, h) of the patch in frame pixels.
        alpha: (h, w) the face mask at the patch pixels; where it is 0 the patch is untouched.
        strokes: the creases to draw.
    """
    for stroke in strokes:
        if stroke.depth <= 0.0:
            continue
        curve = np.asarray(stroke.curve, dtype=np.float64) - np.array(placement[:2], dtype=np.float64)
        window = _window(curve, stroke.width * _REACH, alpha.shape)
        if window is None:
            continue
        x0, y0, x1, y1 = window
        shading = stroke.depth * _shading(curve, stroke, window) * alpha[y0:y1, x0:x1]
        region = patch[y0:y1, x0:x1, :3]
        # a factor of exactly 1 (mask 0) gives every dtype's value back unchanged
        shaded = region.astype(np.float32) * np.maximum(1.0 - shading[..., None] * _SHADOW_RGB, 0.0)
        if np.issubdtype(patch.dtype, np.integer):
            shaded = np.clip(np.rint(shaded), 0, np.iinfo(patch.dtype).max)
        region[...] = shaded.astype(patch.dtype)


def _shading(curve: np.ndarray, stroke: CreaseStroke, window: tuple[int, int, int, int]) -> np.ndarray:
    """The stroke's unit shading over the window's pixels (float32, 1 = `depth` darker).

    The shading is smooth on the scale of its width, so it is evaluated on a grid about width/1.5
    pixels apart and interpolated bilinearly (off by at most ~6 % of the depth, smoothly).
    """
    x0, y0, x1, y1 = window
    step = max(1, int(stroke.width / 1.5))
    cols, rows = -(-(x1 - x0) // step), -(-(y1 - y0) // step)
    # node k sits at the centre of the window's pixel k * step + (step - 1) / 2, which is where
    # cv2.resize by a factor of `step` puts it
    offset = 0.5 + (step - 1) / 2.0
    xs = (x0 + offset + step * np.arange(cols)).astype(np.float32)
    ys = (y0 + offset + step * np.arange(rows)).astype(np.float32)
    grid = np.stack(np.meshgrid(xs, ys), axis=-1).reshape(-1, 2)
    distance, along = _distance_to_polyline(grid, curve.astype(np.float32))
    taper = np.clip(np.minimum(along, 1.0 - along) / _TAPER, 0.0, 1.0)
    taper = taper * taper * (3.0 - 2.0 * taper)
    nodes = (taper * _furrow_profile(stroke.bulge_side * distance / stroke.width)).reshape(rows, cols)
    if step > 1:
        nodes = cv2.resize(nodes, (cols * step, rows * step), interpolation=cv2.INTER_LINEAR)
    return nodes[:y1 - y0, :x1 - x0]


def _furrow_profile(u: np.ndarray) -> np.ndarray:
    """Darkening across a fold at signed distance `u` (widths, positive toward the bulge).

    Negative values (the sheen on the bulge) brighten. The slope's shadow fades in smoothly across
    the crease line, and the whole profile reaches exactly 0 at `_REACH` widths.
    """
    line = np.exp(-0.5 * u * u)
    slope = _SLOPE_SHARE * np.exp(-0.5 * ((u + _SLOPE_OFFSET) / _SLOPE_WIDTH) ** 2) / (1.0 + np.exp(3.0 * u))
    sheen = _SHEEN_SHARE * np.exp(-0.5 * ((u - _SHEEN_OFFSET) / _SHEEN_WIDTH) ** 2)
    edge = np.clip((_REACH - np.abs(u)) / _EDGE_FADE, 0.0, 1.0)
    return ((line + slope - sheen) * edge * edge * (3.0 - 2.0 * edge)).astype(np.float32)


def _window(curve: np.ndarray, reach: float, shape: tuple[int, int]) -> tuple[int, int, int, int] | None:
    """The patch pixels within `reach` of the curve's bounding box, or None if that is empty."""
    lo = np.floor(curve.min(axis=0) - reach).astype(int)
    hi = np.ceil(curve.max(axis=0) + reach).astype(int) + 1
    x0, y0 = max(lo[0], 0), max(lo[1], 0)
    x1, y1 = min(hi[0], shape[1]), min(hi[1], shape[0])
    if x1 <= x0 or y1 <= y0:
        return None
    return int(x0), int(y0), int(x1), int(y1)


def _distance_to_polyline(points: np.ndarray, curve: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Signed distance of each point to the polyline (positive where direction x offset > 0, y down:
    image left of a curve running down), and where along it (0..1 of its length) the nearest point is.

    Args:
        points: (N, 2); curve: (n, 2), n >= 2.
    """
    starts, segments = curve[:-1, :, None], np.diff(curve, axis=0)[:, :, None]    # (S, 2, 1)
    lengths = np.hypot(segments[:, 0], segments[:, 1])                             # (S, 1)
    rx, ry = points[:, 0] - starts[:, 0], points[:, 1] - starts[:, 1]             # (S, N)
    t = np.clip((rx * segments[:, 0] + ry * segments[:, 1]) / np.maximum(lengths * lengths, 1e-12), 0.0, 1.0)
    ox, oy = rx - t * segments[:, 0], ry - t * segments[:, 1]
    nearest = np.argmin(ox * ox + oy * oy, axis=0)
    pick = np.arange(points.shape[0])
    ox, oy, t = ox[nearest, pick], oy[nearest, pick], t[nearest, pick]
    sx, sy = segments[nearest, 0, 0], segments[nearest, 1, 0]
    signed = np.where(sx * oy - sy * ox >= 0.0, 1.0, -1.0) * np.hypot(ox, oy)
    cumulative = np.concatenate([[0.0], np.cumsum(lengths)])
    along = (cumulative[nearest] + t * lengths[nearest, 0]) / max(cumulative[-1], 1e-9)
    return signed.astype(np.float32), along.astype(np.float32)

"""Inner-lip refinement on a mouth crop: move the mesh model's inner-lip points onto the lip edges.

Why: the 468-point model sees the whole face at 192 px, and its inner-lip line is a few pixels off
where it matters most for speech: lips parted just enough to show the teeth read as nearly closed,
and on a wide open mouth the lower inner-lip points sit inside the teeth. In a crop that puts the
mouth at `_CROP` px, the inner edge of a lip is where its redness (CIELAB a*) gives way to teeth,
tongue shadow or the dark of the mouth. Each inner-lip point searches along the mouth's vertical,
within a fraction of its lip's thickness, for the strongest edge of that polarity, and moves part of
the way there when the edge is clear. Where no clear edge is found (lips pressed together, pale
lips, a moustache) the point stays where the model put it.

Lips rounded around a small opening (an "oo") defeat that local search: the model puts its inner
ring near the lips' outer edge, so the ring encloses lip as well as the dark opening. There the
opening is a dark cavity in the middle of the ring with lip-coloured pixels between it and the
ring, and the points move onto the cavity's edge (`_close_on_rounded_opening`). A wide-open mouth
whose tongue lies under a dark band looks alike in one column, but its dark band reaches towards
the corners; only a cavity within the middle columns counts as rounded lips.

Measured on the 14 talking clips against dlib's 68-point inner lips (Pearson of the analysis'
aperture, all frames; dlib's consensus reading, see `ned_models.eval.reference_landmarks`):
the edge search gives r >= 0.9 on 10 clips, the rounded-opening step 12 (liveportrait_d10 0.862 ->
0.916, liveportrait_d20 0.900 -> 0.906; min 0.862 -> 0.876). Moving the edge search's points all the
way to the edge, or searching further, agrees less (dlib puts the lower lip on the teeth' edge when
the lips are parted over the teeth); searching inwards as far as the mouth's middle line for a*
edges catches teeth and tongue edges (7 clips at r >= 0.9).
"""

from __future__ import annotations

import cv2
import numpy as np

from ned_models.landmarks import LIPS_INNER, LIPS_OUTER, MOUTH_LEFT_CORNER, MOUTH_RIGHT_CORNER
from ned_models.tracking.crops import apply_transform, crop_from_frame, rect_from_points, warp_crop

__all__ = ["refine_inner_lips", "UPPER_INNER", "LOWER_INNER", "FACING_PAIRS"]

_CROP = 128              # crop side; the mouth spans 1 / _MOUTH_SPAN of it
_MOUTH_SPAN = 1.25       # crop side over mouth width (the corners are levelled)
_SEARCH = 0.5            # search +- this fraction of the lip's thickness around the model's point
_MIN_EDGE = 1.5          # a* change per crop pixel below which an edge is not trusted
_STEP = 0.5              # fraction of the way to the edge a point moves
_COLUMN = 2              # profiles average columns x - _COLUMN .. x + _COLUMN
_BLUR_SIGMA = 1.0        # crop pixels
# Rounded opening: a cavity is darker than half the lips' lightness; the span a point crosses to
# reach it must be lip (a* within _LIP_REDNESS of the lips', not as light as teeth); and the cavity
# must lie within the middle _ROUNDED_COLUMNS of the nine facing pairs of inner-lip points.
_CAVITY_DARKNESS = 0.5
_LIP_REDNESS = 8.0
_TEETH_LIGHTNESS = 1.15
_ROUNDED_COLUMNS = 5

# The inner lip ring and the outer one run in step (corner, lower lip, corner, upper lip), so the
# point at the same position in the outer ring is the same lip's outer edge above or below it.
_OUTER_OF = dict(zip(LIPS_INNER, LIPS_OUTER, strict=True))
LOWER_INNER = LIPS_INNER[1:10]   # 95 ... 324, left to right in the subject's frame
UPPER_INNER = LIPS_INNER[11:]    # 415 ... 191
# (upper, lower) inner-lip points facing each other across the mouth, from one corner to the other.
FACING_PAIRS = tuple(zip(reversed(UPPER_INNER), LOWER_INNER, strict=True))


def refine_inner_lips(frame: np.ndarray, points: np.ndarray, pixel_aspect: float = 1.0) -> np.ndarray:
    """Return a copy of (468+, 3) frame-pixel landmarks with the inner-lip points moved to the lip edges.

    Args:
        frame: (H, W, 3 or 4) RGB(A) uint8, uint16 or float32.
        points: the mesh model's landmarks for one face (frame pixels, z untouched).
        pixel_aspect: width / height of a frame pixel.
    """
    out = np.array(points, dtype=np.float64, copy=True)
    mouth = rect_from_points(points[[MOUTH_RIGHT_CORNER, MOUTH_LEFT_CORNER]], 0, 1, _MOUTH_SPAN, pixel_aspect)
    if mouth.size <= 0:  # collapsed mouth corners: no mouth to look at
        return out
    transform = crop_from_frame(mouth, _CROP, pixel_aspect)
    crop = warp_crop(frame, transform, _CROP)
    lab = cv2.GaussianBlur(cv2.cvtColor(crop, cv2.COLOR_RGB2Lab), (0, 0), _BLUR_SIGMA)
    slope = np.gradient(lab[:, :, 1], axis=0)
    in_crop = apply_transform(transform, points[:, :2])
    moved = in_crop.copy()
    for indices, sign in ((UPPER_INNER, -1.0), (LOWER_INNER, 1.0)):  # lip -> mouth: a* falls, then rises
        for i in indices:
            x, y = in_crop[i]
            thickness = max(abs(y - in_crop[_OUTER_OF[i], 1]), 2.0)
            edge = _edge(slope, x, y - _SEARCH * thickness, y + _SEARCH * thickness, sign)
            if edge is not None:
                moved[i, 1] = y + _STEP * (edge - y)
    _keep_lips_apart(moved)
    _close_on_rounded_opening(lab, moved)
    changed = [i for i in UPPER_INNER + LOWER_INNER if moved[i, 1] != in_crop[i, 1]]
    out[changed, :2] = apply_transform(np.linalg.inv(transform), moved[changed])
    return out


def _close_on_rounded_opening(lab: np.ndarray, points: np.ndarray) -> None:
    """Move inner-lip points (crop pixels, in place) across lip onto a dark cavity in the ring's middle."""
    lightness, redness = lab[:, :, 0], lab[:, :, 1]
    lip = _lip_colour(lightness, redness, points)
    if lip is None:
        return
    lip_lightness, lip_redness = lip

    def is_lip(rows_l: np.ndarray, rows_a: np.ndarray) -> bool:
        return (np.mean(np.abs(rows_a - lip_redness)) < _LIP_REDNESS
                and np.mean(rows_l) < _TEETH_LIGHTNESS * lip_lightness)

    dark_columns, moves = [], []
    for column, (upper, lower) in enumerate(FACING_PAIRS):
        x = int(round(0.5 * (points[upper, 0] + points[lower, 0]) - 0.5))
        lo, hi = int(np.floor(points[upper, 1] - 0.5)), int(np.ceil(points[lower, 1] - 0.5))
        if hi - lo < 3 or lo < 0 or hi >= _CROP or not _COLUMN <= x < _CROP - _COLUMN:
            continue
        profile_l = lightness[lo:hi + 1, x - _COLUMN:x + _COLUMN + 1].mean(axis=1)
        profile_a = redness[lo:hi + 1, x - _COLUMN:x + _COLUMN + 1].mean(axis=1)
        dark = profile_l < _CAVITY_DARKNESS * lip_lightness
        if not dark.any():
            continue
        dark_columns.append(column)
        top = bottom = int(np.argmin(profile_l))     # the dark run around the darkest row
        while top > 0 and dark[top - 1]:
            top -= 1
        while bottom < len(dark) - 1 and dark[bottom + 1]:
            bottom += 1
        if top > 1 and is_lip(profile_l[:top], profile_a[:top]):
            moves.append((upper, lo + top))
        if bottom < len(dark) - 2 and is_lip(profile_l[bottom + 1:], profile_a[bottom + 1:]):
            moves.append((lower, lo + bottom + 1))
    middle = len(FACING_PAIRS) // 2
    rounded = (0 < len(dark_columns) <= _ROUNDED_COLUMNS and middle in dark_columns
               and dark_columns == list(range(dark_columns[0], dark_columns[-1] + 1)))
    if rounded:
        for i, row in moves:
            points[i, 1] = row


def _lip_colour(lightness: np.ndarray, redness: np.ndarray, points: np.ndarray) -> tuple[float, float] | None:
    """Median (L, a*) of the lips: samples between each inner-lip point and its outer-ring partner."""
    samples = []
    for i in UPPER_INNER + LOWER_INNER:
        x = int(round(points[i, 0] - 0.5))
        for y in np.linspace(points[_OUTER_OF[i], 1], points[i, 1], 5)[1:-1]:
            row = int(round(y - 0.5))
            if 0 <= x < _CROP and 0 <= row < _CROP:
                samples.append((lightness[row, x], redness[row, x]))
    if len(samples) < 10:
        return None
    lip_lightness, lip_redness = np.median(np.array(samples), axis=0)
    return float(lip_lightness), float(lip_redness)


def _edge(slope: np.ndarray, x: float, top: float, bottom: float, sign: float) -> float | None:
    """Row (crop pixels, sub-pixel) of the strongest edge of polarity `sign` in column x between
    `top` and `bottom`, or None when it is too weak or the column is outside the crop."""
    column = int(round(x - 0.5))
    lo, hi = int(np.ceil(top - 0.5)), int(np.floor(bottom - 0.5))
    lo, hi = max(lo, 1), min(hi, _CROP - 2)
    if hi <= lo or not _COLUMN <= column < _CROP - _COLUMN:
        return None
    profile = sign * slope[lo:hi + 1, column - _COLUMN:column + _COLUMN + 1].mean(axis=1)
    k = int(np.argmax(profile))
    if profile[k] < _MIN_EDGE:
        return None
    offset = 0.0
    if 0 < k < len(profile) - 1:  # parabola through the peak and its neighbours
        left, centre, right = profile[k - 1], profile[k], profile[k + 1]
        denominator = left - 2.0 * centre + right
        offset = 0.5 * (left - right) / denominator if denominator < 0 else 0.0
    return lo + k + offset + 0.5


def _keep_lips_apart(points: np.ndarray) -> None:
    """Where a refined lower inner-lip point rose above the upper point facing it, meet in the middle."""
    for upper, lower in FACING_PAIRS:
        if points[lower, 1] < points[upper, 1]:
            points[upper, 1] = points[lower, 1] = 0.5 * (points[upper, 1] + points[lower, 1])

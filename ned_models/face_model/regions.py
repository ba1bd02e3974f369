"""Soft regions of the template that keep action units from bleeding across lips and lids.

Each region is a (478,) weight in [0, 1], computed from the template's own lid and lip lines: e.g.
"lower_mouth" is the part below the line between the lips, the part the jaw carries; without it a
handle on the upper lip would drag the lower lip along (they are a few hundredths of an IOD apart).
Iris points get weight 0 everywhere: they follow gaze, not expression.
"""

from __future__ import annotations

import numpy as np

from ned_models.landmarks import MESH_POINTS

__all__ = ["RIGHT_UPPER_LID", "RIGHT_LOWER_LID", "INNER_UPPER_LIP", "INNER_LOWER_LIP", "OUTER_UPPER_LIP",
           "OUTER_LOWER_LIP", "region_weights", "curve_y", "smoothstep", "REGIONS"]

# Lid margins of the subject's right eye, outer corner (33) to inner corner (133).
RIGHT_UPPER_LID = (33, 246, 161, 160, 159, 158, 157, 173, 133)
RIGHT_LOWER_LID = (33, 7, 163, 144, 145, 153, 154, 155, 133)
# Lips, right corner to left corner.
INNER_UPPER_LIP = (78, 191, 80, 81, 82, 13, 312, 311, 310, 415, 308)
INNER_LOWER_LIP = (78, 95, 88, 178, 87, 14, 317, 402, 318, 324, 308)
OUTER_UPPER_LIP = (61, 185, 40, 39, 37, 0, 267, 269, 270, 409, 291)
OUTER_LOWER_LIP = (61, 146, 91, 181, 84, 17, 314, 405, 321, 375, 291)

REGIONS = ("upper_mouth", "lower_mouth", "upper_eye", "lower_eye", "above_eye")


def smoothstep(t: np.ndarray) -> np.ndarray:
    """0 for t <= -1, 1 for t >= 1, a C1 ramp between."""
    u = np.clip(0.5 * (t + 1.0), 0.0, 1.0)
    return u * u * (3.0 - 2.0 * u)


def curve_y(template: np.ndarray, indices: tuple[int, ...], x: np.ndarray) -> np.ndarray:
    """y of the polyline through template[indices] at each x (held flat beyond its ends)."""
    pts = template[list(indices), :2]
    order = np.argsort(pts[:, 0])
    return np.interp(x, pts[order, 0], pts[order, 1])


def _mouth_line(template: np.ndarray, x: np.ndarray) -> np.ndarray:
    return 0.5 * (curve_y(template, INNER_UPPER_LIP, x) + curve_y(template, INNER_LOWER_LIP, x))


def _eye_curves(template: np.ndarray, pairs: np.ndarray, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Upper and lower lid y at x, each point read against the eye on its own side of the face."""
    left_upper = tuple(int(pairs[i]) for i in RIGHT_UPPER_LID)
    left_lower = tuple(int(pairs[i]) for i in RIGHT_LOWER_LID)
    right = x < 0.0
    upper = np.where(right, curve_y(template, RIGHT_UPPER_LID, x), curve_y(template, left_upper, x))
    lower = np.where(right, curve_y(template, RIGHT_LOWER_LID, x), curve_y(template, left_lower, x))
    return upper, lower


def region_weights(template: np.ndarray, pairs: np.ndarray) -> dict[str, np.ndarray]:
    """The soft regions of a (478, 3) model-frame template.

    Args:
        template: (478, 3) neutral template (model frame, IOD units).
        pairs: (468,) mirror correspondence of the mesh points.

    Returns:
        name -> (478,) float64 weights for each name in REGIONS.
    """
    x, y = template[:, 0], template[:, 1]
    corner_x = abs(float(template[OUTER_UPPER_LIP[0], 0]))
    # The lips' boundary is sharp beside the mouth and softer out on the cheeks.
    softness = 0.012 + 0.5 * np.clip(np.abs(x) - corner_x, 0.0, None)
    lower_mouth = smoothstep((y - _mouth_line(template, x)) / softness)
    # on a closed mouth the inner lips lie on the line itself: say which lip each point belongs to
    lower_mouth[list(INNER_UPPER_LIP[1:-1])] = 0.0
    lower_mouth[list(INNER_LOWER_LIP[1:-1])] = 1.0
    upper_lid, lower_lid = _eye_curves(template, pairs, x)
    eye_mid = 0.5 * (upper_lid + lower_lid)
    out = {
        "upper_mouth": 1.0 - lower_mouth,
        "lower_mouth": lower_mouth,
        "upper_eye": smoothstep((eye_mid - y) / 0.01),
        "lower_eye": smoothstep((y - eye_mid) / 0.01),
        # the brow and forehead, fading out over the upper lid's fold
        "above_eye": smoothstep((upper_lid - 0.09 - y) / 0.07),
    }
    for weights in out.values():
        weights[MESH_POINTS:] = 0.0
    return out

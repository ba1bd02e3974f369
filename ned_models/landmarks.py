"""Named groups of the 478-point face mesh (468 mesh points of the face-landmark model + 10 iris points).

Indices are facts of the landmark model's output layout. "Right" and "left" are the subject's own
(the subject's right eye appears on the image's left in an unmirrored frame). Loops are ordered
around the contour so they can be drawn or filled directly.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "MESH_POINTS", "LANDMARK_COUNT", "RIGHT_IRIS", "LEFT_IRIS", "FACE_OVAL", "LIPS_OUTER", "LIPS_INNER",
    "RIGHT_EYE", "LEFT_EYE", "RIGHT_BROW", "LEFT_BROW", "UPPER_INNER_LIP_MID", "LOWER_INNER_LIP_MID",
    "MOUTH_RIGHT_CORNER", "MOUTH_LEFT_CORNER", "INNER_MOUTH_RIGHT_CORNER", "INNER_MOUTH_LEFT_CORNER",
    "RIGHT_EYE_OUTER", "RIGHT_EYE_INNER", "LEFT_EYE_OUTER", "LEFT_EYE_INNER", "NOSE_TIP", "CHIN", "FOREHEAD",
    "inter_ocular_distance",
]

MESH_POINTS = 468
LANDMARK_COUNT = 478

# Iris: centre first, then four points around it.
RIGHT_IRIS = (468, 469, 470, 471, 472)
LEFT_IRIS = (473, 474, 475, 476, 477)

FACE_OVAL = (10, 338, 297, 332, 284, 251, 389, 356, 454, 323, 361, 288, 397, 365, 379, 378, 400, 377,
             152, 148, 176, 149, 150, 136, 172, 58, 132, 93, 234, 127, 162, 21, 54, 103, 67, 109)

# Closed loops: lower lip from the right corner to the left corner, then the upper lip back.
LIPS_OUTER = (61, 146, 91, 181, 84, 17, 314, 405, 321, 375, 291, 409, 270, 269, 267, 0, 37, 39, 40, 185)
LIPS_INNER = (78, 95, 88, 178, 87, 14, 317, 402, 318, 324, 308, 415, 310, 311, 312, 13, 82, 81, 80, 191)

# Closed loops: lower lid from the outer to the inner corner, then the upper lid back.
RIGHT_EYE = (33, 7, 163, 144, 145, 153, 154, 155, 133, 173, 157, 158, 159, 160, 161, 246)
LEFT_EYE = (263, 249, 390, 373, 374, 380, 381, 382, 362, 398, 384, 385, 386, 387, 388, 466)

# Brows: upper edge from the outer end inwards, then the lower edge back outwards.
RIGHT_BROW = (70, 63, 105, 66, 107, 55, 65, 52, 53, 46)
LEFT_BROW = (300, 293, 334, 296, 336, 285, 295, 282, 283, 276)

UPPER_INNER_LIP_MID = 13
LOWER_INNER_LIP_MID = 14
MOUTH_RIGHT_CORNER = 61
MOUTH_LEFT_CORNER = 291
INNER_MOUTH_RIGHT_CORNER = 78
INNER_MOUTH_LEFT_CORNER = 308
RIGHT_EYE_OUTER = 33
RIGHT_EYE_INNER = 133
LEFT_EYE_OUTER = 263
LEFT_EYE_INNER = 362
NOSE_TIP = 1
CHIN = 152
FOREHEAD = 10


def inter_ocular_distance(points: np.ndarray) -> np.ndarray:
    """Distance between the two eye centres (mean of each eye's corners), the face-size unit.

    Args:
        points: (..., 478, 2 or 3) landmarks in pixels.

    Returns:
        (...,) distances in the same units, using x and y only.
    """
    right = 0.5 * (points[..., RIGHT_EYE_OUTER, :2] + points[..., RIGHT_EYE_INNER, :2])
    left = 0.5 * (points[..., LEFT_EYE_OUTER, :2] + points[..., LEFT_EYE_INNER, :2])
    return np.linalg.norm(left - right, axis=-1)

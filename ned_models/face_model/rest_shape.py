"""A face at rest as the landmark model draws it: a few shape measures, their norm and their spread.

The landmark model has its own conventions (its mouth-corner points sit inside the anatomical
corners, its lid points above the lid margins, ...), so anthropometric tables do not say where its
points lie on a face at rest: a template set to them had a mouth 0.07 IOD wider and inner brows
0.07 IOD further apart than real faces at rest, so every real face read as a narrow-mouthed frown.
These numbers say it instead, in the model frame (IOD units). Each norm is the median over 16 faces
at rest, each the per-point median of a whole shot with the mouth's speech opening taken out: the
neutral MEAD takes of its three actors and the 13 talking/ clips but the laughing liveportrait_d12.
Each spread is the robust standard deviation (1.48 MAD) over those faces. Only these scalars are
kept; nothing else derived from the footage.

They serve twice: `morphable.py` sets the neutral template to the norms (so coefficient 0 is a face
at rest), and `identity.py` reads a shot-long expression from how far a shot's rest shape lies
outside the spread of faces at rest (`CUES`, `CUE_NORM`, `CUE_SPREAD`).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ned_models.landmarks import (
    CHIN,
    LEFT_EYE_INNER,
    LEFT_EYE_OUTER,
    LOWER_INNER_LIP_MID,
    MOUTH_LEFT_CORNER,
    MOUTH_RIGHT_CORNER,
    NOSE_TIP,
    RIGHT_EYE_INNER,
    RIGHT_EYE_OUTER,
)

__all__ = ["MEASURES", "NEUTRAL", "CUES", "CUE_NORM", "CUE_SPREAD", "measure", "cue_values"]

_UPPER_LIP_MID, _LOWER_LIP_MID = 0, 17  # outer lip contour on the midline
_R_CHEEK, _L_CHEEK = 205, 425  # beside the nose wing, above the nasolabial fold
_R_OUTER_CHEEK, _L_OUTER_CHEEK = 50, 280  # under the eye, over the cheekbone
_R_INNER_BROW, _L_INNER_BROW = 107, 336
_R_OUTER_BROW, _L_OUTER_BROW = 70, 300
_R_LIDS, _L_LIDS = (159, 145), (386, 374)  # upper, lower lid margin mid-eye


def _lip_mid_y(s: np.ndarray) -> np.ndarray:
    return 0.5 * (s[..., _UPPER_LIP_MID, 1] + s[..., _LOWER_LIP_MID, 1])


def _lip_mid_x(s: np.ndarray) -> np.ndarray:
    return 0.5 * (s[..., _UPPER_LIP_MID, 0] + s[..., _LOWER_LIP_MID, 0])


def _eye_line_y(s: np.ndarray, side: str = "both") -> np.ndarray:
    """y of the line through the eye corners (one eye's or both eyes')."""
    right = 0.5 * (s[..., RIGHT_EYE_OUTER, 1] + s[..., RIGHT_EYE_INNER, 1])
    left = 0.5 * (s[..., LEFT_EYE_OUTER, 1] + s[..., LEFT_EYE_INNER, 1])
    return {"r": right, "l": left, "both": 0.5 * (right + left)}[side]


# name -> linear measure of (..., 478, 3) model-frame shapes. Each is read against nearby points of
# the same face (y points down: a height is a difference of y), so no measure depends on where the
# pose alignment puts the face.
MEASURES: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "lip_gap": lambda s: s[..., LOWER_INNER_LIP_MID, 1] - s[..., 13, 1],
    "mouth_width": lambda s: s[..., MOUTH_LEFT_CORNER, 0] - s[..., MOUTH_RIGHT_CORNER, 0],
    "half_width_r": lambda s: _lip_mid_x(s) - s[..., MOUTH_RIGHT_CORNER, 0],
    "half_width_l": lambda s: s[..., MOUTH_LEFT_CORNER, 0] - _lip_mid_x(s),
    "corner_lift": lambda s: _lip_mid_y(s) - 0.5 * (s[..., MOUTH_RIGHT_CORNER, 1] + s[..., MOUTH_LEFT_CORNER, 1]),
    "corner_lift_r": lambda s: _lip_mid_y(s) - s[..., MOUTH_RIGHT_CORNER, 1],
    "corner_lift_l": lambda s: _lip_mid_y(s) - s[..., MOUTH_LEFT_CORNER, 1],
    "upper_lip_drop": lambda s: s[..., _UPPER_LIP_MID, 1] - s[..., NOSE_TIP, 1],
    "chin": lambda s: s[..., CHIN, 1] - s[..., NOSE_TIP, 1],
    "cheek": lambda s: s[..., NOSE_TIP, 1] - 0.5 * (s[..., _R_CHEEK, 1] + s[..., _L_CHEEK, 1]),
    "cheek_r": lambda s: s[..., NOSE_TIP, 1] - s[..., _R_CHEEK, 1],
    "cheek_l": lambda s: s[..., NOSE_TIP, 1] - s[..., _L_CHEEK, 1],
    "outer_cheek_r": lambda s: s[..., NOSE_TIP, 1] - s[..., _R_OUTER_CHEEK, 1],
    "outer_cheek_l": lambda s: s[..., NOSE_TIP, 1] - s[..., _L_OUTER_CHEEK, 1],
    "inner_brow": lambda s: _eye_line_y(s) - 0.5 * (s[..., _R_INNER_BROW, 1] + s[..., _L_INNER_BROW, 1]),
    "outer_brow_r": lambda s: _eye_line_y(s, "r") - s[..., _R_OUTER_BROW, 1],
    "outer_brow_l": lambda s: _eye_line_y(s, "l") - s[..., _L_OUTER_BROW, 1],
    "brow_spacing": lambda s: s[..., _L_INNER_BROW, 0] - s[..., _R_INNER_BROW, 0],
    "lid_gap": lambda s: 0.5 * ((s[..., _R_LIDS[1], 1] - s[..., _R_LIDS[0], 1])
                                + (s[..., _L_LIDS[1], 1] - s[..., _L_LIDS[0], 1])),
    "lower_lid": lambda s: _eye_line_y(s) - 0.5 * (s[..., _R_LIDS[1], 1] + s[..., _L_LIDS[1], 1]),
}

# Faces at rest: the norm of each symmetric measure (model frame, IOD).
NEUTRAL: dict[str, float] = {
    "lip_gap": 0.0,  # lips closed
    "mouth_width": 0.71,
    "corner_lift": 0.06,  # corners a little above the middle of the lips
    "upper_lip_drop": 0.30,
    "chin": 1.0,
    "cheek": -0.04,
    "inner_brow": 0.34,
    "brow_spacing": 0.41,
    "lid_gap": 0.13,
    "lower_lid": -0.055,  # the lower lid's middle below the line through the eye corners
}

# What a shot-long expression is read from, and how much faces at rest differ in each (IOD).
CUES: tuple[str, ...] = ("half_width_r", "half_width_l", "corner_lift_r", "corner_lift_l", "cheek_r", "cheek_l",
                         "outer_cheek_r", "outer_cheek_l", "inner_brow", "outer_brow_r", "outer_brow_l",
                         "brow_spacing", "lid_gap", "lower_lid")
CUE_NORM = np.array([0.357, 0.357, 0.064, 0.064, -0.04, -0.04, 0.08, 0.08, 0.34, 0.236, 0.236, 0.41, 0.13, -0.055])
CUE_SPREAD = np.array([0.02, 0.02, 0.017, 0.017, 0.011, 0.011, 0.012, 0.012, 0.06, 0.045, 0.045, 0.022, 0.016,
                       0.01])


def measure(name: str, shape: np.ndarray) -> np.ndarray:
    """One named measure of (..., 478, 3) model-frame shapes -> (...)."""
    return MEASURES[name](shape)


def cue_values(shape: np.ndarray) -> np.ndarray:
    """(..., len(CUES)) the cues of (..., 478, 3) model-frame shapes."""
    return np.stack([MEASURES[name](shape) for name in CUES], axis=-1)

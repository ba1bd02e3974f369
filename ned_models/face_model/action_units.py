"""The expression basis: FACS-style action units as smooth 3D displacement fields on the template.

Each unit is drawn by hand from a few handles: groups of mesh points (the subject's right side and
the midline; the left side is mirrored) with the displacement they get at coefficient 1, spread to
the rest of the face with a Gaussian falloff and kept inside a soft region (`regions.py`), so the
upper lip never drags the lower one. Coefficient 1 is a clearly visible activation; displacements
are in the model frame (IOD units; x to the image's right, y down, z away from the camera).
Coefficients are absolute activations measured from the neutral template, so 0 is a neutral face.
"""

from __future__ import annotations

from enum import IntEnum

import numpy as np

from ned_models.face_model.fields import Handle, Unit, interpolate, mirror_field, unit_field
from ned_models.face_model.regions import (
    INNER_LOWER_LIP,
    INNER_UPPER_LIP,
    OUTER_LOWER_LIP,
    OUTER_UPPER_LIP,
    RIGHT_LOWER_LID,
    RIGHT_UPPER_LID,
    curve_y,
    region_weights,
)
from ned_models.landmarks import CHIN, LANDMARK_COUNT, MOUTH_RIGHT_CORNER

__all__ = ["ActionUnit", "ACTION_UNIT_INFO", "action_unit_fields"]


class ActionUnit(IntEnum):
    """Expression coefficients, in basis order. R/L are the subject's right/left."""

    BROW_INNER_RAISE = 0  # AU1
    BROW_OUTER_RAISE_R = 1  # AU2
    BROW_OUTER_RAISE_L = 2  # AU2
    BROW_LOWER = 3  # AU4
    UPPER_LID_RAISE = 4  # AU5
    CHEEK_RAISE = 5  # AU6
    LID_TIGHTEN = 6  # AU7
    EYE_CLOSE_R = 7  # AU43/45/46
    EYE_CLOSE_L = 8  # AU43/45/46
    NOSE_WRINKLE = 9  # AU9
    UPPER_LIP_RAISE = 10  # AU10
    LIP_CORNER_PULL_R = 11  # AU12
    LIP_CORNER_PULL_L = 12  # AU12
    LIP_CORNER_DEPRESS = 13  # AU15
    CHIN_RAISE = 14  # AU17
    LIP_PUCKER = 15  # AU18
    LIP_STRETCH = 16  # AU20
    LIP_FUNNEL = 17  # AU22
    LIP_PRESS = 18  # AU23/24
    LIPS_PART = 19  # AU25
    JAW_DROP = 20  # AU26/27


ACTION_UNIT_INFO: dict[ActionUnit, str] = {
    ActionUnit.BROW_INNER_RAISE: "AU1: inner brows up (worry, sadness, surprise)",
    ActionUnit.BROW_OUTER_RAISE_R: "AU2: outer part of the right brow up",
    ActionUnit.BROW_OUTER_RAISE_L: "AU2: outer part of the left brow up",
    ActionUnit.BROW_LOWER: "AU4: brows down and drawn together (anger, concentration)",
    ActionUnit.UPPER_LID_RAISE: "AU5: upper lids up, eyes widened (surprise, fear)",
    ActionUnit.CHEEK_RAISE: "AU6: cheeks up under the eyes (Duchenne smile)",
    ActionUnit.LID_TIGHTEN: "AU7: lids narrowed, lower lid up (anger, squint)",
    ActionUnit.EYE_CLOSE_R: "AU43/45: right eye closed (blink, wink); 1 = lids meet",
    ActionUnit.EYE_CLOSE_L: "AU43/45: left eye closed (blink, wink); 1 = lids meet",
    ActionUnit.NOSE_WRINKLE: "AU9: nose sides and upper lip up, nose root down (disgust)",
    ActionUnit.UPPER_LIP_RAISE: "AU10: upper lip up, more at the sides (disgust)",
    ActionUnit.LIP_CORNER_PULL_R: "AU12: right lip corner up and out (smile, smirk)",
    ActionUnit.LIP_CORNER_PULL_L: "AU12: left lip corner up and out (smile, smirk)",
    ActionUnit.LIP_CORNER_DEPRESS: "AU15: lip corners down (sadness)",
    ActionUnit.CHIN_RAISE: "AU17: chin and lower lip pushed up (doubt, sadness)",
    ActionUnit.LIP_PUCKER: "AU18: lips pushed forward, corners in (speech: oo, w)",
    ActionUnit.LIP_STRETCH: "AU20: lip corners pulled sideways (fear)",
    ActionUnit.LIP_FUNNEL: "AU22: lips flared forward and apart (speech: sh, ch)",
    ActionUnit.LIP_PRESS: "AU23/24: lips pressed and thinned (anger)",
    ActionUnit.LIPS_PART: "AU25: lips apart with the jaw still (speech)",
    ActionUnit.JAW_DROP: "AU26: jaw opened, chin down 0.3 IOD at 1 (speech, surprise)",
}


_R_INNER_BROW = (107, 55, 66, 65)
_R_MID_BROW = (105, 52)
_R_OUTER_BROW = (70, 46, 63, 53)
_R_UPPER_FOLD = (247, 30, 29, 27, 28, 56, 190)
_R_LOWER_RING = (130, 25, 110, 24, 23, 22, 26, 112, 243)
_R_CHEEK = (117, 118, 119, 100, 101, 50, 36, 123, 111, 116, 228, 229, 230, 231)
_R_NOSE_SIDE = (129, 102, 48, 64, 219, 235, 98, 240, 49, 115, 218, 166, 59)
_R_NASOLABIAL = (203, 206, 165, 92, 216, 186)
_R_CORNER = (MOUTH_RIGHT_CORNER, 78, 76, 62, 184, 183, 146, 77)
_R_LATERAL_CHEEK = (57, 212, 202, 43)  # beside and below the mouth corner
_R_NOSE_FLANK = (98, 240, 235, 59, 75, 129, 64, 102)  # beside the nose wing
_CHIN = (CHIN, 175, 199, 200, 18, 83, 201, 208, 182, 194, 32, 171, 140)
_UPPER, _LOWER, _ABOVE_EYE = "upper_mouth", "lower_mouth", "above_eye"
_UPPER_EYE, _LOWER_EYE = "upper_eye", "lower_eye"

_UNITS: dict[ActionUnit, Unit] = {
    ActionUnit.BROW_INNER_RAISE: Unit((
        Handle(_R_INNER_BROW, (0.0, -0.13, 0.0), _ABOVE_EYE),
        Handle(_R_MID_BROW, (0.0, -0.06, 0.0), _ABOVE_EYE)), sigma=0.22),
    ActionUnit.BROW_OUTER_RAISE_R: Unit((
        Handle(_R_OUTER_BROW, (0.0, -0.13, 0.0), _ABOVE_EYE),
        Handle(_R_MID_BROW, (0.0, -0.08, 0.0), _ABOVE_EYE)), sigma=0.22, one_sided=True),
    # Frowning brows come down more than together as the landmark model draws them (MEAD angry
    # against neutral: the inner brows drop 0.03-0.09 IOD, their gap narrows a third of that).
    ActionUnit.BROW_LOWER: Unit((
        Handle(_R_INNER_BROW, (0.03, 0.08, -0.01), _ABOVE_EYE),
        Handle(_R_MID_BROW, (0.02, 0.05, 0.0), _ABOVE_EYE),
        Handle((9,), (0.0, 0.04, 0.0), _ABOVE_EYE)), sigma=0.2),
    ActionUnit.UPPER_LID_RAISE: Unit((
        Handle(RIGHT_UPPER_LID[2:-2], (0.0, -0.045, 0.0), _UPPER_EYE),
        Handle(_R_UPPER_FOLD, (0.0, -0.02, 0.0), _UPPER_EYE)), sigma=0.08),
    # Real smiles (MEAD happy against neutral, same actor) lift the cheeks ~0.03 IOD but the lower lid
    # hardly at all as the landmark model draws it: the lid and the ring below it are held.
    ActionUnit.CHEEK_RAISE: Unit((
        Handle(_R_CHEEK, (0.0, -0.06, -0.01), _LOWER_EYE),
        Handle(_R_LOWER_RING, (0.0, 0.0, 0.0), _LOWER_EYE),
        Handle(RIGHT_LOWER_LID[1:-1], (0.0, 0.0, 0.0), _LOWER_EYE)), sigma=0.2),
    ActionUnit.LID_TIGHTEN: Unit((
        Handle(RIGHT_LOWER_LID[2:-2], (0.0, -0.035, 0.0), _LOWER_EYE),
        Handle(RIGHT_UPPER_LID[2:-2], (0.0, 0.015, 0.0), _UPPER_EYE)), sigma=0.07),
    ActionUnit.NOSE_WRINKLE: Unit((
        Handle(_R_NOSE_SIDE, (0.0, -0.05, -0.01)),
        Handle((168, 6, 197), (0.0, 0.02, 0.0)),
        Handle(_R_INNER_BROW[:2], (0.02, 0.04, 0.0), _ABOVE_EYE),
        Handle(OUTER_UPPER_LIP[1:6], (0.0, -0.03, 0.0), _UPPER)), sigma=0.15),
    ActionUnit.UPPER_LIP_RAISE: Unit((
        Handle(OUTER_UPPER_LIP[1:4], (0.0, -0.07, -0.01), _UPPER),
        Handle(OUTER_UPPER_LIP[4:6], (0.0, -0.05, -0.01), _UPPER),
        Handle(INNER_UPPER_LIP[1:6], (0.0, -0.06, 0.0), _UPPER),
        Handle(_R_NASOLABIAL, (0.0, -0.025, 0.0), _UPPER)), sigma=0.12),
    # Drawn after real smiles (MEAD happy against neutral of the same actor, in the model frame): the
    # corner goes up, out and well back, the cheek beside it follows up and out, the nasolabial
    # region less so, and the side of the nose and the top of the upper lip hardly move.
    ActionUnit.LIP_CORNER_PULL_R: Unit((
        Handle(_R_CORNER, (-0.08, -0.08, 0.07)),
        Handle(_R_NASOLABIAL, (-0.03, -0.025, 0.02)),
        Handle(_R_LATERAL_CHEEK, (-0.05, -0.04, 0.03)),
        Handle(_R_NOSE_FLANK, (0.0, -0.005, 0.0))), sigma=0.15, one_sided=True),
    ActionUnit.LIP_CORNER_DEPRESS: Unit((
        Handle(_R_CORNER, (-0.01, 0.07, 0.0)),), sigma=0.18),
    ActionUnit.CHIN_RAISE: Unit((
        Handle(_CHIN, (0.0, -0.04, -0.02), _LOWER),
        Handle(OUTER_LOWER_LIP[2:6], (0.0, -0.045, -0.015), _LOWER),
        Handle(INNER_LOWER_LIP[2:6], (0.0, -0.03, 0.0), _LOWER)), sigma=0.15),
    ActionUnit.LIP_PUCKER: Unit((
        Handle(_R_CORNER, (0.08, 0.0, -0.02)),
        Handle(OUTER_UPPER_LIP[3:6] + OUTER_LOWER_LIP[3:6], (0.0, 0.0, -0.06)),
        Handle(INNER_UPPER_LIP[3:6] + INNER_LOWER_LIP[3:6], (0.0, 0.0, -0.05))), sigma=0.15),
    ActionUnit.LIP_STRETCH: Unit((
        Handle(_R_CORNER, (-0.09, 0.015, 0.01)),), sigma=0.2),
    ActionUnit.LIP_FUNNEL: Unit((
        Handle(_R_CORNER, (0.04, 0.0, -0.01)),
        Handle(OUTER_UPPER_LIP[2:6], (0.0, -0.03, -0.05), _UPPER),
        Handle(OUTER_LOWER_LIP[2:6], (0.0, 0.03, -0.05), _LOWER),
        Handle(INNER_UPPER_LIP[2:6], (0.0, -0.04, -0.04), _UPPER),
        Handle(INNER_LOWER_LIP[2:6], (0.0, 0.04, -0.04), _LOWER)), sigma=0.1),
    ActionUnit.LIP_PRESS: Unit((
        Handle(OUTER_UPPER_LIP[1:6], (0.0, 0.03, 0.0), _UPPER),
        Handle(OUTER_LOWER_LIP[1:6], (0.0, -0.03, 0.0), _LOWER),
        Handle(_R_CORNER[:2], (0.02, 0.0, 0.0))), sigma=0.08),
    ActionUnit.LIPS_PART: Unit((
        Handle(INNER_UPPER_LIP[1:6], (0.0, -0.035, 0.0), _UPPER),
        Handle(INNER_LOWER_LIP[1:6], (0.0, 0.075, 0.0), _LOWER),
        Handle(OUTER_LOWER_LIP[2:6], (0.0, 0.035, 0.0), _LOWER)), sigma=0.09),
    # The mandible swings down and a little back about its hinge; less the nearer the hinge.
    ActionUnit.JAW_DROP: Unit((
        Handle(_CHIN + (148,), (0.0, 0.30, 0.06), _LOWER),
        Handle(OUTER_LOWER_LIP[1:6] + INNER_LOWER_LIP[1:6], (0.0, 0.26, 0.04), _LOWER),
        Handle(_R_CORNER[:2], (0.0, 0.12, 0.02), _LOWER),
        Handle((176, 149), (0.0, 0.24, 0.05), _LOWER),
        Handle((150, 136), (0.0, 0.17, 0.04), _LOWER),
        Handle((172,), (0.0, 0.10, 0.03), _LOWER),
        Handle((58,), (0.0, 0.05, 0.02), _LOWER)), sigma=0.25),
}

_EYE_CLOSE_LOWER_SHARE = 0.2  # of the lid gap the lower lid covers when the eye closes


def _eye_close_right(template: np.ndarray, regions: dict[str, np.ndarray]) -> np.ndarray:
    """The right eye's lids meeting: each lid point moves to the closing line, the fold follows."""
    upper, lower = template[list(RIGHT_UPPER_LID[1:-1])], template[list(RIGHT_LOWER_LID[1:-1])]
    close_y = lambda x: (1.0 - _EYE_CLOSE_LOWER_SHARE) * curve_y(template, RIGHT_LOWER_LID, x) + \
        _EYE_CLOSE_LOWER_SHARE * curve_y(template, RIGHT_UPPER_LID, x)  # noqa: E731
    handles = []
    for points, region in ((upper, regions["upper_eye"]), (lower, regions["lower_eye"])):
        for p in points:
            handles.append((p, np.array([0.0, close_y(p[0]) - p[1], 0.0]), region))
    fold = template[list(_R_UPPER_FOLD)]
    gap = curve_y(template, RIGHT_LOWER_LID, fold[:, 0]) - curve_y(template, RIGHT_UPPER_LID, fold[:, 0])
    handles += [(p, np.array([0.0, 0.4 * g, 0.0]), regions["upper_eye"]) for p, g in zip(fold, gap, strict=True)]
    return interpolate(template, handles, sigma=0.03)


def action_unit_fields(template: np.ndarray, pairs: np.ndarray) -> np.ndarray:
    """All action units as displacement fields on a template.

    Args:
        template: (478, 3) neutral template, model frame.
        pairs: (468,) mirror correspondence.

    Returns:
        (len(ActionUnit), 478, 3) float64, zero on the iris points.
    """
    regions = region_weights(template, pairs)
    fields = np.zeros((len(ActionUnit), LANDMARK_COUNT, 3))
    for unit, spec in _UNITS.items():
        fields[unit] = unit_field(spec, template, pairs, regions)
    fields[ActionUnit.BROW_OUTER_RAISE_L] = mirror_field(fields[ActionUnit.BROW_OUTER_RAISE_R], pairs)
    fields[ActionUnit.LIP_CORNER_PULL_L] = mirror_field(fields[ActionUnit.LIP_CORNER_PULL_R], pairs)
    fields[ActionUnit.EYE_CLOSE_R] = _eye_close_right(template, regions)
    fields[ActionUnit.EYE_CLOSE_L] = mirror_field(fields[ActionUnit.EYE_CLOSE_R], pairs)
    return fields

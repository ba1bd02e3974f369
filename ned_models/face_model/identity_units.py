"""Identity units: how faces differ from each other at rest, drawn like the action units.

They are not part of the fitted model (the identity shape of a shot is free). They move the
landmark model's prior to a face at rest (`morphable._neutralise`), and they absorb a face's own
proportions when a shot's mouth opening is fitted (`identity._opening`): a longer jaw, a mouth set
lower under the nose, fuller lips, bigger eyes or a higher lower lid, brows set higher or closer,
a longer or wider nose, a wider mouth or jaw, lips further forward.
"""

from __future__ import annotations

import numpy as np

from ned_models.face_model.fields import Handle, Unit, unit_field
from ned_models.face_model.regions import (
    INNER_LOWER_LIP,
    INNER_UPPER_LIP,
    OUTER_LOWER_LIP,
    OUTER_UPPER_LIP,
    RIGHT_LOWER_LID,
    RIGHT_UPPER_LID,
    region_weights,
)
from ned_models.landmarks import CHIN, LANDMARK_COUNT, MOUTH_RIGHT_CORNER

__all__ = ["IDENTITY_UNITS", "identity_unit_fields"]

_LIPS = OUTER_UPPER_LIP + OUTER_LOWER_LIP[1:-1] + INNER_UPPER_LIP + INNER_LOWER_LIP[1:-1]
_BROW = (70, 63, 105, 66, 107, 46, 53, 52, 65, 55)
_NOSE_TIP = (1, 2, 4, 19, 94, 44, 45, 125, 141, 241, 242, 238, 20, 60, 99, 97)
_NOSE_ALA = (129, 102, 48, 64, 219, 235, 98, 240, 49, 115, 218, 166, 59)
_JAW = (172, 136, 150, 149, 58, 132)

IDENTITY_UNITS: dict[str, Unit] = {
    "jaw_length": Unit((
        Handle((CHIN, 175, 199, 200, 148, 176), (0.0, 0.1, 0.0), "lower_mouth"),
        Handle((149, 150), (0.0, 0.07, 0.0), "lower_mouth"),
        Handle((136, 172), (0.0, 0.04, 0.0), "lower_mouth"),
        Handle(OUTER_LOWER_LIP[1:6], (0.0, 0.02, 0.0), "lower_mouth"),
        Handle(INNER_LOWER_LIP[1:6], (0.0, 0.0, 0.0), "lower_mouth")), sigma=0.25),
    "mouth_height": Unit((
        Handle(_LIPS, (0.0, 0.05, 0.0)),
        Handle((CHIN, 18, 200), (0.0, 0.03, 0.0))), sigma=0.25),
    "lip_fullness": Unit((
        Handle(OUTER_UPPER_LIP[1:6], (0.0, -0.03, -0.01), "upper_mouth"),
        Handle(OUTER_LOWER_LIP[1:6], (0.0, 0.03, -0.01), "lower_mouth"),
        Handle(INNER_UPPER_LIP + INNER_LOWER_LIP, (0.0, 0.0, 0.0))), sigma=0.08),
    "lip_protrusion": Unit((
        Handle(_LIPS, (0.0, 0.0, -0.04)),), sigma=0.15),
    "mouth_width": Unit((
        Handle((MOUTH_RIGHT_CORNER, 78), (-0.04, 0.0, 0.0)),), sigma=0.2),
    "eye_size": Unit((
        Handle(RIGHT_UPPER_LID[1:-1], (0.0, -0.02, 0.0), "upper_eye"),
        Handle(RIGHT_LOWER_LID[1:-1], (0.0, 0.01, 0.0), "lower_eye"),
        Handle((RIGHT_UPPER_LID[0], RIGHT_UPPER_LID[-1]), (0.0, 0.0, 0.0))), sigma=0.06),
    "lower_lid_height": Unit((
        Handle(RIGHT_LOWER_LID[1:-1], (0.0, -0.02, 0.0), "lower_eye"),
        Handle((RIGHT_LOWER_LID[0], RIGHT_LOWER_LID[-1]), (0.0, 0.0, 0.0))), sigma=0.06),
    "brow_height": Unit((
        Handle(_BROW, (0.0, -0.05, 0.0), "above_eye"),), sigma=0.2),
    "brow_spacing": Unit((
        Handle(_BROW[3:5] + _BROW[8:10], (-0.03, 0.0, 0.0), "above_eye"),), sigma=0.15),
    "nose_length": Unit((
        Handle(_NOSE_TIP + _NOSE_ALA, (0.0, 0.04, -0.01)),), sigma=0.15),
    "nose_width": Unit((
        Handle(_NOSE_ALA, (-0.03, 0.0, 0.0)),), sigma=0.1),
    "jaw_width": Unit((
        Handle(_JAW, (-0.05, 0.0, 0.0)),), sigma=0.25),
}


def identity_unit_fields(template: np.ndarray, pairs: np.ndarray) -> np.ndarray:
    """(len(IDENTITY_UNITS), 478, 3) float64 fields on a template (model frame, IOD units)."""
    regions = region_weights(template, pairs)
    fields = np.zeros((len(IDENTITY_UNITS), LANDMARK_COUNT, 3))
    for i, unit in enumerate(IDENTITY_UNITS.values()):
        fields[i] = unit_field(unit, template, pairs, regions)
    return fields

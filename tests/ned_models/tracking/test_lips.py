"""The inner-lip refinement on a drawn mouth: points move toward the lip edges, and only when there are edges."""

from __future__ import annotations

import numpy as np
import pytest

from ned_models.landmarks import LANDMARK_COUNT, LIPS_INNER, LIPS_OUTER, MOUTH_LEFT_CORNER, MOUTH_RIGHT_CORNER
from ned_models.tracking.lips import LOWER_INNER, UPPER_INNER, refine_inner_lips

SKIN, LIP, TEETH = (220, 170, 150), (180, 40, 60), (240, 240, 235)
UPPER_EDGE, LOWER_EDGE = 96.0, 104.0  # the drawn inner edges of the lips (pixel-edge rows)


def _mouth(parted: bool) -> np.ndarray:
    frame = np.full((200, 200, 3), SKIN, np.uint8)
    frame[88:114, 60:140] = LIP
    if parted:
        frame[int(UPPER_EDGE):int(LOWER_EDGE), 64:136] = TEETH
    return frame


def _landmarks(upper_y: float, lower_y: float) -> np.ndarray:
    points = np.zeros((LANDMARK_COUNT, 3))
    points[:, :2] = 100.0
    points[MOUTH_RIGHT_CORNER] = points[LIPS_INNER[0]] = (60.0, 100.0, 0.0)
    points[MOUTH_LEFT_CORNER] = points[LIPS_INNER[10]] = (140.0, 100.0, 0.0)
    xs = np.linspace(72.0, 128.0, len(LOWER_INNER))
    for x, upper, lower in zip(xs, reversed(UPPER_INNER), LOWER_INNER, strict=True):
        points[upper, :2] = (x, upper_y)
        points[lower, :2] = (x, lower_y)
    for inner, outer in zip(LIPS_INNER, LIPS_OUTER, strict=True):
        if inner in UPPER_INNER:
            points[outer, :2] = (points[inner, 0], 88.0)
        elif inner in LOWER_INNER:
            points[outer, :2] = (points[inner, 0], 114.0)
    return points


def test_points_move_toward_the_lip_edges():
    before = _landmarks(upper_y=98.5, lower_y=101.5)  # the model's reading: lips nearly closed
    after = refine_inner_lips(_mouth(parted=True), before)
    up, low = list(UPPER_INNER), list(LOWER_INNER)
    assert np.all(np.abs(after[up, 1] - UPPER_EDGE) < np.abs(before[up, 1] - UPPER_EDGE) - 0.5)
    assert np.all(np.abs(after[low, 1] - LOWER_EDGE) < np.abs(before[low, 1] - LOWER_EDGE) - 0.5)
    assert np.all(after[up, 1] > UPPER_EDGE - 0.5) and np.all(after[low, 1] < LOWER_EDGE + 0.5)  # no overshoot
    others = np.setdiff1d(np.arange(LANDMARK_COUNT), up + low)
    np.testing.assert_array_equal(after[others], before[others])
    np.testing.assert_allclose(after[up + low, 0], before[up + low, 0], atol=1e-9)  # only along the vertical


@pytest.mark.parametrize("frame", [_mouth(parted=False), np.full((200, 200, 3), SKIN, np.uint8)],
                         ids=["closed lips", "skin only"])
def test_points_stay_without_an_edge_to_go_to(frame):
    """Closed lips (no inner edge) and a skin-only frame leave the model's points where they are."""
    before = _landmarks(upper_y=100.0, lower_y=100.0)
    np.testing.assert_array_equal(refine_inner_lips(frame, before), before)


def test_lips_never_cross():
    before = _landmarks(upper_y=100.5, lower_y=99.5)  # the model already has them crossed a little
    after = refine_inner_lips(_mouth(parted=False), before)
    for upper, lower in zip(reversed(UPPER_INNER), LOWER_INNER, strict=True):
        assert after[lower, 1] >= after[upper, 1]


def test_collapsed_mouth_is_left_alone():
    before = _landmarks(upper_y=98.5, lower_y=101.5)
    before[MOUTH_LEFT_CORNER] = before[MOUTH_RIGHT_CORNER]
    np.testing.assert_array_equal(refine_inner_lips(_mouth(parted=True), before), before)

"""The inner-lip refinement on a drawn mouth: points move toward the lip edges, and only when there are edges."""

from __future__ import annotations

import numpy as np
import pytest

from ned_models.landmarks import LANDMARK_COUNT, LIPS_INNER, LIPS_OUTER, MOUTH_LEFT_CORNER, MOUTH_RIGHT_CORNER
from ned_models.tracking.lips import FACING_PAIRS, LOWER_INNER, UPPER_INNER, refine_inner_lips

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
    for x, (upper, lower) in zip(xs, FACING_PAIRS, strict=True):
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
    for upper, lower in FACING_PAIRS:
        assert after[lower, 1] >= after[upper, 1]


def test_collapsed_mouth_is_left_alone():
    before = _landmarks(upper_y=98.5, lower_y=101.5)
    before[MOUTH_LEFT_CORNER] = before[MOUTH_RIGHT_CORNER]
    np.testing.assert_array_equal(refine_inner_lips(_mouth(parted=True), before), before)


CAVITY, TONGUE = (30, 10, 15), (190, 60, 75)


def _rounded_lips(inside: tuple[int, int, int] = LIP) -> np.ndarray:
    """Lips rounded around a small dark opening (an "oo"), or with `inside` between lip and opening."""
    frame = np.full((200, 200, 3), SKIN, np.uint8)
    frame[88:114, 60:140] = LIP
    frame[93:109, 85:115] = inside
    frame[96:104, 88:112] = CAVITY
    return frame


def test_rounded_lips_close_on_the_opening():
    """The model's ring near the lips' outer edge moves onto the dark opening in the middle columns."""
    before = _landmarks(upper_y=90.0, lower_y=112.0)
    after = refine_inner_lips(_rounded_lips(), before)
    over_the_opening = [pair for pair in FACING_PAIRS if 88.0 < before[pair[0], 0] < 112.0]
    assert len(over_the_opening) == 3
    for upper, lower in over_the_opening:
        assert abs(after[upper, 1] - 96.0) < 1.0 and abs(after[lower, 1] - 104.0) < 1.0
    beside = [i for pair in FACING_PAIRS if pair not in over_the_opening for i in pair]
    np.testing.assert_array_equal(after[beside], before[beside])


def test_teeth_between_lip_and_opening_keep_the_points():
    before = _landmarks(upper_y=90.0, lower_y=112.0)
    after = refine_inner_lips(_rounded_lips(inside=TEETH), before)
    assert np.all(after[list(UPPER_INNER), 1] < 94.0) and np.all(after[list(LOWER_INNER), 1] > 108.0)


def test_a_tongue_under_a_wide_dark_band_is_not_taken_for_lip():
    """A wide-open mouth: the dark band spans the ring, the lip-coloured tongue below it stays inside."""
    frame = np.full((200, 200, 3), SKIN, np.uint8)
    frame[88:114, 60:140] = LIP
    frame[91:100, 64:136] = CAVITY
    frame[100:111, 64:136] = TONGUE
    before = _landmarks(upper_y=90.0, lower_y=112.0)
    after = refine_inner_lips(frame, before)
    np.testing.assert_array_equal(after[list(LOWER_INNER)], before[list(LOWER_INNER)])

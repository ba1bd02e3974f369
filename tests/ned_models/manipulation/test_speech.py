"""Speech preservation: the edited face's inner-lip opening is the source's, smoothly."""

import numpy as np
import pytest

from ned_models.face_model.action_units import ActionUnit as AU
from ned_models.face_model.morphable import load_face_model
from ned_models.landmarks import INNER_MOUTH_LEFT_CORNER, INNER_MOUTH_RIGHT_CORNER
from ned_models.manipulation.speech import (
    INNER_LIP_PAIRS,
    OPENING_WIDTH_FLOOR,
    inner_lip_aperture,
    keep_opening_width,
    restore_speech,
)


@pytest.fixture(scope="module")
def model():
    return load_face_model()


def _shape(model, units: dict):
    """The template face with these action units."""
    coefficients = np.zeros(len(AU))
    for unit, value in units.items():
        coefficients[unit] = value
    return model.shape(model.template, coefficients)


def _shapes(model, unit, amount=1.5):
    """A talking face and its edit with `amount` more of `unit`."""
    talking = {AU.JAW_DROP: 0.4, AU.LIPS_PART: 0.3}
    return _shape(model, talking), _shape(model, {**talking, unit: talking.get(unit, 0.0) + amount})


@pytest.mark.parametrize("unit", [AU.LIP_PRESS, AU.UPPER_LIP_RAISE, AU.CHIN_RAISE, AU.LIP_CORNER_DEPRESS,
                                  AU.LIP_STRETCH, AU.LIP_CORNER_PULL_R])
def test_full_preservation_gives_back_every_pair_opening(model, unit):
    source, edited = _shapes(model, unit)
    restored = restore_speech(model, source, edited, 1.0)
    upper, lower = INNER_LIP_PAIRS[:, 0], INNER_LIP_PAIRS[:, 1]
    np.testing.assert_allclose(restored[lower] - restored[upper], source[lower] - source[upper], atol=1e-12)
    assert inner_lip_aperture(restored) == pytest.approx(inner_lip_aperture(source), abs=1e-12)


def test_units_that_change_the_opening_are_corrected(model):
    source, edited = _shapes(model, AU.UPPER_LIP_RAISE)
    assert inner_lip_aperture(edited) > inner_lip_aperture(source) + 0.05  # the edit really opened it


def test_zero_preservation_leaves_the_edit_alone(model):
    source, edited = _shapes(model, AU.LIP_PRESS)
    np.testing.assert_array_equal(restore_speech(model, source, edited, 0.0), edited)


def test_half_preservation_is_halfway(model):
    source, edited = _shapes(model, AU.CHIN_RAISE)
    half = restore_speech(model, source, edited, 0.5)
    want = 0.5 * (inner_lip_aperture(source) + inner_lip_aperture(edited))
    assert inner_lip_aperture(half) == pytest.approx(want, abs=1e-9)


def test_the_lip_that_moved_is_the_one_moved_back(model):
    source, edited = _shapes(model, AU.UPPER_LIP_RAISE)
    restored = restore_speech(model, source, edited, 1.0)
    lower = INNER_LIP_PAIRS[:, 1]
    np.testing.assert_allclose(restored[lower], edited[lower], atol=0.01)  # the lower lip stays where it was


def test_correction_is_local_and_smooth(model):
    source, edited = _shapes(model, AU.LIP_PRESS)
    moved = np.linalg.norm(restore_speech(model, source, edited, 1.0) - edited, axis=1)
    eyes_and_brows = [33, 133, 263, 362, 70, 300, 10, 152]
    assert moved[eyes_and_brows].max() < 1e-3
    pair_fix = moved[INNER_LIP_PAIRS.ravel()].max()
    assert pair_fix > 0.005 and moved.max() <= pair_fix + 1e-12  # nothing moves more than the pairs


def _rounded(model, source_units: dict, amount: float = 2.0):
    """A source face and its edit with rounded lips (pucker + funnel), before the width guard."""
    return _shape(model, source_units), _shape(model, {**source_units, AU.LIP_PUCKER: amount, AU.LIP_FUNNEL: amount})


def _opening_width(shape):
    return shape[INNER_MOUTH_LEFT_CORNER, 0] - shape[INNER_MOUTH_RIGHT_CORNER, 0]


def test_an_open_mouth_keeps_most_of_its_width(model):
    """Rounded lips on an open mouth: the opening narrows to the floor and no further; the lips'
    vertical changes and everything away from the mouth stay as the edit made them."""
    source, edited = _rounded(model, {AU.JAW_DROP: 0.6, AU.LIPS_PART: 0.5})
    assert inner_lip_aperture(source) > 0.08
    assert _opening_width(edited) < 0.6 * _opening_width(source)  # the edit alone squeezes the teeth
    kept = keep_opening_width(model, source, edited, 1.0)
    assert _opening_width(kept) == pytest.approx(OPENING_WIDTH_FLOOR * _opening_width(source), rel=0.02)
    np.testing.assert_array_equal(kept[:, 1:], edited[:, 1:])
    moved = np.abs(kept[:, 0] - edited[:, 0])
    assert moved[[33, 133, 263, 362, 70, 300, 10, 152, 1]].max() < 1e-6  # eyes, brows, forehead, chin, nose tip
    half = keep_opening_width(model, source, edited, 0.5)
    assert _opening_width(edited) < _opening_width(half) < _opening_width(kept)
    restored = restore_speech(model, source, edited, 1.0)  # speech restoration applies it
    assert _opening_width(restored) == pytest.approx(_opening_width(kept), rel=0.02)


def test_closed_lips_and_wider_mouths_are_left_alone(model):
    """No teeth to squeeze between closed lips; a widening edit (a smile) is never held back."""
    source, edited = _rounded(model, {})
    assert inner_lip_aperture(source) < 0.01
    np.testing.assert_array_equal(keep_opening_width(model, source, edited, 1.0), edited)
    open_source = _shape(model, {AU.JAW_DROP: 0.6})
    smiling = _shape(model, {AU.JAW_DROP: 0.6, AU.LIP_CORNER_PULL_R: 2.0, AU.LIP_CORNER_PULL_L: 2.0})
    np.testing.assert_array_equal(keep_opening_width(model, open_source, smiling, 1.0), smiling)
    np.testing.assert_array_equal(keep_opening_width(model, source, edited, 0.0), edited)

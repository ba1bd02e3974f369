"""The emotion edit in expression space: baseline removal, profiles, intensity, speech units."""

import numpy as np
import pytest

from ned_models.edit import Emotion
from ned_models.face_model.action_units import ActionUnit as AU
from ned_models.face_model.morphable import EXPRESSION_BOUNDS, load_face_model
from ned_models.landmarks import RIGHT_BROW
from ned_models.manipulation.emotions import ARTICULATING_UNITS, EMOTIONAL_UNITS, PROFILES, SPEECH_UNITS
from ned_models.manipulation.expression import BaselineTracker, edit_expression, emotion_profile, emotional_baseline

K = len(AU)
EMOTIONAL = np.array([AU(k) in EMOTIONAL_UNITS for k in range(K)])


def _talking_expression(frames=200, seed=0):
    """A held smile plus speech and blinks, like an actor talking with a smile."""
    rng = np.random.default_rng(seed)
    t = np.arange(frames) / 25.0
    e = np.zeros((frames, K))
    e[:, AU.LIP_CORNER_PULL_R] = e[:, AU.LIP_CORNER_PULL_L] = 0.8
    e[:, AU.CHEEK_RAISE] = 0.5
    e[:, AU.JAW_DROP] = 0.3 * (1 + np.sin(2 * np.pi * 4 * t))  # syllables
    e[:, AU.LIPS_PART] = 0.2 + 0.1 * rng.random(frames)
    e[40:44, AU.EYE_CLOSE_R] = e[40:44, AU.EYE_CLOSE_L] = 1.0  # a blink
    return e


def test_intensity_zero_is_the_source():
    e = _talking_expression()
    b = emotional_baseline(e, 25.0)
    np.testing.assert_array_equal(edit_expression(e, b, Emotion.SAD, 0.0, 1.0), e)


@pytest.mark.parametrize("emotion", list(Emotion))
def test_speech_and_blinks_are_never_edited_with_the_mouth_preserved(emotion):
    e = _talking_expression()
    edited = edit_expression(e, emotional_baseline(e, 25.0), emotion, 1.0, 1.0)
    for unit in list(SPEECH_UNITS) + [AU.EYE_CLOSE_R, AU.EYE_CLOSE_L]:
        if unit in PROFILES[emotion]:
            continue  # a profile may add to a unit (sad droops the lids); it never removes the source's
        np.testing.assert_allclose(edited[:, unit], e[:, unit], err_msg=unit.name)


def test_neutral_removes_a_held_smile_and_keeps_the_dynamics():
    e = _talking_expression()
    e[100:110, AU.BROW_INNER_RAISE] = 0.6  # a brief emphasis on top of the held smile
    edited = edit_expression(e, emotional_baseline(e, 25.0), Emotion.NEUTRAL, 1.0, 1.0)
    assert edited[:, AU.LIP_CORNER_PULL_R].mean() < 0.05 * e[:, AU.LIP_CORNER_PULL_R].mean()
    assert edited[100:110, AU.BROW_INNER_RAISE].mean() > 0.3  # the actor's timing survives
    assert edited[20:30, AU.BROW_INNER_RAISE].max() < 0.05


def test_a_kept_mouth_keeps_the_actors_articulation():
    """Lip press and chin raise are also how speech closes the lips: their baseline is the actor's
    articulation and is removed only as far as the mouth is freed."""
    e = _talking_expression()
    e[:, AU.LIP_PRESS] = 0.6 * (1 + np.sin(2 * np.pi * 3 * np.arange(len(e)) / 25.0))  # m, b, p closures
    e[:, AU.CHIN_RAISE] = 0.9
    b = emotional_baseline(e, 25.0)
    kept = edit_expression(e, b, Emotion.NEUTRAL, 1.0, 1.0)
    half = edit_expression(e, b, Emotion.NEUTRAL, 1.0, 0.5)
    free = edit_expression(e, b, Emotion.NEUTRAL, 1.0, 0.0)
    for unit in sorted(ARTICULATING_UNITS):
        np.testing.assert_allclose(kept[:, unit], e[:, unit], err_msg=unit.name)
        np.testing.assert_allclose(half[:, unit], e[:, unit] - 0.5 * b[:, unit], err_msg=unit.name)
        np.testing.assert_allclose(free[:, unit], e[:, unit] - b[:, unit], err_msg=unit.name)
    assert kept[:, AU.LIP_CORNER_PULL_R].mean() < 0.05  # the held smile still goes


def test_target_profile_replaces_the_baseline():
    e = _talking_expression()
    edited = edit_expression(e, emotional_baseline(e, 25.0), Emotion.SAD, 1.0, 1.0)
    middle = slice(60, 140)  # away from the ends, where the zero-phase baseline settles
    profile = emotion_profile(Emotion.SAD)
    for unit in (AU.LIP_CORNER_DEPRESS, AU.BROW_INNER_RAISE):
        np.testing.assert_allclose(edited[middle, unit], profile[unit], atol=0.02)
    assert edited[middle, AU.LIP_CORNER_PULL_L].max() < 0.05


def _template_motion(emotion: Emotion) -> np.ndarray:
    """(478, 3) how the emotion at intensity 1 moves the template's points (IOD; y down is +)."""
    model = load_face_model()
    return model.shape(model.template, emotion_profile(emotion)) - model.template


def _brow_motion(emotion: Emotion) -> tuple[np.ndarray, np.ndarray, float]:
    """How the emotion moves the right brow's inner end, its outer end and the brow as a whole
    (mean y) on the template (x toward the midline is +)."""
    motion = _template_motion(emotion)
    return motion[107, :2], motion[70, :2], float(motion[list(RIGHT_BROW), 1].mean())


@pytest.mark.parametrize("emotion", [Emotion.SAD, Emotion.FEARFUL])
def test_sadness_and_fear_knit_the_brows_as_they_raise_their_inner_ends(emotion):
    """FACS's AU1+4: the brows' inner ends go up and toward each other (a brow that only rises
    reads as surprise)."""
    head, _, _ = _brow_motion(emotion)
    assert head[1] < -0.04 and head[0] > 0.02


def test_sad_brows_rise_at_their_inner_ends_only():
    head, tail, whole = _brow_motion(Emotion.SAD)
    assert abs(tail[1]) < 0.5 * abs(head[1]) and whole > 0.7 * head[1]


def test_surprise_raises_the_brows_without_knitting_them():
    head, tail, _ = _brow_motion(Emotion.SURPRISED)
    assert head[1] < -0.04 and tail[1] < -0.04 and abs(head[0]) < 0.01


def test_only_disgust_wrinkles_the_nose_anger_does_not():
    """AU9 lifts the sides of the nose in disgust; on anger it changed the face's identity (dlib)
    more than it made the face read angry, and FACS's anger prototypes do not have it."""
    nose_side = [48, 64, 98, 129]  # the right nostril wing and the skin above it
    lift = {emotion: -float(_template_motion(emotion)[nose_side, 1].mean())
            for emotion in (Emotion.ANGRY, Emotion.DISGUSTED)}
    assert lift[Emotion.DISGUSTED] > 0.03 and abs(lift[Emotion.ANGRY]) < 0.01


def test_intensity_scales_monotonically_and_stays_in_bounds():
    e = _talking_expression()
    b = emotional_baseline(e, 25.0)
    changes = [np.abs(edit_expression(e, b, Emotion.SURPRISED, a, 1.0) - e).sum() for a in (0.25, 0.5, 1.0, 1.5)]
    assert changes == sorted(changes) and changes[0] > 0
    edited = edit_expression(e, b, Emotion.SURPRISED, 1.5, 1.0)
    assert edited.max() <= EXPRESSION_BOUNDS[1]


def test_a_free_mouth_may_open_for_surprise():
    e = _talking_expression()
    b = emotional_baseline(e, 25.0)
    kept = edit_expression(e, b, Emotion.SURPRISED, 1.0, 1.0)
    free = edit_expression(e, b, Emotion.SURPRISED, 1.0, 0.0)
    assert (free[:, AU.JAW_DROP] > kept[:, AU.JAW_DROP] + 0.1).all()
    np.testing.assert_allclose(kept[:, AU.JAW_DROP], e[:, AU.JAW_DROP])


def test_baseline_is_zero_phase_and_only_emotional():
    e = np.zeros((300, K))
    e[150:, AU.LIP_CORNER_PULL_R] = 1.0  # the actor starts smiling at frame 150 and holds it
    e[:, AU.JAW_DROP] = 0.5
    b = emotional_baseline(e, 25.0)
    assert abs(b[150, AU.LIP_CORNER_PULL_R] - 0.5) < 0.05  # centred on the step: no lag
    assert (b[:, ~EMOTIONAL] == 0).all()


def test_causal_baseline_follows_a_held_expression():
    tracker = BaselineTracker(frames_per_second=25.0)
    e = np.zeros(K)
    e[AU.BROW_LOWER] = 1.0
    values = [tracker.update(e)[AU.BROW_LOWER] for _ in range(100)]
    assert values[0] == 1.0 and abs(values[-1] - 1.0) < 1e-6


def test_bad_arguments_are_refused():
    e = _talking_expression(10)
    with pytest.raises(ValueError, match="out of range"):
        edit_expression(e, e, Emotion.HAPPY, 1.6, 1.0)
    with pytest.raises(ValueError, match=r"expected \(T, "):
        emotional_baseline(e[:, :5], 25.0)

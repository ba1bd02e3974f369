"""What each emotion looks like on the face, as action-unit activations (data only).

The prototypes follow the FACS/EMFACS descriptions of the basic emotions (Ekman & Friesen):
happy = cheek raise + lip-corner pull; sad = inner-brow raise + brow lower + lip-corner depress;
surprised = brow raise + upper-lid raise (+ jaw drop); angry = brow lower + lid tighten + lip press;
disgusted = nose wrinkle + upper-lip raise; fearful = brows raised and drawn together + upper-lid
raise + lip stretch (+ jaw drop). A coefficient of 1 is a clearly visible activation of that unit
(see `ned_models.face_model.action_units`), so these profiles at intensity 1 aim at an acted
emotion (MEAD level 3), not a subtle one.

Mouth-opening units (lips part, jaw drop) are listed separately: they only apply to the extent the
user frees the mouth (mouth preservation < 1), since with preservation the lips belong to speech.
"""

from __future__ import annotations

from types import MappingProxyType

from ned_models.edit import Emotion
from ned_models.face_model.action_units import ActionUnit as AU

__all__ = ["PROFILES", "MOUTH_OPEN_PROFILES", "EMOTIONAL_UNITS", "SPEECH_UNITS", "JAW_LIFTING_UNITS"]

_BILATERAL_SMILE = {AU.LIP_CORNER_PULL_R: 1.1, AU.LIP_CORNER_PULL_L: 1.1}
_BROWS_UP = {AU.BROW_INNER_RAISE: 1.0, AU.BROW_OUTER_RAISE_R: 1.0, AU.BROW_OUTER_RAISE_L: 1.0}

PROFILES: MappingProxyType[Emotion, MappingProxyType[AU, float]] = MappingProxyType({
    emotion: MappingProxyType(units) for emotion, units in {
        Emotion.NEUTRAL: {},
        Emotion.HAPPY: {**_BILATERAL_SMILE, AU.CHEEK_RAISE: 0.9, AU.LID_TIGHTEN: 0.15},
        Emotion.SAD: {AU.BROW_INNER_RAISE: 1.0, AU.BROW_LOWER: 0.45, AU.LIP_CORNER_DEPRESS: 1.1,
                      AU.CHIN_RAISE: 0.5, AU.EYE_CLOSE_R: 0.12, AU.EYE_CLOSE_L: 0.12},
        Emotion.SURPRISED: {**_BROWS_UP, AU.UPPER_LID_RAISE: 1.0},
        Emotion.FEARFUL: {AU.BROW_INNER_RAISE: 1.0, AU.BROW_OUTER_RAISE_R: 0.5, AU.BROW_OUTER_RAISE_L: 0.5,
                          AU.BROW_LOWER: 0.45, AU.UPPER_LID_RAISE: 1.0, AU.LIP_STRETCH: 0.9},
        Emotion.ANGRY: {AU.BROW_LOWER: 1.1, AU.LID_TIGHTEN: 0.8, AU.UPPER_LID_RAISE: 0.3, AU.LIP_PRESS: 0.9,
                        AU.CHIN_RAISE: 0.3},
        Emotion.DISGUSTED: {AU.NOSE_WRINKLE: 1.0, AU.UPPER_LIP_RAISE: 0.8, AU.LIP_CORNER_DEPRESS: 0.4,
                            AU.BROW_LOWER: 0.4, AU.CHIN_RAISE: 0.3},
    }.items()})

# Added only in proportion to (1 - mouth preservation).
MOUTH_OPEN_PROFILES: MappingProxyType[Emotion, MappingProxyType[AU, float]] = MappingProxyType({
    emotion: MappingProxyType(units) for emotion, units in {
        Emotion.SURPRISED: {AU.JAW_DROP: 0.55, AU.LIPS_PART: 0.4},
        Emotion.FEARFUL: {AU.JAW_DROP: 0.3, AU.LIPS_PART: 0.3},
        Emotion.HAPPY: {AU.LIPS_PART: 0.3},
    }.items()})

# The actor's own emotional display lives in these units; speech and blinks do not.
SPEECH_UNITS = frozenset({AU.LIP_PUCKER, AU.LIP_FUNNEL, AU.LIPS_PART, AU.JAW_DROP})
EMOTIONAL_UNITS = frozenset(AU) - SPEECH_UNITS - {AU.EYE_CLOSE_R, AU.EYE_CLOSE_L}
# Units that push the jaw/chin up and so fight the jaw-opening channel speech needs.
JAW_LIFTING_UNITS = frozenset({AU.CHIN_RAISE})

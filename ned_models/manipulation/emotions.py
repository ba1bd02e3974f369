"""What each emotion looks like on the face, as action-unit activations (data only).

The prototypes follow the FACS/EMFACS descriptions of the basic emotions (Ekman & Friesen):
happy = cheek raise + lip-corner pull; sad = inner-brow raise + brow lower + lip-corner depress;
surprised = brow raise + upper-lid raise (+ jaw drop); angry = brow lower + lid tighten + lip press;
disgusted = nose wrinkle + upper-lip raise; fearful = brows raised and drawn together + upper-lid
raise + lip stretch (+ jaw drop). A coefficient of 1 is a clearly visible activation of that unit
(see `ned_models.face_model.action_units`). `ACTED_PROFILES` reach the acted level of MEAD's
level-3 takes (less for disgust and surprise's brows: see the note on the profiles); intensity 1
gives `NATURAL_SHARE` of them (`PROFILES`), and intensity `ACTED_INTENSITY` the acted level.

Mouth-opening units (lips part, jaw drop) are listed separately: they only apply to the extent the
user frees the mouth (mouth preservation < 1), since with preservation the lips belong to speech.
"""

from __future__ import annotations

from types import MappingProxyType

from ned_models.edit import Emotion
from ned_models.face_model.action_units import ActionUnit as AU

__all__ = ["PROFILES", "ACTED_PROFILES", "NATURAL_SHARE", "ACTED_INTENSITY", "MOUTH_OPEN_PROFILES", "EMOTIONAL_UNITS",
           "SPEECH_UNITS", "ARTICULATING_UNITS", "JAW_LIFTING_UNITS"]

_BROWS_UP = {AU.BROW_INNER_RAISE: 0.67, AU.BROW_OUTER_RAISE_R: 0.67, AU.BROW_OUTER_RAISE_L: 0.67}

# Coefficients are in the units of `action_units` (1 = clearly visible); the acted level of MEAD's
# level-3 takes needs well over 1 on the units that carry each emotion. Two choices go beyond the
# textbook prototypes because the lips keep the speech: surprise's dropped jaw becomes rounded lips
# (pucker + funnel: the "oh" shape at the same opening), and anger's pressed lips are tightened
# forward (pucker) as well as pressed, since the speech restoration gives back their opening.
# Surprise is carried by the widened eyes more than by the brows: raised brows add little to how the
# face reads (the fer classifier, 14 talking clips) but squeeze the forehead below the mask's top and
# change the face's identity (dlib's embedding), so at the acted level the brows rise 0.09 IOD and the
# upper lids 0.13 IOD. Disgust is drawn at 0.6 of the acted level: at that level the wrinkled nose and
# raised upper lip made another face by dlib's embedding (distance >= 0.35 on 9 of the 14 talking
# clips) and opened the mouth (mean aperture difference >= 0.03 IOD on 7); the classifier
# barely reads disgust at any level (P(disgust) rose 0.000-0.12), so identity and speech set its level.
# Sadness's and fear's brows are FACS's AU1+4 (with AU2 for fear): the inner ends pulled up and
# drawn together at once, the brow lower as strong as sadness's inner raise. With the brow lower at a
# third of that the brows mostly rose, which read as neither and moved dlib's identity embedding
# further (14 talking clips, brow lower 0.6 -> 1.8: P(sad) rose by >= 0.10 on 8 -> 12 clips, sad's
# identity < 0.35 on 12 -> 12; P(fear) rose on 13 -> 14, median +0.04 -> +0.09; retalking_2's
# identity 0.54 -> 0.45 under sadness, 0.52 -> 0.38 under fear).
# Anger wrinkles no nose: AU9 is disgust's, not in FACS's anger prototypes, and on anger it moved
# dlib's identity embedding more than it made the face read angry (14 talking clips, nose wrinkle
# 0.6 -> 0: identity < 0.35 on 12 -> 14 clips, P(angry) >= +0.10 on 12 -> 12, median gain -0.03).
ACTED_PROFILES: MappingProxyType[Emotion, MappingProxyType[AU, float]] = MappingProxyType({
    emotion: MappingProxyType(units) for emotion, units in {
        Emotion.NEUTRAL: {},
        Emotion.HAPPY: {AU.LIP_CORNER_PULL_R: 2.6, AU.LIP_CORNER_PULL_L: 2.6, AU.CHEEK_RAISE: 1.0,
                        AU.LID_TIGHTEN: 0.15},
        Emotion.SAD: {AU.BROW_INNER_RAISE: 1.8, AU.BROW_LOWER: 1.8, AU.LIP_CORNER_DEPRESS: 2.3, AU.CHIN_RAISE: 0.6,
                      AU.EYE_CLOSE_R: 0.25, AU.EYE_CLOSE_L: 0.25},
        Emotion.SURPRISED: {**_BROWS_UP, AU.UPPER_LID_RAISE: 2.93, AU.LIP_PUCKER: 1.2, AU.LIP_FUNNEL: 1.2},
        Emotion.FEARFUL: {AU.BROW_INNER_RAISE: 1.5, AU.BROW_OUTER_RAISE_R: 0.6, AU.BROW_OUTER_RAISE_L: 0.6,
                          AU.BROW_LOWER: 1.8, AU.UPPER_LID_RAISE: 1.5, AU.LIP_STRETCH: 1.2,
                          AU.LIP_CORNER_DEPRESS: 0.6},
        Emotion.ANGRY: {AU.BROW_LOWER: 2.0, AU.LID_TIGHTEN: 0.8, AU.LIP_PRESS: 0.8, AU.LIP_PUCKER: 0.5,
                        AU.LIP_CORNER_DEPRESS: 0.5, AU.CHEEK_RAISE: 0.4},
        Emotion.DISGUSTED: {AU.NOSE_WRINKLE: 1.08, AU.UPPER_LIP_RAISE: 0.84, AU.BROW_LOWER: 0.48,
                            AU.LIP_CORNER_DEPRESS: 0.36, AU.CHEEK_RAISE: 0.3, AU.CHIN_RAISE: 0.24},
    }.items()})

# At the acted level the warp renderer's edit is a caricature on many faces (the mouth stretched flat,
# the lip corners dragged: side-by-side review of the talking clips). At three quarters the faces
# still look photographic, so that is what intensity 1 means; the acted level stays within the
# intensity range.
NATURAL_SHARE = 0.75
ACTED_INTENSITY = 1.0 / NATURAL_SHARE
PROFILES: MappingProxyType[Emotion, MappingProxyType[AU, float]] = MappingProxyType({
    emotion: MappingProxyType({unit: NATURAL_SHARE * value for unit, value in units.items()})
    for emotion, units in ACTED_PROFILES.items()})

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
# Emotional units that speech drives too: the lips press for m, b and p and the chin pushes the lower
# lip up against them, so over a second or two of talking these carry the actor's articulation as much
# as any emotion (on liveportrait_d20, a neutral talker, their baseline was chin raise 0.9 and lip press
# 0.6). Their baseline is removed only as far as the mouth is freed: removing it with the mouth kept
# dragged the lower lip ~4 px down and read as a mouth open by 0.01 (dlib) to 0.03 IOD (ours) even in
# "neutral".
ARTICULATING_UNITS = frozenset({AU.CHIN_RAISE, AU.LIP_PRESS})
# Units that push the jaw/chin up and so fight the jaw-opening channel speech needs.
JAW_LIFTING_UNITS = frozenset({AU.CHIN_RAISE})

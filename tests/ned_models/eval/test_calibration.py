"""Calibration of the evaluator on MEAD: acted emotions, identities and speech it must tell apart.

Each of the three MEAD actors has a neutral clip and one clip per acted emotion (level 3). The
classifier's mean P(target) on the emotion clip minus that on the neutral clip must rise clearly
for happy and surprised (the classifier's strong classes) and on the whole for sad and angry.
"""

from __future__ import annotations

import numpy as np
import pytest

from ned_models.edit import Emotion
from ned_models.eval.clips import open_clip
from ned_models.eval.emotion_classifier import FerClassifier, clip_emotion_probabilities
from ned_models.eval.identity import DlibFaceEmbedder, identity_distances
from ned_models.eval.metrics import speech_scores
from ned_models.eval.reference_landmarks import Dlib68, inner_lip_aperture

ACTORS = ("M030", "W009", "W011")
CLIP_NAMES = {Emotion.NEUTRAL: "neutral_level1", Emotion.HAPPY: "happy_level3", Emotion.SAD: "sad_level3",
              Emotion.SURPRISED: "surprised_level3", Emotion.ANGRY: "angry_level3"}
FRAMES_STEP = 2
pytestmark = [pytest.mark.media, pytest.mark.slow]


def _clip(media_dir, actor: str, emotion: Emotion):
    return open_clip(media_dir / "mead" / f"{actor}_front_{CLIP_NAMES[emotion]}_001.mp4")


@pytest.fixture(scope="module")
def mean_probabilities(media_dir) -> dict[tuple[str, Emotion], np.ndarray]:
    classifier, landmarker = FerClassifier.load(), Dlib68(track=True)
    means = {}
    for actor in ACTORS:
        for emotion in CLIP_NAMES:
            probs = clip_emotion_probabilities(_clip(media_dir, actor, emotion).frames(), classifier, landmarker,
                                               FRAMES_STEP)
            assert np.isfinite(probs).all(), f"dlib lost the face in {actor} {emotion.name}"
            means[actor, emotion] = probs.mean(axis=0)
    return means


def _rise(means, emotion: Emotion) -> np.ndarray:
    return np.array([means[a, emotion][emotion] - means[a, Emotion.NEUTRAL][emotion] for a in ACTORS])


def test_happy_rises_on_every_actor(mean_probabilities):
    assert (_rise(mean_probabilities, Emotion.HAPPY) > 0.4).all()


def test_surprised_rises_on_every_actor(mean_probabilities):
    assert (_rise(mean_probabilities, Emotion.SURPRISED) > 0.1).all()


@pytest.mark.parametrize("emotion", [Emotion.SAD, Emotion.ANGRY])
def test_sad_and_angry_rise_on_the_whole(mean_probabilities, emotion):
    rise = _rise(mean_probabilities, emotion)
    assert np.median(rise) > 0.1 and rise.min() > -0.1


def _mean_embedding(clip, embedder: DlibFaceEmbedder, step: int = 10) -> np.ndarray:
    landmarker = Dlib68(track=True)
    vectors = [embedder.embed(frame, landmarker.detect_face(frame))
               for t, frame in enumerate(clip.frames()) if t % step == 0]
    return np.array(vectors)


def test_identity_separates_actors(media_dir):
    embedder = DlibFaceEmbedder()
    neutral = {a: _mean_embedding(_clip(media_dir, a, Emotion.NEUTRAL), embedder) for a in ACTORS}
    happy_m030 = _mean_embedding(_clip(media_dir, "M030", Emotion.HAPPY), embedder)

    def distance(a: np.ndarray, b: np.ndarray) -> float:
        n = min(len(a), len(b))
        return identity_distances(a[:n], b[:n]).mean_embedding_distance

    assert distance(neutral["M030"], happy_m030) < 0.45               # same actor, other emotion
    for i, a in enumerate(ACTORS):
        for b in ACTORS[i + 1:]:
            assert distance(neutral[a], neutral[b]) > 0.6, (a, b)


def test_aperture_correlation_self_and_shifted(media_dir):
    landmarker = Dlib68(track=True)
    aperture = np.array([inner_lip_aperture(landmarker.detect_face(f).points)
                         for f in _clip(media_dir, "W011", Emotion.NEUTRAL).frames()])
    assert speech_scores(aperture, aperture).correlation == pytest.approx(1.0)
    shift = 4                                                          # 160 ms: a visible lip-sync error
    shifted = speech_scores(aperture[:-shift], aperture[shift:])
    assert shifted.correlation < 0.8
    assert shifted.mean_abs_difference > 0.02

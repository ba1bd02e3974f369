"""Clip-level scores from per-frame series: speech, emotion, identity, ratios."""

from __future__ import annotations

import numpy as np
import pytest

from ned_models.edit import Emotion
from ned_models.eval.identity import identity_distances
from ned_models.eval.metrics import emotion_scores, pearson, ratio, speech_scores


class TestPearson:
    def test_known_values(self):
        t = np.arange(50, dtype=float)
        assert pearson(t, 3 * t + 2) == pytest.approx(1.0)
        assert pearson(t, -t) == pytest.approx(-1.0)
        assert pearson(np.sin(t), np.sin(t)) == pytest.approx(1.0)

    def test_ignores_missing_frames(self):
        a = np.array([0.1, 0.3, np.nan, 0.2, 0.5, 0.4])
        b = np.array([0.2, 0.6, 9.0, 0.4, np.nan, 0.8])
        assert pearson(a, b) == pytest.approx(1.0)      # b = 2a wherever both exist

    def test_undefined_is_nan(self):
        assert np.isnan(pearson(np.ones(10), np.arange(10.0)))
        assert np.isnan(pearson(np.array([1.0, 2.0]), np.array([2.0, 1.0])))

    def test_shape_mismatch(self):
        with pytest.raises(ValueError, match="equal length"):
            pearson(np.zeros(3), np.zeros(4))


def test_speech_scores():
    rng = np.random.default_rng(1)
    source = np.abs(rng.normal(0.15, 0.1, 100))
    edit = source + 0.02
    scores = speech_scores(source, edit)
    assert scores.correlation == pytest.approx(1.0)
    assert scores.mean_abs_difference == pytest.approx(0.02)
    assert scores.frames_used == 100
    shifted = speech_scores(source[:-5], source[5:])
    assert shifted.correlation < 0.5                  # white-noise mouth: a shift decorrelates


def test_ratio():
    assert ratio(3.0, 2.0) == 1.5
    assert np.isnan(ratio(1.0, 0.0))
    assert np.isnan(ratio(float("nan"), 1.0))


class TestEmotionScores:
    def test_target_gain_and_missing_rows(self):
        source = np.tile(np.eye(7)[Emotion.NEUTRAL], (4, 1))
        edit = np.tile(0.5 * np.eye(7)[Emotion.NEUTRAL] + 0.5 * np.eye(7)[Emotion.HAPPY], (4, 1))
        edit[1] = np.nan                             # no face in the edit on one scored frame
        scores = emotion_scores(source, edit, Emotion.HAPPY)
        assert scores.frames_used == 3
        assert scores.target_gain == pytest.approx(0.5)
        assert scores.edit_mean[Emotion.NEUTRAL] == pytest.approx(0.5)

    def test_no_faces(self):
        scores = emotion_scores(np.full((2, 7), np.nan), np.full((2, 7), np.nan), Emotion.SAD)
        assert scores.frames_used == 0 and np.isnan(scores.target_gain)

    def test_bad_shape(self):
        with pytest.raises(ValueError, match="N, 7"):
            emotion_scores(np.zeros((3, 8)), np.zeros((3, 8)), Emotion.SAD)


class TestIdentityDistances:
    def test_values(self):
        rng = np.random.default_rng(2)
        source = rng.normal(size=(6, 128))
        edit = source.copy()
        edit[:, 0] += np.array([0.1, 0.2, 0.3, 0.4, 0.5, 0.6])
        result = identity_distances(source, edit)
        assert result.median_paired_distance == pytest.approx(0.35)
        assert result.mean_embedding_distance == pytest.approx(0.35)
        np.testing.assert_allclose(result.paired_distances, [0.1, 0.2, 0.3, 0.4, 0.5, 0.6])

    def test_bad_input(self):
        with pytest.raises(ValueError, match="128"):
            identity_distances(np.zeros((3, 64)), np.zeros((3, 64)))
        with pytest.raises(ValueError, match="N >= 1"):
            identity_distances(np.zeros((0, 128)), np.zeros((0, 128)))

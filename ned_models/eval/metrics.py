"""Per-clip scores of an edit, as pure functions of per-frame measurements.

Series are (T,) float arrays with NaN where a frame has no measurement (no face found); every
score ignores those frames and says how many it used.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ned_models.edit import Emotion

__all__ = ["SpeechScores", "EmotionScores", "speech_scores", "emotion_scores", "pearson", "ratio"]

_MIN_FRAMES_FOR_CORRELATION = 3


@dataclass(frozen=True)
class SpeechScores:
    """Does the edit's mouth open and close as the source's did (inner-lip aperture, IOD units)?

    Attributes:
        correlation: Pearson correlation of the two aperture series (1 = same rhythm); NaN when
            fewer than 3 frames have both or one series is constant.
        mean_abs_difference: mean |edit - source| aperture, in inter-ocular distances.
        frames_used: frames where both apertures were measured.
    """

    correlation: float
    mean_abs_difference: float
    frames_used: int


@dataclass(frozen=True)
class EmotionScores:
    """The classifier's view of source and edit on the same frames.

    Attributes:
        target: the emotion the edit asked for.
        source_mean: (7,) mean probabilities over the scored frames, NED order.
        edit_mean: (7,) likewise for the edit.
        target_gain: edit_mean[target] - source_mean[target] (> 0: the edit moved toward the target).
        frames_used: frames scored in both clips.
    """

    target: Emotion
    source_mean: np.ndarray
    edit_mean: np.ndarray
    target_gain: float
    frames_used: int


def pearson(a: np.ndarray, b: np.ndarray) -> float:
    """Pearson correlation over the entries where both are finite; NaN if undefined."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape or a.ndim != 1:
        raise ValueError(f"expected two (T,) series of equal length, got {a.shape} and {b.shape}")
    both = np.isfinite(a) & np.isfinite(b)
    if np.count_nonzero(both) < _MIN_FRAMES_FOR_CORRELATION:
        return float("nan")
    a, b = a[both] - a[both].mean(), b[both] - b[both].mean()
    denominator = np.sqrt((a * a).sum() * (b * b).sum())
    return float((a * b).sum() / denominator) if denominator > 0 else float("nan")


def ratio(edit_value: float, source_value: float) -> float:
    """edit / source, NaN when the source value is 0 or either is NaN (no meaningful ratio)."""
    if not (np.isfinite(edit_value) and np.isfinite(source_value)) or source_value == 0:
        return float("nan")
    return float(edit_value / source_value)


def speech_scores(source_aperture: np.ndarray, edit_aperture: np.ndarray) -> SpeechScores:
    """Compare (T,) inner-lip aperture series of the source and the edit (NaN = no face)."""
    source_aperture = np.asarray(source_aperture, dtype=np.float64)
    edit_aperture = np.asarray(edit_aperture, dtype=np.float64)
    correlation = pearson(source_aperture, edit_aperture)
    both = np.isfinite(source_aperture) & np.isfinite(edit_aperture)
    used = int(np.count_nonzero(both))
    difference = float(np.abs(edit_aperture[both] - source_aperture[both]).mean()) if used else float("nan")
    return SpeechScores(correlation, difference, used)


def emotion_scores(source_probs: np.ndarray, edit_probs: np.ndarray, target: Emotion) -> EmotionScores:
    """Aggregate (N, 7) per-frame probabilities (NED order, NaN rows = no face) into clip scores.

    Raises:
        ValueError: the arrays are not (N, 7) of equal shape.
    """
    source_probs, edit_probs = np.asarray(source_probs, np.float64), np.asarray(edit_probs, np.float64)
    if source_probs.shape != edit_probs.shape or source_probs.ndim != 2 or source_probs.shape[1] != len(Emotion):
        raise ValueError(f"expected two (N, 7) probability arrays, got {source_probs.shape} and {edit_probs.shape}")
    both = np.isfinite(source_probs).all(axis=1) & np.isfinite(edit_probs).all(axis=1)
    used = int(np.count_nonzero(both))
    if used == 0:
        nan7 = np.full(len(Emotion), np.nan)
        return EmotionScores(target, nan7, nan7.copy(), float("nan"), 0)
    source_mean, edit_mean = source_probs[both].mean(axis=0), edit_probs[both].mean(axis=0)
    return EmotionScores(target, source_mean, edit_mean, float(edit_mean[target] - source_mean[target]), used)

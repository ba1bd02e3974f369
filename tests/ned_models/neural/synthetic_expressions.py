"""Synthetic emotion-labelled expression clips for manipulator tests.

Channel 0 is a speech channel (jaw opening) that follows its own per-clip rhythm whatever the
emotion; channels 1.. sit around an emotion-specific mean. A manipulator that works must move the
non-speech channels to the target emotion's mean while keeping channel 0's time course.
"""

from __future__ import annotations

import numpy as np

from ned_models.neural.manipulator_data import ExpressionClip

NUM_EMOTIONS = 7


def emotion_means(dim: int, seed: int = 0) -> np.ndarray:
    """(7, dim) float32 means, speech channel 0 at zero."""
    means = np.random.default_rng(seed).normal(0.0, 1.0, (NUM_EMOTIONS, dim)).astype(np.float32)
    means[:, 0] = 0.0
    return means


def make_clip(means: np.ndarray, label: int, frames: int, seed: int) -> ExpressionClip:
    """One clip of `frames` frames showing emotion `label`, with a sinusoidal speech channel."""
    rng = np.random.default_rng(seed)
    time = np.arange(frames)
    values = means[label][None, :] + 0.1 * rng.standard_normal((frames, means.shape[1]))
    values[:, 0] = 0.5 + 0.4 * np.sin(2 * np.pi * time / rng.uniform(6, 12) + rng.uniform(0, 6))
    return ExpressionClip(values.astype(np.float32), label, f"emotion{label}-seed{seed}")


def make_clips(means: np.ndarray, per_emotion: int, frames: int, seed: int = 0) -> list[ExpressionClip]:
    """`per_emotion` clips of every emotion."""
    return [
        make_clip(means, label, frames, seed=1000 * seed + 100 * label + index)
        for label in range(NUM_EMOTIONS)
        for index in range(per_emotion)
    ]

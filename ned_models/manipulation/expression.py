"""The emotion edit in expression space: replace the actor's emotional baseline with the target's.

Per frame, the actor's action units `e(t)` are split into a slowly varying emotional baseline
`b(t)` (what the actor shows over a second or two: a smile held through a take) and the dynamics
`e(t) - b(t)` (emphasis, blinks, speech). The edit removes the baseline and adds the target
profile, and keeps the dynamics, so the new emotion lives on top of the actor's own timing:

    e'(t) = e(t) - min(a, 1) * w_m * b(t) + a * P_emotion + a * (1 - m) * P_mouth_open

with `a` the intensity and `m` the mouth preservation; `w_m` is 1, except on the units speech also
drives (lip press, chin raise: `ARTICULATING_UNITS`), where it is `1 - m`, so a kept mouth keeps the
actor's own articulation. The result is applied as a displacement,
`shape(e') - shape(e)`, to the tracked landmarks, so a coefficient that goes below zero is not an
error: it removes from this frame's shape the displacement the baseline stands for, however the
per-frame fit happened to split the held expression among its units. Only the upper bound is
enforced, to keep exaggerated edits within what the units were drawn for. "neutral" has an empty profile, so it only
removes the actor's baseline emotion. Speech units are never part of the baseline, so the mouth keeps
moving for the words; `restore_speech` then pins the inner-lip aperture to the source's exactly.
"""

from __future__ import annotations

import numpy as np
from scipy.ndimage import gaussian_filter1d

from ned_models.edit import Emotion
from ned_models.face_model.action_units import ActionUnit
from ned_models.face_model.morphable import EXPRESSION_BOUNDS
from ned_models.manipulation.emotions import (
    ARTICULATING_UNITS,
    EMOTIONAL_UNITS,
    JAW_LIFTING_UNITS,
    MOUTH_OPEN_PROFILES,
    PROFILES,
)

__all__ = ["emotion_profile", "emotional_baseline", "BaselineTracker", "edit_expression", "BASELINE_SECONDS"]

BASELINE_SECONDS = 1.5  # time scale that separates a held expression from a momentary one
_UNITS = len(ActionUnit)
_EMOTIONAL_MASK = np.array([ActionUnit(k) in EMOTIONAL_UNITS for k in range(_UNITS)])
_ARTICULATING_MASK = np.array([ActionUnit(k) in ARTICULATING_UNITS for k in range(_UNITS)])


def emotion_profile(emotion: Emotion, mouth_preservation: float = 1.0) -> np.ndarray:
    """(K,) action-unit activations of `emotion` at intensity 1."""
    profile = np.zeros(_UNITS)
    for unit, value in PROFILES[emotion].items():
        profile[unit] = value
    for unit, value in MOUTH_OPEN_PROFILES.get(emotion, {}).items():
        profile[unit] += (1.0 - mouth_preservation) * value
    for unit in JAW_LIFTING_UNITS:  # lifting the chin would close the jaw that speech opens
        profile[unit] *= 1.0 - 0.5 * mouth_preservation
    return profile


def emotional_baseline(expression: np.ndarray, frames_per_second: float) -> np.ndarray:
    """Zero-phase baseline of the emotional units over a whole shot (full analysis).

    Args:
        expression: (T, K) coefficients in time order.
        frames_per_second: the shot's frame rate (sets the filter width).

    Returns:
        (T, K) baseline; 0 for units that are not emotional.
    """
    if expression.ndim != 2 or expression.shape[1] != _UNITS:
        raise ValueError(f"expected (T, {_UNITS}) coefficients, got {expression.shape}")
    sigma = max(BASELINE_SECONDS * frames_per_second / 2.0, 1e-3)
    smooth = gaussian_filter1d(expression.astype(np.float64), sigma, axis=0, mode="nearest")
    return smooth * _EMOTIONAL_MASK


class BaselineTracker:
    """Causal counterpart of `emotional_baseline` for frames arriving one by one (online analysis)."""

    def __init__(self, frames_per_second: float = 25.0) -> None:
        self._alpha = 1.0 - np.exp(-2.0 / max(BASELINE_SECONDS * frames_per_second, 1.0))
        self._state: np.ndarray | None = None

    def update(self, expression: np.ndarray) -> np.ndarray:
        """Feed one frame's (K,) coefficients; returns the baseline at that frame."""
        value = expression * _EMOTIONAL_MASK
        self._state = value.copy() if self._state is None else self._state + self._alpha * (value - self._state)
        return self._state.copy()


def edit_expression(expression: np.ndarray, baseline: np.ndarray, emotion: Emotion, intensity: float,
                    mouth_preservation: float) -> np.ndarray:
    """The edited coefficients (see the module docstring).

    Args:
        expression: (..., K) the actor's coefficients.
        baseline: (..., K) their emotional baseline at the same frames.
        emotion: target emotion.
        intensity: 0..1.5; 0 returns `expression` unchanged.
        mouth_preservation: 0..1.

    Returns:
        (..., K) float64 coefficients, at most the model's upper bound (see the module docstring
        for why they may go below zero).
    """
    if not 0.0 <= intensity <= 1.5 or not 0.0 <= mouth_preservation <= 1.0:
        raise ValueError(f"intensity {intensity} / mouth preservation {mouth_preservation} out of range")
    if intensity == 0.0:
        return np.asarray(expression, dtype=np.float64)
    target = emotion_profile(emotion, mouth_preservation)
    removal = np.where(_ARTICULATING_MASK, 1.0 - mouth_preservation, 1.0)
    edited = expression - min(intensity, 1.0) * removal * baseline + intensity * target
    return np.minimum(edited, EXPRESSION_BOUNDS[1])

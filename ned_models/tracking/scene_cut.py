"""Cheap scene-cut detection from colour histograms of a subsampled frame."""

from __future__ import annotations

import numpy as np

from ned_models.conventions import as_float_image

__all__ = ["colour_histogram", "histogram_distance", "SceneCutDetector"]

_BINS = 16
_TARGET_SAMPLES = 160  # samples along the long side: enough for a histogram, ~0.2 ms


def colour_histogram(frame: np.ndarray) -> np.ndarray:
    """A (3, 16) float64 per-channel histogram of a strided subsample of an RGB(A) frame, rows sum to 1."""
    step = max(1, max(frame.shape[:2]) // _TARGET_SAMPLES)
    sample = as_float_image(np.ascontiguousarray(frame[::step, ::step, :3]))
    bins = np.clip((sample * _BINS).astype(np.int64), 0, _BINS - 1).reshape(-1, 3)
    counts = np.stack([np.bincount(bins[:, c], minlength=_BINS) for c in range(3)]).astype(np.float64)
    return counts / counts.sum(axis=1, keepdims=True)


def histogram_distance(a: np.ndarray, b: np.ndarray) -> float:
    """Total-variation distance averaged over channels, 0 (same) .. 1 (disjoint)."""
    return float(0.5 * np.abs(a - b).sum(axis=1).mean())


class SceneCutDetector:
    """Flags a frame whose colour histogram jumps away from the previous frame's."""

    def __init__(self, threshold: float = 0.35) -> None:
        if not 0.0 < threshold <= 1.0:
            raise ValueError(f"scene-cut threshold must be in (0, 1], got {threshold}")
        self.threshold = threshold
        self._previous: np.ndarray | None = None

    def reset(self) -> None:
        """Forget the previous frame."""
        self._previous = None

    def is_cut(self, frame: np.ndarray) -> bool:
        """True when `frame` starts a new scene (never for the first frame after a reset)."""
        hist = colour_histogram(frame)
        cut = self._previous is not None and histogram_distance(hist, self._previous) > self.threshold
        self._previous = hist
        return cut

"""Scene cuts from colour histograms."""

from __future__ import annotations

import numpy as np
import pytest

from ned_models.tracking.scene_cut import SceneCutDetector, colour_histogram, histogram_distance


def test_histogram_rows_sum_to_one_for_every_dtype():
    for frame in (np.full((40, 60, 3), 100, np.uint8), np.full((40, 60, 4), 30000, np.uint16),
                  np.full((40, 60, 3), 2.0, np.float32)):
        hist = colour_histogram(frame)
        assert hist.shape == (3, 16)
        np.testing.assert_allclose(hist.sum(axis=1), 1.0)


def test_cut_detected_between_different_scenes_only():
    rng = np.random.default_rng(0)
    dark = rng.integers(0, 80, (90, 160, 3), dtype=np.uint8)
    bright = rng.integers(170, 255, (90, 160, 3), dtype=np.uint8)
    detector = SceneCutDetector()
    assert not detector.is_cut(dark)
    assert not detector.is_cut(np.clip(dark.astype(int) + 5, 0, 255).astype(np.uint8))
    assert detector.is_cut(bright)
    assert histogram_distance(colour_histogram(dark), colour_histogram(dark)) == 0.0
    detector.reset()
    assert not detector.is_cut(bright)
    with pytest.raises(ValueError):
        SceneCutDetector(threshold=0.0)

"""Face-region flicker: what it counts (frame-to-frame popping) and what it ignores (smooth change)."""

from __future__ import annotations

from itertools import islice

import cv2
import numpy as np
import pytest

from ned_models.eval.clips import open_clip
from ned_models.eval.flicker import FlickerMeter, similarity_from_points
from ned_models.eval.image_metrics import face_region
from ned_models.eval.reference_landmarks import Dlib68

FRAMES = 40


def test_similarity_recovers_a_known_transform():
    rng = np.random.default_rng(4)
    points = rng.uniform(0, 100, (21, 2))
    angle, scale, shift = np.deg2rad(-12.0), 1.7, np.array([30.0, -5.0])
    rotation = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    moved = scale * points @ rotation.T + shift
    transform = similarity_from_points(points, moved)
    np.testing.assert_allclose(transform[:2, :2], scale * rotation, atol=1e-9)
    np.testing.assert_allclose(transform[:2, 2], shift, atol=1e-9)


@pytest.fixture(scope="module")
def talking(media_dir):
    """First frames of a talking clip and dlib's landmarks on them."""
    frames = list(islice(open_clip(media_dir / "talking" / "retalking_2.mp4").frames(), FRAMES))
    landmarker = Dlib68(track=True)
    points = [landmarker.detect_face(f).points for f in frames]
    return frames, points


def _measure(frames, points, edits) -> float:
    meter = FlickerMeter()
    for frame, p, edit in zip(frames, points, edits, strict=True):
        meter.add(frame, edit, p)
    scores = meter.scores()
    assert np.isfinite(scores.source[1:-1]).all() and np.isnan(scores.source[[0, -1]]).all()
    return scores.ratio


def _face_alpha(points: np.ndarray, size_hw: tuple[int, int]) -> np.ndarray:
    """A feathered (H, W) float32 face mask, as a renderer would blend with."""
    region = face_region(points, size_hw)
    alpha = np.zeros(size_hw, np.float32)
    region.cut(alpha)[region.mask] = 1.0
    return cv2.GaussianBlur(alpha, (0, 0), 8.0)


def _brighten(frame: np.ndarray, alpha: np.ndarray, offset: float) -> np.ndarray:
    edited = frame.astype(np.float32) + offset * alpha[:, :, None]
    return np.clip(np.rint(edited), 0, 255).astype(np.uint8)


@pytest.mark.media
class TestFlickerOnRealFootage:
    def test_identical_edit_is_ratio_one(self, talking):
        frames, points = talking
        assert _measure(frames, points, frames) == pytest.approx(1.0)

    def test_popping_face_is_caught(self, talking):
        frames, points = talking
        rng = np.random.default_rng(5)
        # the face's brightness pops by ~3 grey levels (1 %) from frame to frame
        edits = [_brighten(f, _face_alpha(p, f.shape[:2]), float(rng.normal(0.0, 3.0)))
                 for f, p in zip(frames, points, strict=True)]
        assert _measure(frames, points, edits) > 1.5

    def test_smooth_change_is_not_flicker(self, talking):
        frames, points = talking
        # the face brightens by 0.41 grey levels a frame, evenly: a change, not a flicker. The mask
        # stays put (a mask that followed dlib's jittery points would itself flicker).
        alpha = _face_alpha(points[0], frames[0].shape[:2])[:, :, None]
        as_float = [f.astype(np.float32) / 255.0 for f in frames]
        float_edits = [f + alpha * (0.41 * t / 255.0) for t, f in enumerate(as_float)]
        assert _measure(as_float, points, float_edits) == pytest.approx(1.0, abs=0.03)
        # rounded to 8 bits the ramp dithers by +-0.5 grey levels, still within the 1.2x criterion
        edits = [_brighten(f, alpha[:, :, 0], 0.41 * t) for t, f in enumerate(frames)]
        assert _measure(frames, points, edits) < 1.2

    def test_frames_without_face_are_skipped(self, talking):
        frames, points = talking
        meter = FlickerMeter()
        for t, frame in enumerate(frames[:10]):
            meter.add(frame, frame, None if t == 5 else points[t])
        scores = meter.scores()
        assert np.isnan(scores.source[[0, 4, 5, 6, 9]]).all()
        assert np.isfinite(scores.source[[1, 2, 3, 7, 8]]).all()

"""The full-shot fit of one face: its depth scale, and smoothing that keeps the lips' speech."""

from __future__ import annotations

import numpy as np
from scipy.spatial.transform import Rotation

from ned_models.analysis.face_track import _LIPS, SmoothingOptions, _smooth_fit_error, fit_face
from ned_models.face_model.morphable import load_face_model
from ned_models.face_model.pose import HeadPose

FPS = 25.0


def test_a_lip_closure_survives_the_fit_error_smoothing():
    """A two-frame closure (a /p/) in the part of the landmarks the model misses: the lips keep most of
    it, the rest of the face (where such a pulse is tracker noise) is smoothed as before."""
    times = np.arange(50) / FPS
    error = np.zeros((50, 478, 3))
    error[24:26, :, 1] = 1.0
    smoothed = _smooth_fit_error(times, error, SmoothingOptions())
    others = np.setdiff1d(np.arange(478), _LIPS)
    assert smoothed[24:26, _LIPS, 1].min() > 0.8
    assert smoothed[24:26, others, 1].max() < 0.6


def test_a_shallow_tracker_depth_is_scaled_and_the_fit_reproduces_the_points():
    model = load_face_model()
    count = 40
    rng = np.random.default_rng(2)
    raw = []
    for t in np.linspace(-1.0, 1.0, count):
        rotation = Rotation.from_euler("xyz", [5.0 * t, 15.0 * t, 0.0], degrees=True).as_matrix()
        points = HeadPose(rotation, np.array([640.0, 360.0, 0.0]), 150.0).apply(model.template)
        points[:, 2] /= 1.2  # the tracker reads the face 1.2 times too shallow
        raw.append(points + rng.normal(0.0, 0.3, points.shape))
    raw = np.stack(raw)
    track = fit_face(model, 0, np.arange(count) / FPS, raw, np.ones(count), np.ones(count, bool),
                     np.zeros(count, bool), (720, 1280), 1.0)
    assert float(track.depth_scale) == 1.2
    np.testing.assert_array_equal(track.raw_landmarks, raw.astype(np.float32))  # the tracker's own z is kept
    error = np.linalg.norm(track.landmarks[:, :, :2] - raw[:, :, :2], axis=-1) / 150.0
    assert np.median(error) < 0.01
    # the identity came out in true depth: the template's own proportions
    iod_depth = np.ptp(track.identity[:468, 2]) / np.ptp(model.template[:468, 2])
    assert abs(iod_depth - 1.0) < 0.05

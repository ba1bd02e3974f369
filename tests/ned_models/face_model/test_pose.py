"""Head pose: exact similarity recovery, quaternions, Euler convention."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from ned_models.face_model.pose import (
    HeadPose,
    euler_angles,
    fit_similarity,
    quaternion_to_rotation,
    rotation_to_quaternion,
)


def test_similarity_is_recovered_exactly():
    rng = np.random.default_rng(0)
    source = rng.normal(size=(50, 3))
    truth = HeadPose(Rotation.from_euler("xyz", [10, -25, 5], degrees=True).as_matrix(),
                     np.array([300.0, 200.0, 5.0]), 140.0)
    fitted = fit_similarity(source, truth.apply(source), rng.uniform(0.1, 1.0, 50))
    np.testing.assert_allclose(fitted.rotation, truth.rotation, atol=1e-9)
    np.testing.assert_allclose(fitted.translation, truth.translation, atol=1e-7)
    assert fitted.scale == pytest.approx(140.0)
    np.testing.assert_allclose(fitted.invert(truth.apply(source)), source, atol=1e-9)
    assert np.linalg.det(fitted.rotation) == pytest.approx(1.0)


def test_quaternions_round_trip_and_stay_continuous():
    rotations = Rotation.from_euler("y", np.linspace(0, 350, 36)[:, None], degrees=True).as_matrix()
    q = rotation_to_quaternion(rotations)
    np.testing.assert_allclose(quaternion_to_rotation(q), rotations, atol=1e-12)
    assert np.all(np.sum(q[1:] * q[:-1], axis=1) > 0)  # no sign flips between neighbours


def test_euler_convention():
    r = Rotation.from_euler("ZYX", [7, -20, 12], degrees=True).as_matrix()  # Rz(roll) Ry(yaw) Rx(pitch)
    np.testing.assert_allclose(np.degrees(euler_angles(r)), [12, -20, 7], atol=1e-9)

"""Per-shot identity and residual basis on synthetic shots with known answers."""

from __future__ import annotations

import numpy as np
from scipy.spatial.transform import Rotation

from ned_models.face_model.action_units import ActionUnit
from ned_models.face_model.fit import FrameFitter
from ned_models.face_model.identity import fit_identity, residual_basis
from ned_models.face_model.pose import HeadPose


def _shot(model, static, frames=60, seed=0, spread=0.3):
    """A face that differs from the template at rest, talks, and holds `static` activations.

    `spread` is the standard deviation of the identity-unit coefficients: 0.3 moves the rest-shape
    cues about as much as real faces at rest differ (`rest_shape.CUE_SPREAD`); far beyond that a face
    reads as holding an expression, by design.
    """
    rng = np.random.default_rng(seed)
    face = rng.normal(0, spread, len(model.identity_basis))
    identity = model.template + np.tensordot(face, model.identity_basis, axes=1)
    points = []
    for k in range(frames):
        c = static.copy()
        c[ActionUnit.JAW_DROP] += max(0.0, 0.5 * np.sin(0.7 * k))
        c[ActionUnit.LIPS_PART] += max(0.0, 0.6 * np.sin(0.9 * k + 1))
        rotation = Rotation.from_euler("xyz", rng.normal(0, 6, 3), degrees=True).as_matrix()
        pose = HeadPose(rotation, np.array([500.0, 400.0, 0.0]) + rng.normal(0, 20, 3), 120.0)
        points.append(pose.apply(model.shape(identity, c)))
    return identity, np.stack(points)


def _aligned_error(model, a, b):
    return np.median(np.linalg.norm(a[:468] - b[:468], axis=1))


def test_identity_of_a_talking_neutral_face(model):
    static = np.zeros(len(ActionUnit))
    identity, points = _shot(model, static)
    estimate = fit_identity(model, points)
    assert _aligned_error(model, estimate, identity) < 0.01
    expression = np.stack([FrameFitter(model, estimate).fit(p).expression for p in points])
    emotional = np.delete(expression, [ActionUnit.JAW_DROP, ActionUnit.LIPS_PART], axis=1)
    assert np.median(emotional, axis=0).max() < 0.1


def test_a_shot_long_smile_stays_an_expression(model):
    static = np.zeros(len(ActionUnit))
    static[[ActionUnit.LIP_CORNER_PULL_R, ActionUnit.LIP_CORNER_PULL_L, ActionUnit.CHEEK_RAISE]] = [1.0, 1.0, 0.6]
    _, points = _shot(model, static, seed=1)
    estimate = fit_identity(model, points)
    expression = np.median([FrameFitter(model, estimate).fit(p).expression for p in points], axis=0)
    assert expression[ActionUnit.LIP_CORNER_PULL_R] > 0.5 and expression[ActionUnit.LIP_CORNER_PULL_L] > 0.5


def test_residual_basis_is_orthonormal_and_apart_from_the_units(model):
    static = np.zeros(len(ActionUnit))
    identity, points = _shot(model, static, seed=2)
    rng = np.random.default_rng(5)
    points = points + rng.normal(0, 0.5, points.shape)
    fits = [FrameFitter(model, identity).fit(p) for p in points]
    basis = residual_basis(model, fits, identity, 6)
    assert basis.shape == (6, 478, 3)
    w = np.tile([1.0, 1.0, 0.5], 468)
    rows = basis[:, :468].reshape(6, -1)
    np.testing.assert_allclose((rows * w) @ rows.T, np.eye(6), atol=1e-8)
    units = model.basis[:, :468].reshape(len(ActionUnit), -1)
    assert np.abs((rows * w) @ units.T).max() < 1e-6
    np.testing.assert_array_equal(basis[:, 468:], 0.0)

"""Per-frame fit: recovers known coefficients and pose, respects bounds, reproduces the points."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import lsq_linear
from scipy.spatial.transform import Rotation

from ned_models.face_model.action_units import ActionUnit
from ned_models.face_model.fit import ExpressionSolver, FrameFitter, apply_gaze
from ned_models.face_model.pose import HeadPose


def _scene(model, coefficients, seed=0, noise=0.0):
    rng = np.random.default_rng(seed)
    identity = model.template + rng.normal(0, 0.01, model.template.shape) * (np.arange(478) < 468)[:, None]
    pose = HeadPose(Rotation.from_euler("xyz", [8, -18, 4], degrees=True).as_matrix(),
                    np.array([640.0, 360.0, 0.0]), 150.0)
    gaze = np.array([[0.02, -0.01], [0.02, -0.01]])
    shape = apply_gaze(model.shape(identity, coefficients), gaze)
    points = pose.apply(shape) + rng.normal(0, noise, shape.shape)
    return identity, pose, gaze, points


def test_fit_recovers_coefficients_pose_and_gaze(model):
    c = np.zeros(len(ActionUnit))
    c[[ActionUnit.LIP_CORNER_PULL_L, ActionUnit.LIP_CORNER_PULL_R, ActionUnit.CHEEK_RAISE,
       ActionUnit.JAW_DROP, ActionUnit.BROW_INNER_RAISE]] = [0.8, 0.6, 0.5, 0.4, 0.7]
    identity, pose, gaze, points = _scene(model, c)
    fit = FrameFitter(model, identity).fit(points)
    np.testing.assert_allclose(fit.expression, c, atol=0.02)
    assert np.degrees(np.arccos(np.clip((np.trace(fit.pose.rotation.T @ pose.rotation) - 1) / 2, -1, 1))) < 0.2
    assert fit.pose.scale == pytest.approx(150.0, rel=2e-3)
    np.testing.assert_allclose(fit.gaze, gaze, atol=1e-3)
    np.testing.assert_allclose(fit.pose.apply(apply_gaze(model.shape(identity, fit.expression), fit.gaze)),
                               points, atol=0.5)


def test_fit_is_robust_to_tracker_noise(model):
    c = np.zeros(len(ActionUnit))
    c[[ActionUnit.LIPS_PART, ActionUnit.BROW_LOWER]] = [1.0, 0.5]
    identity, _, _, points = _scene(model, c, seed=1, noise=0.75)  # 0.5% IOD per coordinate
    fit = FrameFitter(model, identity).fit(points)
    assert abs(fit.expression[ActionUnit.LIPS_PART] - 1.0) < 0.15
    assert abs(fit.expression[ActionUnit.BROW_LOWER] - 0.5) < 0.15
    assert np.delete(fit.expression, [ActionUnit.LIPS_PART, ActionUnit.BROW_LOWER]).max() < 0.2


def test_bounded_solver_matches_a_reference_solver():
    rng = np.random.default_rng(3)
    basis = rng.normal(size=(8, 60))
    weights = rng.uniform(0.5, 1.0, 60)
    target = basis.T @ rng.normal(0, 1.5, 8) + rng.normal(0, 0.1, 60)
    solver = ExpressionSolver(basis, weights, ridge=0.01, lower=0.0, upper=1.0)
    ours = solver.solve(target)
    root = np.sqrt(weights)
    a = np.vstack([(basis * root).T, np.sqrt(0.01) * np.eye(8)])
    b = np.concatenate([target * root, np.zeros(8)])
    reference = lsq_linear(a, b, bounds=(0.0, 1.0), tol=1e-12).x
    np.testing.assert_allclose(ours, reference, atol=1e-6)
    assert ours.min() >= 0.0 and ours.max() <= 1.0


def test_residual_basis_is_used_when_given(model):
    identity = model.template
    extra = np.zeros((1, 478, 3))
    extra[0, 10, 0] = 1.0  # a unit residual at one point, orthogonal to every unit there
    c = np.zeros(len(ActionUnit))
    points = model.template * 100.0 + np.array([50.0, 60.0, 0.0])
    points[10, 0] += 100.0 * 0.03
    fit = FrameFitter(model, identity, extra).fit(points)
    assert fit.residual.shape == (1,) and fit.residual[0] == pytest.approx(0.03, abs=2e-3)
    np.testing.assert_allclose(fit.expression, c, atol=0.02)

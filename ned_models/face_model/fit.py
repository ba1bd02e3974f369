"""Fit pose and expression to one frame's landmarks: alternate a weighted similarity alignment (on
the points expressions barely move) with a bounded ridge solve for the action-unit coefficients.

About 0.3 ms per face-frame: the normal matrix of the basis is factored once per identity.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ned_models.face_model.morphable import EXPRESSION_BOUNDS, FaceModel
from ned_models.face_model.pose import HeadPose, fit_similarity
from ned_models.landmarks import LEFT_IRIS, MESH_POINTS, RIGHT_IRIS

__all__ = ["FrameFit", "ExpressionSolver", "FrameFitter", "gaze_offsets", "apply_gaze", "Z_WEIGHT"]

Z_WEIGHT = 0.5  # the landmark model's depth is less sure than x, y
_RIDGE = 5e-4  # per coefficient: a unit activation costs as much as a 0.005 IOD error on 20 points
_ALTERNATIONS = 3  # from the previous frame's expression
_COLD_ALTERNATIONS = 6  # from neutral: the first pose is off by whatever the expression moves
_IRISES = (RIGHT_IRIS, LEFT_IRIS)


@dataclass(frozen=True)
class FrameFit:
    """The model fitted to one face in one frame.

    Attributes:
        pose: model frame -> display pixels.
        expression: (K,) float64 action-unit coefficients.
        residual: (R,) float64 residual coefficients (R = 0 without a residual basis).
        gaze: (2, 2) float64 model-frame (x, y) offsets of the right and left iris from the eye's
            neutral iris position (IOD units).
        model_points: (478, 3) float64 the landmarks brought into the model frame (pose undone).
    """

    pose: HeadPose
    expression: np.ndarray
    residual: np.ndarray
    gaze: np.ndarray
    model_points: np.ndarray


class ExpressionSolver:
    """min ||W^(1/2) (B c - d)||^2 + sum_k ridge_k c_k^2 subject to lower <= c <= upper, fixed B.

    Bounds and ridge may be scalars or one value per coefficient (infinite bounds allowed).
    """

    def __init__(self, basis: np.ndarray, weights: np.ndarray, ridge: float | np.ndarray = _RIDGE,
                 lower: float | np.ndarray = EXPRESSION_BOUNDS[0],
                 upper: float | np.ndarray = EXPRESSION_BOUNDS[1]) -> None:
        """Args: basis (K, N) flattened fields; weights (N,) per coordinate."""
        k = len(basis)
        self._weighted = basis * weights  # (K, N)
        self._normal = self._weighted @ basis.T + np.diag(np.broadcast_to(ridge, (k,)).astype(float))
        self._lo = np.broadcast_to(lower, (k,)).astype(float)
        self._hi = np.broadcast_to(upper, (k,)).astype(float)
        self._last_fixed = np.zeros(k, dtype=bool)
        self._last_values = np.zeros(k)

    def solve(self, target: np.ndarray) -> np.ndarray:
        """Coefficients for a (N,) flattened target displacement (active set on the box).

        Starts from the previous call's active set: consecutive frames rarely change which units
        sit at a bound, so most calls take a single solve.
        """
        rhs = self._weighted @ target
        k = len(rhs)
        fixed = self._last_fixed.copy()
        values = np.where(fixed, self._last_values, 0.0)
        c = values
        for _ in range(2 * k + 1):
            free = ~fixed
            c = values.copy()
            if free.any():
                rows = self._normal[free]
                c[free] = np.linalg.solve(rows[:, free], rhs[free] - rows[:, fixed] @ values[fixed])
            outside = free & ((c < self._lo) | (c > self._hi))
            if outside.any():
                fixed |= outside
                values = np.where(outside, np.clip(c, self._lo, self._hi), c)
                continue
            grad = self._normal @ c - rhs
            release = fixed & (((c <= self._lo) & (grad < 0)) | ((c >= self._hi) & (grad > 0)))
            if not release.any():
                self._last_fixed, self._last_values = fixed, c
                return c
            fixed &= ~release
            values = c
        return np.clip(c, self._lo, self._hi)


def gaze_offsets(model_points: np.ndarray, shape: np.ndarray) -> np.ndarray:
    """(2, 2) mean model-frame (x, y) offset of each iris from where the shape puts it."""
    return np.stack([(model_points[list(iris), :2] - shape[list(iris), :2]).mean(axis=0) for iris in _IRISES])


def apply_gaze(shape: np.ndarray, gaze: np.ndarray) -> np.ndarray:
    """Move the iris points of (..., 478, 3) shapes by (..., 2, 2) gaze offsets."""
    out = np.array(shape, dtype=np.float64, copy=True)
    for e, iris in enumerate(_IRISES):
        out[..., list(iris), :2] += gaze[..., e, None, :]
    return out


class FrameFitter:
    """Fits frames of one face whose identity (and optional residual basis) is known."""

    def __init__(self, model: FaceModel, identity: np.ndarray, residual_basis: np.ndarray | None = None) -> None:
        """Args: identity (478, 3) neutral shape; residual_basis (R, 478, 3), W-orthonormal or None."""
        self.model = model
        self.identity = identity
        coord_weights = np.tile([1.0, 1.0, Z_WEIGHT], MESH_POINTS)
        self._solver = ExpressionSolver(model.basis[:, :MESH_POINTS].reshape(len(model.basis), -1),
                                        coord_weights)
        self._coord_weights = coord_weights
        self.residual_basis = residual_basis if residual_basis is not None else np.zeros((0,) + identity.shape)
        self._residual_rows = self.residual_basis[:, :MESH_POINTS].reshape(len(self.residual_basis), 3 * MESH_POINTS)

    def fit(self, points: np.ndarray, start: np.ndarray | None = None) -> FrameFit:
        """Fit one frame.

        Args:
            points: (478, 3) display pixels (x already multiplied by the pixel aspect ratio).
            start: (K,) coefficients to start from (the previous frame's), or None for neutral.
        """
        expression = np.zeros(len(self.model.basis)) if start is None else start
        mesh = slice(0, MESH_POINTS)
        for _ in range(_COLD_ALTERNATIONS if start is None else _ALTERNATIONS):
            shape = self.model.shape(self.identity, expression)
            pose = fit_similarity(shape[mesh], points[mesh], self.model.rigid_weights[mesh])
            model_points = pose.invert(points)
            expression = self._solver.solve((model_points[mesh] - self.identity[mesh]).ravel())
        shape = self.model.shape(self.identity, expression)
        return FrameFit(pose=pose, expression=expression, residual=self.residual_for(model_points, shape),
                        gaze=gaze_offsets(model_points, shape), model_points=model_points)

    def residual_for(self, model_points: np.ndarray, shape: np.ndarray) -> np.ndarray:
        """(R,) residual coefficients of model-frame points against the shape the units explain."""
        left_over = (model_points[:MESH_POINTS] - shape[:MESH_POINTS]).ravel()
        return self._residual_rows @ (left_over * self._coord_weights)

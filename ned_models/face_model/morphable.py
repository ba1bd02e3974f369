"""The face model: neutral template + action-unit basis, built once from the landmark model's prior.

A face in the model frame (see `template.py`) is

    shape = identity + sum_k expression[k] * basis[k] + sum_j residual[j] * residual_basis[j]

with `identity` the (478, 3) neutral shape of one actor in one shot (the template plus that actor's
own offsets), the action-unit `basis` shared by every shot, and a small per-shot residual basis for
what the action units do not describe. The image points are `pose.apply(shape)` (scaled
orthographic: the landmark model's z is a depth in the same pixel units as x and y).
"""

from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass

import numpy as np

from ned_models.face_model.action_units import ActionUnit, action_unit_fields
from ned_models.face_model.identity_units import IDENTITY_UNITS, identity_unit_fields
from ned_models.face_model.regions import region_weights
from ned_models.face_model.rest_shape import NEUTRAL, measure
from ned_models.face_model.template import (
    blank_inputs,
    mirror_pairs,
    normalise,
    place_irises,
    symmetrise,
    to_model_frame,
)
from ned_models.landmarks import LOWER_INNER_LIP_MID, MESH_POINTS, UPPER_INNER_LIP_MID

__all__ = ["FaceModel", "build_face_model", "load_face_model", "EXPRESSION_BOUNDS"]

# Coefficients are activations: never below neutral, at most a (very) exaggerated expression.
EXPRESSION_BOUNDS = (0.0, 3.0)
_ROUND = 1e-6  # the template is rounded so tiny runtime float differences do not change it
_NEUTRALISE_ROUNDS = 3  # Newton steps; the fields' effects are nearly linear


@dataclass(frozen=True)
class FaceModel:
    """The shared part of the face model (identical for every shot).

    Attributes:
        template: (478, 3) float64 neutral template, model frame (IOD units).
        basis: (K, 478, 3) float64 action-unit displacement fields, K = len(ActionUnit).
        pairs: (468,) int mirror correspondence of the mesh points.
        identity_basis: (M, 478, 3) float64 identity-unit fields (`identity_units.py`): how faces
            differ at rest; used only to split a shot's static offset into face and expression.
        rigid_weights: (478,) float64 in [0, 1]: how little each point moves with expression
            (1 = never); pose alignment trusts these points.
        fingerprint: hex digest identifying template and basis (stored with every analysis).
    """

    template: np.ndarray
    basis: np.ndarray
    pairs: np.ndarray
    identity_basis: np.ndarray
    rigid_weights: np.ndarray
    fingerprint: str

    def shape(self, identity: np.ndarray, expression: np.ndarray, residual: np.ndarray | None = None,
              residual_basis: np.ndarray | None = None) -> np.ndarray:
        """Model-frame shape(s).

        Args:
            identity: (478, 3) neutral shape of the face.
            expression: (..., K) action-unit coefficients.
            residual: (..., R) residual coefficients, with residual_basis (R, 478, 3).

        Returns:
            (..., 478, 3) float64.
        """
        expression = np.asarray(expression)
        flat = expression @ self.basis.reshape(len(self.basis), -1)
        if residual is not None and residual_basis is not None and residual_basis.shape[0]:
            flat = flat + np.asarray(residual) @ residual_basis.reshape(len(residual_basis), -1)
        return identity + flat.reshape(expression.shape[:-1] + identity.shape)


def _rigid_weights(basis: np.ndarray) -> np.ndarray:
    """1 where no action unit moves a point, falling to 0 where they move it by >~ 0.03 IOD."""
    motion = np.sqrt((basis**2).sum(axis=-1).sum(axis=0))
    weights = 1.0 / (1.0 + (motion / 0.015) ** 2)
    weights[MESH_POINTS:] = 0.0  # irises follow gaze
    return weights


def _set_by_unit(shape: np.ndarray, field: np.ndarray, measure, target: float) -> np.ndarray:
    """Move `shape` along `field` until the linear `measure(shape)` equals `target`."""
    per_unit = measure(shape + field) - measure(shape)
    return shape + ((target - measure(shape)) / per_unit) * field


def _chin_stretch(shape: np.ndarray, pairs: np.ndarray) -> np.ndarray:
    """A field that stretches what lies below the lips downwards (longer lower face, same mouth)."""
    lower = region_weights(shape, pairs)["lower_mouth"]
    mouth_y = 0.5 * (shape[UPPER_INNER_LIP_MID, 1] + shape[LOWER_INNER_LIP_MID, 1])
    stretch = np.zeros_like(shape)
    stretch[:, 1] = lower * np.clip(shape[:, 1] - mouth_y, 0.0, None)
    return stretch


def _rest_fields(shape: np.ndarray, pairs: np.ndarray) -> dict[str, np.ndarray]:
    """Per measure of `rest_shape.NEUTRAL` (but the lip gap), the field that sets it."""
    units = action_unit_fields(shape, pairs)
    faces = dict(zip(IDENTITY_UNITS, identity_unit_fields(shape, pairs), strict=True))
    return {
        "mouth_width": faces["mouth_width"],
        "corner_lift": -units[ActionUnit.LIP_CORNER_DEPRESS],
        "upper_lip_drop": faces["mouth_height"],
        "chin": _chin_stretch(shape, pairs),
        "cheek": units[ActionUnit.CHEEK_RAISE],
        "inner_brow": units[ActionUnit.BROW_INNER_RAISE],
        "brow_spacing": faces["brow_spacing"],
        "lid_gap": faces["eye_size"],
        "lower_lid": faces["lower_lid_height"],
    }


def _neutralise(draft: np.ndarray, pairs: np.ndarray) -> np.ndarray:
    """Turn the landmark model's prior into a face at rest as the model draws real faces.

    The prior (the model's answer to blank images) has its lips apart and its mouth, lids, brows
    and cheeks where no real face at rest has them (see `rest_shape.py`). The lips are closed along
    LIPS_PART first; then every other measure of `rest_shape.NEUTRAL` is set to its norm at once, by
    moving along a field that changes it (an identity unit, an action unit or a stretch of the lower
    face), solved as one small linear system since the fields overlap a little. The fields move the
    eye corners a little, which re-levelling the eyes turns into a change of scale: the system is
    solved through that re-levelling, a few Newton steps.
    """
    lip_gap = lambda s: measure("lip_gap", s)  # noqa: E731
    shape = _set_by_unit(draft, action_unit_fields(draft, pairs)[ActionUnit.LIPS_PART], lip_gap, NEUTRAL["lip_gap"])
    for _ in range(_NEUTRALISE_ROUNDS):
        fields = _rest_fields(shape, pairs)
        names = list(fields)
        now = np.array([measure(n, shape) for n in names])
        # each field's effect read after re-levelling the eyes, as the template will be
        effect = np.stack([[measure(n, to_model_frame(shape + fields[f])) for n in names] for f in names], axis=1)
        amounts = np.linalg.solve(effect - now[:, None], np.array([NEUTRAL[n] for n in names]) - now)
        shape = to_model_frame(shape + np.tensordot(amounts, np.stack([fields[n] for n in names]), axes=1))
    return shape


def build_face_model(prior_shapes: np.ndarray) -> FaceModel:
    """Build the model from the landmark model's answers to blank inputs.

    Args:
        prior_shapes: (N, 468, 3) landmark-model outputs for `template.blank_inputs()`.
    """
    prior = normalise(prior_shapes)
    pairs = mirror_pairs(prior)
    rest = _neutralise(place_irises(symmetrise(prior, pairs)), pairs)
    # irises again on the centres of the eyes as they now are
    template = np.round(to_model_frame(place_irises(rest[:MESH_POINTS])) / _ROUND) * _ROUND
    basis = action_unit_fields(template, pairs)
    # Coarsely rounded, so the fingerprint changes with the model's definition, not with the last
    # bits of the landmark runtime's arithmetic on another CPU.
    digest = hashlib.sha256(np.round(template, 3).astype("<f8").tobytes()
                            + np.round(basis, 4).astype("<f8").tobytes())
    return FaceModel(template=template, basis=basis, pairs=pairs,
                     identity_basis=identity_unit_fields(template, pairs), rigid_weights=_rigid_weights(basis),
                     fingerprint=digest.hexdigest()[:16])


@functools.lru_cache(maxsize=1)
def load_face_model() -> FaceModel:
    """The face model, built on first use from the verified landmark model (about 0.5 s, once per process).

    Raises:
        ModelLoadError: the landmark model file is missing or corrupt.
    """
    from ned_models.assets import FACE_LANDMARKS
    from ned_models.tracking.tflite import TfliteModel

    model = TfliteModel(FACE_LANDMARKS, num_threads=1)
    shapes = np.stack([model.run(image[None])[0].reshape(MESH_POINTS, 3) for image in blank_inputs()])
    return build_face_model(shapes)

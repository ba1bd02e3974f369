"""Per-shot parts of the face model: the actor's identity shape and the residual basis.

Identity is what stays the same through the shot once expression is taken out. It alternates with
the per-frame fits: the identity is the per-coordinate median of (landmarks - expression) over the
frames, with its positive action-unit component removed. Why positive only: coefficients measure
activation from the neutral template, so an actor smiling through the whole shot must come out
smiling (a positive lip-corner pull), not as a person whose neutral face smiles; the negative part
cannot be an activation and is part of the face (e.g. lips thinner than the template's).
"""

from __future__ import annotations

import numpy as np

from ned_models.face_model.action_units import ActionUnit
from ned_models.face_model.fit import Z_WEIGHT, ExpressionSolver, FrameFit, FrameFitter
from ned_models.face_model.morphable import FaceModel
from ned_models.face_model.pose import fit_similarity
from ned_models.landmarks import MESH_POINTS

__all__ = ["estimate_identity", "residual_basis", "fit_identity", "IDENTITY_ROUNDS", "IDENTITY_FRAMES",
           "static_expression", "SPEECH_UNITS"]

IDENTITY_ROUNDS = 3
IDENTITY_FRAMES = 120  # frames sampled (evenly) to estimate the identity
_PROJECTION_RIDGE = 1e-6
STATIC_COSINE = 0.75  # how much a static offset must look like an action unit to count as one
STATIC_MINIMUM = 0.2  # and how strong it must be
SPEECH_UNITS = (ActionUnit.LIPS_PART, ActionUnit.JAW_DROP)
_ANTAGONIST_COSINE = -0.3
_SOFT = 0.1  # half-width of the fade around the static thresholds
_RESIDUAL_FRAMES = 300  # frames (evenly sampled) the residual basis is learnt from
STATIC_Z_WEIGHT = 0.0  # real faces' depth differs from the prior's more than their shape: judge x, y
_FACE_RIDGE = 1e-5
_UNIT_RIDGE = 1e-2


def _coordinate_weights() -> np.ndarray:
    return np.tile([1.0, 1.0, Z_WEIGHT], MESH_POINTS)


def _local_cosines(fields: np.ndarray, parts: np.ndarray, support: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Per unit k, the cosine between parts[k] and fields[k] weighted by that unit's support."""
    dot = np.einsum("kpc,kpc,kp,c->k", fields, parts, support, w)
    own = np.einsum("kpc,kpc,kp,c->k", fields, fields, support, w)
    other = np.einsum("kpc,kpc,kp,c->k", parts, parts, support, w)
    return dot / np.sqrt(np.maximum(own * other, 1e-30))


def static_expression(model: FaceModel, offset: np.ndarray, kept: np.ndarray) -> np.ndarray:
    """The action-unit activations a static (478, 3) offset from the template really looks like.

    The offset is fitted jointly by the identity units (signed, cheap: the face's own proportions
    are the first explanation) and the allowed action units (non-negative, dearer). Then units are
    dropped until the rest are believable: of opposing units that are both on, the weaker (brow-
    raising plus brow-lowering draws brows set differently, not an expression), then the unit whose share of the
    offset looks least like it over its own support, until every unit kept is visible (coefficient
    >= STATIC_MINIMUM) and looks like itself (cosine >= STATIC_COSINE). A shot-long smile stays a
    smile: no rest shape lifts the corners and pulls them back and out.

    Args:
        offset: (478, 3) model-frame offset from the template.
        kept: (K,) bool, units always fitted and never dropped (the mouth opening: a neutral face
            has its lips closed, so any shot-long opening is taken out of the face).

    Returns:
        (K,) float64 non-negative coefficients.
    """
    mesh = slice(0, MESH_POINTS)
    w = np.array([1.0, 1.0, STATIC_Z_WEIGHT])
    fields = model.basis[:, mesh]
    faces = model.identity_basis[:, mesh]
    support = np.linalg.norm(fields, axis=-1)
    support /= support.max(axis=1, keepdims=True)
    target = offset[mesh]
    antagonists = _antagonists(fields, w)
    active = np.ones(len(fields), dtype=bool)
    coefficients = np.zeros(len(fields))
    while True:
        coefficients, face_part = _joint_fit(fields, faces, active, target, w)
        on = coefficients >= STATIC_MINIMUM - _SOFT
        strength = coefficients * np.sqrt(np.einsum("kpc,kpc,c->k", fields, fields, w))
        weaker = on & ~kept & (antagonists & on[None, :] & (strength[None, :] > strength[:, None])).any(axis=1)
        if weaker.any():
            active &= ~weaker
            continue
        left = target - face_part - np.tensordot(coefficients, fields, axes=1)
        parts = left[None] + coefficients[:, None, None] * fields
        score = np.where(on, _local_cosines(fields, parts, support, w), -1.0)
        score[~active | kept] = np.inf
        worst = int(np.argmin(score))
        if score[worst] >= STATIC_COSINE - _SOFT:
            break
        active[worst] = False
    # fade units in across the thresholds, so a small change in the shot never flips the identity
    looks = np.where(active, _local_cosines(fields, parts, support, w), 0.0)
    gate = _ramp((looks - STATIC_COSINE) / _SOFT) * _ramp((coefficients - STATIC_MINIMUM) / _SOFT)
    return np.where(kept, coefficients, coefficients * gate)


def _ramp(t: np.ndarray) -> np.ndarray:
    """0 below -1, 1 above 1, linear between."""
    return np.clip(0.5 * (t + 1.0), 0.0, 1.0)


def _joint_fit(fields: np.ndarray, faces: np.ndarray, active: np.ndarray, target: np.ndarray,
               w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Fit (identity units, active action units) to target; return (K,) unit coefficients, face part."""
    n_face, n_unit = len(faces), int(active.sum())
    rows = np.concatenate([faces, fields[active]]).reshape(n_face + n_unit, -1)
    ridge = np.concatenate([np.full(n_face, _FACE_RIDGE), np.full(n_unit, _UNIT_RIDGE)])
    lower = np.concatenate([np.full(n_face, -np.inf), np.zeros(n_unit)])
    upper = np.concatenate([np.full(n_face, np.inf), np.full(n_unit, np.inf)])
    solved = ExpressionSolver(rows, np.tile(w, MESH_POINTS), ridge, lower, upper).solve(target.ravel())
    coefficients = np.zeros(len(fields))
    coefficients[active] = solved[n_face:]
    return coefficients, np.tensordot(solved[:n_face], faces, axes=1)


def _antagonists(fields: np.ndarray, w: np.ndarray) -> np.ndarray:
    """(K, K) bool: units whose fields largely oppose each other (weighted cosine < -0.3)."""
    flat = (fields * np.sqrt(w)).reshape(len(fields), -1)
    unit = flat / np.linalg.norm(flat, axis=1, keepdims=True)
    return unit @ unit.T < _ANTAGONIST_COSINE


def estimate_identity(model: FaceModel, fits: list[FrameFit]) -> np.ndarray:
    """The neutral shape of a face from frame fits.

    The median over the frames of the landmarks with each frame's mouth opening taken out (talking
    lips are apart in most frames; a neutral face has them closed), less the static expression
    and any mouth opening left.

    Args:
        model: the face model.
        fits: frame fits of one face.

    Returns:
        (478, 3) float64 identity shape in the model frame (aligned to the template on the rigid
        points, so it does not drift in scale or rotation from round to round).
    """
    if not fits:
        raise ValueError("estimate_identity needs at least one frame fit")
    speech = np.zeros(len(model.basis), dtype=bool)
    speech[list(SPEECH_UNITS)] = True
    median = np.median([f.model_points - np.tensordot(f.expression * speech, model.basis, axes=1)
                        for f in fits], axis=0)
    mesh = slice(0, MESH_POINTS)
    median = fit_similarity(model.template[mesh], median[mesh], model.rigid_weights[mesh]).invert(median)
    static = static_expression(model, median - model.template, speech)
    return median - np.tensordot(static, model.basis, axes=1)


def fit_identity(model: FaceModel, points: np.ndarray, rounds: int = IDENTITY_ROUNDS) -> np.ndarray:
    """Estimate one face's identity from its landmarks in several frames.

    Args:
        points: (F, 478, 3) display-pixel landmarks (F >= 1), e.g. an even sample of the shot.
        rounds: alternations of frame fits and identity updates.

    Returns:
        (478, 3) identity shape.
    """
    identity = model.template
    for _ in range(rounds):
        fitter = FrameFitter(model, identity)
        fits: list[FrameFit] = []
        for p in points:
            fits.append(fitter.fit(p, fits[-1].expression if fits else None))
        identity = estimate_identity(model, fits)
    return identity


def residual_basis(model: FaceModel, fits: list[FrameFit], identity: np.ndarray, count: int) -> np.ndarray:
    """A small per-shot basis for what the action units leave unexplained (weighted PCA).

    The residuals are first made orthogonal (in the fit's coordinate weights) to the action-unit
    fields, so residual coefficients never take over what an action unit means.

    Args:
        fits: frame fits made without a residual basis.
        identity: the identity they were fitted with.
        count: number of components wanted (fewer if the frames do not support them).

    Returns:
        (R, 478, 3) float64, orthonormal in the weighted metric; zero on the iris points.
    """
    mesh = slice(0, MESH_POINTS)
    w = _coordinate_weights()
    sample = np.unique(np.linspace(0, len(fits) - 1, min(len(fits), _RESIDUAL_FRAMES)).astype(int))
    points = np.stack([fits[i].model_points for i in sample])
    expression = np.stack([fits[i].expression for i in sample])
    left_over = (points - model.shape(identity, expression))[:, mesh].reshape(len(sample), -1)
    rows = model.basis[:, mesh].reshape(len(model.basis), -1)
    normal = (rows * w) @ rows.T + _PROJECTION_RIDGE * np.eye(len(rows))
    left_over -= np.linalg.solve(normal, (rows * w) @ left_over.T).T @ rows
    scaled = left_over * np.sqrt(w)  # (F, N), F <= _RESIDUAL_FRAMES
    # principal directions from the small F x F Gram matrix (far cheaper than an SVD of F x N)
    energy, mix = np.linalg.eigh(scaled @ scaled.T)
    order = np.argsort(energy)[::-1]
    energy, mix = energy[order], mix[:, order]
    keep = min(count, int((energy > 1e-12 * max(float(energy[0]), 1e-30)).sum()))
    directions = (mix[:, :keep].T @ scaled) / np.sqrt(energy[:keep])[:, None]  # (keep, N), orthonormal
    out = np.zeros((keep,) + identity.shape)
    out[:, mesh] = (directions / np.sqrt(w)).reshape(keep, MESH_POINTS, 3)
    return out

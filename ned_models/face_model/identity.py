"""Per-shot parts of the face model: the actor's identity shape and the residual basis.

Identity is what stays the same through the shot once expression is taken out. It alternates with
the per-frame fits: the identity is the per-coordinate median of (landmarks - expression) over the
frames, less the expression that median still holds (`static_expression`). Coefficients measure
activation from a face at rest, so an actor smiling through the whole shot must come out smiling (a
positive lip-corner pull), not as a person whose face at rest smiles.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import nnls

from ned_models.face_model.action_units import ActionUnit
from ned_models.face_model.fit import Z_WEIGHT, ExpressionSolver, FrameFit, FrameFitter
from ned_models.face_model.morphable import FaceModel
from ned_models.face_model.pose import fit_similarity
from ned_models.face_model.rest_shape import CUE_NORM, CUE_SPREAD, cue_values
from ned_models.landmarks import MESH_POINTS

__all__ = ["estimate_identity", "residual_basis", "fit_identity", "IDENTITY_ROUNDS", "IDENTITY_FRAMES",
           "static_expression", "SPEECH_UNITS", "STATIC_UNITS", "even_sample"]

IDENTITY_ROUNDS = 3
IDENTITY_FRAMES = 120  # frames sampled (evenly) to estimate the identity
_PROJECTION_RIDGE = 1e-6
SPEECH_UNITS = (ActionUnit.LIPS_PART, ActionUnit.JAW_DROP)
# The units a shot-long expression is read in: those that move the rest-shape cues.
STATIC_UNITS = (ActionUnit.LIP_CORNER_PULL_R, ActionUnit.LIP_CORNER_PULL_L, ActionUnit.CHEEK_RAISE,
                ActionUnit.LIP_CORNER_DEPRESS, ActionUnit.LIP_STRETCH, ActionUnit.BROW_INNER_RAISE,
                ActionUnit.BROW_OUTER_RAISE_R, ActionUnit.BROW_OUTER_RAISE_L, ActionUnit.BROW_LOWER,
                ActionUnit.UPPER_LID_RAISE, ActionUnit.LID_TIGHTEN)
STATIC_DEAD_ZONE = 0.5  # spreads: a cue within half a spread of the norm reads as a face at rest
STATIC_RIDGE = 0.1  # per unit, against trading one unit for another on weak evidence
_RESIDUAL_FRAMES = 300  # frames (evenly sampled) the residual basis is learnt from
STATIC_Z_WEIGHT = 0.0  # real faces' depth differs from the prior's more than their shape: judge x, y
_FACE_RIDGE = 1e-5
_UNIT_RIDGE = 1e-2


def even_sample(count: int, most: int) -> np.ndarray:
    """Indices of at most `most` of `count` items, evenly spread from the first to the last."""
    return np.unique(np.linspace(0, count - 1, min(count, most)).astype(int))


def _coordinate_weights() -> np.ndarray:
    return np.tile([1.0, 1.0, Z_WEIGHT], MESH_POINTS)


def static_expression(model: FaceModel, offset: np.ndarray, kept: np.ndarray) -> np.ndarray:
    """The action-unit activations a shot's static (478, 3) offset from the template holds.

    Emotional units are read from a few rest-shape cues (`rest_shape.CUES`: how wide the mouth is,
    how high its corners sit against the middle of the lips, how high cheeks, brows and lids are),
    whose spread over faces at rest is known: each cue's distance from the norm, in spreads and less
    a dead zone of half a spread, is explained by non-negative unit activations (each unit's effect on
    the cues is read from its field). A face is read as holding an expression only where its cues
    lie outside what faces at rest do, and more so the further out, so a small change in the shot
    never flips the identity. The template, a face at rest, reads (nearly) 0.

    The units in `kept` (the mouth opening: a neutral face has its lips closed, so any shot-long
    opening is taken out of the face) are fitted, with the identity units absorbing the face's own
    proportions, to whatever offset the emotional units leave (see `_opening`).

    Args:
        offset: (478, 3) model-frame offset from the template.
        kept: (K,) bool, the units always fitted to the offset.

    Returns:
        (K,) float64 non-negative coefficients.
    """
    coefficients = np.zeros(len(model.basis))
    units = [u for u in STATIC_UNITS if not kept[u]]
    distance = (cue_values(model.template + offset) - CUE_NORM) / CUE_SPREAD
    outside = np.sign(distance) * np.maximum(np.abs(distance) - STATIC_DEAD_ZONE, 0.0)
    effect = (cue_values(model.template + model.basis[units]) - cue_values(model.template)) / CUE_SPREAD  # (U, cues)
    system = np.concatenate([effect.T, np.sqrt(STATIC_RIDGE) * np.eye(len(units))])
    coefficients[units], _ = nnls(system, np.concatenate([outside, np.zeros(len(units))]))
    if kept.any():
        rest = offset - np.tensordot(coefficients, model.basis, axes=1)
        coefficients[kept] = _opening(model, rest, kept)
    return coefficients


def _opening(model: FaceModel, offset: np.ndarray, kept: np.ndarray) -> np.ndarray:
    """Non-negative coefficients of the `kept` units, fitted jointly with the (free) identity units.

    x, y only, as the rest of the static reading: real faces' depth differs from the prior's more
    than their shape.
    """
    mesh = slice(0, MESH_POINTS)
    w = np.array([1.0, 1.0, STATIC_Z_WEIGHT])
    units = np.flatnonzero(kept)
    rows = np.concatenate([model.identity_basis[:, mesh], model.basis[units][:, mesh]])
    n_face = len(model.identity_basis)
    ridge = np.concatenate([np.full(n_face, _FACE_RIDGE), np.full(len(units), _UNIT_RIDGE)])
    lower = np.concatenate([np.full(n_face, -np.inf), np.zeros(len(units))])
    solver = ExpressionSolver(rows.reshape(len(rows), -1), np.tile(w, MESH_POINTS), ridge, lower, np.inf)
    return solver.solve(offset[mesh].ravel())[n_face:]


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
    sample = even_sample(len(fits), _RESIDUAL_FRAMES)
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

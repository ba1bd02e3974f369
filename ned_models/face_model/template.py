"""The neutral face template, derived at run time from the landmark model's own prior.

No licensed 3D face model is available to us, so the template comes from the Apache-2.0 landmark
model itself: fed images that hold no face (flat grey levels, smooth gradients), it answers with
the generic face it has learnt. We average those answers, make the average left/right symmetric,
close the lips (the prior's mouth is slightly open: that is an expression, not a neutral face), set
a few measures (mouth width, lid gap, brow height, ...) to their norms on real faces at rest
(`rest_shape.NEUTRAL`, scalars measured on test footage; `morphable._neutralise`) and put it in the
model frame.

Model frame: x to the image's right (the subject's left), y down, z away from the camera; the origin
halfway between the eye centres (each the mean of its two corners); unit = the inter-ocular
distance (IOD); the eyes level. The 10 iris points are placed on each eye's centre, with an iris
radius of 0.093 IOD (11.7 mm over a 63 mm eye distance), centre first then medial, upper, lateral,
lower, as the iris model orders them.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import linear_sum_assignment

from ned_models.landmarks import (
    LANDMARK_COUNT,
    LEFT_EYE,
    LEFT_EYE_INNER,
    LEFT_EYE_OUTER,
    LEFT_IRIS,
    MESH_POINTS,
    RIGHT_EYE,
    RIGHT_EYE_INNER,
    RIGHT_EYE_OUTER,
    RIGHT_IRIS,
)

__all__ = ["blank_inputs", "normalise", "mirror_pairs", "symmetrise", "place_irises", "IRIS_RADIUS",
           "to_model_frame"]

IRIS_RADIUS = 0.093
_INPUT = 192
_ICP_ROUNDS = 8


def blank_inputs() -> np.ndarray:
    """(N, 192, 192, 3) float32 images without a face, made deterministically (no random numbers).

    Flat grey levels and smooth vertical/radial gradients: each gives the model nothing to see, so
    its answer is its prior. Only left/right symmetric patterns, so no side is favoured.
    """
    ramp = (np.arange(_INPUT, dtype=np.float32) + 0.5) / _INPUT
    ys, xs = np.meshgrid(ramp, ramp, indexing="ij")
    radial = np.sqrt((xs - 0.5) ** 2 + (ys - 0.5) ** 2) / np.sqrt(0.5)
    planes = [np.full((_INPUT, _INPUT), v, dtype=np.float32) for v in (0.0, 0.25, 0.5, 0.75, 1.0)]
    planes += [ys, 1.0 - ys, radial, 1.0 - radial]
    return np.stack([np.repeat(p[..., None], 3, axis=2) for p in planes]).astype(np.float32)


def to_model_frame(points: np.ndarray) -> np.ndarray:
    """Similarity-normalise (N >= 468, 3) points: eye midpoint at the origin, eyes level, IOD = 1."""
    right = 0.5 * (points[RIGHT_EYE_OUTER] + points[RIGHT_EYE_INNER])
    left = 0.5 * (points[LEFT_EYE_OUTER] + points[LEFT_EYE_INNER])
    d = left - right
    iod = float(np.linalg.norm(d[:2]))
    angle = np.arctan2(d[1], d[0])
    c, s = np.cos(angle), np.sin(angle)
    unrotate = np.array([[c, s, 0.0], [-s, c, 0.0], [0.0, 0.0, 1.0]])
    return (points - 0.5 * (right + left)) @ unrotate.T / iod


def normalise(shapes: np.ndarray) -> np.ndarray:
    """Mean of (N, 468, 3) model outputs, each brought to the model frame first."""
    return np.mean([to_model_frame(s.astype(np.float64)) for s in shapes], axis=0)


def _rigid(source: np.ndarray, target: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Least-squares rotation and translation taking (N, 3) source onto target."""
    cs, ct = source.mean(axis=0), target.mean(axis=0)
    u, _, vt = np.linalg.svd((source - cs).T @ (target - ct))
    fix = np.diag([1.0, 1.0, np.sign(np.linalg.det(u @ vt))])
    rotation = (u @ fix @ vt).T
    return rotation, ct - cs @ rotation.T


def mirror_pairs(shape: np.ndarray) -> np.ndarray:
    """The left/right correspondence of a (468, 3) roughly symmetric face.

    Mirror the face (x -> -x), align the mirror rigidly to the face by ICP on nearest neighbours,
    then solve a one-to-one assignment on the distances, which makes the map its own inverse.

    Returns:
        (468,) int: pairs[i] is the mirror partner of point i (i itself on the midline).
    """
    mirrored = shape * np.array([-1.0, 1.0, 1.0])
    moved = mirrored
    for _ in range(_ICP_ROUNDS):
        distances = np.linalg.norm(moved[:, None] - shape[None], axis=-1)
        rotation, shift = _rigid(mirrored, shape[distances.argmin(axis=1)])
        moved = mirrored @ rotation.T + shift
    distances = np.linalg.norm(moved[:, None] - shape[None], axis=-1)
    _, pairs = linear_sum_assignment(distances)
    if not np.array_equal(pairs[pairs], np.arange(len(shape))):
        raise RuntimeError("the landmark prior's mirror correspondence is not symmetric")
    return pairs


def symmetrise(shape: np.ndarray, pairs: np.ndarray) -> np.ndarray:
    """Average a (468, 3) model-frame face with its mirror image (x -> -x, partners swapped)."""
    mirrored = shape[pairs] * np.array([-1.0, 1.0, 1.0])
    return to_model_frame(0.5 * (shape + mirrored))


def place_irises(mesh: np.ndarray) -> np.ndarray:
    """Extend a (468, 3) model-frame mesh with the 10 iris points of a straight-ahead gaze -> (478, 3)."""
    full = np.zeros((LANDMARK_COUNT, 3))
    full[:MESH_POINTS] = mesh
    for loop, iris, medial in ((RIGHT_EYE, RIGHT_IRIS, 1.0), (LEFT_EYE, LEFT_IRIS, -1.0)):
        centre = mesh[list(loop)].mean(axis=0)
        ring = np.array([[0, 0, 0], [medial, 0, 0], [0, -1, 0], [-medial, 0, 0], [0, 1, 0]], dtype=float)
        full[list(iris)] = centre + IRIS_RADIUS * ring
    return full

"""How deep the tracker's faces are: one scale on the landmark model's z per face and shot.

The 468-point model infers depth from a single view, relative to the face's size, and on some faces
it reads shallower or deeper than x and y say. A wrong depth turns head rotation into shape change:
an identity fitted where the head is turned one way differs from one fitted where it is turned the
other (on `talking/`, tpsmm_driving's two halves, about 8 degrees apart in yaw, gave identities 2.6%
of the inter-ocular distance apart). Depth only shows through rotation, so the scale is chosen per
shot from frames spread over all of it: the candidate under which the face's rigid points move most
rigidly (the least spread about their mean shape after a similarity alignment of every frame).

It leaves 1 unless the evidence is clear: the head must turn through at least `MIN_TURN_DEG` in yaw
or pitch (5th to 95th percentile over the frames), and the best spread must be `MARGIN` smaller than
at 1. Without rotation, tracker noise decides, and as it grows with z it favours shallow scales: a
still MEAD neutral take (pitch 4 degrees, yaw 1) "improved" by 9% at 0.8, and its eyes then read as
held wide open. Measured on the 14 talking clips and 15 MEAD takes (60 frames each), only
tpsmm_driving moves (turning 15 degrees in pitch and 13 in yaw, 5.7% less spread at 1.2); no margin
would move ten talking clips on spreads a few percent apart.
"""

from __future__ import annotations

import numpy as np

from ned_models.face_model.identity import even_sample
from ned_models.face_model.morphable import FaceModel
from ned_models.face_model.pose import euler_angles, fit_similarity
from ned_models.landmarks import MESH_POINTS

__all__ = ["DEPTH_SCALES", "MARGIN", "MIN_TURN_DEG", "estimate_depth_scale", "rigid_spread", "head_turn"]

DEPTH_SCALES = (0.8, 0.9, 1.0, 1.1, 1.2, 1.3, 1.4, 1.5)
MARGIN = 0.05
MIN_TURN_DEG = 10.0
_FRAMES = 60  # frames (evenly sampled) the spreads are measured on
_ROUNDS = 3  # alternations of alignment and mean shape


def rigid_spread(model: FaceModel, points: np.ndarray, depth_scale: float) -> float:
    """How far the rigid points stray from rigid motion with z scaled by `depth_scale`.

    Args:
        points: (F, 478, 3) display-pixel landmarks of one face.

    Returns:
        The median over frames of the rigid-weighted RMS distance (IOD units) between each frame's
        points, aligned by a similarity, and the frames' mean shape.
    """
    mesh = slice(0, MESH_POINTS)
    weights = model.rigid_weights[mesh]
    frames = points[:, mesh] * np.array([1.0, 1.0, depth_scale])
    mean = model.template[mesh]
    for _ in range(_ROUNDS):
        aligned = np.stack([fit_similarity(mean, frame, weights).invert(frame) for frame in frames])
        mean = aligned.mean(axis=0)
    rms = np.sqrt((weights * ((aligned - mean) ** 2).sum(axis=-1)).sum(axis=1) / weights.sum())
    return float(np.median(rms))


def head_turn(model: FaceModel, points: np.ndarray) -> float:
    """How far the head turns over the frames: the larger of its yaw and pitch ranges (5th to 95th
    percentile, degrees) from a similarity fit of the template's rigid points to each frame."""
    mesh = slice(0, MESH_POINTS)
    weights = model.rigid_weights[mesh]
    angles = np.degrees([euler_angles(fit_similarity(model.template[mesh], frame[mesh], weights).rotation)
                         for frame in points])
    spans = np.percentile(angles, 95, axis=0) - np.percentile(angles, 5, axis=0)
    return float(max(spans[0], spans[1]))


def estimate_depth_scale(model: FaceModel, points: np.ndarray) -> float:
    """The factor to multiply the tracker's z by for one face through a shot (1 without clear evidence).

    Args:
        points: (F, 478, 3) display-pixel landmarks of the face, F >= 1, in shot order.
    """
    sample = points[even_sample(len(points), _FRAMES)]
    if head_turn(model, sample) < MIN_TURN_DEG:
        return 1.0
    spreads = np.array([rigid_spread(model, sample, scale) for scale in DEPTH_SCALES])
    best = int(np.argmin(spreads))
    return DEPTH_SCALES[best] if spreads[best] < (1.0 - MARGIN) * spreads[DEPTH_SCALES.index(1.0)] else 1.0

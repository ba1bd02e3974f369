"""From model parameters back to image points, and the speech channels read in the model frame."""

from __future__ import annotations

import numpy as np

from ned_models.face_model.fit import apply_gaze
from ned_models.face_model.morphable import FaceModel
from ned_models.landmarks import CHIN

__all__ = ["project_frames", "to_model_frame", "inner_lip_aperture", "jaw_opening", "APERTURE_PAIRS"]

# Inner-lip point pairs (upper, lower) across the middle of the mouth: right, centre, left.
APERTURE_PAIRS = ((82, 87), (13, 14), (312, 317))


def project_frames(model: FaceModel, identity: np.ndarray, rotation: np.ndarray, translation: np.ndarray,
                   scale: np.ndarray, expression: np.ndarray, residual: np.ndarray | None = None,
                   residual_basis: np.ndarray | None = None, gaze: np.ndarray | None = None,
                   pixel_aspect: float = 1.0) -> np.ndarray:
    """Image points of the model for T frames.

    Args:
        model: the shared face model.
        identity: (478, 3) the face's neutral shape (model frame).
        rotation: (T, 3, 3); translation: (T, 3) display pixels; scale: (T,) display px per IOD.
        expression: (T, K) action-unit coefficients.
        residual: (T, R) with residual_basis (R, 478, 3), or None.
        gaze: (T, 2, 2) iris offsets (model frame), or None for a straight gaze.
        pixel_aspect: width / height of a frame pixel.

    Returns:
        (T, 478, 3) float64: x, y in frame pixels, z in display pixels.
    """
    shape = model.shape(identity, expression, residual, residual_basis)
    if gaze is not None:
        shape = apply_gaze(shape, gaze)
    points = scale[:, None, None] * np.einsum("tij,tpj->tpi", rotation, shape) + translation[:, None, :]
    points[..., 0] /= pixel_aspect
    return points


def to_model_frame(points: np.ndarray, rotation: np.ndarray, translation: np.ndarray, scale: np.ndarray,
                   pixel_aspect: float = 1.0) -> np.ndarray:
    """(T, 478, 3) frame-pixel landmarks -> model frame, undoing each frame's pose."""
    display = np.array(points, dtype=np.float64, copy=True)
    display[..., 0] *= pixel_aspect
    return np.einsum("tpi,tij->tpj", display - translation[:, None, :], rotation) / scale[:, None, None]


def inner_lip_aperture(model_points: np.ndarray) -> np.ndarray:
    """(..., 478, 3) model-frame points -> (...,) mean vertical inner-lip gap in IOD units.

    Negative when the lips press past each other (the landmark model allows it slightly).
    """
    gaps = [model_points[..., lower, 1] - model_points[..., upper, 1] for upper, lower in APERTURE_PAIRS]
    return np.mean(gaps, axis=0)


def jaw_opening(model_points: np.ndarray, identity: np.ndarray) -> np.ndarray:
    """(..., 478, 3) model-frame points -> (...,) how far the chin is below the neutral chin (IOD)."""
    return model_points[..., CHIN, 1] - identity[CHIN, 1]

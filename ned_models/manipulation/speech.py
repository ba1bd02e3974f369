"""Speech preservation: the edited face opens its lips exactly as the actor did for the words.

Emotion units move the lips (a pressed mouth for anger, a raised upper lip for disgust), which
would change the inner-lip aperture and so the visible speech. After the expression edit, each
upper/lower pair of inner-lip points gets back the source's opening vector. The lip the edit moved
is the one moved back (shared in proportion to how far each lip of the pair moved), so a raised
upper lip comes back down instead of dragging the lower lip up with it. Each correction is spread
smoothly over the lip it belongs to (upper over the upper lip, lower over the lower lip, fading
with distance from the mouth line), so lips keep their shape and nothing kinks.
"""

from __future__ import annotations

import numpy as np

from ned_models.face_model.morphable import FaceModel
from ned_models.face_model.regions import region_weights

__all__ = ["INNER_LIP_PAIRS", "inner_lip_aperture", "restore_speech"]

# (upper, lower) inner-lip points facing each other, from the right mouth corner to the left.
INNER_LIP_PAIRS = np.array([(191, 95), (80, 88), (81, 178), (82, 87), (13, 14), (312, 317), (311, 402),
                            (310, 318), (415, 324)])
_SPREAD = 0.12  # IOD: how far from the mouth line a lip correction is felt
_CORNER_FADE = 0.06  # IOD beyond the outermost pair over which corrections fade out


def inner_lip_aperture(shape: np.ndarray) -> np.ndarray:
    """Mean vertical gap of the inner-lip pairs (model frame, IOD units); shape (..., 478, 3)."""
    return (shape[..., INNER_LIP_PAIRS[:, 1], 1] - shape[..., INNER_LIP_PAIRS[:, 0], 1]).mean(axis=-1)


_WEIGHTS: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}  # by model fingerprint


def _spread_weights(model: FaceModel) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per point: weight of the upper-lip and of the lower-lip correction, and the x positions of
    the pairs, at which the corrections are known (read at each point's x by interpolation)."""
    if model.fingerprint not in _WEIGHTS:
        _WEIGHTS[model.fingerprint] = _compute_spread_weights(model)
    return _WEIGHTS[model.fingerprint]


def _compute_spread_weights(model: FaceModel) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    template = model.template
    regions = region_weights(template, model.pairs)
    node_x = template[INNER_LIP_PAIRS, 0].mean(axis=1)
    mouth_y = template[INNER_LIP_PAIRS, 1].mean(axis=1)
    x, y = template[:, 0], template[:, 1]
    beyond = np.clip(np.maximum(node_x[0] - x, x - node_x[-1]), 0.0, None)
    near = np.exp(-(((y - np.interp(x, node_x, mouth_y)) / _SPREAD) ** 2)) * np.clip(1 - beyond / _CORNER_FADE, 0, 1)
    return regions["upper_mouth"] * near, regions["lower_mouth"] * near, node_x


def restore_speech(model: FaceModel, source: np.ndarray, edited: np.ndarray, mouth_preservation: float) -> np.ndarray:
    """Give `edited` the inner-lip opening of `source`, to the degree `mouth_preservation` asks.

    Args:
        model: the face model (its template sets where the lips are).
        source: (478, 3) model-frame shape of the actor's face at this frame.
        edited: (478, 3) model-frame shape after the expression edit.
        mouth_preservation: 1 = the source's opening exactly, 0 = leave `edited` alone.

    Returns:
        (478, 3) corrected model-frame shape.
    """
    if mouth_preservation <= 0.0:
        return edited
    upper, lower = INNER_LIP_PAIRS[:, 0], INNER_LIP_PAIRS[:, 1]
    gap_edit = edited[lower] - edited[upper]
    gap_want = mouth_preservation * (source[lower] - source[upper]) + (1 - mouth_preservation) * gap_edit
    excess = gap_edit - gap_want  # (P, 3): what the edit added to each opening
    moved_up = np.linalg.norm(edited[upper] - source[upper], axis=1)
    moved_low = np.linalg.norm(edited[lower] - source[lower], axis=1)
    share_up = np.where(moved_up + moved_low > 1e-9, moved_up / np.maximum(moved_up + moved_low, 1e-9), 0.5)
    fix_up = share_up[:, None] * excess  # upper lip moves by +fix_up, lower by -fix_low
    fix_low = (1.0 - share_up)[:, None] * excess
    w_up, w_low, node_x = _spread_weights(model)
    x = model.template[:, 0]
    out = edited + w_up[:, None] * _along_mouth(x, node_x, fix_up) - w_low[:, None] * _along_mouth(x, node_x, fix_low)
    out[upper] = edited[upper] + fix_up  # the pairs themselves: exact
    out[lower] = edited[lower] - fix_low
    return out


def _along_mouth(x: np.ndarray, node_x: np.ndarray, values: np.ndarray) -> np.ndarray:
    """(P, 3) corrections known at the pairs' x positions, read at every point's x -> (478, 3)."""
    return np.stack([np.interp(x, node_x, values[:, c]) for c in range(3)], axis=1)

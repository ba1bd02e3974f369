"""Speech preservation: the edited face opens its lips exactly as the actor did for the words.

Emotion units move the lips (a pressed mouth for anger, a raised upper lip for disgust), which
would change the inner-lip aperture and so the visible speech. After the expression edit, each
upper/lower pair of inner-lip points gets back the source's opening vector. The lip the edit moved
is the one moved back (shared in proportion to how far each lip of the pair moved), so a raised
upper lip comes back down instead of dragging the lower lip up with it. Each correction is spread
smoothly over the lip it belongs to (upper over the upper lip, lower over the lower lip, fading
with distance from the mouth line), so lips keep their shape and nothing kinks.

The opening also keeps most of its width while the mouth is open (`keep_opening_width`): a warp
can only squeeze the teeth between the lips, never hide them behind the lips as a real pucker does,
so an edit that narrows an open mouth by a third (surprise's rounded lips, more on a face that was
smiling broadly) shows narrow, squeezed teeth. No opening gets narrower than `OPENING_WIDTH_FLOOR`
of the source's; the lips' other changes stay. Measured on the 14 talking clips (surprise, which
narrowed the opening to 0.64-0.69 of its width at the median): P(surprise) rose >= 0.15 on 13 clips
with the floor as without (median +0.26, was +0.29), aperture r >= 0.95 on 11 (was 10); a floor of
0.8 cut the gain (10 clips).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ned_models.face_model.morphable import FaceModel
from ned_models.face_model.regions import region_weights, smoothstep
from ned_models.landmarks import (
    INNER_MOUTH_LEFT_CORNER,
    INNER_MOUTH_RIGHT_CORNER,
    MESH_POINTS,
    MOUTH_LEFT_CORNER,
    MOUTH_RIGHT_CORNER,
)

__all__ = ["INNER_LIP_PAIRS", "inner_lip_aperture", "restore_speech", "keep_opening_width", "OPENING_WIDTH_FLOOR"]

# (upper, lower) inner-lip points facing each other, from the right mouth corner to the left.
INNER_LIP_PAIRS = np.array([(191, 95), (80, 88), (81, 178), (82, 87), (13, 14), (312, 317), (311, 402),
                            (310, 318), (415, 324)])
_SPREAD = 0.12  # IOD: how far from the mouth line a lip correction is felt
_CORNER_FADE = 0.06  # IOD beyond the outermost pair over which corrections fade out
OPENING_WIDTH_FLOOR = 0.7  # an open mouth's opening keeps at least this share of its width
_OPEN_FULL = 0.08  # IOD: the source's aperture from which the floor holds fully (closed lips: not at all)
_WIDTH_SPREAD_Y = 0.15  # IOD above and below the mouth line over which the width guard fades
_WIDTH_FADE_X = 0.15  # IOD beyond the outer lip corners over which it fades


def inner_lip_aperture(shape: np.ndarray) -> np.ndarray:
    """Mean vertical gap of the inner-lip pairs (model frame, IOD units); shape (..., 478, 3)."""
    return (shape[..., INNER_LIP_PAIRS[:, 1], 1] - shape[..., INNER_LIP_PAIRS[:, 0], 1]).mean(axis=-1)


@dataclass(frozen=True)
class _LipWeights:
    """Per point of one face model: how the lip corrections spread (see `_lip_weights`).

    Attributes:
        upper, lower: (478,) weights of the upper-lip and of the lower-lip opening correction.
        node_x: (P,) x of the inner-lip pairs, where those corrections are known (read at each
            point's x by interpolation).
        width: (478,) 1 on the lips, fading into the cheeks and chin: where the width guard acts.
    """

    upper: np.ndarray
    lower: np.ndarray
    node_x: np.ndarray
    width: np.ndarray


_WEIGHTS: dict[str, _LipWeights] = {}  # by model fingerprint


def _lip_weights(model: FaceModel) -> _LipWeights:
    if model.fingerprint not in _WEIGHTS:
        _WEIGHTS[model.fingerprint] = _compute_lip_weights(model)
    return _WEIGHTS[model.fingerprint]


def _compute_lip_weights(model: FaceModel) -> _LipWeights:
    template = model.template
    regions = region_weights(template, model.pairs)
    node_x = template[INNER_LIP_PAIRS, 0].mean(axis=1)
    x = template[:, 0]
    from_line = template[:, 1] - np.interp(x, node_x, template[INNER_LIP_PAIRS, 1].mean(axis=1))
    beyond_pairs = np.clip(np.maximum(node_x[0] - x, x - node_x[-1]), 0.0, None)
    near = np.exp(-((from_line / _SPREAD) ** 2)) * np.clip(1 - beyond_pairs / _CORNER_FADE, 0, 1)
    beyond_corners = np.clip(np.maximum(template[MOUTH_RIGHT_CORNER, 0] - x, x - template[MOUTH_LEFT_CORNER, 0]),
                             0.0, None)
    width = np.exp(-((from_line / _WIDTH_SPREAD_Y) ** 4)) * smoothstep(1.0 - 2.0 * beyond_corners / _WIDTH_FADE_X)
    width[MESH_POINTS:] = 0.0
    return _LipWeights(upper=regions["upper_mouth"] * near, lower=regions["lower_mouth"] * near, node_x=node_x,
                       width=width)


def restore_speech(model: FaceModel, source: np.ndarray, edited: np.ndarray, mouth_preservation: float) -> np.ndarray:
    """Give `edited` the inner-lip opening of `source` (its height, and most of its width: see
    `keep_opening_width`), to the degree `mouth_preservation` asks.

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
    weights = _lip_weights(model)
    x = model.template[:, 0]
    out = (edited + weights.upper[:, None] * _along_mouth(x, weights.node_x, fix_up)
           - weights.lower[:, None] * _along_mouth(x, weights.node_x, fix_low))
    out[upper] = edited[upper] + fix_up  # the pairs themselves: exact
    out[lower] = edited[lower] - fix_low
    return keep_opening_width(model, source, out, mouth_preservation)


def _along_mouth(x: np.ndarray, node_x: np.ndarray, values: np.ndarray) -> np.ndarray:
    """(P, 3) corrections known at the pairs' x positions, read at every point's x -> (478, 3)."""
    return np.stack([np.interp(x, node_x, values[:, c]) for c in range(3)], axis=1)


def keep_opening_width(model: FaceModel, source: np.ndarray, edited: np.ndarray, mouth_preservation: float,
                       floor: float = OPENING_WIDTH_FLOOR) -> np.ndarray:
    """Undo as much of the edit's horizontal motion of the lips as keeps an open mouth's opening at
    least `floor` of the source's width (to the degree `mouth_preservation` and the opening ask).

    Args and returns as `restore_speech`; the inner mouth corners measure the width.
    """
    width_source = source[INNER_MOUTH_LEFT_CORNER, 0] - source[INNER_MOUTH_RIGHT_CORNER, 0]
    width_edit = edited[INNER_MOUTH_LEFT_CORNER, 0] - edited[INNER_MOUTH_RIGHT_CORNER, 0]
    narrowing = width_source - width_edit
    allowed = (1.0 - floor) * width_source
    if narrowing <= allowed or narrowing <= 0.0:
        return edited
    openness = np.clip(inner_lip_aperture(source) / _OPEN_FULL, 0.0, 1.0)
    cut = mouth_preservation * openness * (1.0 - allowed / narrowing)  # share of the edit's x motion undone
    out = edited.copy()
    out[:, 0] = edited[:, 0] - cut * _lip_weights(model).width * (edited[:, 0] - source[:, 0])
    return out

"""The soft face mask: forehead to chin, pulled in from the silhouette, feathered inwards.

The outline is the mesh's silhouette. Its top runs along the hairline (often into hair), so the
part above the brows is lowered towards the brows by `forehead`; then the whole outline is
pulled in by `inset` so no background or hair at the silhouette is touched, and the mask ramps from
0 to 1 over `feather` inwards (a smoothstep of the exact distance to the outline, which is convex:
monotone, flat at both ends). Lengths are fractions of the inter-ocular distance, so the mask is the same at any render
scale.
"""

from __future__ import annotations

import cv2
import numpy as np

from ned_models.landmarks import (
    LANDMARK_COUNT,
    LEFT_BROW,
    LEFT_EYE_INNER,
    LEFT_EYE_OUTER,
    MESH_POINTS,
    RIGHT_BROW,
    RIGHT_EYE_INNER,
    RIGHT_EYE_OUTER,
    inter_ocular_distance,
)

__all__ = ["DEFAULT_INSET", "DEFAULT_FOREHEAD", "mask_outline", "face_mask"]

DEFAULT_INSET = 0.05
DEFAULT_FOREHEAD = 0.7
# upper edge of each brow (the first half of the brow loops, see `landmarks`)
_BROW_TOPS = RIGHT_BROW[:5] + LEFT_BROW[:5]


def mask_outline(points: np.ndarray, forehead: float = DEFAULT_FOREHEAD) -> np.ndarray:
    """The outline of the face mask: the mesh's silhouette with its part above the brows pulled in.

    The silhouette is the convex hull of the 468 mesh points, not the face-oval landmarks: on a
    turned head the far side's oval lies inside the visible cheek. Above the brows the points are
    pulled towards the brows' centre, more the higher they are, so the top comes down to `forehead`
    of its height and the temples (often hair) come in.

    Args:
        points: (478, 2 or 3) landmarks in pixels.
        forehead: fraction of the brow-to-top height kept at the top (1 = the mesh as tracked).

    Returns:
        (K, 2) float64 convex polygon in pixels.
    """
    xy = np.asarray(points, dtype=np.float64)[:MESH_POINTS, :2]
    right = 0.5 * (xy[RIGHT_EYE_OUTER] + xy[RIGHT_EYE_INNER])
    left = 0.5 * (xy[LEFT_EYE_OUTER] + xy[LEFT_EYE_INNER])
    axis = (left - right) / max(np.linalg.norm(left - right), 1e-9)
    up = np.array([axis[1], -axis[0]])  # image y points down, so this is towards the forehead
    brow = xy[list(_BROW_TOPS)].mean(axis=0)
    height = np.maximum((xy - brow) @ up, 0.0)
    keep = 1.0 - (1.0 - forehead) * height / max(height.max(), 1e-9)
    pulled = brow + (xy - brow) * keep[:, None]
    return cv2.convexHull(pulled.astype(np.float32))[:, 0].astype(np.float64)


def face_mask(points: np.ndarray, size_hw: tuple[int, int], feather: float, *,
              inset: float = DEFAULT_INSET, forehead: float = DEFAULT_FOREHEAD,
              step: float = 1.0) -> np.ndarray:
    """The soft face mask sampled on a grid of nodes `step` pixels apart.

    Node (i, j) sits at pixel ((j + 0.5) * step, (i + 0.5) * step), so `step=1` gives one value per
    pixel of a (size_hw) image. The image border counts as the mask's edge too: a face cut by the
    border fades out before it, so a warp never pulls pixels across it.

    Args:
        points: (478, 2 or 3) landmarks in the same pixels as the grid.
        size_hw: (rows, columns) of the grid.
        feather: width of the 0 -> 1 ramp, fraction of the inter-ocular distance, > 0.
        inset: how far the mask's zero edge lies inside the outline, same unit, >= 0.
        forehead: see `mask_outline`.
        step: node spacing in pixels, > 0.

    Returns:
        (rows, columns) float32 in [0, 1]: 0 outside, 1 in the face centre.

    Raises:
        ValueError: malformed points or non-positive sizes.
    """
    pts = np.asarray(points, dtype=np.float64)
    if pts.ndim != 2 or pts.shape[0] != LANDMARK_COUNT or pts.shape[1] not in (2, 3):
        raise ValueError(f"points must be ({LANDMARK_COUNT}, 2 or 3), got {pts.shape}")
    if not (feather > 0 and inset >= 0 and step > 0 and 0 < forehead <= 1):
        raise ValueError(f"need feather > 0, inset >= 0, step > 0, 0 < forehead <= 1; got "
                         f"{feather}, {inset}, {step}, {forehead}")
    rows, cols = int(size_hw[0]), int(size_hw[1])
    if rows <= 0 or cols <= 0:
        raise ValueError(f"size_hw must be positive, got {size_hw}")
    iod = float(inter_ocular_distance(pts))
    if not np.isfinite(iod) or iod <= 0:
        raise ValueError("points have no inter-ocular distance (coincident or non-finite eyes)")
    distance = _inside_distance(mask_outline(pts, forehead), rows, cols, step)
    ramp = (distance - np.float32(inset * iod)) * np.float32(1.0 / (feather * iod))
    np.clip(ramp, 0.0, 1.0, out=ramp)
    alpha = ramp * ramp * (3.0 - 2.0 * ramp)
    return alpha.astype(np.float32, copy=False)


def _inside_distance(outline: np.ndarray, rows: int, cols: int, step: float) -> np.ndarray:
    """Distance (pixels) from each node to the nearest edge of a convex outline or of the image.

    Inside a convex polygon the distance to its boundary is the smallest distance to the lines of
    its edges, so it is exact and needs no rasterisation; outside, the value is <= 0.
    """
    x = ((np.arange(cols, dtype=np.float32) + 0.5) * np.float32(step))[None, :]
    y = ((np.arange(rows, dtype=np.float32) + 0.5) * np.float32(step))[:, None]
    width, height = np.float32(cols * step), np.float32(rows * step)
    distance = np.minimum(np.minimum(x, width - x), np.minimum(y, height - y))
    edges = np.roll(outline, -1, axis=0) - outline
    length = np.linalg.norm(edges, axis=1)
    keep = length > 1e-9
    normals = np.column_stack([-edges[keep, 1], edges[keep, 0]]) / length[keep, None]
    if normals.size and np.dot(normals[0], outline.mean(axis=0) - outline[keep][0]) < 0:
        normals = -normals  # point them inwards
    offsets = np.einsum("ij,ij->i", normals, outline[keep])
    for (nx, ny), c in zip(normals.astype(np.float32), offsets.astype(np.float32), strict=True):
        np.minimum(distance, nx * x + ny * y - c, out=distance)
    return distance

"""The dense backward warp: where each output pixel samples the source, and the resampling itself.

Design:

- The field is built on a coarse grid aligned to the frame (nodes `step` pixels apart, `step` a
  fixed fraction of the inter-ocular distance, so any render scale gives the same field): the
  control points' displacements (source minus target position) are interpolated linearly over the
  shot's fixed triangulation (`topology`), at the target geometry's positions, then smoothed by
  about one node except inside the rigid eye and mouth cores.
- The face mask multiplies the displacement, so the warp itself fades to zero inside the face
  outline: every output pixel is one resampled source pixel (never a cross-fade of two), hence no
  ghosting, doubled grain or seam, and the background and hair are untouched by construction.
- A fold guard keeps the Jacobian determinant of the mapping above `min_jacobian` at every grid
  node; the per-pixel field is the bilinear upsampling of the grid, whose determinant is bilinear
  in each cell, so it is then positive at every pixel: no folding, no tearing.
- Pixels whose displacement is below 1/32 pixel (OpenCV's own sub-pixel resolution) are copied,
  never resampled: they stay bit-exact, and so does everything outside the mask. The others are
  resampled bicubically in float32 with the detail the sub-pixel phase costs put back (`resample`).
"""

from __future__ import annotations

import cv2
import numpy as np
from scipy.ndimage import map_coordinates

from ned_models.landmarks import LANDMARK_COUNT, MESH_POINTS, inter_ocular_distance
from ned_models.render.field import WarpField, fill_holes, fold_guard
from ned_models.render.masks import DEFAULT_FOREHEAD, DEFAULT_INSET, face_mask, mask_outline
from ned_models.render.raster import interpolate_on_grid
from ned_models.render.resample import DETAIL_STRENGTH, resample
from ned_models.render.topology import (
    WarpTopology,
    control_points,
    rigid_row_displacements,
    signed_areas,
)

__all__ = ["WarpField", "dense_warp_field", "warp_image", "CELLS_PER_IOD", "STATIC_EPS"]

CELLS_PER_IOD = 40  # grid nodes per inter-ocular distance (about 6 px for a 1080p close-up)
STATIC_EPS = 1.0 / 32.0  # pixels; below OpenCV's remap sub-pixel resolution
_FOLDED_AREA = 0.05  # grid cells^2: a triangle turned over by more than this may leave a hole
_SMOOTHING_NODES = 1.0
_BAND_ROWS = 48  # resampling works in bands: temporaries stay in cache and are reused
_CUBIC_REACH = 2  # pixels a bicubic sample reads beyond its position


def dense_warp_field(src_points: np.ndarray, dst_points: np.ndarray, topology: WarpTopology,
                     bounds: tuple[int, int, int, int], *, feather: float,
                     inset: float = DEFAULT_INSET, forehead: float = DEFAULT_FOREHEAD,
                     cells_per_iod: float = CELLS_PER_IOD, min_jacobian: float = 0.2) -> WarpField:
    """The backward warp that moves the source face geometry onto the target geometry.

    Args:
        src_points: (478, 2 or 3) tracked landmarks, frame pixels at the render scale.
        dst_points: (478, 2 or 3) edited landmarks, same frame and scale.
        topology: the shot's triangulation (`build_topology`).
        bounds: (x, y, w, h) frame pixels the field may touch (the region the caller holds).
        feather, inset, forehead: the face mask (see `masks.face_mask`).
        cells_per_iod: grid density; nodes are round(iod / cells_per_iod) pixels apart (>= 1).
        min_jacobian: smallest allowed area ratio of the mapping, in (0, 1).

    Returns:
        The field; it is zero on the grid block's outer nodes and wherever the mask is zero.

    Raises:
        ValueError: malformed points, a topology of another layout, or a face outside `bounds`.
    """
    src, dst = _checked_points(src_points, "src_points"), _checked_points(dst_points, "dst_points")
    if topology.point_count != len(control_points(src)):
        raise ValueError("topology was built for another control-point layout")
    if not 0.0 < min_jacobian < 1.0:
        raise ValueError(f"min_jacobian must be in (0, 1), got {min_jacobian}")
    iod = float(inter_ocular_distance(src))
    if not iod > 0:
        raise ValueError("src_points have coincident eye centres")
    step = max(1, int(round(iod / cells_per_iod)))
    first, shape = _grid_block(mask_outline(src, forehead), bounds, step)
    origin = np.array(first, dtype=np.float64) * step
    mask = face_mask(src - np.r_[origin, 0.0][:src.shape[1]], shape, feather, inset=inset,
                     forehead=forehead, step=step)
    mask[[0, -1], :] = 0.0
    mask[:, [0, -1]] = 0.0

    d_mesh = src[:MESH_POINTS, :2] - dst[:MESH_POINTS, :2]
    ctrl = control_points(dst)
    nodes = (ctrl - origin) / step - 0.5
    rows = rigid_row_displacements(d_mesh, dst[:MESH_POINTS, :2])
    values = np.zeros((len(ctrl), 3))  # dx, dy, and 1 on the rigid rows (see below)
    values[:MESH_POINTS, :2] = d_mesh
    values[MESH_POINTS:MESH_POINTS + len(rows), :2] = rows
    values[MESH_POINTS:MESH_POINTS + len(rows), 2] = 1.0
    # points on or outside the mask's edge (the silhouette, the hairline) keep still, so the field
    # fades over whatever room the face leaves there: wide on a frontal cheek, narrow on the far
    # side of a turned head; the mask then only trims what is left
    values[:, :2] *= map_coordinates(mask, nodes[:, ::-1].T, order=1, mode="constant", cval=0.0)[:, None]
    interpolated, _ = interpolate_on_grid(nodes, topology.triangles, values, shape)
    if np.any(signed_areas(nodes, topology.triangles) < -_FOLDED_AREA):
        # tracking folded the mesh: the triangles overlap somewhere and leave holes elsewhere
        _, covered = interpolate_on_grid(nodes, topology.triangles, values, shape, skip_zero=False)
        interpolated = fill_holes(interpolated, ~covered & (mask > 0))
    field = _smoothed_outside_cores(interpolated[..., :2], interpolated[..., 2])
    field *= mask[..., None]
    field = fold_guard(field, step, min_jacobian)
    return WarpField(displacement=field, mask=mask, step=step, first_node=first)


def warp_image(region: np.ndarray, region_origin_xy: tuple[int, int], field: WarpField, *,
               detail: float = DETAIL_STRENGTH) -> tuple[np.ndarray, tuple[int, int, int, int], np.ndarray]:
    """Resample the region through the field; only the mask's support is returned.

    Args:
        region: (H, W, C) uint8/uint16/float32 image, top-down; C = 3 or 4 (alpha is carried
            through unchanged).
        region_origin_xy: frame pixel of the region's top-left corner.
        field: from `dense_warp_field`, built with `bounds` inside this region.
        detail: strength of the sub-pixel detail restoration (see `resample`; 0 = plain bicubic).

    Returns:
        patch: (h, w, C) same dtype; pixels that do not move are bit-exact copies of the region.
        placement: (x, y, w, h) frame pixels of the patch.
        alpha: (h, w) float32, the face mask at the patch pixels (0 means an exact copy).
    """
    rx, ry = int(region_origin_xy[0]), int(region_origin_xy[1])
    placement = _support_rect(field, (rx, ry, region.shape[1], region.shape[0]))
    x, y, w, h = placement
    patch = region[y - ry:y - ry + h, x - rx:x - rx + w].copy()
    alpha, moving = field.mask_and_motion(placement, STATIC_EPS)
    rows = np.flatnonzero(moving.any(axis=1))
    if len(rows) == 0:
        return patch, placement, alpha
    # the source pixels the samples can reach: the patch grown by the largest displacement
    reach = int(np.ceil(np.abs(field.displacement).max())) + _CUBIC_REACH + 1
    sx0, sy0 = max(x - reach - rx, 0), max(y - reach - ry, 0)
    sx1, sy1 = min(x + w + reach - rx, region.shape[1]), min(y + h + reach - ry, region.shape[0])
    source = region[sy0:sy1, sx0:sx1, :3].astype(np.float32)  # once, not per band
    # remap's sample index u is the centre of source pixel u: frame x = rx + sx0 + u + 0.5
    maps = field.positions(placement, (rx + sx0 + 0.5, ry + sy0 + 0.5))
    for top in range(rows[0], rows[-1] + 1, _BAND_ROWS):
        _warp_band(source, maps, moving, patch, top, min(top + _BAND_ROWS, rows[-1] + 1), detail)
    return patch, placement, alpha


def _warp_band(source: np.ndarray, maps: np.ndarray, moving: np.ndarray, patch: np.ndarray,
               top: int, bottom: int, detail: float) -> None:
    """Resample rows [top, bottom) of the patch where they move, in place."""
    cols = np.flatnonzero(moving[top:bottom].any(axis=0))
    if len(cols) == 0:
        return
    h, w = moving.shape
    # one halo pixel on each side, so the detail filter sees real neighbours
    r0, r1 = max(top - 1, 0), min(bottom + 1, h)
    c0, c1 = max(cols[0] - 1, 0), min(cols[-1] + 2, w)
    warped = resample(source, maps[r0:r1, c0:c1], detail=detail, dtype=patch.dtype)[top - r0:bottom - r0]
    view = patch[top:bottom, c0:c1]
    if patch.shape[2] == 4:  # the host's alpha belongs to the source, never resampled
        warped = cv2.merge([*cv2.split(warped), np.ascontiguousarray(view[..., 3])])
    # cv2.copyTo writes into the view in place, ~100x faster than a broadcast np.copyto
    cv2.copyTo(np.ascontiguousarray(warped), moving[top:bottom, c0:c1].view(np.uint8), view)


def _smoothed_outside_cores(field: np.ndarray, rigid: np.ndarray) -> np.ndarray:
    """Smooth the field by about one node, except inside the eyes' and mouth's rigid cores.

    Piecewise-linear interpolation has creases along the triangle edges; where the displacement
    changes fast between neighbouring landmarks (a lifted lip corner) they show as notches in
    contours. `rigid` is 1 between the rigid rows and falls to 0 at the lids and lips, so the
    irises and teeth keep their exact translation while everything else is smoothed.
    """
    smooth = cv2.GaussianBlur(field, (0, 0), _SMOOTHING_NODES)
    weight = np.clip(rigid, 0.0, 1.0)[..., None]
    return smooth + weight * (field - smooth)


def _checked_points(points: np.ndarray, name: str) -> np.ndarray:
    pts = np.asarray(points, dtype=np.float64)
    if pts.ndim != 2 or pts.shape[0] != LANDMARK_COUNT or pts.shape[1] not in (2, 3):
        raise ValueError(f"{name} must be ({LANDMARK_COUNT}, 2 or 3), got {pts.shape}")
    if not np.all(np.isfinite(pts[:, :2])):
        raise ValueError(f"{name} contain non-finite coordinates")
    return pts


def _grid_block(outline: np.ndarray, bounds: tuple[int, int, int, int],
                step: int) -> tuple[tuple[int, int], tuple[int, int]]:
    """The frame-aligned grid nodes whose cells lie inside `bounds` and cover the outline (+1 cell)."""
    bx, by, bw, bh = bounds
    lo = np.floor(outline.min(axis=0) / step).astype(int) - 1
    hi = np.ceil(outline.max(axis=0) / step).astype(int) + 1
    k0, l0 = max(lo[0], -(-bx // step)), max(lo[1], -(-by // step))
    k1, l1 = min(hi[0], (bx + bw) // step), min(hi[1], (by + bh) // step)
    if k1 - k0 < 3 or l1 - l0 < 3:
        raise ValueError(f"the face (outline {outline.min(axis=0)} to {outline.max(axis=0)}) is not "
                         f"inside the region {bounds}")
    return (int(k0), int(l0)), (int(l1 - l0), int(k1 - k0))


def _support_rect(field: WarpField, region_rect: tuple[int, int, int, int]) -> tuple[int, int, int, int]:
    """Frame rectangle of the cells around nodes with a non-zero mask, inside the region."""
    rows, cols = np.nonzero(field.mask > 0)
    s, (k, l) = field.step, field.first_node
    if len(rows) == 0:
        x, y = (k + 1) * s, (l + 1) * s
        return x, y, 1, 1
    # a node's bilinear weight reaches into the cells on either side of it
    x0, y0 = (k + cols.min() - 1) * s, (l + rows.min() - 1) * s
    x1, y1 = (k + cols.max() + 2) * s, (l + rows.max() + 2) * s
    rx, ry, rw, rh = region_rect
    x0, y0, x1, y1 = max(x0, rx), max(y0, ry), min(x1, rx + rw), min(y1, ry + rh)
    return int(x0), int(y0), int(x1 - x0), int(y1 - y0)

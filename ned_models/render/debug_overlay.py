"""Debug view for editors: the tracked mesh, irises and head-pose axes drawn over a frame.

Draws in the image's own dtype (uint8, uint16 or float32; float values are not clamped; alpha is
set opaque where it draws). Work is limited to the face's bounding box, so it is cheap on 4K.
"""

from __future__ import annotations

import cv2
import numpy as np

from ned_models.analysis.results import FrameFaceState
from ned_models.face_model.pose import HeadPose
from ned_models.landmarks import (
    FACE_OVAL,
    LEFT_BROW,
    LEFT_EYE,
    LEFT_IRIS,
    LIPS_INNER,
    LIPS_OUTER,
    MESH_POINTS,
    RIGHT_BROW,
    RIGHT_EYE,
    RIGHT_IRIS,
)
from ned_models.render.patch import PatchResult

__all__ = ["draw_debug_overlay", "draw_tracking", "CONTOURS"]

CONTOURS = (FACE_OVAL, LIPS_OUTER, LIPS_INNER, RIGHT_EYE, LEFT_EYE, RIGHT_BROW, LEFT_BROW)
_MESH_RGB = (0.2, 1.0, 0.3)
_CONTOUR_RGB = (1.0, 0.9, 0.2)
_IRIS_RGB = (0.2, 0.6, 1.0)
_AXES_RGB = ((1.0, 0.2, 0.2), (0.2, 1.0, 0.2), (0.3, 0.5, 1.0))  # x, y, z
_SUBPIXEL = 4  # cv2 shift bits: draw at 1/16 px so thin lines do not wobble


def _colour(rgb: tuple[float, float, float], dtype: np.dtype, channels: int) -> tuple[float, ...]:
    peak = {np.dtype(np.uint8): 255.0, np.dtype(np.uint16): 65535.0}.get(np.dtype(dtype), 1.0)
    out = tuple(c * peak for c in rgb)
    return out + (peak,) if channels == 4 else out


def _fixed(points: np.ndarray, origin: np.ndarray) -> np.ndarray:
    """Frame pixels (corner origin) -> cv2 fixed-point pixel-centre coordinates inside the patch."""
    return np.round((points - origin - 0.5) * (1 << _SUBPIXEL)).astype(np.int32)


def draw_debug_overlay(region: np.ndarray, origin_xy: tuple[int, int], state: FrameFaceState,
                       render_scale: float = 1.0, thickness: int = 1) -> PatchResult:
    """The debug view of one face as a patch: the region with the face's tracking drawn on it.

    Args:
        region: (h, w, 3 or 4) uint8, uint16 or float32 RGB(A) pixels of the frame at render scale.
        origin_xy: full-frame pixel (x, y) of the region's top-left corner (at render scale).
        state: the face at this frame (analysis at render scale 1).
        render_scale: the host's render scale.
        thickness: line thickness in pixels.

    Returns:
        PatchResult covering the whole region; alpha is 1 where a pixel was drawn on, else 0
        (those pixels are bit-exact copies of the source).
    """
    landmarks = state.landmarks[:, :2] * render_scale
    axes = _axes_points(state.pose, state.pixel_aspect) * render_scale
    patch = draw_tracking(region, landmarks, axes, origin_xy, thickness)
    alpha = np.any(patch != region, axis=2).astype(np.float32)
    h, w = region.shape[:2]
    return PatchResult(patch=patch, placement=(int(origin_xy[0]), int(origin_xy[1]), w, h), alpha=alpha)


def draw_tracking(image: np.ndarray, landmarks: np.ndarray, axes: np.ndarray | None = None,
                  origin_xy: tuple[int, int] = (0, 0), thickness: int = 1) -> np.ndarray:
    """Return a copy of `image` with mesh points, contours, irises and (optionally) pose axes drawn.

    Args:
        image: (h, w, 3 or 4) uint8, uint16 or float32 RGB(A); drawn in its own dtype.
        landmarks: (478, 2+) full-frame pixels.
        axes: (4, 2) full-frame pixels of the pose origin and its x, y, z tips, or None.
        origin_xy: full-frame pixel of the image's top-left corner.
        thickness: line thickness in pixels.
    """
    if image.ndim != 3 or image.shape[2] not in (3, 4):
        raise ValueError(f"expected an (H, W, 3 or 4) image, got shape {image.shape}")
    if image.dtype not in (np.uint8, np.uint16, np.float32):
        raise ValueError(f"unsupported image dtype {image.dtype}; expected uint8, uint16 or float32")
    if landmarks.ndim != 2 or landmarks.shape[0] < MESH_POINTS or landmarks.shape[1] < 2:
        raise ValueError(f"expected (478, 2+) landmarks, got shape {landmarks.shape}")
    origin = np.asarray(origin_xy, dtype=np.float64)
    pts = np.asarray(landmarks[:, :2], dtype=np.float64) - origin
    tips = np.zeros((0, 2)) if axes is None else np.asarray(axes, dtype=np.float64) - origin
    every = np.concatenate([pts, tips])
    size = max(float(np.ptp(pts[:, 0])), float(np.ptp(pts[:, 1])), 1.0)
    lo = np.maximum(np.floor(every.min(axis=0) - 0.1 * size), 0).astype(int)
    hi = np.minimum(np.ceil(every.max(axis=0) + 0.1 * size), (image.shape[1], image.shape[0])).astype(int)
    out = image.copy()
    if np.any(hi <= lo):
        return out
    patch = np.ascontiguousarray(out[lo[1]:hi[1], lo[0]:hi[0]])
    _draw(patch, pts, tips, lo.astype(np.float64), thickness)
    out[lo[1]:hi[1], lo[0]:hi[0]] = patch
    return out


def _axes_points(pose: HeadPose, pixel_aspect: float) -> np.ndarray:
    """Origin and the tips of the model's x, y, z axes (0.5 IOD long) in frame pixels: (4, 2)."""
    ends = pose.apply(np.array([[0, 0, 0], [0.5, 0, 0], [0, 0.5, 0], [0, 0, 0.5]], dtype=np.float64))
    return ends[:, :2] / np.array([pixel_aspect, 1.0])


def _draw(patch: np.ndarray, pts: np.ndarray, axes: np.ndarray, origin: np.ndarray, thickness: int) -> None:
    dtype, channels = patch.dtype, patch.shape[2]
    fixed = _fixed(pts, origin)
    for x, y in fixed[:MESH_POINTS]:
        cv2.circle(patch, (int(x), int(y)), 1 << _SUBPIXEL, _colour(_MESH_RGB, dtype, channels), -1,
                   cv2.LINE_AA, _SUBPIXEL)
    contours = [fixed[list(loop)].reshape(-1, 1, 2) for loop in CONTOURS]
    cv2.polylines(patch, contours, True, _colour(_CONTOUR_RGB, dtype, channels), thickness, cv2.LINE_AA,
                  _SUBPIXEL)
    for iris in (RIGHT_IRIS, LEFT_IRIS):
        ring = fixed[list(iris)]
        radius = int(np.mean(np.linalg.norm(ring[1:] - ring[0], axis=1)))
        cv2.circle(patch, (int(ring[0, 0]), int(ring[0, 1])), max(radius, 1 << _SUBPIXEL),
                   _colour(_IRIS_RGB, dtype, channels), thickness, cv2.LINE_AA, _SUBPIXEL)
    if len(axes):
        ends = _fixed(axes, origin)
        for tip, rgb in zip(ends[1:], _AXES_RGB, strict=True):
            cv2.line(patch, (int(ends[0, 0]), int(ends[0, 1])), (int(tip[0]), int(tip[1])),
                     _colour(rgb, dtype, channels), thickness + 1, cv2.LINE_AA, _SUBPIXEL)

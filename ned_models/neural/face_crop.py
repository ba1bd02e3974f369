"""The aligned face crop the neural renderer works in: where it is, cutting it out, pasting it back.

NED trains and renders in a 256x256 crop in which the face is centred with a margin, forehead to chin
(ned_facts §1.1-1.5). Ours is a similarity (plus the pixel aspect ratio) fitted to the 468 mesh
landmarks with the face model's rigidity weights, onto the face model's neutral template laid out
in the crop: points that move with expression (lips, jaw, lids) barely pull on it, so the crop
follows the head, not the mouth, and is as stable over time as the landmarks it is fitted to.

Layout at 256 (`CropLayout`): the inter-ocular distance is 0.29 of the side (74 px), and the crop
centre sits 0.42 IOD below the eye midpoint, half way between the template's forehead top and chin,
so the neutral face spans about 41..215 px vertically and 51..205 px horizontally.

Conventions (`ned_models.conventions`): pixel centres at +0.5, transforms 3x3 destination_from_source.
Cutting converts the host's values to float32 [0, 1] RGB (the network's range) at this edge only.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from ned_models.conventions import as_float_image
from ned_models.face_model.morphable import FaceModel, load_face_model
from ned_models.landmarks import LANDMARK_COUNT, MESH_POINTS

__all__ = [
    "CropLayout",
    "crop_transform",
    "transform_points",
    "transform_scale",
    "cut_crop",
    "cut_crop_values",
    "paste_crop",
    "translation",
]

_ANTIALIAS = 0.5  # Gaussian sigma (output pixels) a downscaling cut is pre-blurred to


@dataclass(frozen=True)
class CropLayout:
    """Where the face sits in the crop.

    Attributes:
        size: side of the square crop in pixels (a multiple of 8 for the generator).
        iod_fraction: inter-ocular distance as a fraction of `size`.
        centre_y: model-frame y (IOD units, down from the eye midpoint) placed at the crop centre.
    """

    size: int = 256
    iod_fraction: float = 0.29
    centre_y: float = 0.42

    def __post_init__(self) -> None:
        if self.size < 16 or self.size % 8:
            raise ValueError(f"crop size must be a multiple of 8 and >= 16, got {self.size}")
        if not 0.05 <= self.iod_fraction <= 0.6:
            raise ValueError(f"iod_fraction must be within 0.05..0.6, got {self.iod_fraction}")

    @property
    def size_hw(self) -> tuple[int, int]:
        return (self.size, self.size)

    def template_points(self, template: np.ndarray) -> np.ndarray:
        """(N, 2) crop pixels of model-frame points laid out as the neutral face is."""
        iod = self.iod_fraction * self.size
        centre = np.array([0.5 * self.size, 0.5 * self.size - self.centre_y * iod])
        return template[:, :2] * iod + centre


def translation(dx: float, dy: float) -> np.ndarray:
    """3x3 homogeneous translation."""
    return np.array([[1.0, 0.0, dx], [0.0, 1.0, dy], [0.0, 0.0, 1.0]])


def _similarity_2d(source: np.ndarray, target: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Weighted least-squares 2D similarity (Umeyama) taking `source` onto `target`, 3x3."""
    w = weights / weights.sum()
    mu_s, mu_t = w @ source, w @ target
    s0, t0 = source - mu_s, target - mu_t
    cov = (t0 * w[:, None]).T @ s0
    u, sv, vt = np.linalg.svd(cov)
    fix = np.array([1.0, np.sign(np.linalg.det(u @ vt)) or 1.0])
    rotation = (u * fix) @ vt
    scale = float((sv * fix).sum() / (w @ (s0**2).sum(axis=1)))
    out = np.eye(3)
    out[:2, :2] = scale * rotation
    out[:2, 2] = mu_t - scale * rotation @ mu_s
    return out


def crop_transform(landmarks: np.ndarray, pixel_aspect: float = 1.0, layout: CropLayout | None = None,
                   model: FaceModel | None = None) -> np.ndarray:
    """`crop_from_frame` for one face in one frame.

    Args:
        landmarks: (478, 2 or 3) frame pixels (smoothed landmarks give a steady crop).
        pixel_aspect: width / height of a frame pixel; the crop is square on screen.
        layout: the crop layout (default 256).
        model: the face model (template and rigidity weights); `load_face_model()` by default.

    Returns:
        (3, 3) float64 crop_from_frame.

    Raises:
        ValueError: malformed or non-finite landmarks, or a non-positive pixel aspect.
    """
    points = np.asarray(landmarks, dtype=np.float64)
    if points.ndim != 2 or points.shape[0] != LANDMARK_COUNT or points.shape[1] not in (2, 3):
        raise ValueError(f"landmarks must be ({LANDMARK_COUNT}, 2 or 3), got {points.shape}")
    if not np.all(np.isfinite(points[:MESH_POINTS, :2])):
        raise ValueError("landmarks contain non-finite coordinates")
    if not pixel_aspect > 0:
        raise ValueError(f"pixel_aspect must be > 0, got {pixel_aspect}")
    layout = layout or CropLayout()
    model = model or load_face_model()
    display_from_frame = np.diag([pixel_aspect, 1.0, 1.0])
    display = points[:MESH_POINTS, :2] * (pixel_aspect, 1.0)
    target = layout.template_points(model.template[:MESH_POINTS])
    crop_from_display = _similarity_2d(display, target, model.rigid_weights[:MESH_POINTS])
    return crop_from_display @ display_from_frame


def transform_scale(transform: np.ndarray) -> float:
    """Linear scale of a (near-)similarity: destination pixels per source pixel (geometric mean)."""
    return float(np.sqrt(abs(np.linalg.det(transform[:2, :2]))))


def transform_points(transform: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Map (N, 2 or 3) points through a 3x3 transform; z (if any) is scaled by its linear scale."""
    pts = np.asarray(points, dtype=np.float64)
    xy = pts[:, :2] @ transform[:2, :2].T + transform[:2, 2]
    if pts.shape[1] == 2:
        return xy
    return np.column_stack([xy, pts[:, 2] * transform_scale(transform)])


def _cv_matrix(destination_from_source: np.ndarray) -> np.ndarray:
    """The 2x3 matrix OpenCV wants: its pixel indices sit at our pixel centres (- 0.5)."""
    return (translation(-0.5, -0.5) @ destination_from_source @ translation(0.5, 0.5))[:2]


def cut_crop_values(frame: np.ndarray, crop_from_frame: np.ndarray, size: int) -> np.ndarray:
    """Resample the crop keeping the frame's dtype and values (RGB only; for storing crops).

    A crop that scales the face down is pre-blurred (antialiased), so it does not alias; pixels
    outside the frame replicate its border.

    Args:
        frame: (H, W, 3 or 4) uint8/uint16/float32.
        crop_from_frame: (3, 3).
        size: crop side in pixels.

    Returns:
        (size, size, 3) in the frame's dtype.
    """
    if frame.ndim != 3 or frame.shape[2] not in (3, 4):
        raise ValueError(f"frame must be (H, W, 3 or 4), got {frame.shape}")
    source = frame[..., :3]
    frame_from_crop = np.linalg.inv(crop_from_frame)
    corners = transform_points(frame_from_crop, np.array([[0, 0], [size, 0], [0, size], [size, size]], float))
    scale = transform_scale(crop_from_frame)
    margin = 4 + int(np.ceil(3 * _ANTIALIAS / max(scale, 1e-6)))
    x0, y0 = np.floor(corners.min(axis=0)).astype(int) - margin
    x1, y1 = np.ceil(corners.max(axis=0)).astype(int) + margin
    x0, y0 = max(x0, 0), max(y0, 0)
    x1, y1 = min(x1, frame.shape[1]), min(y1, frame.shape[0])
    if x1 <= x0 or y1 <= y0:
        raise ValueError("the crop lies entirely outside the frame")
    window = np.ascontiguousarray(source[y0:y1, x0:x1])
    if scale < 1.0:
        sigma = _ANTIALIAS * np.sqrt(1.0 / scale**2 - 1.0)
        window = cv2.GaussianBlur(window.astype(np.float32), (0, 0), sigma)
    matrix = _cv_matrix(crop_from_frame @ translation(x0, y0))
    warped = cv2.warpAffine(window.astype(np.float32, copy=False), matrix, (size, size), flags=cv2.INTER_CUBIC,
                            borderMode=cv2.BORDER_REPLICATE)
    if frame.dtype == np.float32:
        return warped
    top = float(np.iinfo(frame.dtype).max)
    return np.clip(np.rint(warped), 0.0, top).astype(frame.dtype)


def cut_crop(frame: np.ndarray, crop_from_frame: np.ndarray, size: int) -> np.ndarray:
    """The crop as the network sees it: (size, size, 3) float32 RGB in [0, 1] (float is clipped)."""
    values = as_float_image(cut_crop_values(frame, crop_from_frame, size))
    return np.clip(values, 0.0, 1.0)


def paste_crop(crop: np.ndarray, crop_from_region: np.ndarray, region_hw: tuple[int, int]) -> np.ndarray:
    """Resample a crop image back onto a frame region (Lanczos; outside the crop is 0).

    Args:
        crop: (S, S, C) float32 (C may be 1..4; a 2-D mask works too).
        crop_from_region: (3, 3) crop pixels from region pixels.
        region_hw: (rows, columns) of the region.

    Returns:
        (rows, columns[, C]) float32.
    """
    matrix = _cv_matrix(crop_from_region)
    return cv2.warpAffine(np.ascontiguousarray(crop, dtype=np.float32), matrix, (region_hw[1], region_hw[0]),
                          flags=cv2.INTER_LANCZOS4 | cv2.WARP_INVERSE_MAP, borderMode=cv2.BORDER_CONSTANT,
                          borderValue=0)

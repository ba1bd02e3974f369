"""Rotated square crops of a frame: the transforms the detector, landmarker and iris models share.

Convention: frame points are pixel (x, y), origin at the top-left pixel's corner (see
`ned_models.conventions`); transforms are 3x3 named destination_from_source. A non-square pixel
aspect ratio (`pixel_aspect` = pixel width / pixel height) is folded into the transforms, so a
"square" crop is square on screen and the models see undistorted faces.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from ned_models.conventions import as_float_image

__all__ = ["RotatedRect", "crop_from_frame", "warp_crop", "apply_transform", "rect_from_points",
           "cv2_affine"]


@dataclass(frozen=True)
class RotatedRect:
    """A square region of a frame in square (display) pixel units.

    Attributes:
        center: (x, y) in frame pixels.
        size: side length in display pixels (frame pixels times `pixel_aspect` horizontally).
        angle: rotation in radians of the region's x axis from the frame's x axis, clockwise on screen
            (y points down), so a head tilted to the image's right has a positive angle.
    """

    center: tuple[float, float]
    size: float
    angle: float


def crop_from_frame(rect: RotatedRect, crop_size: int, pixel_aspect: float = 1.0,
                    flip_x: bool = False) -> np.ndarray:
    """The (3, 3) transform from frame pixels to a `crop_size` square crop of `rect`.

    Args:
        rect: the region; its centre maps to the crop centre.
        crop_size: side of the crop in pixels.
        pixel_aspect: width / height of one frame pixel.
        flip_x: mirror the crop horizontally (the iris model wants left eyes mirrored).
    """
    if rect.size <= 0:
        raise ValueError(f"crop size must be positive, got {rect.size}")
    cx, cy = rect.center
    c, s = np.cos(rect.angle), np.sin(rect.angle)
    # square display pixels centred on the rect
    display_from_frame = np.array([[pixel_aspect, 0.0, -pixel_aspect * cx], [0.0, 1.0, -cy], [0, 0, 1]])
    # undo the rect's rotation (rotate by -angle)
    unrotate = np.array([[c, s, 0.0], [-s, c, 0.0], [0, 0, 1]])
    k = crop_size / rect.size
    sx = -k if flip_x else k
    to_crop = np.array([[sx, 0.0, crop_size / 2.0], [0.0, k, crop_size / 2.0], [0, 0, 1]])
    return to_crop @ unrotate @ display_from_frame


def cv2_affine(dst_from_src: np.ndarray) -> np.ndarray:
    """The (2, 3) matrix cv2.warpAffine needs for `dst_from_src` (cv2 puts pixel centres on integers)."""
    shift = np.array([[1.0, 0.0, 0.5], [0.0, 1.0, 0.5], [0, 0, 1]])
    unshift = np.array([[1.0, 0.0, -0.5], [0.0, 1.0, -0.5], [0, 0, 1]])
    return (unshift @ dst_from_src @ shift)[:2]


def warp_crop(frame: np.ndarray, transform: np.ndarray, crop_size: int) -> np.ndarray:
    """Sample a crop of an RGB(A) frame as float32 RGB on a 0..1 scale (clipped for the models).

    Args:
        frame: (H, W, 3 or 4) uint8, uint16 or float32.
        transform: (3, 3) crop_from_frame.
        crop_size: side of the square crop.

    Returns:
        (crop_size, crop_size, 3) float32 in [0, 1]; outside the frame is black (as the models saw
        in training: zero padding).
    """
    if frame.dtype not in (np.uint8, np.uint16, np.float32):
        raise ValueError(f"unsupported frame dtype {frame.dtype}; expected uint8, uint16 or float32")
    if frame.ndim != 3 or frame.shape[2] not in (3, 4):
        raise ValueError(f"expected an (H, W, 3 or 4) frame, got shape {frame.shape}")
    transform, frame = _prefilter(frame, transform, crop_size)
    # Warp in the native dtype and all channels (cv2 cannot take a strided RGB view of RGBA); only
    # the small crop is converted.
    crop = cv2.warpAffine(frame, cv2_affine(transform), (crop_size, crop_size), flags=cv2.INTER_LINEAR,
                          borderMode=cv2.BORDER_CONSTANT, borderValue=0)
    out = as_float_image(np.ascontiguousarray(crop[..., :3]))
    if frame.dtype == np.float32:
        out = np.clip(out, 0.0, 1.0)
    return out


def _prefilter(frame: np.ndarray, transform: np.ndarray, crop_size: int) -> tuple[np.ndarray, np.ndarray]:
    """Box-filter the region under a strongly shrinking crop by an integer factor, against aliasing.

    Bilinear sampling at 6x reduction (an 800-px face into 192 px) aliases, and aliasing turns
    sub-pixel head motion into landmark jitter. Area averaging by an integer factor is cheap in cv2.

    Returns:
        (transform, image): the crop_from_image transform for the returned (possibly smaller) image.
    """
    source_per_crop = 1.0 / np.sqrt(abs(np.linalg.det(transform[:2, :2])))
    factor = int(source_per_crop)
    if factor < 2:
        return transform, frame
    h, w = frame.shape[:2]
    corners = np.array([[0, 0], [crop_size, 0], [0, crop_size], [crop_size, crop_size]], dtype=np.float64)
    region = apply_transform(np.linalg.inv(transform), corners)
    x0, y0 = np.maximum(np.floor(region.min(axis=0)).astype(int) - factor, 0)
    x1, y1 = np.minimum(np.ceil(region.max(axis=0)).astype(int) + factor, (w, h))
    nx, ny = (x1 - x0) // factor, (y1 - y0) // factor
    if nx < 1 or ny < 1:
        return transform, frame
    sub = frame[y0:y0 + ny * factor, x0:x0 + nx * factor]
    small = cv2.resize(sub, (nx, ny), interpolation=cv2.INTER_AREA)
    # small pixel j covers source pixels [j*f, (j+1)*f): exact in the corner-origin convention
    frame_from_small = np.array([[factor, 0.0, x0], [0.0, factor, y0], [0, 0, 1]])
    return transform @ frame_from_small, small


def apply_transform(transform: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Map (..., 2) points (x, y) through a (3, 3) transform; extra columns (z) are not touched."""
    xy = points[..., :2] @ transform[:2, :2].T + transform[:2, 2]
    if points.shape[-1] == 2:
        return xy
    return np.concatenate([xy, points[..., 2:]], axis=-1)


def rect_from_points(points: np.ndarray, start: int, end: int, scale: float,
                     pixel_aspect: float = 1.0) -> RotatedRect:
    """A square region around `points`, rotated so the line points[start] -> points[end] is horizontal.

    The region is the points' bounding box in the rotated frame, made square on its long side and
    grown by `scale` (MediaPipe's landmarks-to-ROI rule; 1.5 for the face, 2.3 for an eye).

    Args:
        points: (N, 2+) frame pixels.
        start, end: indices of the two points defining the rotation (e.g. the eye corners).
        scale: growth factor of the long side.
        pixel_aspect: width / height of one frame pixel.
    """
    disp = np.asarray(points[:, :2], dtype=np.float64) * (pixel_aspect, 1.0)
    d = disp[end] - disp[start]
    angle = float(np.arctan2(d[1], d[0]))
    c, s = np.cos(angle), np.sin(angle)
    rot = np.array([[c, s], [-s, c]])  # frame -> rect axes
    local = disp @ rot.T
    lo, hi = local.min(axis=0), local.max(axis=0)
    mid_local = 0.5 * (lo + hi)
    mid = rot.T @ mid_local
    size = float(max(hi - lo)) * scale
    return RotatedRect(center=(float(mid[0] / pixel_aspect), float(mid[1])), size=size, angle=angle)

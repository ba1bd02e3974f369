"""Per-frame image measurements of the face region: where it is, how sharp, how much the edit changed.

The face region of a frame is the convex hull of the source's dlib jaw and brow points (0-26):
cheeks, chin, mouth, nose, eyes and brows, no hair or background. The *source's* landmarks define it
for both clips, so source and edit are measured on exactly the same pixels. Values are on a 0..255
scale whatever the frames' dtype.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from ned_models.conventions import as_float_image
from ned_models.eval.reference_landmarks import JAW_AND_BROWS, POINT_COUNT

__all__ = ["FaceRegion", "face_region", "grey_255", "laplacian_variance", "mean_abs_change",
           "fill_convex_hull", "crop_square"]

_LUMA_WEIGHTS = np.array([0.299, 0.587, 0.114], dtype=np.float32)   # ITU-R BT.601, as cv2's grey
_SUBPIXEL_BITS = 4
_MAX_BILINEAR_SHRINK = 1.5     # bilinear sampling aliases beyond this; area-average first


@dataclass(frozen=True)
class FaceRegion:
    """The face region of one frame: a box (pixel edges, x1/y1 exclusive) and the mask inside it.

    Attributes:
        x0, y0, x1, y1: the box, clipped to the frame.
        mask: (y1 - y0, x1 - x0) bool, True inside the face hull.
    """

    x0: int
    y0: int
    x1: int
    y1: int
    mask: np.ndarray

    def cut(self, frame: np.ndarray) -> np.ndarray:
        """The box's pixels of an (H, W, ...) frame (a view)."""
        return frame[self.y0:self.y1, self.x0:self.x1]


def fill_convex_hull(points: np.ndarray, size_hw: tuple[int, int]) -> np.ndarray:
    """(H, W) bool mask of the convex hull of (N, 2) pixel-convention points (centres at i + 0.5)."""
    mask = np.zeros(size_hw, np.uint8)
    index_points = (np.asarray(points, np.float64) - 0.5) * (1 << _SUBPIXEL_BITS)
    hull = cv2.convexHull(np.rint(index_points).astype(np.int32))
    cv2.fillConvexPoly(mask, hull, 1, lineType=cv2.LINE_8, shift=_SUBPIXEL_BITS)
    return mask.astype(bool)


def face_region(points68: np.ndarray, size_hw: tuple[int, int]) -> FaceRegion | None:
    """The face region given (68, 2) landmarks in a frame of `size_hw`; None if it falls outside."""
    points = np.asarray(points68, dtype=np.float64)
    if points.shape != (POINT_COUNT, 2):
        raise ValueError(f"expected (68, 2) landmarks, got shape {points.shape}")
    outline = points[list(JAW_AND_BROWS)]
    h, w = size_hw
    x0, y0 = max(0, int(np.floor(outline[:, 0].min()))), max(0, int(np.floor(outline[:, 1].min())))
    x1, y1 = min(w, int(np.ceil(outline[:, 0].max()))), min(h, int(np.ceil(outline[:, 1].max())))
    if x1 - x0 < 2 or y1 - y0 < 2:
        return None
    mask = fill_convex_hull(outline - (x0, y0), (y1 - y0, x1 - x0))
    if not mask.any():
        return None
    return FaceRegion(x0, y0, x1, y1, mask)


def grey_255(rgb: np.ndarray) -> np.ndarray:
    """(H, W) float32 luma on a 0..255 scale of an (H, W, 3|4) frame of any ned_models dtype."""
    return (as_float_image(rgb[..., :3]) @ _LUMA_WEIGHTS) * np.float32(255.0)


def laplacian_variance(grey: np.ndarray, mask: np.ndarray) -> float:
    """Variance of the 3x3 Laplacian of `grey` over the pixels where `mask` is True.

    The classic focus measure: blur or a soft re-rendered face lowers it, noise raises it.
    """
    if grey.shape != mask.shape:
        raise ValueError(f"grey {grey.shape} and mask {mask.shape} differ in shape")
    laplacian = cv2.Laplacian(np.ascontiguousarray(grey, dtype=np.float32), cv2.CV_32F, ksize=1,
                              borderType=cv2.BORDER_REPLICATE)
    values = laplacian[mask]
    return float(values.var()) if values.size else float("nan")


def mean_abs_change(source: np.ndarray, edit: np.ndarray, region: FaceRegion) -> float:
    """Mean over the face region's pixels and channels of |edit - source|, on a 0..255 scale."""
    if source.shape != edit.shape:
        raise ValueError(f"source {source.shape} and edit {edit.shape} frames differ in shape")
    a = as_float_image(region.cut(source)[..., :3])
    b = as_float_image(region.cut(edit)[..., :3])
    return float(np.abs(b - a)[region.mask].mean() * 255.0)


def crop_square(image: np.ndarray, centre_xy: tuple[float, float], side: float, out_px: int) -> np.ndarray:
    """Resample the axis-aligned square of `side` px centred on `centre_xy` to (out_px, out_px).

    Parts outside the image read as 0. Shrinking by more than 1.5x area-averages the square's
    pixels first, so large faces do not alias. Works on (H, W) and (H, W, C) images.
    """
    if side <= 0 or out_px <= 0:
        raise ValueError(f"crop side {side} and output size {out_px} must be positive")
    h, w = image.shape[:2]
    left, top = centre_xy[0] - side / 2.0, centre_xy[1] - side / 2.0
    # Only the square's own pixels (+1 for the bilinear footprint) are touched, whatever the frame size.
    x0, y0 = max(0, int(np.floor(left)) - 1), max(0, int(np.floor(top)) - 1)
    x1, y1 = min(w, int(np.ceil(left + side)) + 1), min(h, int(np.ceil(top + side)) + 1)
    channels = image.shape[2:]
    if x1 <= x0 or y1 <= y0:
        return np.zeros((out_px, out_px, *channels), image.dtype)
    roi, left, top = image[y0:y1, x0:x1], left - x0, top - y0
    scale = out_px / side
    pre_x = pre_y = 1.0
    if scale * _MAX_BILINEAR_SHRINK < 1.0:
        size_wh = (max(1, round((x1 - x0) * scale * _MAX_BILINEAR_SHRINK)),
                   max(1, round((y1 - y0) * scale * _MAX_BILINEAR_SHRINK)))
        roi = cv2.resize(roi, size_wh, interpolation=cv2.INTER_AREA)
        pre_x, pre_y = size_wh[0] / (x1 - x0), size_wh[1] / (y1 - y0)
    sx, sy = scale / pre_x, scale / pre_y
    left, top = left * pre_x, top * pre_y
    # crop_from_roi in pixel-centre convention, plus 0.5 (s - 1) for warpAffine's integer centres
    crop_from_roi = np.array([[sx, 0.0, -left * sx + 0.5 * (sx - 1.0)], [0.0, sy, -top * sy + 0.5 * (sy - 1.0)]])
    return cv2.warpAffine(np.ascontiguousarray(roi), crop_from_roi, (out_px, out_px), flags=cv2.INTER_LINEAR,
                          borderMode=cv2.BORDER_CONSTANT, borderValue=0)

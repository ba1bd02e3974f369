"""Temporal flicker of the face region, measured the same way on the source and on the edit.

Definition (what "edit flicker <= 1.2x source flicker" means):

1. Every frame's face is brought into one stabilised canonical crop (160 x 160 px, eyes 48 px
   apart) by a similarity transform fitted to the *source's* dlib eye and nose points (27-47),
   smoothed over 5 frames to remove landmark jitter. Source and edit use the same transforms, so
   head motion is removed from both alike and nothing about the edit steers the alignment.
2. flicker(t) = mean over the face hull (jaw + brows, eroded 2 px) of
   | g(t) - (g(t-1) + g(t+1)) / 2 |, with g the grey level (0..255) in the canonical crop after a
   Gaussian blur of sigma 2 px (1/24 of the eye distance): sub-pixel misregistration of fine
   texture and codec noise then weigh less than the popping a viewer notices.
   This temporal second difference is the part of the signal that steady motion does not explain:
   smooth expression and mouth changes nearly cancel, frame-to-frame texture or colour popping
   (a renderer's flicker, a patch that jumps) does not.
3. The clip's flicker is the mean over frames whose neighbours both have a face; the ratio is
   edit / source. Speech and blinks contribute to both clips equally, so a ratio near 1 means "no
   flicker added" and 1.2 means 20 % more frame-to-frame instability than the footage itself.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from ned_models.eval.image_metrics import fill_convex_hull, grey_255
from ned_models.eval.metrics import ratio
from ned_models.eval.reference_landmarks import JAW_AND_BROWS, LEFT_EYE, RIGHT_EYE

__all__ = ["FlickerScores", "FlickerMeter", "similarity_from_points"]

_CANON_SIZE = 160
_CANON_IOD = 48.0
_CANON_EYES_Y = 56.0
_CROP_SPAN_IODS = 4.0          # stored per-frame crop: 4 IODs wide around the stable points
_STABLE_POINTS = tuple(range(27, 48))   # nose bridge, nostrils, both eyes: no speech motion
_SMOOTHING_WINDOW = 5
_MASK_EROSION_PX = 2
_BLUR_SIGMA_PX = 2.0


@dataclass(frozen=True)
class FlickerScores:
    """Face-region flicker (see the module doc).

    Attributes:
        source: (T,) per-frame flicker of the source, grey levels; NaN where undefined.
        edit: (T,) likewise for the edit.
        source_mean, edit_mean: means over the frames defined in both.
        ratio: edit_mean / source_mean.
    """

    source: np.ndarray
    edit: np.ndarray
    source_mean: float
    edit_mean: float
    ratio: float


@dataclass(frozen=True)
class _FrameCrops:
    source: np.ndarray          # (S, S) float32 grey crop
    edit: np.ndarray
    frame_from_crop: np.ndarray  # (3, 3)
    points: np.ndarray          # (68, 2) source landmarks, frame pixels


def similarity_from_points(source_points: np.ndarray, target_points: np.ndarray) -> np.ndarray:
    """(3, 3) least-squares similarity (rotation, uniform scale, translation) mapping source to target.

    Umeyama's closed form without reflection; points are (N, 2), N >= 2.
    """
    src, dst = np.asarray(source_points, np.float64), np.asarray(target_points, np.float64)
    src_mean, dst_mean = src.mean(axis=0), dst.mean(axis=0)
    src_c, dst_c = src - src_mean, dst - dst_mean
    covariance = dst_c.T @ src_c / len(src)
    u, singular, vt = np.linalg.svd(covariance)
    sign = np.diag([1.0, np.sign(np.linalg.det(u @ vt)) or 1.0])
    rotation = u @ sign @ vt
    scale = float((singular * np.diag(sign)).sum() / (src_c ** 2).sum() * len(src))
    transform = np.eye(3)
    transform[:2, :2] = scale * rotation
    transform[:2, 2] = dst_mean - scale * rotation @ src_mean
    return transform


def _index_affine(transform: np.ndarray) -> np.ndarray:
    """Convert a pixel-convention (centres at i + 0.5) 3x3 map into warpAffine's index convention."""
    linear, offset = transform[:2, :2], transform[:2, 2]
    return np.hstack([linear, (offset + 0.5 * linear.sum(axis=1) - 0.5)[:, None]])


def _eye_distance(points: np.ndarray) -> float:
    return float(np.linalg.norm(points[list(LEFT_EYE)].mean(axis=0) - points[list(RIGHT_EYE)].mean(axis=0)))


class FlickerMeter:
    """Collects one small grey crop per frame pair, then measures flicker over the whole clip.

    Memory: two ~192 x 192 float32 crops per frame (~300 kB), whatever the frame size.
    """

    def __init__(self) -> None:
        self._frames: list[_FrameCrops | None] = []

    def add(self, source: np.ndarray, edit: np.ndarray, source_points: np.ndarray | None) -> None:
        """Record frame t: (H, W, 3|4) source and edit frames and the source's (68, 2) landmarks (or None)."""
        if source_points is None or _eye_distance(source_points) < 2.0:
            self._frames.append(None)
            return
        centre = source_points[list(_STABLE_POINTS)].mean(axis=0)
        span = _CROP_SPAN_IODS * _eye_distance(source_points)
        size = round(_CROP_SPAN_IODS * _CANON_IOD)
        x0, y0 = int(np.floor(centre[0] - span / 2)), int(np.floor(centre[1] - span / 2))
        side = int(np.ceil(span))
        scale = size / side
        frame_from_crop = np.array([[1 / scale, 0, x0], [0, 1 / scale, y0], [0, 0, 1.0]])
        self._frames.append(_FrameCrops(_cut_scaled(source, x0, y0, side, size),
                                        _cut_scaled(edit, x0, y0, side, size), frame_from_crop,
                                        np.asarray(source_points, np.float64)))

    def scores(self) -> FlickerScores:
        """Flicker of the frames added so far (see the module doc)."""
        count = len(self._frames)
        canonical_from_frame = self._canonical_transforms()
        source_series, edit_series = np.full(count, np.nan), np.full(count, np.nan)
        valid = [t for t in range(count) if canonical_from_frame[t] is not None]
        if valid:
            mask = self._canonical_mask(canonical_from_frame, valid)
            warped = {t: self._warp(t, canonical_from_frame[t]) for t in valid}
            for t in valid:
                if t - 1 in warped and t + 1 in warped:
                    for series, k in ((source_series, 0), (edit_series, 1)):
                        residual = warped[t][k] - 0.5 * (warped[t - 1][k] + warped[t + 1][k])
                        series[t] = float(np.abs(residual[mask]).mean())
        both = np.isfinite(source_series) & np.isfinite(edit_series)
        source_mean = float(source_series[both].mean()) if both.any() else float("nan")
        edit_mean = float(edit_series[both].mean()) if both.any() else float("nan")
        return FlickerScores(source_series, edit_series, source_mean, edit_mean, ratio(edit_mean, source_mean))

    def _canonical_transforms(self) -> list[np.ndarray | None]:
        stable = [None if f is None else f.points[list(_STABLE_POINTS)] for f in self._frames]
        valid = [t for t, s in enumerate(stable) if s is not None]
        if not valid:
            return [None] * len(stable)
        half = _SMOOTHING_WINDOW // 2
        smoothed: dict[int, np.ndarray] = {}
        for t in valid:
            near = range(max(0, t - half), min(len(stable), t + half + 1))
            window = [stable[u] for u in near if stable[u] is not None]
            smoothed[t] = np.mean(window, axis=0)
        template = self._template(smoothed[valid[len(valid) // 2]])
        return [similarity_from_points(smoothed[t], template) if t in smoothed else None for t in range(len(stable))]

    @staticmethod
    def _template(stable_points: np.ndarray) -> np.ndarray:
        """The stable points of one frame placed upright, eyes _CANON_IOD apart, centred in the crop."""
        right = stable_points[[i - _STABLE_POINTS[0] for i in RIGHT_EYE]].mean(axis=0)
        left = stable_points[[i - _STABLE_POINTS[0] for i in LEFT_EYE]].mean(axis=0)
        canonical_eyes = np.array([[(_CANON_SIZE - _CANON_IOD) / 2, _CANON_EYES_Y],
                                   [(_CANON_SIZE + _CANON_IOD) / 2, _CANON_EYES_Y]])
        placement = similarity_from_points(np.stack([right, left]), canonical_eyes)
        return stable_points @ placement[:2, :2].T + placement[:2, 2]

    def _canonical_mask(self, canonical_from_frame: list[np.ndarray | None], valid: list[int]) -> np.ndarray:
        outlines = [self._frames[t].points[list(JAW_AND_BROWS)] @ canonical_from_frame[t][:2, :2].T
                    + canonical_from_frame[t][:2, 2] for t in valid]
        mask = fill_convex_hull(np.mean(outlines, axis=0), (_CANON_SIZE, _CANON_SIZE)).astype(np.uint8)
        kernel = np.ones((2 * _MASK_EROSION_PX + 1,) * 2, np.uint8)
        return cv2.erode(mask, kernel).astype(bool)

    def _warp(self, t: int, canonical_from_frame: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        crops = self._frames[t]
        affine = _index_affine(canonical_from_frame @ crops.frame_from_crop)
        size = (_CANON_SIZE, _CANON_SIZE)
        warped = [cv2.warpAffine(crop, affine, size, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
                  for crop in (crops.source, crops.edit)]
        return cv2.GaussianBlur(warped[0], (0, 0), _BLUR_SIGMA_PX), cv2.GaussianBlur(warped[1], (0, 0), _BLUR_SIGMA_PX)


def _cut_scaled(frame: np.ndarray, x0: int, y0: int, side: int, size: int) -> np.ndarray:
    """Grey (size, size) float32 of the frame's square [x0, x0 + side) x [y0, y0 + side), edge-padded."""
    h, w = frame.shape[:2]
    cx0, cy0, cx1, cy1 = max(0, x0), max(0, y0), min(w, x0 + side), min(h, y0 + side)
    if cx1 <= cx0 or cy1 <= cy0:
        return np.zeros((size, size), np.float32)
    grey = grey_255(frame[cy0:cy1, cx0:cx1])
    pad = ((cy0 - y0, y0 + side - cy1), (cx0 - x0, x0 + side - cx1))
    if any(p for pair in pad for p in pair):
        grey = np.pad(grey, pad, mode="edge")
    interpolation = cv2.INTER_AREA if size < side else cv2.INTER_LINEAR
    return cv2.resize(grey, (size, size), interpolation=interpolation)

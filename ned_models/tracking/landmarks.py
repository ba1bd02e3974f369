"""The 468-point face landmark model on a rotated square crop, mapped back to frame pixels.

Model facts: input (1, 192, 192, 3) RGB in [0, 1] (checked empirically: [0, 1] gives landmarks
about 30% more consistent under small crop perturbations than [-1, 1]); outputs 468 x (x, y, z) in
crop pixels (z relative, same pixel scale as x, smaller = nearer) and one presence logit.

ROIs follow MediaPipe's face-mesh graph, the crops the model expects: from a detection, a square of
1.5x the box's long side centred on the box; from previous landmarks, a square of 1.5x the long side
of the landmarks' axis-aligned bounding box (in display pixels), centred on that box. Both are
rotated so the eyes are level. (Measuring the extent in the eye-levelled frame instead gives a
slightly tighter, differently centred crop on turned or tilted heads: the raw landmarks' inner-lip
aperture then agrees less with an independent landmarker, 8 instead of 10 talking clips at r >= 0.9.)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ned_models.assets import FACE_LANDMARKS
from ned_models.landmarks import LEFT_EYE_OUTER, MESH_POINTS, RIGHT_EYE_OUTER
from ned_models.tracking.crops import RotatedRect, apply_transform, crop_from_frame, warp_crop
from ned_models.tracking.detector import FaceDetection
from ned_models.tracking.tflite import TfliteModel

__all__ = ["MeshResult", "FaceLandmarker", "roi_from_detection", "roi_from_landmarks", "ROI_SCALE"]

ROI_SCALE = 1.5
_SIZE = FACE_LANDMARKS.input_hw[0]


@dataclass(frozen=True)
class MeshResult:
    """The landmark model's answer for one ROI.

    Attributes:
        points: (468, 3) float64 frame pixels (x, y) and z in display pixels (larger = farther).
        presence: probability in [0, 1] that a face fills the ROI.
        roi: the region the model looked at.
    """

    points: np.ndarray
    presence: float
    roi: RotatedRect


def roi_from_detection(detection: FaceDetection, pixel_aspect: float = 1.0) -> RotatedRect:
    """The landmark ROI for a detection: box centre, 1.5x its long side, eyes level."""
    box = detection.box
    eyes = detection.keypoints[:2] * (pixel_aspect, 1.0)
    d = eyes[1] - eyes[0]  # subject's right eye -> left eye, left to right in the image
    side = max((box[2] - box[0]) * pixel_aspect, box[3] - box[1]) * ROI_SCALE
    centre = (float(box[0] + box[2]) / 2.0, float(box[1] + box[3]) / 2.0)
    return RotatedRect(center=centre, size=float(side), angle=float(np.arctan2(d[1], d[0])))


def roi_from_landmarks(points: np.ndarray, pixel_aspect: float = 1.0) -> RotatedRect:
    """The landmark ROI that follows a face from its previous landmarks, (468+, 2+) frame pixels.

    The bounding box is axis-aligned in the frame (as MediaPipe's LandmarksToDetection makes it), only
    the crop is turned to level the eyes.
    """
    display = np.asarray(points[:MESH_POINTS, :2], dtype=np.float64) * (pixel_aspect, 1.0)
    lo, hi = display.min(axis=0), display.max(axis=0)
    centre = 0.5 * (lo + hi)
    d = display[LEFT_EYE_OUTER] - display[RIGHT_EYE_OUTER]
    return RotatedRect(center=(float(centre[0] / pixel_aspect), float(centre[1])),
                       size=float((hi - lo).max() * ROI_SCALE), angle=float(np.arctan2(d[1], d[0])))


class FaceLandmarker:
    """Runs face_landmark.tflite on ROIs of a frame (one batch for several faces)."""

    def __init__(self, model: TfliteModel | None = None) -> None:
        self._model = model or TfliteModel(FACE_LANDMARKS)

    def run(self, frame: np.ndarray, rois: list[RotatedRect], pixel_aspect: float = 1.0) -> list[MeshResult]:
        """Landmarks for each ROI.

        Args:
            frame: (H, W, 3 or 4) uint8/uint16/float32 RGB(A).
            rois: regions to look at, one per face.
            pixel_aspect: width / height of a frame pixel.
        """
        if not rois:
            return []
        transforms = [crop_from_frame(r, _SIZE, pixel_aspect) for r in rois]
        lo, hi = FACE_LANDMARKS.input_range
        batch = np.stack([warp_crop(frame, t, _SIZE) for t in transforms]) * (hi - lo) + lo
        coords, logits = self._model.run(batch)
        results = []
        for i, (roi, transform) in enumerate(zip(rois, transforms, strict=True)):
            crop_points = coords[i].reshape(MESH_POINTS, 3).astype(np.float64)
            points = apply_transform(np.linalg.inv(transform), crop_points)
            points[:, 2] *= roi.size / _SIZE  # crop pixels -> display pixels
            presence = float(1.0 / (1.0 + np.exp(-np.clip(float(logits[i].ravel()[0]), -50.0, 50.0))))
            results.append(MeshResult(points=points, presence=presence, roi=roi))
        return results

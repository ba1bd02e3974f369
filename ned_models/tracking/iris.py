"""Iris landmarks: the iris model on two 64x64 eye crops per face, written to mesh indices 468-477.

Model facts: input (B, 64, 64, 3) RGB in [0, 1]; outputs 71 eye-contour and brow points and 5 iris
points (centre first, then four on the iris edge), x, y, z in crop pixels. The model was trained on
the subject's right eye (the eye on the image's left): the left eye's crop is mirrored, which we
checked on real frames (mirroring the left eye and not the right puts the model's eye contour 30%
closer to the mesh's eyelids than the other choices).

Eye ROI: a square of 2.3x the corner-to-corner distance, centred between the corners, rotated so
the corners are level.
"""

from __future__ import annotations

import numpy as np

from ned_models.assets import IRIS_LANDMARKS
from ned_models.landmarks import (
    LANDMARK_COUNT,
    LEFT_EYE,
    LEFT_EYE_INNER,
    LEFT_EYE_OUTER,
    LEFT_IRIS,
    MESH_POINTS,
    RIGHT_EYE,
    RIGHT_EYE_INNER,
    RIGHT_EYE_OUTER,
    RIGHT_IRIS,
)
from ned_models.tracking.crops import apply_transform, crop_from_frame, rect_from_points, warp_crop
from ned_models.tracking.tflite import TfliteModel

__all__ = ["IrisLandmarker", "EYE_ROI_SCALE", "EYES"]

EYE_ROI_SCALE = 2.3
_SIZE = IRIS_LANDMARKS.input_hw[0]
_CONTOUR_POINTS = 71
_CONTOUR_EYE = 16  # the first 16 contour points outline the eye opening

# (corner drawn first in the image, corner drawn second, mirrored?, eye loop, iris output indices)
EYES = (
    (RIGHT_EYE_OUTER, RIGHT_EYE_INNER, False, RIGHT_EYE, RIGHT_IRIS),
    (LEFT_EYE_INNER, LEFT_EYE_OUTER, True, LEFT_EYE, LEFT_IRIS),
)


class IrisLandmarker:
    """Adds the 10 iris points to 468-point meshes (all eyes of all faces in one batch)."""

    def __init__(self, model: TfliteModel | None = None) -> None:
        self._model = model or TfliteModel(IRIS_LANDMARKS)

    def run(self, frame: np.ndarray, meshes: list[np.ndarray], pixel_aspect: float = 1.0) -> list[np.ndarray]:
        """Complete each mesh with its irises.

        Args:
            frame: (H, W, 3 or 4) uint8/uint16/float32 RGB(A).
            meshes: per face, (468+, 3) frame pixels from the landmark model.
            pixel_aspect: width / height of a frame pixel.

        Returns:
            Per face, (478, 3) float64: the mesh, then the subject's right iris (468-472) and left
            iris (473-477), centre first. Iris z is placed relative to the mesh's eyelid depth.
        """
        if not meshes:
            return []
        transforms, crops = [], []
        for mesh in meshes:
            for first, second, mirrored, _, _ in EYES:
                rect = rect_from_points(mesh[[first, second]], 0, 1, EYE_ROI_SCALE, pixel_aspect)
                transform = crop_from_frame(rect, _SIZE, pixel_aspect, flip_x=mirrored)
                transforms.append((transform, rect.size / _SIZE))
                crops.append(warp_crop(frame, transform, _SIZE))
        # the model's final reshapes fold the batch: (1, B*213) and (1, B*15)
        lo, hi = IRIS_LANDMARKS.input_range
        batch = np.stack(crops) * (hi - lo) + lo
        contours, irises = (o.reshape(len(crops), -1) for o in self._model.run(batch))
        out = []
        for f, mesh in enumerate(meshes):
            full = np.empty((LANDMARK_COUNT, 3), dtype=np.float64)
            full[:MESH_POINTS] = mesh[:MESH_POINTS]
            for e, (_, _, _, loop, iris_indices) in enumerate(EYES):
                i = 2 * f + e
                transform, display_per_crop = transforms[i]
                iris = irises[i].reshape(5, 3).astype(np.float64)
                contour_z = contours[i].reshape(_CONTOUR_POINTS, 3)[:_CONTOUR_EYE, 2].mean()
                points = apply_transform(np.linalg.inv(transform), iris)
                points[:, 2] = mesh[list(loop), 2].mean() + (iris[:, 2] - contour_z) * display_per_crop
                full[list(iris_indices)] = points
            out.append(full)
        return out

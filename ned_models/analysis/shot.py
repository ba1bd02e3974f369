"""Full-shot face analysis: track every frame, then fit and smooth each face over the whole shot."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import numpy as np

from ned_models.analysis.face_track import ModelOptions, SmoothingOptions, fit_face
from ned_models.analysis.results import FaceTrack, ShotAnalysis
from ned_models.errors import NedError, NoFaceFound
from ned_models.face_model.morphable import FaceModel, load_face_model
from ned_models.landmarks import LANDMARK_COUNT
from ned_models.tracking.tracker import FaceTracker, TrackerOptions

__all__ = ["AnalysisOptions", "AnalysisCancelled", "analyse_shot"]

logger = logging.getLogger(__name__)


class AnalysisCancelled(NedError):
    """The caller's cancel check asked the analysis to stop."""


@dataclass(frozen=True)
class AnalysisOptions:
    """Settings of a face analysis (tracking, face model, smoothing)."""

    tracker: TrackerOptions = field(default_factory=TrackerOptions)
    model: ModelOptions = field(default_factory=ModelOptions)
    smoothing: SmoothingOptions = field(default_factory=SmoothingOptions)


@dataclass
class _Tracked:
    """Everything the tracking pass collects."""

    times: list[float] = field(default_factory=list)
    cuts: list[bool] = field(default_factory=list)
    faces: dict[int, dict[int, tuple[np.ndarray, float]]] = field(default_factory=dict)  # face -> frame -> ...
    size_hw: tuple[int, int] | None = None


def _track_all(frames: Iterable[tuple[float, np.ndarray]], tracker: FaceTracker,
               progress: Callable[[int], None] | None, cancelled: Callable[[], bool] | None) -> _Tracked:
    out = _Tracked()
    for n, (time, frame) in enumerate(frames):
        if cancelled is not None and cancelled():
            raise AnalysisCancelled(f"face analysis cancelled after {n} frames")
        if out.size_hw is None:
            out.size_hw = (int(frame.shape[0]), int(frame.shape[1]))
        elif frame.shape[:2] != out.size_hw:
            raise ValueError(f"frame {n} is {frame.shape[:2]}, the shot's frames are {out.size_hw}")
        result = tracker.track(float(time), frame)
        out.times.append(float(time))
        out.cuts.append(result.scene_cut)
        for face in result.faces:
            out.faces.setdefault(face.index, {})[n] = (face.points, face.confidence)
        if progress is not None:
            progress(n + 1)
    return out


def _face_arrays(per_frame: dict[int, tuple[np.ndarray, float]], count: int) -> tuple[np.ndarray, ...]:
    raw = np.full((count, LANDMARK_COUNT, 3), np.nan)
    confidence = np.zeros(count)
    present = np.zeros(count, dtype=bool)
    for n, (points, conf) in per_frame.items():
        raw[n], confidence[n], present[n] = points, conf, True
    return raw, confidence, present


def analyse_shot(frames: Iterable[tuple[float, np.ndarray]], options: AnalysisOptions | None = None,
                 progress: Callable[[int], None] | None = None, cancelled: Callable[[], bool] | None = None,
                 tracker: FaceTracker | None = None, model: FaceModel | None = None) -> ShotAnalysis:
    """Analyse a whole shot (full mode: zero-phase smoothing, per-shot identity and residual basis).

    Args:
        frames: (time in seconds, frame) in increasing time; frames (H, W, 3 or 4) uint8, uint16 or
            float32 RGB(A), all the same size.
        options: analysis settings.
        progress: called with the number of frames tracked so far (tracking is most of the work).
        cancelled: polled before each frame; when it returns True the analysis stops.
        tracker: a tracker to reuse (it is reset first); a new one by default.
        model: the face model; `load_face_model()` by default.

    Returns:
        The shot's analysis, faces in index order.

    Raises:
        NoFaceFound: no face in any frame (or no frames).
        AnalysisCancelled: `cancelled()` returned True.
        ValueError: times do not increase, or frames are malformed or change size.
    """
    options = options or AnalysisOptions()
    model = model or load_face_model()
    tracker = tracker or FaceTracker(options.tracker)
    tracker.reset()
    tracked = _track_all(frames, tracker, progress, cancelled)
    if tracked.size_hw is None:
        raise NoFaceFound("the shot has no frames")
    if not tracked.faces:
        raise NoFaceFound(f"no face found in any of the shot's {len(tracked.times)} frames")
    times = np.asarray(tracked.times, dtype=np.float64)
    cuts = np.asarray(tracked.cuts, dtype=bool)
    par = options.tracker.pixel_aspect
    faces: list[FaceTrack] = []
    for index in range(max(tracked.faces) + 1):
        raw, confidence, present = _face_arrays(tracked.faces.get(index, {}), len(times))
        if not present.any():
            raise NoFaceFound(f"face index {index} was never tracked")  # indices are dense by design
        faces.append(fit_face(model, index, times, raw, confidence, present, cuts, tracked.size_hw, par,
                              options.model, options.smoothing))
        logger.debug("face %d: tracked in %d of %d frames", index, int(present.sum()), len(times))
    return ShotAnalysis(times=times, scene_cuts=cuts, size_hw=tracked.size_hw, pixel_aspect=par,
                        faces=tuple(faces), mode="full", model_fingerprint=model.fingerprint)

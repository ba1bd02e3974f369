"""Analysis throughput: `analyse_shot` on whole shots, total and per stage, at each resolution.

Stages are timed from the outside: the tracker is built from detector, landmarker and iris model
instances whose methods are wrapped with timers; the scene-cut detector it makes is a timed
subclass; the face-model steps are timed through the names `face_track` calls them by. Per-stage
figures are milliseconds per frame of the shot (a per-shot step's time divided by the frames), so
the rows add up to the total.
"""

from __future__ import annotations

import logging
import time

import numpy as np

import ned_models.analysis.face_track as face_track_module
import ned_models.analysis.shot as shot_module
import ned_models.tracking.tracker as tracker_module
from bench.clock import StageClock, swapped
from bench.inputs import Clip
from bench.results import Figure, Measurement, StageResult, Timing
from ned_models.analysis.results import ShotAnalysis
from ned_models.analysis.shot import analyse_shot
from ned_models.face_model.morphable import FaceModel, load_face_model
from ned_models.tracking.detector import FaceDetector
from ned_models.tracking.iris import IrisLandmarker
from ned_models.tracking.landmarks import FaceLandmarker
from ned_models.tracking.scene_cut import SceneCutDetector
from ned_models.tracking.tracker import FaceTracker

__all__ = ["run_analysis", "ANALYSIS_STAGES"]

logger = logging.getLogger(__name__)

WARMUP_FRAMES = 10
# face_track's callees -> stage; smoothing is timed inside fit_face, so "fit, other" is the rest.
_FIT_STAGES = {"fit_identity": "identity fit (per shot)", "_fit_frames": "3D fit, per frame",
               "_with_residual": "residual basis (per shot)", "smooth_zero_phase": "smoothing",
               "adaptive_sigma": "smoothing"}
_TRACK_STAGES = ("detection", "landmarks", "lip refinement", "iris", "scene cut")
_TRACKER_CALLS = {"refine_inner_lips": "lip refinement"}  # tracker functions, by the name it calls them
ANALYSIS_STAGES = ("total", *_TRACK_STAGES, "tracking, other", "identity fit (per shot)", "3D fit, per frame",
                   "residual basis (per shot)", "smoothing", "fit, other")


def _timed_tracker(clock: StageClock) -> FaceTracker:
    """A FaceTracker whose models and scene-cut check report to `clock`."""
    class TimedSceneCuts(SceneCutDetector):
        def is_cut(self, frame: np.ndarray) -> bool:
            start = time.perf_counter()
            try:
                return super().is_cut(frame)
            finally:
                clock.seconds["scene cut"] += time.perf_counter() - start
                clock.calls["scene cut"] += 1

    detector, landmarker, iris = FaceDetector(), FaceLandmarker(), IrisLandmarker()
    clock.time_method("detection", detector, "detect")
    clock.time_method("landmarks", landmarker, "run")
    clock.time_method("iris", iris, "run")
    with swapped(tracker_module, {"SceneCutDetector": TimedSceneCuts}):
        tracker = FaceTracker(detector=detector, landmarker=landmarker, iris=iris)
    clock.time_method("tracking", tracker, "track")
    return tracker


def _stage_ms(clock: StageClock, frames: int) -> dict[str, float]:
    """Milliseconds per frame for every stage of one run (the 'other' rows by difference)."""
    s = clock.seconds
    ms = {name: 1e3 * s.get(name, 0.0) / frames for name in ANALYSIS_STAGES}
    ms["total"] = 1e3 * s["total"] / frames
    ms["tracking, other"] = 1e3 * (s["tracking"] - sum(s.get(n, 0.0) for n in _TRACK_STAGES)) / frames
    fit_parts = set(_FIT_STAGES.values())
    ms["fit, other"] = 1e3 * (s["fit_face"] - sum(s.get(n, 0.0) for n in fit_parts)) / frames
    return ms


def _analyse_timed(clip: Clip, clock: StageClock, tracker: FaceTracker, model: FaceModel,
                   missing: set[str]) -> ShotAnalysis:
    clock.reset()
    with clock.timing_functions(face_track_module, _FIT_STAGES) as absent, \
            clock.timing_functions(shot_module, {"fit_face": "fit_face"}) as absent_shot, \
            clock.timing_functions(tracker_module, _TRACKER_CALLS) as absent_tracker:
        missing.update(absent + absent_shot + absent_tracker)
        start = time.perf_counter()
        analysis = analyse_shot(clip.timed(), tracker=tracker, model=model)
        clock.seconds["total"] = time.perf_counter() - start
    return analysis


def analyse_clip(clip: Clip, repeats: int, result: StageResult, model: FaceModel | None = None) -> ShotAnalysis:
    """Time `repeats` full analyses of `clip` (after a short warm-up) into `result`; returns the analysis."""
    model = model or load_face_model()
    clock = StageClock()
    tracker = _timed_tracker(clock)
    analyse_shot(clip.timed()[:WARMUP_FRAMES], tracker=tracker, model=model)  # models loaded, caches warm
    samples: dict[str, list[float]] = {name: [] for name in ANALYSIS_STAGES}
    missing: set[str] = set()
    analysis = None
    for _ in range(repeats):
        analysis = _analyse_timed(clip, clock, tracker, model, missing)
        for name, value in _stage_ms(clock, len(clip.frames)).items():
            samples[name].append(value)
    if missing:
        result.notes.append(f"analysis: could not time {sorted(missing)} (renamed in ned_models?); their time "
                            "is in the 'other' rows")
    source = f"{clip.source}; {len(clip.frames)}-frame shot, {len(analysis.faces)} face(s)"
    for name in ANALYSIS_STAGES:
        result.measurements.append(Measurement("analysis", name, clip.resolution, "frame", Timing.of(samples[name]),
                                               source, clip.synthetic, "rgb8"))
    detected = clock.calls.get("detection", 0)
    result.figures.append(Figure("analysis", "detector runs per shot", float(detected), "calls", clip.resolution,
                                 "tracking re-detects only when a face is lost or a cut is found"))
    return analysis


def run_analysis(clips: dict[str, Clip], repeats: int, result: StageResult) -> dict[str, ShotAnalysis]:
    """Analysis figures for every clip; returns each clip's analysis for the render stage."""
    model = load_face_model()
    analyses = {}
    for label, clip in clips.items():
        logger.info("analysis %s: %d frames x %d runs", clip.resolution, len(clip.frames), repeats)
        analyses[label] = analyse_clip(clip, repeats, result, model)
        total = result.measurement("total", clip.resolution)
        logger.info("analysis %s: %.1f frames/s", clip.resolution, total.timing.fps)
    return analyses

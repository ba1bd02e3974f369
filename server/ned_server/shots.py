"""Shots as the server sees them: analyse, look up the face at a frame, render, describe, forget.

Clients speak in host frame times (frames) at the host's render scale; the analysis speaks in
seconds at full resolution. This module converts between the two (with the clip's frame rate) and
owns the per-shot caches that renders reuse (emotional baseline, warp triangulation).
"""

from __future__ import annotations

import logging
import shutil
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np

from ned_models.analysis.results import SCHEMA_VERSION, ShotAnalysis
from ned_models.analysis.shot import AnalysisCancelled, AnalysisOptions, analyse_shot
from ned_models.edit import EditParams, RendererKind
from ned_models.errors import AnalysisMissing
from ned_models.landmarks import inter_ocular_distance
from ned_models.neural.neural_renderer import NeuralRenderer, RendererMemory
from ned_models.neural.renderer_checkpoint import ONNX_NAME
from ned_models.neural.renderer_data import DATA_DIR, TrainingSetWriter
from ned_models.pipeline import FramePipeline, ShotRenderer
from ned_models.tracking.tracker import TrackerOptions
from ned_server._gen.ned.v1 import ned_pb2
from ned_server.config import ServerConfig
from ned_server.convert import FrameInput, InvalidRequest, frame_from_proto, rect_to_proto
from ned_server.online import OnlineShots
from ned_server.relay import Finished, relay
from ned_server.shot_store import ShotRecord, ShotStore
from ned_server.training import RecordingTracker, RendererJobs

__all__ = ["ShotService", "RenderOutcome", "AnalysisCancelled", "DEFAULT_FRAME_RATE"]

logger = logging.getLogger(__name__)

DEFAULT_FRAME_RATE = 25.0
_PROGRESS_EVERY_S = 0.25


class _Codec:
    """The store's view of ShotAnalysis."""

    SCHEMA_VERSION = SCHEMA_VERSION

    @staticmethod
    def from_arrays(arrays: dict[str, np.ndarray]) -> ShotAnalysis:
        return ShotAnalysis.from_arrays(arrays)


@dataclass(frozen=True)
class RenderOutcome:
    """Attributes:
        patch: (h, w, 4) blended pixels, same dtype as the request's, or None (no face here).
        placement_xy: top-left of the patch in the full frame (render scale).
        alpha_u8: (h, w) uint8 blend mask.
        diagnostics: what the client may show.
    """

    patch: np.ndarray | None
    placement_xy: tuple[int, int]
    alpha_u8: np.ndarray | None
    diagnostics: ned_pb2.Diagnostics


class ShotService:
    """Everything the RPCs do with shots, thread-safe."""

    def __init__(self, config: ServerConfig):
        self._store: ShotStore[ShotAnalysis] = ShotStore(config.cache_dir, _Codec(), config.memory_budget_bytes)
        self._pipeline = FramePipeline()
        self._online = OnlineShots(self._store, self._pipeline)
        self._cache_lock = threading.Lock()
        self._renderers: dict[str, tuple[int, ShotRenderer]] = {}  # shot -> (revision, renderer)
        self._neural: dict[str, tuple[float, NeuralRenderer]] = {}  # shot -> (file mtime, renderer)
        self._memories: dict[tuple[str, int], RendererMemory | None] = {}  # autoregressive state per face
        self._jobs = RendererJobs()
        self._device = config.device

    schema_version = SCHEMA_VERSION

    def close(self) -> None:
        self._online.persist_all()

    # ------------------------------------------------------------------------------------ info
    def info(self, shot_id: str, include_regions: bool = False) -> ned_pb2.ShotInfo | None:
        record = self._store.get(shot_id)
        live = self._online.snapshot(shot_id) if record is None or record.mode == "online" else None
        if live is not None and (record is None or len(live.times) > len(record.analysis.times)):
            shot, mode, revision, fps = live, "online", record.revision if record else 0, self._online.rate(shot_id)
        elif record is not None:
            shot, mode, revision, fps = record.analysis, record.mode, record.revision, _frame_rate_of(record)
        else:
            return None
        info = ned_pb2.ShotInfo(
            shot_id=shot_id, mode=ned_pb2.ShotInfo.MODE_FULL if mode == "full" else ned_pb2.ShotInfo.MODE_ONLINE,
            frames_analysed=len(shot.times), first_time=_frames(shot.times[0], fps) if len(shot.times) else 0.0,
            last_time=_frames(shot.times[-1], fps) if len(shot.times) else 0.0, frame_width=shot.size_hw[1],
            frame_height=shot.size_hw[0], revision=revision, schema_version=SCHEMA_VERSION, frame_rate=fps,
            has_neural_renderer=(self._store.shot_dir(shot_id) / ONNX_NAME).is_file())
        for track in shot.faces:
            iod = _inter_ocular(track.landmarks[track.present])
            info.faces.add(face_index=track.index, frames_tracked=int(track.present.sum()), mean_face_size=iod)
            if include_regions:
                for i in np.flatnonzero(track.present):
                    x0, y0, x1, y1 = (int(v) for v in track.render_region[i])
                    info.regions.add(time=_frames(shot.times[i], fps), face_index=track.index,
                                     rect=rect_to_proto(x0, y0, x1 - x0, y1 - y0))
        return info

    def delete(self, shot_id: str) -> bool:
        self._online.forget(shot_id)
        self._forget_caches(shot_id)
        return self._store.delete(shot_id)

    # ------------------------------------------------------------------------------------ analysis
    def analyse_stream(self, requests: Iterator[ned_pb2.AnalyzeShotRequest],
                       is_cancelled: Callable[[], bool]) -> Iterator[ned_pb2.AnalyzeShotProgress]:
        """Run a full analysis on streamed frames, yielding progress; store the result."""
        first = next(requests, None)
        if first is None:
            raise InvalidRequest("AnalyzeShot received no frames")
        shot_id = _check_shot_id(first.shot_id)
        fps = first.frame_rate or DEFAULT_FRAME_RATE
        total = max(first.total_frames, 0)
        started, last_sent = time.monotonic(), 0.0

        def frames() -> Iterator[tuple[float, np.ndarray]]:
            for n, request in enumerate(_chain(first, requests)):
                frame = frame_from_proto(request.frame)
                if not frame.is_whole_frame:
                    raise InvalidRequest(f"AnalyzeShot frame {n}: send whole frames, not a region")
                yield request.time / fps, frame.pixels

        for event in relay(lambda emit: self._analyse(shot_id, first, frames(), emit, is_cancelled),
                           f"analyse {shot_id}"):
            if isinstance(event, Finished):
                analysis = event.value
                break
            now = time.monotonic()
            if now - last_sent >= _PROGRESS_EVERY_S:
                last_sent = now
                yield _progress(shot_id, "tracking", event, total, event / max(now - started, 1e-6))
        yield _progress(shot_id, "saving", len(analysis.times), total, 0.0)
        with self._store.locked(shot_id):
            self._online.forget(shot_id)
            if not first.keep_training_frames:  # crops of an earlier analysis would not match this one
                shutil.rmtree(self._store.shot_dir(shot_id) / DATA_DIR, ignore_errors=True)
            record = self._store.put(shot_id, analysis, mode="full", extra={"frame_rate": fps})
            self._forget_caches(shot_id)
        count = len(analysis.times)
        done = _progress(shot_id, "done", count, count, count / max(time.monotonic() - started, 1e-6))
        done.shot.CopyFrom(self.info(shot_id))
        logger.info("shot analysed", extra={"shot": shot_id, "frames": count, "faces": len(analysis.faces),
                                            "revision": record.revision})
        yield done

    def _analyse(self, shot_id: str, first: ned_pb2.AnalyzeShotRequest, frames: Iterator[tuple[float, np.ndarray]],
                 emit: Callable[[int], None], is_cancelled: Callable[[], bool]) -> ShotAnalysis:
        """The analysis itself (worker thread); keeps training crops when the client asked for them."""
        options = AnalysisOptions(tracker=TrackerOptions(pixel_aspect=first.frame.pixel_aspect or 1.0))
        if not first.keep_training_frames:
            return analyse_shot(frames, options, progress=emit, cancelled=is_cancelled)
        with TrainingSetWriter(self._store.shot_dir(shot_id), expected_frames=max(first.total_frames, 0) or None,
                               pixel_aspect=options.tracker.pixel_aspect) as writer:
            return analyse_shot(frames, options, progress=emit, cancelled=is_cancelled,
                                tracker=RecordingTracker(options.tracker, writer))

    # ------------------------------------------------------------------------------------ render
    def render(self, shot_id: str, frame_time: float, frame: FrameInput, params: EditParams,
               frame_rate: float = 0.0) -> RenderOutcome:
        diagnostics = ned_pb2.Diagnostics()
        timer = _StageTimer(diagnostics)
        record = self._store.get(shot_id)
        result = None
        if params.renderer is RendererKind.NEURAL:
            if record is None or record.mode != "full":
                raise AnalysisMissing(f"shot {shot_id!r} has no full analysis; the neural renderer needs the shot "
                                      "analysed (with training frames) and trained first")
            self._neural_renderer(shot_id)  # fails early, with what to do, when none is trained
        if record is not None and record.mode == "full":
            renderer = self._renderer(shot_id, record)
            seconds = frame_time / (frame_rate or _frame_rate_of(record))
            diagnostics.shot_revision = record.revision
            try:
                with timer("render"):
                    if params.renderer is RendererKind.NEURAL:
                        result = self._render_neural(shot_id, renderer, seconds, frame, params)
                    else:
                        result = renderer.render(seconds, frame.pixels, frame.origin_xy, frame.render_scale, params)
                analysed = True
            except AnalysisMissing:
                if params.face_index >= len(record.analysis.faces):
                    raise
                analysed = False
            if analysed:
                diagnostics.faces_in_frame = _faces_at(record.analysis, seconds)
                return _outcome(result, diagnostics)
        if not frame.is_whole_frame:
            raise InvalidRequest(f"frame {frame_time:g} of shot {shot_id!r} is not analysed; send the whole "
                                 "frame so it can be analysed online")
        diagnostics.analysed_online = True
        with timer("online"):
            result = self._online.render(shot_id, frame_time, frame, frame_rate or DEFAULT_FRAME_RATE, params,
                                         diagnostics)
        return _outcome(result, diagnostics)

    def _renderer(self, shot_id: str, record: ShotRecord) -> ShotRenderer:
        with self._cache_lock:
            cached = self._renderers.get(shot_id)
            if cached is None or cached[0] != record.revision:
                cached = (record.revision, ShotRenderer(record.analysis, self._pipeline))
                self._renderers[shot_id] = cached
            return cached[1]

    def _render_neural(self, shot_id: str, renderer: ShotRenderer, seconds: float, frame: FrameInput,
                       params: EditParams):
        """One frame through the shot's neural renderer, carrying its autoregressive memory."""
        neural = self._neural_renderer(shot_id)
        key = (shot_id, params.face_index)
        with self._cache_lock:
            memory = self._memories.get(key)
        result, memory = renderer.render_neural(neural, memory, seconds, frame.pixels, frame.origin_xy,
                                                frame.render_scale, params)
        with self._cache_lock:
            self._memories[key] = memory
        return result

    def _neural_renderer(self, shot_id: str) -> NeuralRenderer:
        path = self._store.shot_dir(shot_id) / ONNX_NAME
        if not path.is_file():
            raise AnalysisMissing(f"shot {shot_id!r} has no trained neural renderer; train one first "
                                  "(TrainRenderer, or ned-emotion --renderer neural) or choose the warp renderer")
        stamp = path.stat().st_mtime
        with self._cache_lock:
            cached = self._neural.get(shot_id)
        if cached is None or cached[0] != stamp:
            cached = (stamp, NeuralRenderer.load(path.parent, device=self._device))
            with self._cache_lock:
                self._neural[shot_id] = cached
        return cached[1]

    def _forget_caches(self, shot_id: str) -> None:
        with self._cache_lock:
            self._renderers.pop(shot_id, None)
            self._neural.pop(shot_id, None)
            for key in [k for k in self._memories if k[0] == shot_id]:
                del self._memories[key]

    # ------------------------------------------------------------------------------------ training
    def train_renderer(self, request: ned_pb2.TrainRendererRequest,
                       is_cancelled: Callable[[], bool]) -> Iterator[ned_pb2.TrainProgress]:
        """Train the shot's neural renderer from the crops its analysis kept; stream progress."""
        shot_id = _check_shot_id(request.shot_id)
        record = self._store.get(shot_id)
        if record is None or record.mode != "full":
            raise AnalysisMissing(f"shot {shot_id!r} needs a full analysis with training frames before training")
        yield from self._jobs.train(shot_id, record.analysis, self._store.shot_dir(shot_id), request, is_cancelled)
        with self._cache_lock:
            self._neural.pop(shot_id, None)


class _StageTimer:
    """Adds the wall time of each `with timer(name)` block to diagnostics.stage_ms."""

    def __init__(self, diagnostics: ned_pb2.Diagnostics):
        self._diagnostics = diagnostics

    def __call__(self, name: str):
        return _Stage(self._diagnostics, name)


class _Stage:
    def __init__(self, diagnostics, name):
        self._diagnostics, self._name = diagnostics, name

    def __enter__(self):
        self._start = time.perf_counter()

    def __exit__(self, *exc):
        self._diagnostics.stage_ms[self._name] = (time.perf_counter() - self._start) * 1e3


def _chain(first, rest):
    yield first
    yield from rest


def _check_shot_id(shot_id: str) -> str:
    if not shot_id or len(shot_id) > 512:
        raise InvalidRequest("the first AnalyzeShot message must carry a shot_id of 1..512 characters")
    return shot_id


def _progress(shot_id: str, stage: str, done: int, total: int, fps: float) -> ned_pb2.AnalyzeShotProgress:
    return ned_pb2.AnalyzeShotProgress(shot_id=shot_id, stage=stage, frames_done=done, total_frames=total,
                                       fraction=min(done / total, 1.0) if total else 0.0, frames_per_second=fps)


def _frame_rate_of(record: ShotRecord) -> float:
    return float(record.extra.get("frame_rate", DEFAULT_FRAME_RATE))


def _frames(seconds: float, fps: float) -> float:
    return round(float(seconds) * fps, 6)


def _faces_at(shot: ShotAnalysis, seconds: float) -> int:
    i = shot.frame_index(seconds)
    return 0 if i is None else sum(int(track.present[i]) for track in shot.faces)


def _outcome(result, diagnostics: ned_pb2.Diagnostics) -> RenderOutcome:
    """The RPC's answer for a pipeline result (None or an empty placement: no face here)."""
    if result is None or result.placement[2] == 0 or result.placement[3] == 0:
        return RenderOutcome(None, (0, 0), None, diagnostics)
    diagnostics.face_found = True
    alpha = np.clip(np.rint(result.alpha * 255.0), 0, 255).astype(np.uint8)
    return RenderOutcome(result.patch, result.placement[:2], alpha, diagnostics)


def _inter_ocular(landmarks: np.ndarray) -> float:
    return float(np.mean(inter_ocular_distance(landmarks))) if len(landmarks) else 0.0

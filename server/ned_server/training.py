"""Neural renderer jobs: keep training crops during analysis, train on request, stream progress.

Training runs one at a time (torch's thread pool is process-wide and one run already uses every
core); a second request while one runs is refused with RESOURCE_EXHAUSTED instead of queueing for
minutes behind a deadline the client cannot see.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np

from ned_models.analysis.results import ShotAnalysis
from ned_models.errors import AnalysisMissing
from ned_models.neural.renderer_data import TrainingSet, TrainingSetWriter
from ned_models.neural.renderer_training import RendererTrainingConfig, TrainingProgress, TrainingResult, train_renderer
from ned_models.tracking.tracker import FaceTracker, TrackedFrame, TrackerOptions
from ned_server._gen.ned.v1 import ned_pb2
from ned_server.relay import Finished, relay

__all__ = ["TrainingBusy", "RecordingTracker", "RendererJobs", "TRAINED_FACE"]

logger = logging.getLogger(__name__)

TRAINED_FACE = 0  # the neural renderer is trained for the shot's largest face
_PROGRESS_EVERY_S = 1.0


class TrainingBusy(RuntimeError):
    """Another renderer training is running on this server."""


class RecordingTracker(FaceTracker):
    """A tracker that also hands every frame, with its largest face's landmarks, to a training-set
    writer, so a full analysis keeps what renderer training needs without the frames being sent twice.
    """

    def __init__(self, options: TrackerOptions, writer: TrainingSetWriter) -> None:
        super().__init__(options)
        self._writer = writer
        self._frames = 0

    def reset(self) -> None:
        super().reset()
        self._frames = 0

    def track(self, time: float, frame: np.ndarray) -> TrackedFrame:
        result = super().track(time, frame)
        face = next((f for f in result.faces if f.index == TRAINED_FACE), None)
        self._writer.add(self._frames, time, frame, None if face is None else face.points)
        self._frames += 1
        return result


class RendererJobs:
    """Runs TrainRenderer requests, one at a time."""

    def __init__(self) -> None:
        self._running = threading.Lock()

    def train(self, shot_id: str, analysis: ShotAnalysis, shot_dir: Path, request: ned_pb2.TrainRendererRequest,
              is_cancelled: Callable[[], bool]) -> Iterator[ned_pb2.TrainProgress]:
        """Train the shot's renderer into `shot_dir`, yielding progress; ends with stage "done".

        Raises:
            TrainingBusy: another training runs.
            AnalysisMissing: the shot has no training frames (analysed without keeping them).
        """
        if request.face_index != TRAINED_FACE:
            raise ValueError(f"the neural renderer is trained for face {TRAINED_FACE} (the largest); "
                             f"face {request.face_index} is not supported yet")
        if not self._running.acquire(blocking=False):
            raise TrainingBusy("another neural renderer is being trained on this server; try again when it ends")
        try:
            try:
                training_set = TrainingSet.open(shot_dir)
            except (FileNotFoundError, AnalysisMissing) as exc:
                raise AnalysisMissing(f"shot {shot_id!r} has no training frames: analyse it with "
                                      f"keep_training_frames (ned-emotion --renderer neural does) ({exc})") from None
            config = RendererTrainingConfig(time_budget_s=request.time_budget_seconds or None,
                                            device=request.device or "auto")
            yield from self._run(shot_id, training_set, analysis, config, shot_dir, request.resume, is_cancelled)
        finally:
            self._running.release()

    def _run(self, shot_id, training_set, analysis, config, shot_dir, resume, is_cancelled):
        last_sent = 0.0

        def job(emit: Callable[[TrainingProgress], None]) -> TrainingResult:
            return train_renderer(training_set, analysis, config, on_progress=emit, should_stop=is_cancelled,
                                  checkpoint_dir=shot_dir, resume=resume, face_index=TRAINED_FACE)

        for event in relay(job, f"train {shot_id}"):
            if isinstance(event, Finished):
                logger.info("renderer trained", extra={"shot": shot_id, "result": str(event.value)})
                yield ned_pb2.TrainProgress(shot_id=shot_id, stage="done", fraction=1.0,
                                            validation_psnr=_psnr(event.value.validation))
                return
            now = time.monotonic()
            if event.stage != "training" or now - last_sent >= _PROGRESS_EVERY_S:
                last_sent = now
                yield _progress(shot_id, event)


def _psnr(validation) -> float:
    return float(validation.neural_psnr) if validation is not None else 0.0


def _progress(shot_id: str, event: TrainingProgress) -> ned_pb2.TrainProgress:
    return ned_pb2.TrainProgress(shot_id=shot_id, stage=event.stage, step=event.step, fraction=event.fraction,
                                 train_loss=event.losses.g_total if event.losses is not None else 0.0,
                                 validation_psnr=_psnr(event.validation), elapsed_seconds=event.elapsed_s)

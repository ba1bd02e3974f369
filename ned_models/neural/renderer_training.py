"""Per-shot training of the neural face renderer: a time-budgeted, cancellable, resumable job.

    result = train_renderer(TrainingSet.open(shot_dir), analysis, RendererTrainingConfig(),
                            on_progress=report, should_stop=cancelled, resume=True)

The job trains G, D and Dm (`renderer_optimisation`) on the shot's own frames (self-reconstruction,
`renderer_samples`), `batch_size` sequences at a time, each frame generated autoregressively from the
sequence's previous outputs (detached, as NED: no backpropagation through time). It stops at the time
budget, at `max_steps`, or when `should_stop()` says so; it checkpoints atomically every
`checkpoint_every_s` and at the end (a cancelled job keeps its checkpoint and exports nothing), and
validates against the warp renderer alone (`renderer_validation`). Two kinds of blocks are held out
(`HoldOut`): validation during training measures the moving average of the generator's weights (see
`renderer_optimisation`) on the *selection* blocks and keeps the best one; the final validation
measures that one on the *test* blocks, which chose nothing. At the end the generator is saved
(`renderer_generator.pt`) and exported to ONNX (`renderer.onnx`, parity checked) in the shot
folder, which `NeuralRenderer.load` reads.

Defaults: CPU 15 min, batch 2, discriminator width 32, bfloat16 convolutions where supported, all
cores; CUDA 5 min, batch 8, width 64, samples built by a thread per sequence one step ahead.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from concurrent.futures import Executor, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import torch

from ned_models.analysis.results import ShotAnalysis
from ned_models.neural.conditioning import CHANNELS_PER_FRAME
from ned_models.neural.networks import CompactGeneratorConfig
from ned_models.neural.renderer_checkpoint import (
    CHECKPOINT_NAME,
    GENERATOR_NAME,
    ONNX_NAME,
    export_renderer,
    load_training_checkpoint,
    save_training_checkpoint,
)
from ned_models.neural.renderer_data import HoldOut, TrainingSet
from ned_models.neural.renderer_optimisation import (
    LossWeights,
    RendererNetworks,
    StepLosses,
    supports_bfloat16,
)
from ned_models.neural.renderer_samples import ReferencePicker, ShotSamples, TrainingSequences
from ned_models.neural.renderer_validation import ValidationResult, generator_render, validate

__all__ = ["RendererTrainingConfig", "TrainingProgress", "TrainingResult", "train_renderer", "CHECKPOINT_NAME",
           "GENERATOR_NAME", "ONNX_NAME", "resolve_device"]

logger = logging.getLogger(__name__)

_MOUTH_FRACTION = 72 / 256  # NED's mouth square at 256


@dataclass(frozen=True)
class RendererTrainingConfig:
    """Training settings; None means the default for the device (CPU / CUDA).

    Attributes:
        time_budget_s: training time of this run (900 / 300); validation and export come after.
        device: "auto" (CUDA if available), "cpu", "cuda" or "cuda:N".
        max_steps: stop after this many steps in total (None: only the budget).
        batch_size: sequences trained side by side (2 / 8).
        generator: G's architecture (10 channels per conditioning frame).
        ndf: the discriminators' first width (32 / 64; NED 64).
        losses: G's loss weights.
        lr: Adam learning rate (NED 2e-4).
        average_decay: of the moving average of G's weights that is validated and exported.
        hold_out: which frames validation keeps.
        reference_offset_s: training references lie this far from their target (uniform, either side).
        validation_offset_s: validation references lie this far from their frame.
        sequence_frames: length range of a training sequence (NED grows 12 -> 48).
        validate_every_s: seconds between validations during training (each may pick the exported weights).
        validation_frames: selection frames measured by those (the final validation measures every test frame).
        checkpoint_every_s: seconds between checkpoints.
        threads: torch CPU threads (None: the faster of 1 and every core, timed at the start).
        sample_threads: threads building training and validation samples ahead of the step (None:
            CUDA one per sequence of the batch, up to the cores; CPU 0, the cores train the networks).
        bfloat16: bfloat16 convolutions (None: where the device runs them fast).
        seed: seeds torch and the sequence sampler.
        landmarks: which landmarks make the training geometry ("raw" or "smoothed", see
            `ShotSamples`).
        feedback_dropout: probability that a frame is trained with its previous outputs zeroed,
            as after a reset. Hosts often render out of order (a reset at every seek), so the
            network must do well without its history; and without dropout it leans on the history
            (synthetic test shot, 240 steps: 26.9 dB held out with none, 27.1 dB with 0.5).
    """

    time_budget_s: float | None = None
    device: str = "auto"
    max_steps: int | None = None
    batch_size: int | None = None
    generator: CompactGeneratorConfig = field(default_factory=CompactGeneratorConfig)
    ndf: int | None = None
    losses: LossWeights = field(default_factory=LossWeights)
    lr: float = 2e-4
    average_decay: float = 0.99
    hold_out: HoldOut = field(default_factory=HoldOut)
    reference_offset_s: tuple[float, float] = (0.08, 0.5)
    validation_offset_s: float = 0.2
    sequence_frames: tuple[int, int] = (8, 32)
    validate_every_s: float = 60.0
    validation_frames: int = 30
    checkpoint_every_s: float = 60.0
    threads: int | None = None
    sample_threads: int | None = None
    bfloat16: bool | None = None
    seed: int = 0
    landmarks: str = "raw"
    feedback_dropout: float = 0.5

    def __post_init__(self) -> None:
        if self.generator.channels_per_frame != CHANNELS_PER_FRAME:
            raise ValueError(f"the generator must take {CHANNELS_PER_FRAME} channels per frame")
        if self.time_budget_s is not None and self.time_budget_s <= 0:
            raise ValueError(f"time_budget_s must be > 0, got {self.time_budget_s}")
        if self.sample_threads is not None and self.sample_threads < 0:
            raise ValueError(f"sample_threads must be >= 0, got {self.sample_threads}")
        low, high = self.reference_offset_s
        if not 0 < low <= high:
            raise ValueError(f"reference_offset_s must be 0 < low <= high, got {self.reference_offset_s}")
        if not 1 <= self.sequence_frames[0] <= self.sequence_frames[1]:
            raise ValueError(f"sequence_frames must be 1 <= low <= high, got {self.sequence_frames}")

    def for_device(self, device: torch.device) -> RendererTrainingConfig:
        """This config with every None filled in for `device`."""
        gpu = device.type == "cuda"
        batch = self.batch_size or (8 if gpu else 2)
        sample_threads = self.sample_threads
        if sample_threads is None:
            sample_threads = min(batch, os.cpu_count() or 1) if gpu else 0
        return replace(
            self,
            time_budget_s=self.time_budget_s or (300.0 if gpu else 900.0),
            batch_size=batch,
            ndf=self.ndf or (64 if gpu else 32),
            sample_threads=sample_threads,
            bfloat16=supports_bfloat16(device) if self.bfloat16 is None else self.bfloat16,
        )


@dataclass(frozen=True)
class TrainingProgress:
    """What a progress callback receives (the proto's TrainProgress, plus the loss terms).

    Attributes:
        stage: "preparing", "training", "validating", "exporting" or "done".
        step: optimisation steps so far (over all resumed runs).
        fraction: of this run's time budget.
        elapsed_s: seconds of training so far, over all runs.
        losses: the last step's losses (None before the first step).
        validation: the latest validation (None before the first).
    """

    stage: str
    step: int
    fraction: float
    elapsed_s: float
    losses: StepLosses | None = None
    validation: ValidationResult | None = None


@dataclass(frozen=True)
class TrainingResult:
    """How a training run ended.

    Attributes:
        steps: total optimisation steps (over all resumed runs); run_steps: in this run.
        elapsed_s: training seconds over all runs; steps_per_s: this run's speed.
        stopped: "budget", "max_steps" or "cancelled".
        validation: the final validation of the exported weights on every test frame (None when cancelled).
        selection: their validation on the selection frames, which chose them (None when cancelled).
        selected_step: the step they were averaged up to (None when cancelled).
        checkpoint_path: the training checkpoint (resume from it).
        generator_path, onnx_path: the trained generator and its export (None when cancelled).
        device: the torch device trained on.
    """

    steps: int
    run_steps: int
    elapsed_s: float
    steps_per_s: float
    stopped: str
    validation: ValidationResult | None
    selection: ValidationResult | None
    selected_step: int | None
    checkpoint_path: Path
    generator_path: Path | None
    onnx_path: Path | None
    device: str


def resolve_device(name: str) -> torch.device:
    """"auto" -> CUDA when available, else CPU; "cuda" without CUDA is an error."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    device = torch.device(name)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device {name!r} asked for, but torch has no CUDA here")
    if device.type not in ("cpu", "cuda"):
        raise ValueError(f"device must be 'auto', 'cpu' or 'cuda[:N]', got {name!r}")
    return device


def _mouth_box(size: int) -> int:
    return max(8, int(round(_MOUTH_FRACTION * size)))


def _usable_runs(runs: tuple[np.ndarray, ...], usable: np.ndarray) -> tuple[np.ndarray, ...]:
    """Split runs where the face is missing (from the analysis), dropping those frames."""
    pieces = []
    for run in runs:
        keep = usable[run]
        for piece in np.split(run, np.flatnonzero(np.diff(keep.astype(int)) != 0) + 1):
            if len(piece) and usable[piece[0]]:
                pieces.append(piece)
    return tuple(pieces)


@dataclass
class _Job:
    """What a run works with (internal)."""

    config: RendererTrainingConfig
    device: torch.device
    samples: ShotSamples
    networks: RendererNetworks
    sequences: TrainingSequences
    selection_runs: tuple[np.ndarray, ...]
    test_runs: tuple[np.ndarray, ...]
    validation_picker: ReferencePicker
    checkpoint_path: Path
    on_progress: Callable[[TrainingProgress], None]
    pool: Executor | None = None
    step: int = 0
    elapsed_before: float = 0.0

    def validate(self, runs: tuple[np.ndarray, ...], max_frames: int | None, exact: bool = False) -> ValidationResult:
        generator = self.config.generator
        return validate(generator_render(self.networks, self.device, exact), self.samples, runs,
                        self.validation_picker, self.config.validation_offset_s, generator.n_frames,
                        generator.n_previous, max_frames, self.pool)

    def select(self) -> ValidationResult:
        """Validate the current average on the selection frames; remember it if it is the best so far."""
        validation = self.validate(self.selection_runs, self.config.validation_frames)
        self.networks.remember_if_best(self.step, validation.neural_psnr)
        return validation


def _prepare(training_set: TrainingSet, analysis: ShotAnalysis, config: RendererTrainingConfig, device: torch.device,
             face_index: int, checkpoint_dir: Path, resume: bool, on_progress: Callable[[TrainingProgress], None],
             pool: Executor | None) -> _Job:
    torch.manual_seed(config.seed)
    samples = ShotSamples(training_set, analysis, face_index, landmarks=config.landmarks)
    split = training_set.split(config.hold_out, breaks=samples.breaks)
    train_runs = _usable_runs(split.train_runs, samples.usable)
    test_runs = _usable_runs(split.validation_runs, samples.usable)
    if not train_runs or not test_runs:
        raise ValueError("the face is missing from every training or every test frame")
    selection_runs = _usable_runs(split.selection_runs, samples.usable)
    if not selection_runs:
        logger.warning("no selection frames: the test frames choose the exported weights (their score is biased)")
        selection_runs = test_runs
    train_positions = np.concatenate(train_runs)
    networks = RendererNetworks(config.generator, config.ndf, _mouth_box(samples.size),
                                lr=config.lr, bfloat16=config.bfloat16, average_decay=config.average_decay).to(device)
    job = _Job(config=config, device=device, samples=samples, networks=networks,
               sequences=TrainingSequences(
                   samples, train_runs, ReferencePicker(training_set.time, train_positions),
                   batch_size=config.batch_size, n_frames=config.generator.n_frames,
                   n_previous=config.generator.n_previous, sequence_frames=config.sequence_frames,
                   offset_range_s=config.reference_offset_s, feedback_dropout=config.feedback_dropout,
                   mouth_box=_mouth_box(samples.size), rng=np.random.default_rng(config.seed), pool=pool),
               selection_runs=selection_runs, test_runs=test_runs,
               validation_picker=ReferencePicker(training_set.time, np.unique(np.concatenate(
                   [train_positions, *test_runs, *selection_runs]))),
               checkpoint_path=checkpoint_dir / CHECKPOINT_NAME, on_progress=on_progress, pool=pool)
    if resume and job.checkpoint_path.exists():
        job.step, job.elapsed_before = load_training_checkpoint(job.checkpoint_path, networks)
        job.sequences.rng = np.random.default_rng([config.seed, job.step])
        logger.info("resuming renderer training at step %d (%.0f s trained)", job.step, job.elapsed_before)
    logger.info("renderer training on %s: %d training frames in %d runs, %d selection and %d test frames held "
                "out; config %s", device, len(train_positions), len(train_runs), sum(len(r) for r in selection_runs),
                sum(len(r) for r in test_runs), config)
    return job


def _step(job: _Job) -> StepLosses:
    outputs, losses = job.networks.train_step(job.sequences.next_batch(job.device), job.config.losses)
    job.sequences.feed_back(outputs)
    job.step += 1
    return losses


def _tune_threads(job: _Job, steps: int = 2) -> tuple[int, StepLosses]:
    """Train a few steps with one thread and with every core and keep the faster (returns steps run).

    On a machine shared with other work, OpenMP threads that wait for a descheduled sibling make
    two threads several times slower than one (measured here: 4-5.7 s against 0.75 s a step at a
    load average of 5 on 2 cores); on an idle machine all cores win.
    """
    timings, losses = {}, None
    for threads in sorted({1, os.cpu_count() or 1}):
        torch.set_num_threads(threads)
        losses = _step(job)  # the first step at a thread count sets up its kernels
        start = time.monotonic()
        for _ in range(steps):
            losses = _step(job)
        timings[threads] = (time.monotonic() - start) / steps
    best = min(timings, key=timings.get)
    torch.set_num_threads(best)
    logger.info("CPU threads: %d (seconds per step: %s)", best,
                ", ".join(f"{n} threads {t:.2f}" for n, t in timings.items()))
    return len(timings) * (steps + 1), losses


def _train(job: _Job, should_stop: Callable[[], bool]) -> tuple[str, int, float]:
    """The step loop; returns (why it stopped, steps run, seconds run)."""
    config = job.config
    start = time.monotonic()
    validation = job.select()  # the starting weights compete too (untrained: exactly the warp renderer)
    job.on_progress(TrainingProgress("training", job.step, 0.0, job.elapsed_before, None, validation))
    run_steps, losses = 0, None
    if job.device.type == "cpu":
        if config.threads is None:
            run_steps, losses = _tune_threads(job)
        else:
            torch.set_num_threads(config.threads)
    last_checkpoint = last_validation = time.monotonic()
    while True:
        now = time.monotonic()
        if should_stop():
            stopped = "cancelled"
            break
        if now - start >= config.time_budget_s:
            stopped = "budget"
            break
        if config.max_steps is not None and job.step >= config.max_steps:
            stopped = "max_steps"
            break
        losses = _step(job)
        run_steps += 1
        now = time.monotonic()
        if now - last_checkpoint >= config.checkpoint_every_s:
            save_training_checkpoint(job.checkpoint_path, job.networks, job.step, job.elapsed_before + now - start)
            last_checkpoint = now
        if now - last_validation >= config.validate_every_s:
            validation = job.select()
            last_validation = time.monotonic()
            logger.info("step %d: selection PSNR %.2f dB (warp alone %.2f dB; best %.2f dB at step %d)", job.step,
                        validation.neural_psnr, validation.warp_psnr, job.networks.best[1], job.networks.best[0])
        job.on_progress(TrainingProgress("training", job.step, min((now - start) / config.time_budget_s, 1.0),
                                         job.elapsed_before + now - start, losses, validation))
    if stopped != "cancelled":
        job.select()  # the last weights compete too
    seconds = time.monotonic() - start
    save_training_checkpoint(job.checkpoint_path, job.networks, job.step, job.elapsed_before + seconds)
    return stopped, run_steps, seconds


def train_renderer(training_set: TrainingSet, analysis: ShotAnalysis, config: RendererTrainingConfig | None = None,
                   on_progress: Callable[[TrainingProgress], None] | None = None,
                   should_stop: Callable[[], bool] | None = None, checkpoint_dir: str | os.PathLike[str] | None = None,
                   resume: bool = False, face_index: int = 0) -> TrainingResult:
    """Train (or continue training) the shot's neural renderer and export it.

    Args:
        training_set: the shot's stored crops (`TrainingSet.open(shot_dir)`).
        analysis: the shot's face analysis (the one the training set was written with).
        config: settings (defaults for the device).
        on_progress: called after every step and at every stage change.
        should_stop: polled before every step; True stops the run (cancel), keeping the checkpoint.
        checkpoint_dir: where the checkpoint, the generator and the ONNX export go (default: the
            shot folder, the training set's parent).
        resume: continue from the checkpoint there, if one exists (same architecture).
        face_index: the face to train on.

    Returns:
        How it ended, with the final validation and the exported model's path.

    Raises:
        AnalysisMissing: the training set and the analysis do not belong together.
        CheckpointError: resume with a damaged checkpoint or one of another architecture.
        ValueError: a bad config or device, or too few frames.
    """
    report = on_progress or (lambda progress: None)
    directory = Path(checkpoint_dir) if checkpoint_dir is not None else training_set.directory.parent
    report(TrainingProgress("preparing", 0, 0.0, 0.0))
    saved_threads = torch.get_num_threads()
    config = config or RendererTrainingConfig()
    device = resolve_device(config.device)
    config = config.for_device(device)
    pool = ThreadPoolExecutor(config.sample_threads, "renderer-samples") if config.sample_threads else None
    try:
        job = _prepare(training_set, analysis, config, device, face_index, directory, resume, report, pool)
        stopped, run_steps, seconds = _train(job, should_stop or (lambda: False))
        elapsed = job.elapsed_before + seconds
        validation = selection = selected_step = generator_path = onnx_path = None
        if stopped != "cancelled":
            report(TrainingProgress("validating", job.step, 1.0, elapsed))
            selected_step = job.networks.restore_best()
            selection = job.validate(job.selection_runs, job.config.validation_frames, exact=True)
            validation = job.validate(job.test_runs, None, exact=True)
            logger.info("exporting the average of step %d: test PSNR %.2f dB (warp alone %.2f dB)", selected_step,
                        validation.neural_psnr, validation.warp_psnr)
            report(TrainingProgress("exporting", job.step, 1.0, elapsed, validation=validation))
            layout = job.samples.training_set.layout
            generator_path, onnx_path = export_renderer(job.networks.average, directory, layout)
        report(TrainingProgress("done", job.step, 1.0, elapsed, validation=validation))
    finally:
        torch.set_num_threads(saved_threads)
        if pool is not None:
            pool.shutdown(cancel_futures=True)
    return TrainingResult(steps=job.step, run_steps=run_steps, elapsed_s=elapsed,
                          steps_per_s=run_steps / max(seconds, 1e-9), stopped=stopped, validation=validation,
                          selection=selection, selected_step=selected_step,
                          checkpoint_path=job.checkpoint_path, generator_path=generator_path, onnx_path=onnx_path,
                          device=str(job.device))

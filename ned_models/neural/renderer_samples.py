"""Training and validation samples of the neural renderer, built from a shot's training set.

Self-reconstruction: the target is a real frame of the shot; the network gets that frame's geometry
(NMFC, eyes, mask, from the analysis's smoothed landmarks mapped into the frame's crop) and, as its
warped source, a *different* frame of the shot moved onto the target's geometry by the warp
renderer. The reference is the stored frame nearest `offset` seconds away (`ReferencePicker`):
near enough that the head pose is about the same, as between a frame and its edit, far enough that
expression, mouth and lids differ. Training references come from the training frames only.

Frames are rendered in sequences, as NED trains: each sequence keeps the conditioning of its last
`n_frames` frames and its own last `n_previous` outputs (`SequenceState`); a sequence starts (and
after a reset restarts) with the current conditioning repeated and the previous outputs at zero
(-1 in image values would be black; NED feeds zeros).
"""

from __future__ import annotations

from collections import deque
from concurrent.futures import Executor, Future
from dataclasses import dataclass

import numpy as np
import torch

from ned_models.analysis.results import ShotAnalysis
from ned_models.conventions import as_float_image
from ned_models.errors import AnalysisMissing
from ned_models.landmarks import LIPS_OUTER
from ned_models.neural.conditioning import FaceConditioner, frame_channels, warp_reference
from ned_models.neural.face_crop import transform_points
from ned_models.neural.renderer_data import TrainingSet
from ned_models.neural.renderer_optimisation import RendererBatch
from ned_models.render import WarpTopology, build_topology

__all__ = ["FrameSample", "ShotSamples", "ReferencePicker", "SequenceState", "TrainingSequences", "mouth_box"]


@dataclass(frozen=True)
class FrameSample:
    """One frame as the networks see it, all (C, S, S) float32.

    Attributes:
        conditioning: (10, S, S) [0, 1] in `conditioning.CHANNELS` order.
        source: (3, S, S) [-1, 1] the warped source.
        mask: (1, S, S) {0, 1}.
        target: (3, S, S) [-1, 1] the real frame inside the mask, -1 outside (NED's masked target).
        mouth_xy: (2,) crop pixels of the mouth centre (median of the outer lip points).
    """

    conditioning: np.ndarray
    source: np.ndarray
    mask: np.ndarray
    target: np.ndarray
    mouth_xy: np.ndarray


def mouth_box(mouth_xy: np.ndarray, box: int, size: int) -> tuple[int, int]:
    """Top-left (x, y) of a `box`-pixel square centred on the mouth, kept inside the crop."""
    x, y = (int(round(v - box / 2)) for v in mouth_xy)
    return min(max(x, 0), size - box), min(max(y, 0), size - box)


class ShotSamples:
    """Builds samples of one face of one shot.

    Args:
        training_set: the shot's stored crops.
        analysis: the shot's face analysis (smoothed landmarks, identity, scene cuts).
        face_index: the trained face.
        conditioner: draws the geometry images (one per process).
        landmarks: "raw" (the tracker's per-frame landmarks: they follow the mouth exactly, and
            measured on a talking clip their warps of neighbouring frames are 1.3-2 dB closer to
            the real frame than with the smoothed ones, which lag fast speech) or "smoothed".

    Raises:
        AnalysisMissing: the training set does not belong to this analysis (frame times differ) or
            the face is missing from too many of its frames.
    """

    def __init__(self, training_set: TrainingSet, analysis: ShotAnalysis, face_index: int = 0,
                 conditioner: FaceConditioner | None = None, landmarks: str = "raw") -> None:
        if landmarks not in ("raw", "smoothed"):
            raise ValueError(f"landmarks must be 'raw' or 'smoothed', got {landmarks!r}")
        if not 0 <= face_index < len(analysis.faces):
            raise AnalysisMissing(f"the analysis has {len(analysis.faces)} face(s); no face {face_index}")
        track = analysis.faces[face_index]
        index = training_set.frame_index
        if index.max() >= len(analysis.times) or np.any(np.abs(analysis.times[index] - training_set.time) > 1e-3):
            raise AnalysisMissing(f"{training_set.directory}: the training set's frames are not the analysis's "
                                  "(the shot was analysed again); analyse the shot again to rebuild it")
        per_frame = track.raw_landmarks if landmarks == "raw" else track.landmarks
        present = track.present[index] & np.all(np.isfinite(per_frame[index]), axis=(1, 2))
        if present.sum() < 2:
            raise AnalysisMissing(f"face {face_index} is tracked in {int(present.sum())} of the training frames")
        self.training_set = training_set
        self.size = training_set.layout.size
        self.conditioner = conditioner or FaceConditioner(self.size)
        self.usable = present
        self.points = np.stack([
            transform_points(training_set.crop_from_frame[p], per_frame[i].astype(np.float64))
            if present[p] else np.full((track.landmarks.shape[1], 3), np.nan)
            for p, i in enumerate(index)])
        self.breaks = analysis.scene_cuts[index].copy()
        self.topology: WarpTopology = build_topology(track.identity[:, :2])

    def image(self, position: int) -> np.ndarray:
        """(S, S, 3) float32 [0, 1] stored crop."""
        return as_float_image(self.training_set.crop(position))

    def frame(self, position: int, reference: int) -> FrameSample:
        """The sample of frame `position` with frame `reference` as its warped source."""
        points = self.points[position]
        geometry = self.conditioner.geometry(points)
        warped = as_float_image(warp_reference(self.training_set.crop(reference), self.points[reference], points,
                                               self.topology))
        mask = geometry.mask[None]
        target = self.image(position).transpose(2, 0, 1) * 2.0 - 1.0
        return FrameSample(
            conditioning=frame_channels(geometry, warped),
            source=warped.transpose(2, 0, 1) * 2.0 - 1.0,
            mask=mask,
            target=target * mask - (1.0 - mask),
            mouth_xy=np.median(points[list(LIPS_OUTER), :2], axis=0),
        )


class ReferencePicker:
    """Chooses the reference frame of a target frame: the candidate nearest `offset` seconds away.

    Args:
        times: (N,) seconds of every stored frame.
        candidates: positions that may serve as references.
    """

    def __init__(self, times: np.ndarray, candidates: np.ndarray) -> None:
        if len(candidates) < 1:
            raise ValueError("no reference candidates")
        self._times = np.asarray(times, dtype=np.float64)
        self._candidates = np.asarray(candidates)

    def pick(self, position: int, offset_s: float) -> int:
        """Reference position for `position`; the offset's sign flips when it would leave the shot."""
        wanted = self._times[position] + offset_s
        if not self._times[0] <= wanted <= self._times[-1]:
            wanted = self._times[position] - offset_s
        distance = np.abs(self._times[self._candidates] - wanted)
        distance[self._candidates == position] = np.inf
        return int(self._candidates[int(np.argmin(distance))])


class SequenceState:
    """The autoregressive inputs of one sequence: last conditioning frames and last outputs.

    Args:
        n_frames: conditioning frames the generator takes (current included).
        n_previous: previous outputs it takes.
    """

    def __init__(self, n_frames: int, n_previous: int) -> None:
        self.n_frames = n_frames
        self.n_previous = n_previous
        self._conditioning: deque[np.ndarray] = deque(maxlen=n_frames)
        self._outputs: deque[np.ndarray] = deque(maxlen=max(n_previous, 1))

    def reset(self) -> None:
        """Forget the sequence (a new sequence, a cut, a jump in time)."""
        self._conditioning.clear()
        self._outputs.clear()

    def push_conditioning(self, conditioning: np.ndarray) -> np.ndarray:
        """Add the current frame's (C, S, S) conditioning; returns the window (n_frames * C, S, S), oldest first."""
        if not self._conditioning:
            self._conditioning.extend([conditioning] * self.n_frames)
        else:
            self._conditioning.append(conditioning)
        return np.concatenate(list(self._conditioning))

    def previous(self, size: int) -> np.ndarray:
        """(3 * n_previous, S, S) float32 [-1, 1] previous outputs, oldest first, zeros where missing."""
        missing = [np.zeros((3, size, size), np.float32)] * (self.n_previous - len(self._outputs))
        kept = list(self._outputs)[-self.n_previous:] if self.n_previous else []
        return np.concatenate(missing + kept) if self.n_previous else np.zeros((0, size, size), np.float32)

    def push_output(self, output: np.ndarray) -> None:
        """Remember the (3, S, S) [-1, 1] output just generated."""
        if self.n_previous:
            self._outputs.append(np.asarray(output, dtype=np.float32))

    def snapshot(self) -> tuple[tuple[np.ndarray, ...], tuple[np.ndarray, ...]]:
        """(conditioning frames, outputs), oldest first, to keep between calls."""
        return tuple(self._conditioning), tuple(self._outputs)

    def restore(self, conditioning: tuple[np.ndarray, ...], outputs: tuple[np.ndarray, ...]) -> None:
        """Continue from a `snapshot()`."""
        self.reset()
        self._conditioning.extend(conditioning)
        self._outputs.extend(outputs)


@dataclass(frozen=True)
class _PlannedFrame:
    """One sequence's next frame, decided before its sample is built (the sample may build in a worker)."""

    position: int
    reference: int
    restart: bool
    zero_previous: bool


class TrainingSequences:
    """`batch_size` training sequences advanced one frame per step, each restarted at its end.

    A sequence is a random stretch (length in `sequence_frames`) of a training run, with one
    reference offset (uniform magnitude in `offset_range_s`, either side) for all its frames.

    Building a sample (geometry images, warped reference) is CPU work that does not depend on the
    network's outputs. With a `pool`, the batch's samples are built side by side, and the next
    batch's are started as soon as this one is handed out, so they build while the device trains
    (on a GPU the samples, not the networks, set the pace: one thread gave 0.35 s of samples
    against 0.07 s of training per step of 8 on an H100). The random draws happen in the calling
    thread, in the same order with or without a pool.

    Args:
        samples: the shot's samples.
        runs: training runs (contiguous positions).
        picker: chooses references among the training frames.
        batch_size, n_frames, n_previous: the batch and the generator's windows.
        sequence_frames: (shortest, longest) sequence.
        offset_range_s: (smallest, largest) reference offset in seconds.
        feedback_dropout: probability of zeroing a frame's previous outputs.
        mouth_box: side of the mouth square in pixels.
        rng: the random source (seeded by the caller).
        pool: threads that build samples (None: built in the calling thread, when needed).
    """

    def __init__(self, samples: ShotSamples, runs: tuple[np.ndarray, ...], picker: ReferencePicker, *,
                 batch_size: int, n_frames: int, n_previous: int, sequence_frames: tuple[int, int],
                 offset_range_s: tuple[float, float], feedback_dropout: float, mouth_box: int,
                 rng: np.random.Generator, pool: Executor | None = None) -> None:
        self.samples, self.runs, self.picker, self.rng, self.pool = samples, runs, picker, rng, pool
        lengths = np.array([len(run) for run in runs], dtype=np.float64)
        self._weights = lengths / lengths.sum()
        self.states = [SequenceState(n_frames, n_previous) for _ in range(batch_size)]
        self._positions: list[list[int]] = [[] for _ in range(batch_size)]
        self._offsets = np.zeros(batch_size)
        self.sequence_frames, self.offset_range_s = sequence_frames, offset_range_s
        self.feedback_dropout, self.box = feedback_dropout, mouth_box
        self._prefetched: tuple[list[_PlannedFrame], list[Future[FrameSample]]] | None = None

    def _restart(self, item: int) -> None:
        run = self.runs[self.rng.choice(len(self.runs), p=self._weights)]
        length = min(int(self.rng.integers(self.sequence_frames[0], self.sequence_frames[1] + 1)), len(run))
        start = int(self.rng.integers(0, len(run) - length + 1))
        self._positions[item] = [int(p) for p in run[start:start + length]]
        self._offsets[item] = self.rng.uniform(*self.offset_range_s) * self.rng.choice((-1.0, 1.0))

    def _plan(self) -> list[_PlannedFrame]:
        """Every sequence's next frame (all random draws of a step, item by item)."""
        plan = []
        for item in range(len(self.states)):
            restart = not self._positions[item]
            if restart:
                self._restart(item)
            position = self._positions[item].pop(0)
            reference = self.picker.pick(position, self._offsets[item])
            plan.append(_PlannedFrame(position, reference, restart, self.rng.random() < self.feedback_dropout))
        return plan

    def _submit(self, plan: list[_PlannedFrame]) -> tuple[list[_PlannedFrame], list[Future[FrameSample]]]:
        assert self.pool is not None
        return plan, [self.pool.submit(self.samples.frame, entry.position, entry.reference) for entry in plan]

    def _take(self) -> tuple[list[_PlannedFrame], list[FrameSample]]:
        """This step's plan and samples; with a pool, also starts building the next step's."""
        if self.pool is None:
            plan = self._plan()
            return plan, [self.samples.frame(entry.position, entry.reference) for entry in plan]
        plan, futures = self._prefetched or self._submit(self._plan())
        self._prefetched = self._submit(self._plan())
        return plan, [future.result() for future in futures]

    def next_batch(self, device: torch.device) -> RendererBatch:
        """The next frame of every sequence, as tensors on `device`."""
        plan, built = self._take()
        parts: dict[str, list[np.ndarray]] = {key: [] for key in ("conditioning", "previous", "source", "mask",
                                                                 "target")}
        boxes = []
        for state, entry, sample in zip(self.states, plan, built, strict=True):
            if entry.restart:
                state.reset()
            parts["conditioning"].append(state.push_conditioning(sample.conditioning))
            previous = state.previous(self.samples.size)
            parts["previous"].append(np.zeros_like(previous) if entry.zero_previous else previous)
            parts["source"].append(sample.source)
            parts["mask"].append(sample.mask)
            parts["target"].append(sample.target)
            boxes.append(mouth_box(sample.mouth_xy, self.box, self.samples.size))
        tensors = {key: torch.from_numpy(np.stack(value).astype(np.float32, copy=False)).to(device)
                   for key, value in parts.items()}
        return RendererBatch(mouth_boxes=tuple(boxes), **tensors)

    def feed_back(self, outputs: torch.Tensor) -> None:
        """Give every sequence its output (B, 3, S, S) for the next frame's previous inputs."""
        for state, output in zip(self.states, outputs.cpu().numpy(), strict=True):
            state.push_output(output)

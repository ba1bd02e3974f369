"""Held-out validation of the neural renderer against the warp renderer alone, on the face region.

Each held-out block is rendered as a sequence, autoregressively from a reset (the network sees its
own previous outputs, never the real frames). For every frame both renderers get the same reference
frame (`ReferencePicker` at `offset_s`): the warp renderer's answer is that reference warped onto the
frame's geometry (the network's warped-source input), the neural renderer's is the network's output.
PSNR is measured in the aligned crop on the face mask (values on a 0..1 scale), per frame, and
averaged over frames in dB.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass

import numpy as np
import torch

from ned_models.neural.renderer_samples import ReferencePicker, SequenceState, ShotSamples

__all__ = ["ValidationResult", "masked_psnr", "validate"]

Render = Callable[[np.ndarray, np.ndarray, np.ndarray, np.ndarray], np.ndarray]


@dataclass(frozen=True)
class ValidationResult:
    """PSNR of both renderers on the same held-out frames and references.

    Attributes:
        neural_psnr: dB, mean over frames, face region.
        warp_psnr: dB, the warped reference alone.
        frames: number of frames measured.
        mean_offset_s: mean |time(reference) - time(frame)|.
    """

    neural_psnr: float
    warp_psnr: float
    frames: int
    mean_offset_s: float


def masked_psnr(prediction: np.ndarray, target: np.ndarray, mask: np.ndarray) -> float:
    """PSNR (dB) of two (3, S, S) [-1, 1] images over the pixels where `mask` (1, S, S) is 1, on a 0..1 scale."""
    weights = np.broadcast_to(mask, prediction.shape)
    count = float(weights.sum())
    if count == 0:
        raise ValueError("empty mask: no face pixels to measure")
    mse = float((weights * ((prediction - target) * 0.5) ** 2).sum() / count)
    return float(10.0 * np.log10(1.0 / max(mse, 1e-12)))


def generator_render(networks, device: torch.device, exact: bool = False) -> Render:
    """A `Render` calling the training networks' generator (float32 out, no gradients; see `render`)."""

    def render(conditioning: np.ndarray, previous: np.ndarray, source: np.ndarray, mask: np.ndarray) -> np.ndarray:
        tensors = [torch.from_numpy(np.ascontiguousarray(a)[None]).to(device)
                   for a in (conditioning, previous, source, mask)]
        return networks.render(*tensors, exact=exact)[0].cpu().numpy()

    return render


def _truncated(runs: Sequence[np.ndarray], max_frames: int | None) -> list[np.ndarray]:
    """The runs' first `max_frames` positions in all, whole runs first."""
    kept, total = [], 0
    for run in runs:
        take = run if max_frames is None else run[:max(0, max_frames - total)]
        if len(take):
            kept.append(take)
            total += len(take)
    return kept


def validate(render: Render, samples: ShotSamples, runs: Sequence[np.ndarray], picker: ReferencePicker,
             offset_s: float, n_frames: int, n_previous: int, max_frames: int | None = None,
             pool: Executor | None = None) -> ValidationResult:
    """Render the held-out runs and measure both renderers.

    Args:
        render: (conditioning, previous, source, mask) -> output, one frame, (C, S, S) arrays.
        samples: the shot's samples.
        runs: held-out blocks, each a sequence of positions.
        picker: chooses each frame's reference.
        offset_s: reference offset in seconds.
        n_frames, n_previous: the generator's conditioning window and feedback length.
        max_frames: stop after this many frames (whole runs first; None = all).
        pool: threads that build a run's samples side by side (None: one by one, here).
    """
    neural, warp, offsets = [], [], []
    state = SequenceState(n_frames, n_previous)
    for run in _truncated(runs, max_frames):
        state.reset()
        positions = [int(position) for position in run]
        references = [picker.pick(position, offset_s) for position in positions]
        built = (pool.map if pool is not None else map)(samples.frame, positions, references)
        for position, reference, sample in zip(positions, references, built, strict=True):
            window = state.push_conditioning(sample.conditioning)
            output = render(window, state.previous(samples.size), sample.source, sample.mask)
            state.push_output(output)
            neural.append(masked_psnr(output, sample.target, sample.mask))
            warp.append(masked_psnr(sample.source * sample.mask - (1.0 - sample.mask), sample.target, sample.mask))
            offsets.append(abs(samples.training_set.time[reference] - samples.training_set.time[position]))
    if not neural:
        raise ValueError("no validation frames")
    return ValidationResult(neural_psnr=float(np.mean(neural)), warp_psnr=float(np.mean(warp)), frames=len(neural),
                            mean_offset_s=float(np.mean(offsets)))

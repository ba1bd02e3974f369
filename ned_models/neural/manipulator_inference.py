"""Running a trained manipulator on a whole clip: styles, sliding windows and NED's temporal stitching.

ned_facts §2.6: every 10-frame window (hop 1) is translated; outputs are overlap-added with a
normalised Gaussian of length 10 (OpenCV's getGaussianKernel(10, 0)), then the first and last 9 frames are
taken from the first and last windows' raw outputs. A label's style is F(z, y); a reference clip's
style is the geometric median of E over its windows. Unlike NED (which draws z unseeded), z comes
from a seed here, so an edit renders the same every time.
"""

from __future__ import annotations

import os
from collections.abc import Callable

import cv2
import numpy as np
import torch

from ned_models.neural.checkpoints import ManipulatorCheckpoint, ManipulatorInfo, load_manipulator_checkpoint
from ned_models.neural.networks import NedManipulator

__all__ = ["gaussian_window", "sliding_windows", "stitch_windows", "geometric_median", "LearnedManipulator"]


def gaussian_window(length: int) -> np.ndarray:
    """NED's stitching weights: OpenCV's getGaussianKernel(length, 0), (length,) float64 summing to 1.

    OpenCV is called rather than re-derived because its kernel is not the textbook sampled
    Gaussian for even sizes (its bit-exact implementation gives the two centre taps the weight of
    offset 0), and NED's outputs depend on exactly these weights.
    """
    return cv2.getGaussianKernel(length, 0)[:, 0].astype(np.float64)


def sliding_windows(sequence: np.ndarray, length: int) -> np.ndarray:
    """(N, D) -> (N - length + 1, length, D) float32, every window at hop 1 (a copy)."""
    if sequence.ndim != 2 or sequence.shape[0] < length:
        raise ValueError(f"need a (N, D) sequence with N >= {length} frames, got shape {sequence.shape}")
    view = np.lib.stride_tricks.sliding_window_view(sequence, length, axis=0)  # (W, D, length)
    return np.ascontiguousarray(view.transpose(0, 2, 1), dtype=np.float32)


def stitch_windows(outputs: np.ndarray) -> np.ndarray:
    """NED's overlap-add of per-window outputs (W, L, D) -> (W + L - 1, D) float32.

    Interior frames are covered by all L window positions, so the normalised Gaussian weights sum to
    1 there; the first and last L - 1 frames (not fully covered) come from the edge windows as is.
    """
    count, length, dim = outputs.shape
    total = count + length - 1
    weights = gaussian_window(length)[:, None]
    stitched = np.zeros((total, dim), dtype=np.float64)
    for start in range(count):
        stitched[start : start + length] += weights * outputs[start]
    stitched[: length - 1] = outputs[0, : length - 1]
    stitched[total - (length - 1) :] = outputs[-1, 1:]
    return stitched.astype(np.float32)


def geometric_median(points: np.ndarray, eps: float = 1e-5, max_iterations: int = 1000) -> np.ndarray:
    """Weiszfeld's iteration: the point minimising the summed Euclidean distance to (K, S) points."""
    if points.ndim != 2 or points.shape[0] == 0:
        raise ValueError(f"need (K, S) points with K >= 1, got shape {points.shape}")
    estimate = points.mean(axis=0, dtype=np.float64)
    for _ in range(max_iterations):
        distances = np.maximum(np.linalg.norm(points - estimate, axis=1), 1e-12)
        inverse = 1.0 / distances
        updated = (points * inverse[:, None]).sum(axis=0) / inverse.sum()
        moved = np.linalg.norm(updated - estimate)
        estimate = updated
        if moved < eps:
            break
    return estimate.astype(np.float32)


class LearnedManipulator:
    """Edits a clip's expression track with a trained manipulator (label- or reference-driven).

    Args:
        checkpoint: networks plus channel info (see `load_manipulator_checkpoint`).
        seq_len: window length the networks were trained on (NED: 10).
        max_windows_per_batch: windows per forward pass (bounds memory on long clips).
    """

    def __init__(self, checkpoint: ManipulatorCheckpoint, seq_len: int = 10, max_windows_per_batch: int = 512) -> None:
        self.model: NedManipulator = checkpoint.model.eval()
        self.info: ManipulatorInfo = checkpoint.info
        self.seq_len = seq_len
        self.max_windows_per_batch = max_windows_per_batch

    @classmethod
    def from_file(cls, path: str | os.PathLike[str], seq_len: int = 10) -> LearnedManipulator:
        """Load a NED-format manipulator file (raises CheckpointError naming the file on problems)."""
        return cls(load_manipulator_checkpoint(path), seq_len=seq_len)

    def _check_sequence(self, sequence: np.ndarray, what: str) -> None:
        dim = self.model.dims.input_dim
        if sequence.ndim != 2 or sequence.shape[1] != dim:
            raise ValueError(f"{what} must be (N, {dim}), got shape {sequence.shape}")
        if sequence.shape[0] < self.seq_len:
            raise ValueError(f"{what} has {sequence.shape[0]} frames; the manipulator needs at least {self.seq_len}")

    def label_style(self, emotion: int, seed: int = 0) -> np.ndarray:
        """F(z, emotion) for z ~ N(0, I) drawn from `seed`: (style_dim,) float32."""
        if not 0 <= emotion < self.model.dims.num_domains:
            raise ValueError(f"emotion {emotion} is not in 0..{self.model.dims.num_domains - 1}")
        generator = torch.Generator().manual_seed(seed)
        z = torch.randn(1, self.model.dims.latent_dim, generator=generator)
        with torch.no_grad():
            return self.model.mapping_network(z, torch.tensor([emotion])).squeeze(0).numpy()

    def reference_style(self, reference: np.ndarray) -> np.ndarray:
        """Geometric median of E over every window of a reference clip (N, D): (style_dim,) float32."""
        self._check_sequence(reference, "reference")
        windows = sliding_windows(reference, self.seq_len)
        return geometric_median(self._batched(self.model.style_encoder, windows))

    def _batched(self, network: Callable[[torch.Tensor], torch.Tensor], windows: np.ndarray) -> np.ndarray:
        """Run `network` on (W, L, D) windows in chunks, without autograd; outputs concatenated."""
        outputs = []
        with torch.no_grad():
            for start in range(0, len(windows), self.max_windows_per_batch):
                outputs.append(network(torch.from_numpy(windows[start : start + self.max_windows_per_batch])).numpy())
        return np.concatenate(outputs)

    def translate(self, sequence: np.ndarray, style: np.ndarray) -> np.ndarray:
        """G over every window of `sequence` (N, D) with one style, stitched: (N, D) float32."""
        self._check_sequence(sequence, "sequence")
        windows = sliding_windows(sequence, self.seq_len)
        style_row = torch.from_numpy(np.asarray(style, dtype=np.float32)).view(1, -1)
        if style_row.shape[1] != self.model.dims.style_dim:
            raise ValueError(f"style must have {self.model.dims.style_dim} values, got {style_row.shape[1]}")
        outputs = self._batched(lambda chunk: self.model.generator(chunk, style_row.expand(len(chunk), -1)), windows)
        return stitch_windows(outputs)

    def edit(self, sequence: np.ndarray, style: np.ndarray, intensity: float | np.ndarray = 1.0) -> np.ndarray:
        """source + intensity * (translated - source), per frame.

        Args:
            sequence: (N, D) float32 source expression track.
            style: (style_dim,) from `label_style` or `reference_style`.
            intensity: scalar or (N,) per-frame weights (0 = source, 1 = the manipulator's output;
                values above 1 extrapolate).

        Returns:
            (N, D) float32 edited track.
        """
        weights = np.broadcast_to(np.asarray(intensity, dtype=np.float32), (sequence.shape[0],))[:, None]
        translated = self.translate(sequence, style)
        return (sequence + weights * (translated - sequence)).astype(np.float32)

    def edit_by_label(
        self, sequence: np.ndarray, emotion: int, intensity: float | np.ndarray = 1.0, seed: int = 0
    ) -> np.ndarray:
        """Label-driven edit: `edit(sequence, label_style(emotion, seed), intensity)`."""
        return self.edit(sequence, self.label_style(int(emotion), seed), intensity)

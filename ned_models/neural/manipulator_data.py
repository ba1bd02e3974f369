"""Emotion-labelled expression sequences, cut into NED's training windows (10 frames, hop 1)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

__all__ = ["ExpressionClip", "WindowSampler", "mead_label"]

NUM_EMOTIONS = 7
# MEAD's emotion words -> NED's label ids; contempt has no NED label and is skipped, as NED does.
_MEAD_EMOTIONS = {"neutral": 0, "angry": 1, "disgusted": 2, "fear": 3, "happy": 4, "sad": 5, "surprised": 6}
_MEAD_NAME = re.compile(r"^(?P<actor>[MW]\d{3})_(?P<view>[a-z0-9_]+?)_(?P<emotion>[a-z]+)_level(?P<level>\d)_\d+$")


def mead_label(stem: str) -> int | None:
    """NED's label of a MEAD clip named `<actor>_<view>_<emotion>_level<k>_<nnn>`, or None if NED skips it.

    NED trains on the front view only, on neutral (MEAD's only level, 1) and the other emotions at
    level 3; contempt is not one of its seven labels.

    Raises:
        ValueError: the name does not follow MEAD's pattern.
    """
    match = _MEAD_NAME.match(stem)
    if match is None:
        raise ValueError(f"{stem!r} is not a MEAD clip name (<actor>_<view>_<emotion>_level<k>_<nnn>)")
    emotion, level = match["emotion"], int(match["level"])
    if match["view"] != "front" or emotion not in _MEAD_EMOTIONS:
        return None
    if emotion != "neutral" and level != 3:
        return None
    return _MEAD_EMOTIONS[emotion]


@dataclass(frozen=True)
class ExpressionClip:
    """One clip's per-frame expression vectors and the emotion it shows.

    Attributes:
        values: (T, D) float32, one expression vector per frame (our expression space, or NED's 51).
        label: emotion index in NED's order (0 neutral ... 6 surprised).
        name: where it came from, for messages.
    """

    values: np.ndarray
    label: int
    name: str = ""

    def __post_init__(self) -> None:
        if self.values.ndim != 2 or self.values.dtype != np.float32:
            raise ValueError(
                f"clip {self.name!r}: values must be (T, D) float32, got {self.values.shape} {self.values.dtype}"
            )
        if not 0 <= int(self.label) < NUM_EMOTIONS:
            raise ValueError(f"clip {self.name!r}: label {self.label} is not an emotion index 0..{NUM_EMOTIONS - 1}")
        if not np.all(np.isfinite(self.values)):
            raise ValueError(f"clip {self.name!r}: values hold NaN or infinity")


class WindowSampler:
    """Every `seq_len`-frame window (hop 1) of a set of clips, sampled uniformly or by emotion.

    Args:
        clips: the training clips; all must share D, clips shorter than seq_len are skipped.
        seq_len: window length (NED: 10).
        seed: seed of the sampler's own generator (reproducible batches).

    Raises:
        ValueError: no window at all, or clips of different D.
    """

    def __init__(self, clips: Sequence[ExpressionClip], seq_len: int = 10, seed: int = 777) -> None:
        dims = {clip.values.shape[1] for clip in clips}
        if len(dims) > 1:
            raise ValueError(f"clips have different expression sizes {sorted(dims)}")
        self.clips = [clip for clip in clips if clip.values.shape[0] >= seq_len]
        if not self.clips:
            raise ValueError(f"no clip has the {seq_len} frames one training window needs")
        self.seq_len = seq_len
        self.dim = dims.pop()
        self._rng = np.random.default_rng(seed)
        starts = [
            (clip_index, start)
            for clip_index, clip in enumerate(self.clips)
            for start in range(clip.values.shape[0] - seq_len + 1)
        ]
        self._windows = np.asarray(starts, dtype=np.int64)  # (N, 2): clip index, start frame
        self._labels = np.asarray([self.clips[c].label for c, _ in starts], dtype=np.int64)
        self.labels_present = sorted(set(self._labels.tolist()))

    def __len__(self) -> int:
        return len(self._windows)

    def _gather(self, rows: np.ndarray) -> np.ndarray:
        return np.stack([self.clips[c].values[s : s + self.seq_len] for c, s in self._windows[rows]])  # (B, seq_len, D)

    def sample(self, batch_size: int) -> tuple[np.ndarray, np.ndarray]:
        """Uniform windows: ((B, seq_len, D) float32, (B,) int64 labels)."""
        rows = self._rng.integers(0, len(self._windows), size=batch_size)
        return self._gather(rows), self._labels[rows]

    def sample_targets(self, batch_size: int) -> np.ndarray:
        """(B,) target emotions, uniform over the emotions present in the data."""
        return self._rng.choice(np.asarray(self.labels_present), size=batch_size)

    def sample_references(self, labels: np.ndarray) -> np.ndarray:
        """One window showing each requested emotion: (B, seq_len, D) float32."""
        rows = np.empty(len(labels), dtype=np.int64)
        for index, label in enumerate(labels):
            candidates = np.flatnonzero(self._labels == label)
            if candidates.size == 0:
                raise ValueError(f"no training window shows emotion {label}")
            rows[index] = self._rng.choice(candidates)
        return self._gather(rows)

    def sample_latents(self, batch_size: int, latent_dim: int) -> np.ndarray:
        """(B, latent_dim) float32 standard-normal latents for the mapping network."""
        return self._rng.standard_normal((batch_size, latent_dim)).astype(np.float32)

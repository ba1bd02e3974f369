"""What a media source is: its description (`SourceInfo`), its frames, and the reader interface.

Timestamps are kept as the source has them: integer `pts` in the stream's `time_base`, one per frame
in presentation order, so a sink can write the very same timestamps back (variable frame rate too).
"""

from __future__ import annotations

import enum
from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import NamedTuple

import numpy as np

from ned_models.media.color import ColorTags, YuvRule

__all__ = ["SourceKind", "SourceInfo", "SourceFrame", "MediaSource"]


class SourceKind(enum.Enum):
    """Where the frames come from."""

    VIDEO = "video"
    IMAGE_SEQUENCE = "image_sequence"
    IMAGE = "image"


@dataclass(frozen=True)
class SourceInfo:
    """Everything a reader knows about its source before decoding it.

    Attributes:
        path: the absolute path (a file, a folder, or a pattern like `frame_%04d.png`).
        kind: video file, image sequence, or single image.
        container: FFmpeg's demuxer name (`mov,mp4,m4a,3gp,3g2,mj2`, `png_pipe`, ...).
        codec: the video codec (`h264`, `hevc`, `png`, ...).
        pix_fmt: the decoder's pixel format (`yuv420p`, `yuv420p10le`, `rgb48be`, ...).
        width, height: stored size in pixels (before any display rotation).
        sample_aspect: pixel (sample) aspect ratio; 1 when square or unknown.
        bit_depth: bits per colour component of the source (8, 10, 12, 16).
        time_base: seconds per `pts` tick.
        pts: per frame, in presentation order, in `time_base` ticks; exactly the frames that decode.
        end_pts: where the last frame ends (its pts plus its duration), in ticks.
        frame_rate: average frames per second.
        is_vfr: True when frame intervals differ by more than one tick.
        rotation: display rotation in degrees (0, 90, 180, 270) from the stream's display matrix;
            frames are returned as stored, not rotated.
        has_alpha: the source carries alpha (dropped: frames are RGB).
        audio_codecs: codec of every audio stream, in stream order (empty when silent).
        declared_frames: the frame count the container declares, when it declares one.
        truncated: frames at the end do not decode and were left out (only with `allow_truncated`).
        frame_numbers: for image sequences, the number in each file name; else None.
        color: the source's colour tags (H.273 code points).
        yuv_rule: how the source's YUV is turned into RGB; None for RGB sources.
    """

    path: Path
    kind: SourceKind
    container: str
    codec: str
    pix_fmt: str
    width: int
    height: int
    sample_aspect: Fraction
    bit_depth: int
    time_base: Fraction
    pts: tuple[int, ...]
    end_pts: int
    frame_rate: Fraction
    is_vfr: bool
    rotation: int
    has_alpha: bool
    audio_codecs: tuple[str, ...]
    declared_frames: int | None
    truncated: bool
    frame_numbers: tuple[int, ...] | None
    color: ColorTags
    yuv_rule: YuvRule | None

    @property
    def frame_count(self) -> int:
        return len(self.pts)

    @property
    def has_audio(self) -> bool:
        return bool(self.audio_codecs)

    @property
    def dtype(self) -> np.dtype:
        """uint8 for 8-bit sources, uint16 (0..65535 scale) for anything deeper."""
        return np.dtype(np.uint8) if self.bit_depth <= 8 else np.dtype(np.uint16)

    @property
    def start_s(self) -> Fraction:
        return self.pts[0] * self.time_base

    @property
    def duration_s(self) -> Fraction:
        """From the start of the first frame to the end of the last one, exactly."""
        return (self.end_pts - self.pts[0]) * self.time_base

    def time_s(self, index: int) -> Fraction:
        """Presentation time of frame `index` in seconds, exactly."""
        return self.pts[index] * self.time_base

    def frame_duration(self, index: int) -> int:
        """How long frame `index` is shown, in ticks (until the next frame, or until `end_pts`)."""
        following = self.pts[index + 1] if index + 1 < len(self.pts) else self.end_pts
        return following - self.pts[index]


class SourceFrame(NamedTuple):
    """One decoded frame: unpacks as `(index, time_s, image)`.

    Attributes:
        index: position in presentation order, 0-based.
        time_s: presentation time in seconds (float; the exact value is `info.time_s(index)`).
        image: (H, W, 3) RGB top-down, uint8 or uint16 as `info.dtype` says.
    """

    index: int
    time_s: float
    image: np.ndarray


class MediaSource(ABC):
    """A readable sequence of frames with exact timestamps; a context manager."""

    def __init__(self, info: SourceInfo) -> None:
        self.info = info
        self.closed = False

    def __len__(self) -> int:
        return self.info.frame_count

    def __iter__(self) -> Iterator[SourceFrame]:
        return self.frames()

    def __enter__(self) -> MediaSource:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def frames(self, start: int = 0, stop: int | None = None, *, exact: bool = True) -> Iterator[SourceFrame]:
        """Frames `start` to `stop - 1` (all by default), decoded in order, frame-accurately.

        Args:
            start, stop: the range of frame indices.
            exact: convert YUV to RGB exactly (a decode + re-encode keeps the source's values). False
                takes a conversion about 10x faster (1 instead of 10 ms per 720p frame on one core)
                that shifts luma by about one code value: for analysis passes, never for output.

        Raises:
            ValueError: the range is outside the source, or the source is closed.
            CorruptMedia: (while iterating) a frame in the range does not decode; nothing is skipped.
        """
        if self.closed:
            raise ValueError(f"{self.info.path}: source is closed")
        stop = len(self) if stop is None else stop
        if not 0 <= start <= stop <= len(self):
            raise ValueError(f"frame range {start}:{stop} outside 0:{len(self)} of {self.info.path}")
        return self._frames(start, stop, exact)

    def read(self, index: int) -> np.ndarray:
        """The image of frame `index` (seeks; prefer `frames()` for runs of frames)."""
        if not 0 <= index < len(self):
            raise IndexError(f"frame {index} out of range: {self.info.path} has {len(self)} frames")
        return next(self.frames(index, index + 1)).image

    def close(self) -> None:
        """Mark the source closed (readers open their files per pass, so nothing else is held)."""
        self.closed = True

    @abstractmethod
    def _frames(self, start: int, stop: int, exact: bool) -> Iterator[SourceFrame]:
        """Frames `start` to `stop - 1` of a valid (possibly empty) range."""

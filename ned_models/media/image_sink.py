"""Writing single images and image sequences (PNG or TIFF, 8 or 16 bits, lossless).

A sequence is named by a pattern (`out/frame_%04d.png` or `out/frame_####.png`) and numbered like
its source: a source sequence's own frame numbers, otherwise from `start_number`. Files carry no
timestamps, so a variable-frame-rate source keeps its frames but not its timing (logged).
"""

from __future__ import annotations

import logging
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from ned_models.media.atomic import AtomicFile, AtomicFolder
from ned_models.media.color import rgb_to_frame
from ned_models.media.sequences import sequence_name, sequence_regex
from ned_models.media.sink import MediaSink
from ned_models.media.source import SourceInfo

__all__ = ["ImageSink", "ImageSequenceSink", "STILL_CODECS"]

logger = logging.getLogger(__name__)

# suffix -> (FFmpeg encoder, pixel format for 8-bit, for 16-bit)
STILL_CODECS = {
    ".png": ("png", "rgb24", "rgb48be"),
    ".tif": ("tiff", "rgb24", "rgb48le"),
    ".tiff": ("tiff", "rgb24", "rgb48le"),
}


class _StillEncoder:
    """Encodes RGB arrays to PNG/TIFF bytes, keeping the source's pixel aspect."""

    def __init__(self, suffix: str, like: SourceInfo) -> None:
        if suffix not in STILL_CODECS:
            raise ValueError(f"image output must be one of {sorted(STILL_CODECS)}, not {suffix or 'no suffix'}")
        encoder, pix8, pix16 = STILL_CODECS[suffix]
        self._pix_fmt = pix8 if like.bit_depth <= 8 else pix16
        self._cc = av.CodecContext.create(encoder, "w")
        self._cc.width, self._cc.height, self._cc.pix_fmt = like.width, like.height, self._pix_fmt
        self._cc.time_base = Fraction(1, 25)  # required by the API; stills carry no time
        if like.sample_aspect != 1:
            self._cc.sample_aspect_ratio = like.sample_aspect

    def encode(self, image: np.ndarray) -> bytes:
        frame = rgb_to_frame(image, None, self._pix_fmt)
        return b"".join(bytes(p) for p in self._cc.encode(frame))


class ImageSink(MediaSink):
    """One image file (the source must have exactly one frame)."""

    def __init__(self, path: Path, like: SourceInfo, *, overwrite: bool) -> None:
        if like.frame_count != 1:
            raise ValueError(f"{path}: a single image holds one frame, the source has {like.frame_count}; "
                             "write a sequence pattern such as frame_%04d.png")
        self._encoder = _StillEncoder(path.suffix.lower(), like)
        self._target = AtomicFile(path, overwrite=overwrite)
        super().__init__(self._target.final, like)

    def _write(self, index: int, image: np.ndarray) -> None:
        self._target.partial.write_bytes(self._encoder.encode(image))

    def _finish(self) -> None:
        self._target.commit()

    def _discard(self) -> None:
        self._target.discard()


class ImageSequenceSink(MediaSink):
    """Numbered image files in a folder, all moved into place together on `close()`."""

    def __init__(self, pattern: Path, like: SourceInfo, *, overwrite: bool, start_number: int | None) -> None:
        if sequence_regex(pattern.name) is None:
            raise ValueError(f"{pattern}: not a sequence pattern (use one %04d or #### for the number)")
        self._encoder = _StillEncoder(pattern.suffix.lower(), like)
        if start_number is None and like.frame_numbers is not None:
            numbers = list(like.frame_numbers)
        else:
            first = 1 if start_number is None else start_number
            numbers = [first + i for i in range(like.frame_count)]
        self._names = [sequence_name(pattern.name, n) for n in numbers]
        if like.is_vfr:
            logger.warning("%s: image files hold no timestamps; the source's variable frame timing is lost",
                           pattern)
        self._folder = AtomicFolder(pattern.parent, overwrite=overwrite)
        try:
            self._folder.check_free(self._names)
        except BaseException:
            self._folder.discard()
            raise
        super().__init__(self._folder.final / pattern.name, like)

    def _write(self, index: int, image: np.ndarray) -> None:
        (self._folder.partial / self._names[index]).write_bytes(self._encoder.encode(image))

    def _finish(self) -> None:
        self._folder.commit()

    def _discard(self) -> None:
        self._folder.discard()

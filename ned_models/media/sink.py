"""The writer interface: frames go in by index, the output appears whole on `close()` or not at all.

A sink is made `like` a source: it writes the source's timestamps, size and pixel aspect, so frame i
of the output is shown exactly when frame i of the source was. Frames are written in order, every one
of them; closing with frames missing saves nothing. Any failure while writing, `abort()`, or leaving a
`with` block by an exception (Ctrl-C included) removes the partial output.
"""

from __future__ import annotations

import enum
from abc import ABC, abstractmethod
from pathlib import Path

import numpy as np

from ned_models.media.errors import OutputError
from ned_models.media.source import SourceInfo

__all__ = ["MediaSink", "SinkState"]


class SinkState(enum.Enum):
    OPEN = "open"
    CLOSED = "closed"
    ABORTED = "aborted"


class MediaSink(ABC):
    """Writes the frames of one output; a context manager that commits on success, aborts on error.

    Attributes:
        path: where the output appears on `close()` (a file, or a folder for image sequences).
        like: the source whose timing, size and pixel aspect the output keeps.
        written: how many frames have been written so far.
    """

    def __init__(self, path: Path, like: SourceInfo) -> None:
        self.path = path
        self.like = like
        self.written = 0
        self.state = SinkState.OPEN

    def __enter__(self) -> MediaSink:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, *rest: object) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()

    def write(self, index: int, image: np.ndarray) -> None:
        """Write frame `index` (0, 1, 2, ... in order), shown at the source's frame `index` time.

        Args:
            index: the frame's position in the source; must be the next one.
            image: (H, W, 3) RGB top-down, the source's size and dtype (`like.dtype`).

        Raises:
            ValueError: wrong index, shape or dtype (the sink stays usable).
            OutputError: the sink is closed or aborted.
        """
        if self.state is not SinkState.OPEN:
            raise OutputError(f"{self.path}: output is {self.state.value}; cannot write more frames")
        if index != self.written:
            raise ValueError(f"frame {index} written out of order: {self.path} expects frame {self.written}")
        if index >= self.like.frame_count:
            raise ValueError(f"frame {index} is past the end: the source has {self.like.frame_count} frames")
        self._check_image(image)
        try:
            self._write(index, image)
        except BaseException:
            self.abort()
            raise
        self.written += 1

    def close(self) -> Path:
        """Finish the output and move it into place; returns its final path.

        Raises:
            OutputError: not every frame of the source was written (nothing is saved then).
        """
        if self.state is SinkState.CLOSED:
            return self.path
        if self.state is SinkState.ABORTED:
            raise OutputError(f"{self.path}: output was aborted; nothing was saved")
        if self.written != self.like.frame_count:
            self.abort()
            raise OutputError(f"{self.path}: only {self.written} of {self.like.frame_count} frames were "
                              "written; nothing was saved")
        try:
            self._finish()
        except BaseException:
            self.abort()
            raise
        self.state = SinkState.CLOSED
        return self.path

    def abort(self) -> None:
        """Stop and remove everything written so far (idempotent; a closed output is kept)."""
        if self.state is SinkState.OPEN:
            self.state = SinkState.ABORTED
            self._discard()

    def _check_image(self, image: np.ndarray) -> None:
        like = self.like
        if not isinstance(image, np.ndarray) or image.shape != (like.height, like.width, 3):
            shape = getattr(image, "shape", type(image).__name__)
            raise ValueError(f"frame shape {shape} does not match the source's ({like.height}, {like.width}, 3)")
        if image.dtype != like.dtype:
            raise ValueError(f"frame dtype {image.dtype} does not match the source's {like.dtype} "
                             f"({like.bit_depth}-bit source)")

    @abstractmethod
    def _write(self, index: int, image: np.ndarray) -> None:
        """Encode and store one validated frame."""

    @abstractmethod
    def _finish(self) -> None:
        """Flush encoders and move the output into place."""

    @abstractmethod
    def _discard(self) -> None:
        """Release everything and remove the partial output; must not raise."""

"""A POSIX shared-memory segment owned by this process, as a same-host client of ned-server makes one.

The client creates the segment (mode 0600, name `/ned-<...>` as the server requires), writes the
pixels into it, names it in `Image.shared` / `RenderFrameRequest.reply_buffer`, and unlinks it
when done; the server only maps it for the duration of a call.
"""

from __future__ import annotations

import itertools
import mmap
import os
from pathlib import Path

import numpy as np
from ned_server._gen.ned.v1 import ned_pb2

__all__ = ["SharedSegment"]

_SHM_DIR = Path("/dev/shm")
_numbers = itertools.count()


class SharedSegment:
    """`size` bytes of shared memory named `/ned-bench-<pid>-<n>`; use as a context manager."""

    def __init__(self, size: int) -> None:
        if size <= 0:
            raise ValueError(f"a shared segment needs a positive size, got {size}")
        self.name = f"/ned-bench-{os.getpid()}-{next(_numbers)}"
        self.size = size
        self._path = _SHM_DIR / self.name[1:]
        fd = os.open(self._path, os.O_CREAT | os.O_EXCL | os.O_RDWR, 0o600)
        try:
            os.ftruncate(fd, size)
            self._map = mmap.mmap(fd, size)
        except BaseException:
            os.unlink(self._path)
            raise
        finally:
            os.close(fd)

    def __enter__(self) -> SharedSegment:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def array(self, shape: tuple[int, ...], dtype: np.dtype | type) -> np.ndarray:
        """A writable view of the segment's first bytes as an array of `shape`."""
        count = int(np.prod(shape))
        return np.frombuffer(self._map, dtype=dtype, count=count).reshape(shape)

    def buffer(self, size: int | None = None) -> ned_pb2.SharedBuffer:
        """The proto naming this segment (all of it, or its first `size` bytes)."""
        return ned_pb2.SharedBuffer(name=self.name, offset=0, size=size or self.size)

    def close(self) -> None:
        """Unlink the segment; the mapping goes when the last array viewing it does."""
        if self._path.exists():
            os.unlink(self._path)
        try:
            self._map.close()
        except BufferError:
            pass  # arrays still view it; it is unmapped when they are collected

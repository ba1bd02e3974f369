"""Same-host transport: pixels in POSIX shared memory instead of inside the gRPC message.

A 1080p RGBA8 frame is 8.3 MB; serialising it into protobuf and through HTTP/2 costs more than
rendering the face. When the client runs on this machine it may put the pixels in a segment it
created (`shm_open`, mode 0600) and send only its name. The server maps it for the duration of the
call and never unlinks it: the segment belongs to the client.
"""

from __future__ import annotations

import mmap
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ned_server.convert import InvalidRequest

__all__ = ["available", "is_local_peer", "mapped"]

SHM_DIR = Path("/dev/shm")
NAME_PREFIX = "/ned-"


def available() -> bool:
    return SHM_DIR.is_dir() and os.access(SHM_DIR, os.R_OK | os.W_OK)


def is_local_peer(peer: str) -> bool:
    """True for gRPC peers on this machine (`ipv4:127.x`, `ipv6:[::1]`, `unix:`)."""
    return peer.startswith(("ipv4:127.", "ipv6:[::1]", "unix:", "ipv6:%5B::1%5D"))


@contextmanager
def mapped(name: str, offset: int, size: int, writable: bool) -> Iterator[memoryview]:
    """Map `size` bytes at `offset` of the client's segment `name`.

    Raises:
        InvalidRequest: a name outside our namespace, a missing segment, or a range past its end.
    """
    if not name.startswith(NAME_PREFIX) or "/" in name[1:] or len(name) > 250:
        raise InvalidRequest(f"shared buffer name {name!r} must look like '{NAME_PREFIX}<id>'")
    path = SHM_DIR / name[1:]
    try:
        fd = os.open(path, os.O_RDWR if writable else os.O_RDONLY)
    except FileNotFoundError:
        raise InvalidRequest(f"shared buffer {name!r} does not exist on the server's host") from None
    try:
        length = os.fstat(fd).st_size
        if offset < 0 or size <= 0 or offset + size > length:
            raise InvalidRequest(f"shared buffer {name!r}: range {offset}+{size} exceeds its {length} bytes")
        start = offset - offset % mmap.ALLOCATIONGRANULARITY
        access = mmap.ACCESS_WRITE if writable else mmap.ACCESS_READ
        # Not closed explicitly: arrays made from the view keep the mapping alive until they go.
        mm = mmap.mmap(fd, offset + size - start, access=access, offset=start)
        yield memoryview(mm)[offset - start: offset - start + size]
    finally:
        os.close(fd)

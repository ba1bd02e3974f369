"""Per-shot state: in memory (bounded, least recently used) and on disk (versioned, atomic).

A shot's face analysis is expensive to compute and cheap to keep, so it lives in the cache
directory and survives restarts. The store never returns garbage: a file that is corrupt, or
written by another schema version, is moved aside (`*.corrupt` / `*.old`), logged, and reported
to the caller as missing so the shot is analysed again.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import threading
import time
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, Protocol, TypeVar

import numpy as np

__all__ = ["StoredAnalysis", "AnalysisCodec", "ShotRecord", "ShotStore", "StoreProblem"]

logger = logging.getLogger(__name__)

SHOT_FILE = "shot.npz"   # the analysis arrays plus "__meta__" (JSON), written as one atomic file
META_KEY = "__meta__"


class StoredAnalysis(Protocol):
    """What the store needs from an analysis: a flat dict of arrays."""

    def to_arrays(self) -> dict[str, np.ndarray]: ...


A = TypeVar("A", bound=StoredAnalysis)


class AnalysisCodec(Protocol[A]):
    """Rebuilds an analysis from its arrays; SCHEMA_VERSION changes when the layout does."""

    SCHEMA_VERSION: int

    def from_arrays(self, arrays: dict[str, np.ndarray]) -> A: ...


@dataclass
class ShotRecord(Generic[A]):
    """One shot's stored analysis.

    Attributes:
        shot_id: the client's id (plugin instance or user-visible Shot name + frame size).
        analysis: the analysis object.
        mode: "full" (whole-shot analysis) or "online" (frame by frame during renders).
        revision: changes whenever the stored analysis changes (nanoseconds since the epoch of the
            last write, so it keeps increasing across restarts).
        nbytes: memory held by the analysis arrays.
    """

    shot_id: str
    analysis: A
    mode: str
    revision: int
    nbytes: int = 0
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class StoreProblem:
    """A stored file that could not be used, reported to the user through diagnostics."""

    shot_id: str
    detail: str


class ShotStore(Generic[A]):
    """Thread-safe store of shot analyses keyed by shot id.

    Args:
        root: cache directory; shots go to `root/shots/<hash of the id>/`.
        codec: turns stored arrays back into analyses and names the schema version.
        max_memory_bytes: analyses kept in memory beyond this are dropped, least recently used first
            (they stay on disk).
    """

    def __init__(self, root: Path, codec: AnalysisCodec[A], max_memory_bytes: int = 2 << 30):
        self._root = Path(root) / "shots"
        self._root.mkdir(parents=True, exist_ok=True)
        self._codec = codec
        self._max_bytes = max_memory_bytes
        self._memory: OrderedDict[str, ShotRecord[A]] = OrderedDict()
        self._lock = threading.Lock()
        self._shot_locks: dict[str, threading.RLock] = {}
        self.problems: list[StoreProblem] = []

    # ------------------------------------------------------------------------------ locations
    def shot_dir(self, shot_id: str) -> Path:
        """The shot's own directory (analysis, trained renderer, checkpoints)."""
        digest = hashlib.sha256(shot_id.encode("utf-8")).hexdigest()[:32]
        return self._root / digest

    @contextmanager
    def locked(self, shot_id: str) -> Iterator[None]:
        """Serialise work on one shot (analysis updates) without blocking other shots."""
        with self._lock:
            lock = self._shot_locks.setdefault(shot_id, threading.RLock())
        with lock:
            yield

    # ------------------------------------------------------------------------------ read
    def get(self, shot_id: str) -> ShotRecord[A] | None:
        """The shot's record from memory, else from disk, else None."""
        with self._lock:
            record = self._memory.get(shot_id)
            if record is not None:
                self._memory.move_to_end(shot_id)
                return record
        record = self._load(shot_id)
        if record is not None:
            self._remember(record)
        return record

    def _load(self, shot_id: str) -> ShotRecord[A] | None:
        folder = self.shot_dir(shot_id)
        path = folder / SHOT_FILE
        if not path.exists():
            return None
        try:
            with np.load(path, allow_pickle=False) as npz:
                arrays = {k: npz[k] for k in npz.files}
            meta = json.loads(str(arrays.pop(META_KEY)))
            if meta.get("shot_id") != shot_id:
                raise ValueError(f"the file belongs to shot {meta.get('shot_id')!r}")
            if meta.get("schema_version") != self._codec.SCHEMA_VERSION:
                self._set_aside(shot_id, folder, "old", f"schema {meta.get('schema_version')} "
                                f"(this server reads {self._codec.SCHEMA_VERSION})")
                return None
            analysis = self._codec.from_arrays(arrays)
        except Exception as exc:  # noqa: BLE001 - any failure to read means "corrupt", never a crash
            self._set_aside(shot_id, folder, "corrupt", f"{type(exc).__name__}: {exc}")
            return None
        return ShotRecord(shot_id=shot_id, analysis=analysis, mode=meta["mode"], revision=int(meta["revision"]),
                          nbytes=sum(a.nbytes for a in arrays.values()), extra=meta.get("extra", {}))

    def _set_aside(self, shot_id: str, folder: Path, why: str, detail: str) -> None:
        target = folder.with_name(f"{folder.name}.{why}")
        shutil.rmtree(target, ignore_errors=True)
        folder.rename(target)
        message = f"stored analysis of shot {shot_id!r} is {why} ({detail}); moved to {target}, re-analysing"
        logger.warning(message)
        self.problems.append(StoreProblem(shot_id, message))

    # ------------------------------------------------------------------------------ write
    def put(self, shot_id: str, analysis: A, mode: str, extra: dict[str, Any] | None = None) -> ShotRecord[A]:
        """Store an analysis (memory and disk, atomically) and return its new record."""
        arrays = analysis.to_arrays()
        record = ShotRecord(shot_id=shot_id, analysis=analysis, mode=mode, revision=time.time_ns(),
                            nbytes=sum(a.nbytes for a in arrays.values()), extra=dict(extra or {}))
        folder = self.shot_dir(shot_id)
        folder.mkdir(parents=True, exist_ok=True)
        meta = {"shot_id": shot_id, "schema_version": self._codec.SCHEMA_VERSION, "mode": mode,
                "revision": record.revision, "written": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                "extra": record.extra}
        _write_atomic(folder / SHOT_FILE, lambda f: np.savez(f, **arrays, **{META_KEY: np.array(json.dumps(meta))}))
        self._remember(record)
        return record

    def delete(self, shot_id: str) -> bool:
        """Forget a shot in memory and on disk; True if anything existed."""
        with self._lock:
            existed = self._memory.pop(shot_id, None) is not None
        folder = self.shot_dir(shot_id)
        if folder.exists():
            shutil.rmtree(folder)
            existed = True
        return existed

    def _remember(self, record: ShotRecord[A]) -> None:
        with self._lock:
            self._memory[record.shot_id] = record
            self._memory.move_to_end(record.shot_id)
            total = sum(r.nbytes for r in self._memory.values())
            while total > self._max_bytes and len(self._memory) > 1:
                _, dropped = self._memory.popitem(last=False)
                total -= dropped.nbytes

    def memory_bytes(self) -> int:
        with self._lock:
            return sum(r.nbytes for r in self._memory.values())


def _write_atomic(path: Path, write) -> None:
    """Write through a temporary file in the same folder, fsync, then rename over `path`."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    try:
        with open(tmp, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()

"""All-or-nothing outputs: write next to the destination under a hidden name, rename at the end.

A reader of the destination sees either the old file (or nothing) or the complete new one, never a
partial file: the data is written to `.NAME.XXXXXXXX.partial` in the same folder (so the rename cannot
cross file systems), flushed to disk, then renamed over NAME. Any failure, Ctrl-C, or an object that is
dropped without being committed removes the partial file (a SIGKILL can leave one behind, hidden).
"""

from __future__ import annotations

import logging
import os
import secrets
import shutil
import weakref
from pathlib import Path

from ned_models.media.errors import OutputError

__all__ = ["check_writable", "AtomicFile", "AtomicFolder"]

logger = logging.getLogger(__name__)


def _partial_name(name: str) -> str:
    return f".{name}.{secrets.token_hex(4)}.partial"


def _remove(path: Path) -> None:
    """Best-effort removal of a partial file or folder (used on failure paths only)."""
    try:
        if path.is_dir():
            shutil.rmtree(path)
        else:
            path.unlink(missing_ok=True)
    except OSError as exc:  # the original failure matters more than this one
        logger.warning("could not remove partial output %s: %s", path, exc)


def _fsync_path(path: Path, *, directory: bool = False) -> None:
    fd = os.open(path, os.O_RDONLY | (os.O_DIRECTORY if directory else 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def check_writable(path: str | os.PathLike[str], *, overwrite: bool = False, folder_ok: bool = False) -> Path:
    """Fail now, before any work, if `path` cannot become an output; returns it as an absolute Path.

    Creates and removes a probe file in the destination folder, since permission bits alone do not
    tell (ACLs, read-only mounts, full disks on some file systems).

    Args:
        path: the output file (or folder, with `folder_ok`).
        overwrite: an existing file at `path` may be replaced.
        folder_ok: `path` names an output folder (image sequences); it may exist or be created.

    Raises:
        OutputError: the folder is missing or not writable, `path` is a folder (unless `folder_ok`),
            or a file exists there and `overwrite` is False.
    """
    target = Path(path).expanduser().absolute()
    if target.is_dir() and not folder_ok:
        raise OutputError(f"{target}: is a folder, not an output file")
    if target.exists() and not target.is_dir() and not overwrite:
        raise OutputError(f"{target}: already exists (allow overwriting to replace it)")
    if target.exists() and folder_ok and not target.is_dir():
        raise OutputError(f"{target}: is a file, not an output folder")
    parent = target if (folder_ok and target.is_dir()) else target.parent
    if not parent.is_dir():
        raise OutputError(f"{target}: folder {parent} does not exist")
    probe = parent / _partial_name(target.name)
    try:
        fd = os.open(probe, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o666)
        os.close(fd)
        probe.unlink()
    except OSError as exc:
        raise OutputError(f"{target}: cannot write in {parent} ({exc.strerror or exc})") from exc
    return target


class AtomicFile:
    """A hidden partial file that becomes `final` on `commit()`, or disappears on `discard()`."""

    def __init__(self, final: str | os.PathLike[str], *, overwrite: bool = False) -> None:
        self.final = check_writable(final, overwrite=overwrite)
        self.overwrite = overwrite
        self.partial = self.final.parent / _partial_name(self.final.name)
        try:
            # 0o666 lets the umask decide the final permissions, as for any new file
            os.close(os.open(self.partial, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o666))
        except OSError as exc:
            raise OutputError(f"{self.final}: cannot create a file in {self.final.parent} "
                              f"({exc.strerror or exc})") from exc
        self._cleanup = weakref.finalize(self, _remove, self.partial)

    def commit(self) -> Path:
        """Flush the partial file to disk and rename it to the final name."""
        if not self.overwrite and self.final.exists():
            raise OutputError(f"{self.final}: appeared while writing; not replaced")
        _fsync_path(self.partial)
        os.replace(self.partial, self.final)
        self._cleanup.detach()
        _fsync_path(self.final.parent, directory=True)
        return self.final

    def discard(self) -> None:
        """Remove the partial file (idempotent)."""
        self._cleanup()


class AtomicFolder:
    """Files written into a hidden partial folder that move into `final` (a folder) on `commit()`.

    When `final` does not exist yet the whole folder is renamed in one step; otherwise each file is
    renamed into it, so no name in `final` ever holds a partial file.
    """

    def __init__(self, final: str | os.PathLike[str], *, overwrite: bool = False) -> None:
        self.final = check_writable(final, overwrite=overwrite, folder_ok=True)
        self.overwrite = overwrite
        self.partial = self.final.parent / _partial_name(self.final.name)
        try:
            self.partial.mkdir()
        except OSError as exc:
            raise OutputError(f"{self.final}: cannot create a folder in {self.final.parent} "
                              f"({exc.strerror or exc})") from exc
        self._cleanup = weakref.finalize(self, _remove, self.partial)

    def check_free(self, names: list[str]) -> None:
        """Raise OutputError now if any of `names` exists in `final` and overwriting is not allowed."""
        if self.overwrite or not self.final.is_dir():
            return
        taken = [n for n in names if (self.final / n).exists()]
        if taken:
            raise OutputError(f"{self.final / taken[0]}: already exists ({len(taken)} of the output files "
                              f"do; allow overwriting to replace them)")

    def commit(self) -> Path:
        """Flush every file to disk and move them into the final folder."""
        for path in self.partial.iterdir():
            _fsync_path(path)
        if not self.final.exists():
            os.replace(self.partial, self.final)
        else:
            for path in sorted(self.partial.iterdir()):
                os.replace(path, self.final / path.name)
            self.partial.rmdir()
        self._cleanup.detach()
        _fsync_path(self.final, directory=True)
        _fsync_path(self.final.parent, directory=True)
        return self.final

    def discard(self) -> None:
        """Remove the partial folder and everything in it (idempotent)."""
        self._cleanup()

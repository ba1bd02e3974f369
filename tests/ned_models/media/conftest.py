"""Fixtures for the media tests: the shared test media (a missing folder fails loudly, never skips)."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

MEDIA_DIR = Path(__file__).resolve().parents[3].parent / "shared" / "media"


def manifest_entries() -> list[dict]:
    """The shared media manifest, or [] when it is missing (the `media_dir` fixture then fails)."""
    path = MEDIA_DIR / "manifest.json"
    return json.loads(path.read_text()) if path.is_file() else []


def talking_clips_with_audio() -> list[str]:
    """Manifest paths of the talking/ clips that have audio; a placeholder when the media is missing,
    so the tests run and fail in `media_dir` instead of silently collecting nothing."""
    paths = [e["path"] for e in manifest_entries() if e["path"].startswith("talking/") and e["audio"]]
    return paths or ["<shared media missing>"]


@pytest.fixture(scope="session")
def media_dir() -> Path:
    """`../shared/media` from the repository root; a missing folder is a failure, not a skip."""
    if not (MEDIA_DIR / "manifest.json").is_file():
        pytest.fail(f"test media missing: expected {MEDIA_DIR} (see the team brief)", pytrace=False)
    return MEDIA_DIR


@pytest.fixture(scope="session")
def manifest(media_dir: Path) -> dict[str, dict]:
    """Manifest entries keyed by their path relative to the media folder."""
    return {e["path"]: e for e in manifest_entries()}


@pytest.fixture
def unwritable_dir(tmp_path: Path) -> Iterator[Path]:
    """A folder in which no file can be created (a read-only tmp folder; /sys when running as root,
    since root ignores permission bits)."""
    if os.geteuid() != 0:
        folder = tmp_path / "read_only"
        folder.mkdir()
        folder.chmod(0o555)
        yield folder
        folder.chmod(0o755)
        return
    folder = Path("/sys")
    try:
        os.close(os.open(folder / ".ned_probe", os.O_CREAT | os.O_EXCL | os.O_WRONLY))
    except OSError:
        yield folder
        return
    os.unlink(folder / ".ned_probe")
    pytest.fail("no unwritable folder available to test with", pytrace=False)

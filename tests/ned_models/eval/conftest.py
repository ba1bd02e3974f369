"""Fixtures for the evaluation tests: the shared test media (fails loudly when it is missing)."""

from __future__ import annotations

from pathlib import Path

import pytest

MEDIA_DIR = Path(__file__).resolve().parents[3].parent / "shared" / "media"


@pytest.fixture(scope="session")
def media_dir() -> Path:
    """`../shared/media` from the repository root; a missing folder is a failure, not a skip."""
    if not (MEDIA_DIR / "manifest.json").is_file():
        pytest.fail(f"test media missing: expected {MEDIA_DIR} (see the team brief)", pytrace=False)
    return MEDIA_DIR

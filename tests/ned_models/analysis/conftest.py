"""Shared fixtures for the analysis tests: short real clips decoded once."""

from __future__ import annotations

import av
import pytest


def decode(path, limit=None, step=1):
    """[(time s, (H, W, 3) uint8 RGB)] of a video file."""
    out = []
    with av.open(str(path)) as container:
        for i, frame in enumerate(container.decode(video=0)):
            if limit is not None and len(out) >= limit:
                break
            if i % step == 0:
                out.append((float(frame.time), frame.to_ndarray(format="rgb24")))
    return out


@pytest.fixture(scope="session")
def short_clip(media_dir):
    """40 frames of a frontal talking head (512x512)."""
    return decode(media_dir / "talking" / "WDA_KatieHill_000.mp4", limit=40)

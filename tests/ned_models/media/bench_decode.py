"""Decode throughput of `open_source` on one CPU core (decode + YUV->RGB), against bare PyAV decoding.

Run from the repository root (needs ../shared/media):

    nice -n 10 .venv/bin/python -m tests.ned_models.media.bench_decode [--repeat 3]

Prints frames per second per clip: decoding with PyAV alone (no RGB), then iterating `open_source`
(open + decode + RGB) with the exact conversion (for output) and the fast one (for analysis). The
process is pinned to one core, so the figures are per-core throughput.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import av

from ned_models.media import open_source
from tests.ned_models.media.conftest import MEDIA_DIR

CLIPS = {
    "720p H.264 (1280x720)": "wide/source_s18.mp4",
    "720p H.264 (720x1280)": "talking/liveportrait_d13.mp4",
    "1080p H.264 4:4:4 (1920x1080)": "mead/crop_M030_sad_3_001.mp4",
    "1080p HEVC (1080x1920)": "wide/demo1_video.mp4",
}


def _bare_fps(path: Path) -> float:
    start = time.perf_counter()
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        count = sum(1 for _ in container.decode(stream))
    return count / (time.perf_counter() - start)


def _source_fps(path: Path, exact: bool) -> float:
    start = time.perf_counter()
    with open_source(path) as source:
        count = sum(1 for _ in source.frames(exact=exact))
    return count / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="runs per clip; the best is reported")
    parser.add_argument("--core", type=int, default=0, help="CPU core to pin to")
    args = parser.parse_args()
    os.sched_setaffinity(0, {args.core})
    for label, relative in CLIPS.items():
        path = MEDIA_DIR / relative
        bare = max(_bare_fps(path) for _ in range(args.repeat))
        exact = max(_source_fps(path, True) for _ in range(args.repeat))
        fast = max(_source_fps(path, False) for _ in range(args.repeat))
        print(f"{label:30s} {relative:30s} decode only {bare:6.1f} fps | open_source exact RGB "
              f"{exact:6.1f} fps, fast RGB {fast:6.1f} fps")


if __name__ == "__main__":
    main()

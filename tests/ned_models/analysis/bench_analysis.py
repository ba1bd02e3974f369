"""Benchmark of the face analysis, stage by stage (a benchmark, not a test: run it as a script).

    .venv/bin/python -m tests.ned_models.analysis.bench_analysis ../shared/media/wide/source_s18.mp4

Frames are decoded into memory first (decoding is reported apart: the server receives frames from the
host). Prints per-frame milliseconds for each stage and the end-to-end analysis rate.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import av
import numpy as np

from ned_models.analysis.shot import analyse_shot
from ned_models.face_model.morphable import load_face_model
from ned_models.tracking.detector import FaceDetector
from ned_models.tracking.iris import IrisLandmarker
from ned_models.tracking.landmarks import FaceLandmarker, roi_from_landmarks
from ned_models.tracking.scene_cut import colour_histogram
from ned_models.tracking.tracker import FaceTracker


def _decode(path: Path, limit: int) -> tuple[list[tuple[float, np.ndarray]], float]:
    start = time.perf_counter()
    with av.open(str(path)) as container:
        frames = [(float(f.time), f.to_ndarray(format="rgb24"))
                  for _, f in zip(range(limit), container.decode(video=0), strict=False)]
    return frames, (time.perf_counter() - start) / len(frames)


def _per_frame(fn, items) -> float:
    start = time.perf_counter()
    for item in items:
        fn(item)
    return (time.perf_counter() - start) / len(items)


def bench(path: Path, limit: int = 300) -> dict[str, float]:
    """Milliseconds per frame for each stage on one clip, and the analysis rate in frames/s."""
    model = load_face_model()
    frames, decode = _decode(path, limit)
    images = [f for _, f in frames]
    tracker = FaceTracker()
    points = [tracker.track(t, f).faces[0].points for t, f in frames]
    detector, landmarker, iris = FaceDetector(), FaceLandmarker(), IrisLandmarker()
    rois = [roi_from_landmarks(p) for p in points]
    out = {
        "decode": decode,
        "detection (one call)": _per_frame(detector.detect, images[:20]),
        "scene cut": _per_frame(colour_histogram, images),
        "landmarks": _per_frame(lambda i: landmarker.run(images[i], [rois[i - 1]]), range(1, len(images))),
        "iris": _per_frame(lambda i: iris.run(images[i], [points[i][:468]]), range(len(images))),
    }
    start = time.perf_counter()
    analyse_shot(iter(frames), model=model)
    total = (time.perf_counter() - start) / len(frames)
    tracker.reset()
    start = time.perf_counter()
    for t, f in frames:
        tracker.track(t, f)
    tracking = (time.perf_counter() - start) / len(frames)
    out["tracking (all of the above)"] = tracking
    out["fit + identity + smoothing"] = total - tracking
    out["full analysis"] = total
    result = {k: round(v * 1e3, 2) for k, v in out.items()}
    result["analysis frames/s"] = round(1.0 / total, 1)
    result["size"] = f"{images[0].shape[1]}x{images[0].shape[0]}"
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("clips", nargs="+", type=Path)
    parser.add_argument("--frames", type=int, default=300)
    args = parser.parse_args()
    for clip in args.clips:
        print(json.dumps({"clip": clip.name, **bench(clip, args.frames)}), flush=True)  # noqa: T201


if __name__ == "__main__":
    main()

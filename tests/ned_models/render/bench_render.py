"""Benchmark of the warp renderer: field construction and warp, by face size (not a pytest test).

    .venv/bin/python -m tests.ned_models.render.bench_render [--threads N] [--repeats R]

Uses the synthetic face (no media needed) with a smile of realistic size, at inter-ocular
distances that give face patches from about 256 to 1000 px (1080p and 4K close-ups). With one
thread the figures are CPU time of this process (robust to other load on the machine); with more,
wall-clock time. Prints one line per size: the median of the repeats for each stage.
"""

from __future__ import annotations

import argparse
import time

import cv2
import numpy as np

from ned_models.render import build_topology, dense_warp_field, warp_image
from tests.ned_models.render.synthetic_face import synthetic_face

IODS = (100, 160, 230, 300, 385)


def _smile(points: np.ndarray, iod: float) -> np.ndarray:
    xy = points[:, :2]
    dst = xy.copy()
    for corner, side in ((61, -1.0), (291, 1.0)):
        w = np.exp(-np.sum((xy - xy[corner]) ** 2, axis=1) / (2 * (0.22 * iod) ** 2))
        dst += w[:, None] * np.array([0.05 * side, -0.08]) * iod
    for brow in ((70, 63, 105, 66, 107), (300, 293, 334, 296, 336)):
        w = np.exp(-np.sum((xy - xy[list(brow)].mean(axis=0)) ** 2, axis=1) / (2 * (0.25 * iod) ** 2))
        dst += w[:, None] * np.array([0.0, -0.06]) * iod
    return dst


def _frame(size: int, rng: np.random.Generator) -> np.ndarray:
    base = cv2.GaussianBlur(rng.integers(0, 255, (size, size, 3), dtype=np.uint8), (0, 0), 1.0)
    return np.clip(base.astype(np.int16) + rng.integers(-8, 8, base.shape), 0, 255).astype(np.uint8)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", type=int, default=1, help="cv2.setNumThreads (0 = OpenCV's default)")
    parser.add_argument("--repeats", type=int, default=15)
    args = parser.parse_args()
    cv2.setNumThreads(args.threads)
    clock = time.process_time if args.threads == 1 else time.perf_counter
    rng = np.random.default_rng(0)
    topology = build_topology(synthetic_face())
    print(f"threads {args.threads}, {'CPU' if args.threads == 1 else 'wall'} time, median of {args.repeats}")
    for iod in IODS:
        size = int(4 * iod)
        face = synthetic_face((size / 2, size / 2), float(iod))
        dst = _smile(face, iod)
        frame = _frame(size, rng)
        times: dict[str, list[float]] = {"field": [], "warp": []}
        for _ in range(args.repeats):
            t0 = clock()
            field = dense_warp_field(face, dst, topology, (0, 0, size, size), feather=0.12)
            t1 = clock()
            _, placement, _ = warp_image(frame, (0, 0), field)
            t2 = clock()
            times["field"].append(t1 - t0)
            times["warp"].append(t2 - t1)
        field_ms, warp_ms = (1e3 * float(np.median(v)) for v in times.values())
        print(f"iod {iod:3d} px  patch {placement[2]:4d} x {placement[3]:4d}  grid step {field.step:2d}  "
              f"field {field_ms:5.1f} ms  warp {warp_ms:5.1f} ms  total {field_ms + warp_ms:5.1f} ms")


if __name__ == "__main__":
    main()

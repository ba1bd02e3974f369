"""Benchmark of the neural renderer's frame path by stage (not a pytest test).

    .venv/bin/python -m tests.ned_models.neural.bench_neural_renderer [--threads 1] [--repeats 10]

A 256x256 renderer of the default architecture with random weights (speed does not depend on them)
is exported to ONNX in a temporary folder; synthetic frames hold faces at inter-ocular distances of
100-300 px. Stages: the warp renderer (its patch is the network's source), the conditioning (crop
cut, NMFC, eyes, mask), the network (ONNX Runtime, CPU), and the paste-back (Lanczos upsampling of
the correction, face mask, multi-band blend). With one thread the figures are CPU time of this
process (robust to other load on the machine); with more, wall-clock time. Median of the repeats.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np
import torch

from ned_models.face_model.action_units import ActionUnit
from ned_models.face_model.morphable import load_face_model
from ned_models.neural.face_crop import CropLayout
from ned_models.neural.networks import CompactGenerator
from ned_models.neural.neural_renderer import NeuralRenderer
from ned_models.neural.renderer_checkpoint import export_renderer
from ned_models.render import build_topology
from tests.ned_models.neural.renderer_fakes import face_points, textured_frame
from tests.ned_models.neural.test_neural_renderer import _state

IODS = (100, 160, 230, 300)
STAGES = ("warp", "conditioning", "network", "paste")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", type=int, default=1, help="ONNX Runtime, torch and OpenCV threads")
    parser.add_argument("--repeats", type=int, default=10)
    args = parser.parse_args()
    cv2.setNumThreads(args.threads)
    torch.set_num_threads(args.threads)
    model = load_face_model()
    with tempfile.TemporaryDirectory() as directory:
        torch.manual_seed(0)
        generator = CompactGenerator()
        torch.nn.init.normal_(generator.head.weight, std=0.02)
        export_renderer(generator, Path(directory), CropLayout(256))
        renderer = NeuralRenderer.load(directory, device="cpu", threads=args.threads)
    renderer.clock = time.process_time if args.threads == 1 else time.perf_counter
    topology = build_topology(model.template[:, :2])
    expression = np.zeros(len(model.basis))
    expression[ActionUnit.LIP_CORNER_PULL_R] = expression[ActionUnit.LIP_CORNER_PULL_L] = 1.0
    print(f"{renderer.provider}, threads {args.threads}, {'CPU' if args.threads == 1 else 'wall'} time, "
          f"median of {args.repeats}")
    for iod in IODS:
        size = 4 * iod
        centre = (size / 2, size / 2)
        state, _ = _state()
        source = face_points(model, np.zeros(len(model.basis)), centre, float(iod))
        target = face_points(model, expression, centre, float(iod))
        state = replace(state, landmarks=source)
        region = textured_frame(np.random.default_rng(iod), (size, size))
        times = {stage: [] for stage in STAGES}
        for repeat in range(args.repeats + 1):
            stage_ms: dict[str, float] = {}
            renderer.render(region, (0, 0), 1.0, state, source[:, :2], target[:, :2], None,
                                        topology=topology, stage_ms=stage_ms)
            if repeat:  # the first call sets up ONNX Runtime's kernels
                for stage in STAGES:
                    times[stage].append(stage_ms[stage])
        medians = {stage: float(np.median(values)) for stage, values in times.items()}
        print(f"iod {iod:3d} px  region {size} x {size}  " + "  ".join(f"{s} {medians[s]:6.1f} ms" for s in STAGES)
              + f"  total {sum(medians.values()):6.1f} ms")


if __name__ == "__main__":
    main()

"""Benchmark of the neural networks on this machine: PyTorch vs ONNX Runtime, ours vs NED's.

Run: `python -m ned_models.neural.bench [--size 256] [--repeats 20] [--threads 2]`; one JSON object
per measurement on stdout. Weights are random (speed does not depend on them); every ONNX export
is parity-checked first, and its max abs difference is part of the output. Times are the median of
`repeats` calls after `warmup` calls, batch 1 (one frame, or one 10-frame window).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from ned_models.neural.export import (
    ExportReport,
    compact_generator_inputs,
    export_compact_generator,
    export_manipulator_generator,
    export_ned_generator,
    manipulator_generator_inputs,
    ned_generator_inputs,
)
from ned_models.neural.networks import CompactGenerator, CompactGeneratorConfig, ManipulatorGenerator, NedGenerator
from ned_models.neural.runtime import OnnxModel, OnnxRuntimeOptions

__all__ = ["Timing", "time_calls", "benchmark_model", "run_benchmarks", "main"]


@dataclass(frozen=True)
class Timing:
    """One model timed on one backend."""

    model: str
    backend: str
    input: str
    median_ms: float
    min_ms: float
    max_ms: float
    repeats: int
    threads: int
    parameters: int
    onnx_max_abs_diff: float | None = None


def time_calls(function: Callable[[], object], repeats: int, warmup: int) -> np.ndarray:
    """Wall-clock milliseconds of `repeats` calls, after `warmup` untimed ones."""
    for _ in range(warmup):
        function()
    times = np.empty(repeats)
    for index in range(repeats):
        start = time.perf_counter()
        function()
        times[index] = (time.perf_counter() - start) * 1000.0
    return times


def _timing(name: str, backend: str, shape: str, times: np.ndarray, threads: int, model: nn.Module, **extra) -> Timing:
    return Timing(
        model=name,
        backend=backend,
        input=shape,
        median_ms=float(np.median(times)),
        min_ms=float(times.min()),
        max_ms=float(times.max()),
        repeats=len(times),
        threads=threads,
        parameters=sum(p.numel() for p in model.parameters()),
        **extra,
    )


def benchmark_model(
    name: str,
    model: nn.Module,
    inputs: Mapping[str, torch.Tensor],
    export: Callable[[Path], ExportReport],
    workdir: Path,
    repeats: int,
    warmup: int,
    threads: int,
) -> list[Timing]:
    """Time `model` in PyTorch (eval, no grad) and its parity-checked ONNX export in ORT on the CPU."""
    shape = "; ".join(f"{key} {tuple(value.shape)}" for key, value in inputs.items())
    model.eval()
    with torch.no_grad():
        torch_times = time_calls(lambda: model(*inputs.values()), repeats, warmup)
    report = export(workdir / f"{name}.onnx")
    session = OnnxModel(report.path, OnnxRuntimeOptions(device="cpu", intra_op_threads=threads))
    feeds = {key: value.numpy() for key, value in inputs.items()}
    ort_times = time_calls(lambda: session.run(feeds), repeats, warmup)
    return [
        _timing(name, "torch-cpu", shape, torch_times, threads, model),
        _timing(name, "onnxruntime-cpu", shape, ort_times, threads, model, onnx_max_abs_diff=report.max_abs_diff),
    ]


def run_benchmarks(
    size: int = 256, repeats: int = 20, warmup: int = 2, threads: int = 2, compact: CompactGeneratorConfig | None = None
) -> list[Timing]:
    """Our compact generator, NED's generator (one size x size frame) and NED's manipulator G (one window)."""
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    size_hw = (size, size)
    ours = CompactGenerator(compact)
    nn.init.normal_(ours.head.weight, std=0.02)  # a zero head would make the parity check trivial
    ned = NedGenerator()
    manipulator = ManipulatorGenerator()
    results = []
    with tempfile.TemporaryDirectory(prefix="ned-bench-") as directory:
        workdir = Path(directory)
        cases = [
            ("compact_generator", ours, compact_generator_inputs(ours, 1, size_hw),
             lambda path: export_compact_generator(ours, path, size_hw)),
            ("ned_generator", ned, ned_generator_inputs(1, size_hw),
             lambda path: export_ned_generator(ned, path, size_hw)),
            ("ned_manipulator_generator", manipulator, manipulator_generator_inputs(manipulator, 1),
             lambda path: export_manipulator_generator(manipulator, path)),
        ]  # fmt: skip
        for name, model, inputs, export in cases:
            results += benchmark_model(name, model, inputs, export, workdir, repeats, warmup, threads)
            (workdir / f"{name}.onnx").unlink()
    return results


def main(argv: list[str] | None = None) -> int:
    """CLI: print one JSON line per timing."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=256, help="image side in pixels (multiple of 8)")
    parser.add_argument("--repeats", type=int, default=20, help="timed calls per model and backend")
    parser.add_argument("--warmup", type=int, default=2, help="untimed calls first")
    parser.add_argument("--threads", type=int, default=2, help="torch and ORT intra-op threads")
    parser.add_argument("--compact-ngf", type=int, default=CompactGeneratorConfig.ngf, help="our generator's width")
    args = parser.parse_args(argv)
    compact = CompactGeneratorConfig(ngf=args.compact_ngf)
    for timing in run_benchmarks(args.size, args.repeats, args.warmup, args.threads, compact):
        sys.stdout.write(json.dumps(asdict(timing)) + "\n")
        sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())

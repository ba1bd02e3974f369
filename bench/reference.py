"""Neural networks on this machine: our neural renderer's network, and NED's own as the reference.

Reuses `ned_models.neural.bench` (random weights, parity-checked ONNX exports, batch 1): our
CompactGenerator (the neural renderer's network; its row goes to the render table, as the
renderer's per-frame network cost at 256x256), NED's renderer generator at 256x256 and NED's
manipulator on a 10-frame window, each in PyTorch and ONNX Runtime on the CPU. With a CUDA build
of ONNX Runtime the CompactGenerator is timed on the GPU as well, and GPU memory is recorded.
"""

from __future__ import annotations

import logging
import tempfile
from pathlib import Path

import onnxruntime as ort

from bench.memory import gpu_memory_used_mib
from bench.results import Figure, Measurement, PeakMemory, StageResult, Timing
from ned_models.neural.bench import run_benchmarks, time_calls
from ned_models.neural.export import compact_generator_inputs, export_compact_generator
from ned_models.neural.networks import CompactGenerator
from ned_models.neural.runtime import CUDA, OnnxModel, OnnxRuntimeOptions

__all__ = ["run_reference", "NEURAL_SIZE"]

logger = logging.getLogger(__name__)

NEURAL_SIZE = 256
_LABELS = {"compact_generator": ("render", "neural: CompactGenerator network only", "frame"),
           "ned_generator": ("reference", "NED renderer generator (random weights)", "frame"),
           "ned_manipulator_generator": ("reference", "NED manipulator G, one 10-frame window", "window")}


def _cuda_compact_timing(size: int, repeats: int, warmup: int) -> Timing:
    """CompactGenerator in ONNX Runtime on the GPU (only called when ORT has the CUDA provider)."""
    model = CompactGenerator()
    inputs = compact_generator_inputs(model, 1, (size, size))
    with tempfile.TemporaryDirectory(prefix="ned-bench-cuda-") as tmp:
        report = export_compact_generator(model, Path(tmp) / "compact.onnx", (size, size))
        session = OnnxModel(report.path, OnnxRuntimeOptions(device="cuda"))
        feeds = {key: value.numpy() for key, value in inputs.items()}
        return Timing.of(time_calls(lambda: session.run(feeds), repeats, warmup))


def run_reference(repeats: int, warmup: int, threads: int, result: StageResult, size: int = NEURAL_SIZE) -> None:
    """Time the networks; measurements go to `result` (the CompactGenerator's tagged stage "render")."""
    resolution = f"{size}x{size}"
    for timing in run_benchmarks(size=size, repeats=repeats, warmup=warmup, threads=threads):
        stage, name, per = _LABELS[timing.model]
        backend = {"torch-cpu": "PyTorch CPU", "onnxruntime-cpu": "ONNX Runtime CPU"}.get(timing.backend,
                                                                                          timing.backend)
        res = "10x51 window" if per == "window" else resolution
        measured = Timing(timing.median_ms, timing.min_ms, timing.max_ms, timing.repeats)
        result.measurements.append(Measurement(stage, f"{name}, {backend}", res, per, measured,
                                               f"random weights; {timing.input}; {timing.threads} threads"))
        if timing.onnx_max_abs_diff is not None:
            result.figures.append(Figure("reference", f"ONNX parity max abs diff, {timing.model}",
                                         timing.onnx_max_abs_diff, "", res, "export vs PyTorch, same inputs"))
            result.figures.append(Figure("reference", f"parameters, {timing.model}", float(timing.parameters), "",
                                         res))
    if CUDA in ort.get_available_providers():
        timing = _cuda_compact_timing(size, repeats, warmup)
        result.measurements.append(Measurement("render", f"{_LABELS['compact_generator'][1]}, ONNX Runtime CUDA",
                                               resolution, "frame", timing, "random weights"))
        for gpu, used in (gpu_memory_used_mib() or {}).items():
            result.memory.append(PeakMemory(f"gpu {gpu}", used, "after the CUDA session ran (whole GPU, in use)"))
    else:
        result.notes.append(f"reference: no CUDA provider in onnxruntime {ort.__version__} "
                            f"(providers {ort.get_available_providers()}); GPU figures not measured")

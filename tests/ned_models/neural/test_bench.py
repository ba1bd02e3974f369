"""The benchmark measures both backends and carries the export's parity figure."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from torch import nn

from ned_models.neural.bench import benchmark_model, main, time_calls
from ned_models.neural.export import compact_generator_inputs, export_compact_generator
from ned_models.neural.networks import CompactGenerator, CompactGeneratorConfig


def test_time_calls_counts_and_warms_up() -> None:
    calls: list[int] = []
    times = time_calls(lambda: calls.append(1), repeats=4, warmup=2)
    assert len(calls) == 6 and times.shape == (4,) and np.all(times >= 0)


def test_benchmark_model_times_torch_and_onnxruntime(tmp_path: Path) -> None:
    model = CompactGenerator(CompactGeneratorConfig(ngf=4, n_downsampling=1, n_blocks=0))
    nn.init.normal_(model.head.weight, std=0.1)
    inputs = compact_generator_inputs(model, 1, (16, 16))
    timings = benchmark_model(
        "tiny", model, inputs, lambda path: export_compact_generator(model, path, (16, 16)), tmp_path, 3, 1, 1
    )
    assert [t.backend for t in timings] == ["torch-cpu", "onnxruntime-cpu"]
    assert all(t.median_ms > 0 and t.repeats == 3 for t in timings)
    assert timings[1].onnx_max_abs_diff is not None and timings[1].onnx_max_abs_diff <= 1e-3
    assert timings[0].parameters == sum(p.numel() for p in model.parameters())


def test_cli_rejects_unknown_arguments(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["--no-such-flag"])
    assert "unrecognized arguments" in capsys.readouterr().err

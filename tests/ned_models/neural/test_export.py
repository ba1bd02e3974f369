"""ONNX export of the generators matches PyTorch within 1e-3 (max abs) on random inputs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
import torch
from torch import nn

from ned_models.neural.export import (
    OPSET,
    PARITY_TOLERANCE,
    ExportReport,
    OnnxParityError,
    compact_generator_inputs,
    export_compact_generator,
    export_manipulator_generator,
    export_ned_generator,
    export_onnx,
    ned_generator_inputs,
)
from ned_models.neural.networks import CompactGenerator, CompactGeneratorConfig, ManipulatorGenerator, NedGenerator
from ned_models.neural.networks.instance_norm import NedInstanceNorm2d


def _with_stock_instance_norms(model: NedGenerator) -> NedGenerator:
    """The same weights with PyTorch's own InstanceNorm2d(track_running_stats=True), as NED builds it."""
    for module in list(model.modules()):
        for name, child in list(module.named_children()):
            if isinstance(child, NedInstanceNorm2d):
                stock = nn.InstanceNorm2d(child.num_features, affine=False, track_running_stats=True)
                stock.load_state_dict(child.state_dict())
                setattr(module, name, stock)
    return model


@pytest.fixture(scope="module")
def compact_export(tmp_path_factory: pytest.TempPathFactory) -> tuple[CompactGenerator, ExportReport]:
    model = CompactGenerator(CompactGeneratorConfig(ngf=8, n_downsampling=2, n_blocks=1))
    nn.init.normal_(model.head.weight, std=0.1)  # a zero head would make parity trivial
    return model, export_compact_generator(model, tmp_path_factory.mktemp("onnx") / "compact.onnx", size_hw=(32, 32))


def test_compact_generator_parity_and_metadata(compact_export) -> None:
    _, report = compact_export
    assert report.max_abs_diff <= PARITY_TOLERANCE
    assert report.input_names == ("conditioning", "previous", "source", "mask")
    proto = onnx.load(str(report.path))
    assert proto.opset_import[0].version >= 17
    metadata = {entry.key: entry.value for entry in proto.metadata_props}
    assert metadata["ned.model"] == "compact-generator" and "ngf=8" in metadata["ned.config"]


def test_compact_generator_dynamic_batch(compact_export) -> None:
    model, report = compact_export
    session = ort.InferenceSession(str(report.path), providers=["CPUExecutionProvider"])
    for batch in (1, 5):
        inputs = compact_generator_inputs(model, batch, (32, 32), seed=batch)
        output = session.run(None, {name: value.numpy() for name, value in inputs.items()})[0]
        with torch.no_grad():
            assert np.max(np.abs(output - model(*inputs.values()).numpy())) <= PARITY_TOLERANCE


def test_manipulator_generator_parity(tmp_path: Path) -> None:
    model = ManipulatorGenerator(input_dim=51, style_dim=16, width=64)
    report = export_manipulator_generator(model, tmp_path / "manipulator.onnx")
    assert report.max_abs_diff <= PARITY_TOLERANCE
    assert report.input_names == ("x", "style")


def test_ned_generator_export_reproduces_neds_training_mode_output(tmp_path: Path) -> None:
    """NED renders in training mode; the exported graph must equal stock PyTorch in training mode."""
    model = NedGenerator(ngf=8)  # NED's layout at a reduced width, to keep the test fast
    report = export_ned_generator(model, tmp_path / "ned.onnx", size_hw=(32, 32))
    assert report.max_abs_diff <= PARITY_TOLERANCE
    inputs = ned_generator_inputs(2, (32, 32), seed=7)
    session = ort.InferenceSession(str(report.path), providers=["CPUExecutionProvider"])
    onnx_output = session.run(None, {name: value.numpy() for name, value in inputs.items()})[0]
    stock = _with_stock_instance_norms(NedGenerator(ngf=8))
    stock.load_state_dict(model.state_dict())
    with torch.no_grad():
        reference = stock.train()(*inputs.values()).numpy()  # NED never calls .eval()
    assert np.max(np.abs(onnx_output - reference)) <= PARITY_TOLERANCE


@pytest.mark.slow
def test_full_size_ned_generator_parity(tmp_path: Path) -> None:
    report = export_ned_generator(NedGenerator(), tmp_path / "ned.onnx", size_hw=(64, 64))
    assert report.max_abs_diff <= PARITY_TOLERANCE


def test_input_names_must_match_forward(tmp_path: Path) -> None:
    model = ManipulatorGenerator(input_dim=4, style_dim=2, width=8)
    with pytest.raises(ValueError, match="must match"):
        export_onnx(model, {"style": torch.zeros(2, 2), "x": torch.zeros(2, 10, 4)}, tmp_path / "m.onnx")


def test_parity_failure_is_reported(tmp_path: Path) -> None:
    model = CompactGenerator(CompactGeneratorConfig(ngf=2, n_downsampling=1, n_blocks=0, n_previous=0))
    with pytest.raises(OnnxParityError, match="differs from PyTorch"):
        export_compact_generator(model, tmp_path / "c.onnx", size_hw=(8, 8), tolerance=-1.0)


def test_opset_is_recent_enough() -> None:
    assert OPSET >= 17

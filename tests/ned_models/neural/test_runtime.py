"""OnnxModel: provider choice, input checks, batching, and clear errors on bad files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest
import torch
from torch import nn

from ned_models.errors import ModelLoadError
from ned_models.neural.export import export_onnx
from ned_models.neural.runtime import CPU, CUDA, OnnxModel, OnnxRuntimeOptions, select_providers


class _Scale(nn.Module):
    """y = conv(image) * gain: one image input, one per-item vector input."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 2, 3, padding=1)

    def forward(self, image: torch.Tensor, gain: torch.Tensor) -> torch.Tensor:
        return self.conv(image) * gain.view(-1, 1, 1, 1)


@pytest.fixture(scope="module")
def model_file(tmp_path_factory: pytest.TempPathFactory) -> tuple[_Scale, Path]:
    module = _Scale().eval()
    path = export_onnx(
        module,
        {"image": torch.rand(2, 3, 8, 8), "gain": torch.rand(2)},
        tmp_path_factory.mktemp("onnx") / "scale.onnx",
        metadata={"ned.model": "test"},
    )
    return module, path


def _reference(module: _Scale, image: np.ndarray, gain: np.ndarray) -> np.ndarray:
    with torch.no_grad():
        return module(torch.from_numpy(image), torch.from_numpy(gain)).numpy()


def test_runs_on_cpu_and_matches_torch(model_file) -> None:
    module, path = model_file
    model = OnnxModel(path, OnnxRuntimeOptions(device="cpu", intra_op_threads=1))
    assert model.provider == CPU
    assert [spec.name for spec in model.inputs] == ["image", "gain"]
    assert model.inputs[0].shape == (None, 3, 8, 8)
    assert model.metadata["ned.model"] == "test"
    image, gain = np.random.rand(3, 3, 8, 8).astype(np.float32), np.random.rand(3).astype(np.float32)
    output = model.run({"image": image, "gain": gain})["output"]
    assert np.max(np.abs(output - _reference(module, image, gain))) < 1e-5


def test_batched_run_equals_one_run(model_file) -> None:
    module, path = model_file
    model = OnnxModel(path, OnnxRuntimeOptions(device="cpu", intra_op_threads=1))
    image, gain = np.random.rand(7, 3, 8, 8).astype(np.float32), np.random.rand(7).astype(np.float32)
    whole = model.run({"image": image, "gain": gain})["output"]
    chunked = model.run_batched({"image": image, "gain": gain}, max_batch=3)["output"]
    assert chunked.shape == (7, 2, 8, 8)
    assert np.allclose(whole, chunked, atol=1e-6)
    with pytest.raises(ValueError, match="disagree on the batch size"):
        model.run_batched({"image": image, "gain": gain[:5]}, max_batch=3)
    with pytest.raises(ValueError, match="max_batch"):
        model.run_batched({"image": image, "gain": gain}, max_batch=0)


def test_inputs_are_checked(model_file) -> None:
    model = OnnxModel(model_file[1], OnnxRuntimeOptions(device="cpu"))
    gain = np.ones(1, np.float32)
    with pytest.raises(ValueError, match=r"inputs \['image'\] given, the model takes \['gain', 'image'\]"):
        model.run({"image": np.zeros((1, 3, 8, 8), np.float32)})
    with pytest.raises(ValueError, match=r"input 'image' has shape \(1, 3, 9, 8\), expected \(None, 3, 8, 8\)"):
        model.run({"image": np.zeros((1, 3, 9, 8), np.float32), "gain": gain})
    float64 = model.run({"image": np.zeros((1, 3, 8, 8), np.float64), "gain": gain})  # cast, not refused
    assert float64["output"].dtype == np.float32


def test_bad_files_raise_model_load_error_naming_the_file(tmp_path: Path) -> None:
    with pytest.raises(ModelLoadError, match=r"absent\.onnx: no such ONNX model file"):
        OnnxModel(tmp_path / "absent.onnx")
    (tmp_path / "garbage.onnx").write_bytes(b"\x00not a protobuf at all" * 10)
    with pytest.raises(ModelLoadError, match=r"garbage\.onnx: not a loadable ONNX model"):
        OnnxModel(tmp_path / "garbage.onnx")


def test_truncated_model_file(model_file, tmp_path: Path) -> None:
    data = model_file[1].read_bytes()
    (tmp_path / "cut.onnx").write_bytes(data[: len(data) // 2])
    with pytest.raises(ModelLoadError, match=r"cut\.onnx: not a loadable ONNX model"):
        OnnxModel(tmp_path / "cut.onnx")


def test_provider_selection() -> None:
    assert select_providers(OnnxRuntimeOptions(device="cpu")) == [CPU]
    auto = select_providers(OnnxRuntimeOptions(device="auto"))
    assert auto[-1] == CPU
    has_cuda = CUDA in ort.get_available_providers()
    assert (auto[0][0] == CUDA) == has_cuda
    if not has_cuda:
        with pytest.raises(ValueError, match="onnxruntime-gpu"):
            select_providers(OnnxRuntimeOptions(device="cuda"))
    with pytest.raises(ValueError, match="device must be one of"):
        OnnxRuntimeOptions(device="tpu")

"""torch -> ONNX export of the generators, with a numerical parity check against PyTorch.

Export uses torch's torch.export-based exporter (opset 18), one ONNX file without external data,
a dynamic batch axis and static image / window sizes (the face crop size is fixed per pipeline, and
static shapes let ONNX Runtime plan memory once). Parity runs ONNX Runtime on the CPU with a batch size
different from the export's, so the dynamic axis is checked too.

NED's generator: NED renders with the network in training mode (instance statistics). Our
NedInstanceNorm2d normalises per instance in eval mode as well, so the eval-mode export reproduces
NED's test-time output; `tests/ned_models/neural/test_export.py` checks it against stock PyTorch
InstanceNorm2d in training mode.
"""

from __future__ import annotations

import inspect
import logging
import os
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import torch
from torch import nn

from ned_models.neural.networks import CompactGenerator, ManipulatorGenerator, NedGenerator

__all__ = [
    "ExportReport",
    "OnnxParityError",
    "export_onnx",
    "onnx_max_abs_diff",
    "ned_generator_inputs",
    "compact_generator_inputs",
    "manipulator_generator_inputs",
    "export_ned_generator",
    "export_compact_generator",
    "export_manipulator_generator",
]

logger = logging.getLogger(__name__)

OPSET = 18
PARITY_TOLERANCE = 1e-3  # max abs difference allowed between ONNX Runtime and PyTorch outputs
_EXPORT_BATCH = 2  # not 1: torch.export specialises size-1 dimensions
_PARITY_BATCH = 3  # differs from the export batch, so the dynamic axis is exercised


class OnnxParityError(RuntimeError):
    """The exported graph's outputs differ from PyTorch's by more than the tolerance."""


@dataclass(frozen=True)
class ExportReport:
    """Where a model was written and how closely ONNX Runtime reproduces PyTorch on random inputs."""

    path: Path
    max_abs_diff: float
    input_names: tuple[str, ...]
    output_name: str


def export_onnx(
    model: nn.Module,
    example_inputs: Mapping[str, torch.Tensor],
    path: str | os.PathLike[str],
    output_name: str = "output",
    metadata: Mapping[str, str] | None = None,
) -> Path:
    """Export `model` (eval mode) with a dynamic batch axis on every input and the output.

    Args:
        model: takes the inputs as positional arguments in the order of `example_inputs`, whose
            keys must be the forward's parameter names (they become the ONNX input names).
        example_inputs: one example per input, batch first.
        path: .onnx file to write (parent folders are created).
        output_name: name of the single output.
        metadata: string key/values stored in the ONNX model's metadata_props.

    Returns:
        The written path.
    """
    names = list(example_inputs)
    parameters = list(inspect.signature(model.forward).parameters)[: len(names)]
    if names != parameters:
        raise ValueError(f"example input names {names} must match {type(model).__name__}.forward's {parameters}")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    batch = torch.export.Dim("batch", min=1, max=4096)
    model.eval()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the exporter warns about internals we cannot act on
        torch.onnx.export(
            model,
            tuple(example_inputs.values()),
            str(path),
            input_names=names,
            output_names=[output_name],
            dynamic_shapes={name: {0: batch} for name in names},
            opset_version=OPSET,
            external_data=False,
            verbose=False,
        )
    if metadata:
        proto = onnx.load(str(path))
        for key, value in metadata.items():
            proto.metadata_props.add(key=key, value=value)
        onnx.save(proto, str(path))
    logger.info("exported %s to %s", type(model).__name__, path)
    return path


def onnx_max_abs_diff(model: nn.Module, path: str | os.PathLike[str], inputs: Mapping[str, torch.Tensor]) -> float:
    """Max |ONNX Runtime (CPU) - PyTorch (eval)| over the output for the given inputs."""
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    feeds = {name: tensor.detach().cpu().numpy() for name, tensor in inputs.items()}
    onnx_output = session.run(None, feeds)[0]
    model.eval()
    with torch.no_grad():
        torch_output = model(*inputs.values()).cpu().numpy()
    if onnx_output.shape != torch_output.shape:
        raise OnnxParityError(f"{path}: ONNX output shape {onnx_output.shape}, PyTorch {torch_output.shape}")
    return float(np.max(np.abs(onnx_output - torch_output)))


def _export_checked(
    model: nn.Module,
    make_inputs: Callable[[int, int], dict[str, torch.Tensor]],
    path: str | os.PathLike[str],
    tolerance: float,
    metadata: Mapping[str, str],
) -> ExportReport:
    example = make_inputs(_EXPORT_BATCH, 0)
    path = export_onnx(model, example, path, metadata=metadata)
    diff = onnx_max_abs_diff(model, path, make_inputs(_PARITY_BATCH, 1))
    if not diff <= tolerance:
        raise OnnxParityError(f"{path}: ONNX Runtime differs from PyTorch by {diff:.3g} (tolerance {tolerance:g})")
    logger.info("%s parity: max abs diff %.3g", path, diff)
    return ExportReport(path=path, max_abs_diff=diff, input_names=tuple(example), output_name="output")


def _uniform(generator: torch.Generator, shape: tuple[int, ...], low: float, high: float) -> torch.Tensor:
    return torch.rand(shape, generator=generator) * (high - low) + low


def _face_mask(generator: torch.Generator, batch: int, size_hw: tuple[int, int]) -> torch.Tensor:
    """A random ellipse per item (B, 1, H, W) {0, 1}, so masking is exercised at real edges."""
    height, width = size_hw
    ys = (torch.arange(height) + 0.5).view(1, -1, 1) / height - 0.5
    xs = (torch.arange(width) + 0.5).view(1, 1, -1) / width - 0.5
    radii = _uniform(generator, (batch, 1, 1), 0.2, 0.45)
    return ((xs**2 + ys**2) < radii**2).float().unsqueeze(1)


def ned_generator_inputs(batch: int, size_hw: tuple[int, int] = (256, 256), seed: int = 0) -> dict[str, torch.Tensor]:
    """Random inputs in NED's ranges: conditioning (B, 27) [0, 1], previous (B, 6) [-1, 1], mask (B, 1)."""
    generator = torch.Generator().manual_seed(seed)
    return {
        "conditioning": _uniform(generator, (batch, 27, *size_hw), 0.0, 1.0),
        "previous": _uniform(generator, (batch, 6, *size_hw), -1.0, 1.0),
        "mask": _face_mask(generator, batch, size_hw),
    }


def compact_generator_inputs(
    model: CompactGenerator, batch: int, size_hw: tuple[int, int] = (256, 256), seed: int = 0
) -> dict[str, torch.Tensor]:
    """Random inputs for our generator, sized from its config."""
    config = model.config
    generator = torch.Generator().manual_seed(seed)
    return {
        "conditioning": _uniform(generator, (batch, config.channels_per_frame * config.n_frames, *size_hw), 0.0, 1.0),
        "previous": _uniform(generator, (batch, 3 * config.n_previous, *size_hw), -1.0, 1.0),
        "source": _uniform(generator, (batch, 3, *size_hw), -1.0, 1.0),
        "mask": _face_mask(generator, batch, size_hw),
    }


def manipulator_generator_inputs(
    model: ManipulatorGenerator, batch: int, seq_len: int = 10, seed: int = 0
) -> dict[str, torch.Tensor]:
    """Random expression windows (B, seq_len, D) and styles (B, style_dim), standard normal."""
    generator = torch.Generator().manual_seed(seed)
    return {
        "x": torch.randn((batch, seq_len, model.input_dim), generator=generator),
        "style": torch.randn((batch, model.style_dim), generator=generator),
    }


def export_ned_generator(
    model: NedGenerator,
    path: str | os.PathLike[str],
    size_hw: tuple[int, int] = (256, 256),
    tolerance: float = PARITY_TOLERANCE,
) -> ExportReport:
    """Export NED's generator at a fixed image size and check parity (raises OnnxParityError)."""
    return _export_checked(
        model,
        lambda batch, seed: ned_generator_inputs(batch, size_hw, seed),
        path,
        tolerance,
        {"ned.model": "ned-renderer-generator", "ned.size_hw": f"{size_hw[0]},{size_hw[1]}"},
    )


def export_compact_generator(
    model: CompactGenerator,
    path: str | os.PathLike[str],
    size_hw: tuple[int, int] = (256, 256),
    tolerance: float = PARITY_TOLERANCE,
) -> ExportReport:
    """Export our generator (its config goes into the ONNX metadata) and check parity."""
    config = ",".join(f"{key}={value}" for key, value in model.config.to_dict().items())
    return _export_checked(
        model,
        lambda batch, seed: compact_generator_inputs(model, batch, size_hw, seed),
        path,
        tolerance,
        {"ned.model": "compact-generator", "ned.size_hw": f"{size_hw[0]},{size_hw[1]}", "ned.config": config},
    )


def export_manipulator_generator(
    model: ManipulatorGenerator,
    path: str | os.PathLike[str],
    seq_len: int = 10,
    tolerance: float = PARITY_TOLERANCE,
) -> ExportReport:
    """Export the manipulator's G(x, s) for windows of `seq_len` frames and check parity."""
    return _export_checked(
        model,
        lambda batch, seed: manipulator_generator_inputs(model, batch, seq_len, seed),
        path,
        tolerance,
        {"ned.model": "manipulator-generator", "ned.seq_len": str(seq_len)},
    )

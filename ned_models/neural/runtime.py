"""ONNX Runtime sessions for the exported networks: provider choice, threads, batching, clear errors.

The CUDA execution provider is used when the installed onnxruntime has it (the onnxruntime-gpu
wheel) and it actually initialises; otherwise the CPU provider. The provider a session really runs
on is reported by `OnnxModel.provider` (ORT silently drops a provider that fails to load).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnxruntime as ort

from ned_models.errors import ModelLoadError

__all__ = ["OnnxRuntimeOptions", "TensorSpec", "OnnxModel", "select_providers"]

logger = logging.getLogger(__name__)

CUDA = "CUDAExecutionProvider"
CPU = "CPUExecutionProvider"
_DEVICES = ("auto", "cpu", "cuda")
_NUMPY_TYPES = {"tensor(float)": np.float32, "tensor(int64)": np.int64, "tensor(float16)": np.float16}


@dataclass(frozen=True)
class OnnxRuntimeOptions:
    """How to run a model.

    Attributes:
        device: "auto" (CUDA when available, else CPU), "cpu" or "cuda" (an error without CUDA).
        intra_op_threads: threads inside one operator; 0 lets ORT use one per physical core.
        inter_op_threads: threads across independent operators (1: our graphs are sequential).
        cuda_device_id: GPU index for the CUDA provider.
    """

    device: str = "auto"
    intra_op_threads: int = 0
    inter_op_threads: int = 1
    cuda_device_id: int = 0

    def __post_init__(self) -> None:
        if self.device not in _DEVICES:
            raise ValueError(f"device must be one of {_DEVICES}, got {self.device!r}")
        if self.intra_op_threads < 0 or self.inter_op_threads < 0:
            raise ValueError("thread counts must be >= 0")


@dataclass(frozen=True)
class TensorSpec:
    """One model input or output: name, shape (None where dynamic) and numpy dtype."""

    name: str
    shape: tuple[int | None, ...]
    dtype: type


def select_providers(options: OnnxRuntimeOptions) -> list[str | tuple[str, dict[str, object]]]:
    """Providers to ask ORT for, in preference order (CPU always last as the fallback)."""
    available = ort.get_available_providers()
    if options.device == "cuda" and CUDA not in available:
        raise ValueError(
            f"device 'cuda' asked for, but this onnxruntime has only {available} (install onnxruntime-gpu)"
        )
    if options.device != "cpu" and CUDA in available:
        return [(CUDA, {"device_id": options.cuda_device_id}), CPU]
    return [CPU]


def _spec(node: ort.NodeArg) -> TensorSpec:
    shape = tuple(dim if isinstance(dim, int) else None for dim in node.shape)
    return TensorSpec(node.name, shape, _NUMPY_TYPES.get(node.type, np.float32))


class OnnxModel:
    """An ONNX Runtime session with input checks and batch splitting.

    Args:
        path: the .onnx file.
        options: device and threads.

    Raises:
        ModelLoadError: the file is missing, not an ONNX model, or cannot be run by this ORT; or
            CUDA was required and did not initialise.
    """

    def __init__(self, path: str | os.PathLike[str], options: OnnxRuntimeOptions | None = None) -> None:
        self.path = Path(path)
        self.options = options or OnnxRuntimeOptions()
        if not self.path.is_file():
            raise ModelLoadError(f"{self.path}: no such ONNX model file")
        session_options = ort.SessionOptions()
        session_options.intra_op_num_threads = self.options.intra_op_threads
        session_options.inter_op_num_threads = self.options.inter_op_threads
        session_options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        providers = select_providers(self.options)
        try:
            self._session = ort.InferenceSession(str(self.path), session_options, providers=providers)
        except Exception as exc:  # ORT raises its own pybind types (InvalidProtobuf, Fail, NoSuchFile, ...)
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise ModelLoadError(f"{self.path}: not a loadable ONNX model ({first})") from exc
        self.provider = self._session.get_providers()[0]
        if self.options.device == "cuda" and self.provider != CUDA:
            raise ModelLoadError(f"{self.path}: the CUDA provider did not initialise (running on {self.provider})")
        self.inputs = tuple(_spec(node) for node in self._session.get_inputs())
        self.outputs = tuple(_spec(node) for node in self._session.get_outputs())
        self.metadata = dict(self._session.get_modelmeta().custom_metadata_map)
        logger.info("loaded %s on %s", self.path.name, self.provider)

    def _check(self, feeds: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        names = {spec.name for spec in self.inputs}
        if set(feeds) != names:
            raise ValueError(f"{self.path.name}: inputs {sorted(feeds)} given, the model takes {sorted(names)}")
        checked = {}
        for spec in self.inputs:
            array = np.asarray(feeds[spec.name])
            fixed = [(have, want) for have, want in zip(array.shape, spec.shape, strict=False) if want is not None]
            if array.ndim != len(spec.shape) or any(have != want for have, want in fixed):
                raise ValueError(
                    f"{self.path.name}: input {spec.name!r} has shape {array.shape}, expected {spec.shape}"
                )
            checked[spec.name] = np.ascontiguousarray(array, dtype=spec.dtype)
        return checked

    def run(self, feeds: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Run once on whole arrays: {input name: array} -> {output name: array}.

        Raises:
            ValueError: missing or extra inputs, or shapes that contradict the model's fixed axes.
        """
        checked = self._check(feeds)
        values = self._session.run(None, checked)
        return {spec.name: value for spec, value in zip(self.outputs, values, strict=True)}

    def run_batched(self, feeds: Mapping[str, np.ndarray], max_batch: int) -> dict[str, np.ndarray]:
        """Like `run`, but splits axis 0 (the dynamic batch axis) into chunks of at most `max_batch`."""
        if max_batch < 1:
            raise ValueError(f"max_batch must be >= 1, got {max_batch}")
        checked = self._check(feeds)
        sizes = {array.shape[0] for array in checked.values()}
        if len(sizes) != 1:
            raise ValueError(f"{self.path.name}: inputs disagree on the batch size: {sorted(sizes)}")
        total = sizes.pop()
        if total == 0:
            raise ValueError(f"{self.path.name}: empty batch")
        chunks: list[list[np.ndarray]] = []
        for start in range(0, total, max_batch):
            chunk = {name: array[start : start + max_batch] for name, array in checked.items()}
            chunks.append(self._session.run(None, chunk))
        return {spec.name: np.concatenate([c[i] for c in chunks]) for i, spec in enumerate(self.outputs)}

"""The one place TFLite interpreters are created (ai-edge-litert, CPU with XNNPACK).

Thread count: the face models are small (1-3 ms), so one thread per model is usually best; the
multi-threading overhead of XNNPACK eats most of the gain and the server may run several analyses
side by side. `NED_TFLITE_THREADS` overrides the default for benchmarking.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import numpy as np

from ned_models.assets import ModelAsset, resolve
from ned_models.errors import ModelLoadError

__all__ = ["TfliteModel", "default_num_threads"]

logger = logging.getLogger(__name__)


def default_num_threads() -> int:
    """Threads per interpreter: `$NED_TFLITE_THREADS` when set (>= 1), else 1."""
    raw = os.environ.get("NED_TFLITE_THREADS", "")
    if not raw:
        return 1
    try:
        value = int(raw)
    except ValueError as exc:
        raise ValueError(f"NED_TFLITE_THREADS must be a positive integer, got {raw!r}") from exc
    if value < 1:
        raise ValueError(f"NED_TFLITE_THREADS must be a positive integer, got {raw!r}")
    return value


class TfliteModel:
    """A single-input image model with a resizable batch dimension.

    Not thread-safe: one instance per thread (each tracker owns its models).
    """

    def __init__(self, asset: ModelAsset, num_threads: int | None = None,
                 directory: Path | None = None) -> None:
        """Load and verify `asset` (see `ned_models.assets.resolve`).

        Raises:
            ModelLoadError: the file is missing/corrupt, or the runtime rejects it.
        """
        # Imported here so importing ned_models never loads the runtime.
        from ai_edge_litert.interpreter import Interpreter

        path = resolve(asset, directory)
        threads = num_threads if num_threads is not None else default_num_threads()
        try:
            self._interpreter = Interpreter(model_path=str(path), num_threads=threads)
            self._interpreter.allocate_tensors()
        except (RuntimeError, ValueError) as exc:
            raise ModelLoadError(f"model file {path} could not be loaded: {exc}") from exc
        self.asset = asset
        inputs = self._interpreter.get_input_details()
        if len(inputs) != 1 or tuple(inputs[0]["shape"][1:3]) != asset.input_hw:
            raise ModelLoadError(f"model file {path} has inputs {inputs}, expected one "
                                 f"{asset.input_hw} image")
        self._input_index = inputs[0]["index"]
        self._output_indices = [d["index"] for d in self._interpreter.get_output_details()]
        self._batch = 1
        logger.debug("loaded %s with %d thread(s)", path, threads)

    def run(self, batch: np.ndarray) -> list[np.ndarray]:
        """Run the model.

        Args:
            batch: (B, H, W, 3) float32, already scaled to `asset.input_range`.

        Returns:
            The outputs in the model's order, each (B, ...) float32 (copies, safe to keep).
        """
        h, w = self.asset.input_hw
        if batch.ndim != 4 or batch.shape[1:] != (h, w, 3):
            raise ValueError(f"expected a (B, {h}, {w}, 3) batch, got {batch.shape}")
        if batch.shape[0] != self._batch:
            self._interpreter.resize_tensor_input(self._input_index, [batch.shape[0], h, w, 3])
            self._interpreter.allocate_tensors()
            self._batch = batch.shape[0]
        self._interpreter.set_tensor(self._input_index, np.ascontiguousarray(batch, dtype=np.float32))
        self._interpreter.invoke()
        return [self._interpreter.get_tensor(i).copy() for i in self._output_indices]

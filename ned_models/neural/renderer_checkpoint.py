"""The renderer's files in a shot folder: the training checkpoint, the generator, the ONNX export.

- `renderer_checkpoint.pt`: {format, version, step, elapsed_s, generator_config, ndf, state} with the
  state of the three networks, G's weight average and both optimisers (tensors and plain containers
  only, written atomically), what `train_renderer(..., resume=True)` continues from.
- `renderer_generator.pt`: the generator alone, its weight average, which validation measured
  (`checkpoints.save_compact_generator`).
- `renderer.onnx`: its export, parity checked against PyTorch, with the crop layout in the ONNX
  metadata (`LAYOUT_KEY`), which `NeuralRenderer.load` reads.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import onnx

from ned_models.errors import CheckpointError
from ned_models.neural.checkpoint_io import read_torch_file, write_torch_file
from ned_models.neural.checkpoints import save_compact_generator
from ned_models.neural.export import export_compact_generator
from ned_models.neural.face_crop import CropLayout
from ned_models.neural.networks import CompactGenerator
from ned_models.neural.renderer_optimisation import RendererNetworks

__all__ = ["CHECKPOINT_NAME", "GENERATOR_NAME", "ONNX_NAME", "LAYOUT_KEY", "save_training_checkpoint",
           "load_training_checkpoint", "export_renderer"]

logger = logging.getLogger(__name__)

CHECKPOINT_NAME = "renderer_checkpoint.pt"
GENERATOR_NAME = "renderer_generator.pt"
ONNX_NAME = "renderer.onnx"
LAYOUT_KEY = "ned.crop_layout"  # ONNX metadata: "size,iod_fraction,centre_y"
_FORMAT = "emotion-director/renderer-training"
_VERSION = 2  # 2: G's weight average and its update count


def save_training_checkpoint(path: Path, networks: RendererNetworks, step: int, elapsed_s: float) -> None:
    """Write everything needed to resume (atomically: a crash never leaves a truncated file)."""
    write_torch_file({"format": _FORMAT, "version": _VERSION, "step": step, "elapsed_s": elapsed_s,
                      "generator_config": networks.generator.config.to_dict(), "ndf": networks.ndf,
                      "state": networks.training_state()}, path)


def load_training_checkpoint(path: Path, networks: RendererNetworks) -> tuple[int, float]:
    """Restore a checkpoint into `networks`; returns (step, elapsed seconds).

    Raises:
        CheckpointError: not a renderer checkpoint, another version, another architecture, or damaged.
    """
    payload = read_torch_file(path)
    if not isinstance(payload, dict) or payload.get("format") != _FORMAT:
        raise CheckpointError(f"{path}: not a renderer training checkpoint")
    if payload.get("version") != _VERSION:
        raise CheckpointError(f"{path}: renderer checkpoint version {payload.get('version')!r}, "
                              f"this build reads {_VERSION}")
    if payload.get("generator_config") != networks.generator.config.to_dict() or payload.get("ndf") != networks.ndf:
        raise CheckpointError(f"{path}: trained with another architecture ({payload.get('generator_config')}, "
                              f"ndf {payload.get('ndf')}); train without resume to start over")
    try:
        networks.load_training_state(payload["state"])
    except (KeyError, RuntimeError, ValueError) as exc:
        raise CheckpointError(f"{path}: damaged renderer checkpoint ({exc})") from exc
    return int(payload["step"]), float(payload["elapsed_s"])


def export_renderer(generator: CompactGenerator, directory: Path, layout: CropLayout) -> tuple[Path, Path]:
    """Save the generator and its ONNX export, each replacing the previous one atomically.

    Returns:
        (generator path, ONNX path).

    Raises:
        OnnxParityError: the export does not reproduce PyTorch within tolerance.
    """
    generator = generator.cpu().eval()
    generator_path = save_compact_generator(generator, directory / GENERATOR_NAME)
    partial = directory / f".{ONNX_NAME}.partial"
    try:
        report = export_compact_generator(generator, partial, size_hw=layout.size_hw)
        model = onnx.load(str(partial))
        model.metadata_props.add(key=LAYOUT_KEY, value=f"{layout.size},{layout.iod_fraction!r},{layout.centre_y!r}")
        onnx.save(model, str(partial))
        os.replace(partial, directory / ONNX_NAME)
    finally:
        partial.unlink(missing_ok=True)
    logger.info("exported the renderer to %s (ONNX parity %.2g)", directory / ONNX_NAME, report.max_abs_diff)
    return generator_path, directory / ONNX_NAME

"""Loaders and writers for NED's official checkpoint formats and for our own renderer checkpoints.

Formats (ned_facts §4.2):
- NED renderer `<epoch>_net_G.pth` / `_net_D.pth` / `_net_Dm.pth`: a bare state dict. Generator files
  hold every ResNet-block tensor twice (`conv_block.*` and `resnetblock_sequential.*`) and instance-norm
  running buffers; both are accepted, and either block prefix alone is enough.
- NED manipulator `NN_nets[_finetuned].pth`: {generator, mapping_network, style_encoder,
  discriminator}, each a plain state dict without `module.`. Network sizes are read from the tensor
  shapes, so files trained on our expression space (not 51-dim) load the same way. Our writer may add
  one more key, `emotion_director`, holding plain metadata (NED's own loader ignores extra keys).
- Ours, compact renderer generator: {format, version, config, state_dict}; the architecture
  hyperparameters travel with the weights.
Every problem raises CheckpointError naming the file and what is wrong.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch

from ned_models.errors import CheckpointError
from ned_models.neural.checkpoint_io import (
    as_tensor_dict,
    check_state_dict,
    describe_checkpoint_kind,
    read_torch_file,
    strip_module_prefix,
    write_torch_file,
)
from ned_models.neural.networks import (
    CompactGenerator,
    CompactGeneratorConfig,
    ManipulatorDims,
    MultiscalePatchDiscriminator,
    NedGenerator,
    NedManipulator,
)

__all__ = [
    "ManipulatorInfo",
    "ManipulatorCheckpoint",
    "load_ned_renderer_generator",
    "save_ned_renderer_generator",
    "load_ned_renderer_discriminator",
    "save_ned_renderer_discriminator",
    "load_manipulator_checkpoint",
    "load_ned_manipulator",
    "save_ned_manipulator",
    "load_compact_generator",
    "save_compact_generator",
]

MANIPULATOR_PARTS = ("generator", "mapping_network", "style_encoder", "discriminator")
METADATA_KEY = "emotion_director"
COMPACT_FORMAT = "emotion-director/compact-generator"
COMPACT_VERSION = 1
_BLOCK_NAMES = ("conv_block.", "resnetblock_sequential.")
_RUNNING_STATS = ("running_mean", "running_var", "num_batches_tracked")
_NED_JAW_AND_EXP = ("jaw_open", *(f"exp_{index:02d}" for index in range(50)))


def _is_running_stat(key: str) -> bool:
    return key.rsplit(".", 1)[-1] in _RUNNING_STATS


def _default_running_stat(key: str, like: torch.Tensor) -> torch.Tensor:
    """What PyTorch initialises a running-stat buffer to (a file may lack them; NED never reads them)."""
    if key.endswith("running_var"):
        return torch.ones(like.shape, dtype=like.dtype)
    return torch.zeros(like.shape, dtype=like.dtype)


def _adopt(path: Path, model: torch.nn.Module, state: dict[str, torch.Tensor], what: str) -> torch.nn.Module:
    """Check the file's names and shapes against `model`, then make the file's tensors its weights.

    `model` is built on the meta device (no memory, no random init: NED's generator has 71 M
    parameters); loading assigns the file's tensors (cast to the model's float dtype) in place.
    """
    expected = model.state_dict()
    if not any(key in expected for key in state):
        kind = describe_checkpoint_kind(state)
        if kind:
            raise CheckpointError(f"{path}: this is {kind}, not a {what}")
    check_state_dict(path, state, expected, what, optional=_is_running_stat)
    complete = {}
    for key, like in expected.items():
        value = state[key] if key in state else _default_running_stat(key, like)
        complete[key] = value.to(like.dtype) if like.is_floating_point() else value
    model.load_state_dict(complete, strict=True, assign=True)
    return model


def _materialise(
    path: Path, build: Callable[[], torch.nn.Module], state: dict[str, torch.Tensor], what: str
) -> torch.nn.Module:
    """Build a network on the meta device and adopt the file's tensors (see `_adopt`)."""
    with torch.device("meta"):
        model = build()
    return _adopt(path, model, state, what)


# --- NED renderer -------------------------------------------------------------------------------


def _merge_block_aliases(path: Path, state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Make both ResNet-block prefixes present; reject a file whose two copies disagree."""
    merged = dict(state)
    first, second = _BLOCK_NAMES
    for key, value in state.items():
        for have, other in ((first, second), (second, first)):
            if have in key:
                alias = key.replace(have, other, 1)
                if have == second and alias in state:
                    continue  # the pair was compared from the other side
                if alias not in state:
                    merged[alias] = value
                elif state[alias].shape != value.shape or not torch.equal(state[alias], value):
                    raise CheckpointError(
                        f"{path}: the duplicate ResNet-block tensors {key} and {alias} differ "
                        "(in a NED generator file they are one tensor saved twice)"
                    )
    return merged


def load_ned_renderer_generator(path: str | os.PathLike[str]) -> NedGenerator:
    """Load NED's per-actor (or meta-) renderer generator, e.g. `20_net_G.pth`, on the CPU.

    Returns:
        NedGenerator in eval mode (which in this implementation already uses per-instance
        statistics, as NED's test script does).

    Raises:
        CheckpointError: unreadable file, another kind of checkpoint, or a tensor layout that differs
            from NedGenerator's (missing / unexpected / mis-shaped tensors are listed).
    """
    path = Path(path)
    what = "NED renderer generator (<epoch>_net_G.pth)"
    state = strip_module_prefix(as_tensor_dict(path, read_torch_file(path), what))
    return _materialise(path, NedGenerator, _merge_block_aliases(path, state), what).eval()


def save_ned_renderer_generator(model: NedGenerator, path: str | os.PathLike[str]) -> Path:
    """Write `model` exactly as NED does: `network.cpu().state_dict()`, a bare dict, duplicates included."""
    return write_torch_file({key: value.detach().cpu() for key, value in model.state_dict().items()}, path)


def load_ned_renderer_discriminator(path: str | os.PathLike[str]) -> MultiscalePatchDiscriminator:
    """Load NED's image or mouth discriminator (`<epoch>_net_D.pth`, `<epoch>_net_Dm.pth`)."""
    path = Path(path)
    what = "NED renderer discriminator (<epoch>_net_D.pth / _net_Dm.pth)"
    state = strip_module_prefix(as_tensor_dict(path, read_torch_file(path), what))
    return _materialise(path, MultiscalePatchDiscriminator, state, what)


def save_ned_renderer_discriminator(model: MultiscalePatchDiscriminator, path: str | os.PathLike[str]) -> Path:
    """Write a discriminator as NED does (bare state dict)."""
    return write_torch_file({key: value.detach().cpu() for key, value in model.state_dict().items()}, path)


# --- NED manipulator ----------------------------------------------------------------------------


@dataclass(frozen=True)
class ManipulatorInfo:
    """What a manipulator's expression vectors mean (not in NED's files, which are always 51-dim).

    Attributes:
        channel_names: one name per input channel.
        mouth_channels: indices of the speech channels whose time course the mouth loss preserves.
        note: free text (what it was trained on).
    """

    channel_names: tuple[str, ...] = _NED_JAW_AND_EXP
    mouth_channels: tuple[int, ...] = (0,)
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        """Plain containers only, so the file stays loadable with weights_only=True."""
        values = asdict(self)
        return {key: list(value) if isinstance(value, tuple) else value for key, value in values.items()}


@dataclass(frozen=True)
class ManipulatorCheckpoint:
    """A loaded manipulator file: the networks and what their channels mean."""

    model: NedManipulator
    info: ManipulatorInfo = field(default_factory=ManipulatorInfo)


def _shape_of(path: Path, parts: Mapping[str, dict[str, torch.Tensor]], part: str, key: str) -> tuple[int, ...]:
    tensor = parts[part].get(key)
    if tensor is None or tensor.dim() != 2:
        raise CheckpointError(f"{path}: does not match the NED manipulator layout: no 2-D tensor {part}/{key}")
    return tuple(tensor.shape)


def _infer_dims(path: Path, parts: Mapping[str, dict[str, torch.Tensor]]) -> ManipulatorDims:
    """Read the network sizes off the tensor shapes (NED's files give 51/16/4/7/512/256/64)."""
    generator_width, joint = _shape_of(path, parts, "generator", "seq1.0.weight")
    input_dim = _shape_of(path, parts, "generator", "seq2.4.weight")[0]
    mapping_width, latent_dim = _shape_of(path, parts, "mapping_network", "shared.0.weight")
    style_dim = _shape_of(path, parts, "mapping_network", "unshared.0.2.weight")[0]
    encoder_width = _shape_of(path, parts, "style_encoder", "seq1.2.weight")[0]
    heads = {key.split(".")[1] for key in parts["mapping_network"] if key.startswith("unshared.")}
    try:
        return ManipulatorDims(
            input_dim=input_dim,
            style_dim=style_dim,
            latent_dim=latent_dim,
            num_domains=len(heads),
            generator_width=generator_width,
            encoder_width=encoder_width,
            mapping_width=mapping_width,
        )
    except ValueError as exc:
        raise CheckpointError(f"{path}: inconsistent NED manipulator sizes ({exc})") from exc


def _info_from(path: Path, raw: Any, input_dim: int) -> ManipulatorInfo:
    if raw is None:
        if input_dim != len(_NED_JAW_AND_EXP):
            return ManipulatorInfo(channel_names=tuple(f"channel_{i}" for i in range(input_dim)))
        return ManipulatorInfo()
    try:
        info = ManipulatorInfo(
            channel_names=tuple(str(name) for name in raw["channel_names"]),
            mouth_channels=tuple(int(index) for index in raw["mouth_channels"]),
            note=str(raw.get("note", "")),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise CheckpointError(f"{path}: malformed '{METADATA_KEY}' metadata ({exc!r})") from exc
    if len(info.channel_names) != input_dim or not all(0 <= i < input_dim for i in info.mouth_channels):
        raise CheckpointError(f"{path}: '{METADATA_KEY}' metadata does not fit {input_dim} input channels")
    return info


def _manipulator_parts(path: Path, payload: Any) -> dict[str, dict[str, torch.Tensor]]:
    what = "NED manipulator checkpoint (NN_nets[_finetuned].pth)"
    if not isinstance(payload, Mapping):
        raise CheckpointError(f"{path}: holds a {type(payload).__name__}, not a {what} (expected a dict)")
    keys = sorted(str(key) for key in payload)
    missing = [part for part in MANIPULATOR_PARTS if part not in payload]
    unexpected = [key for key in keys if key not in (*MANIPULATOR_PARTS, METADATA_KEY)]
    kind = describe_checkpoint_kind(payload)
    if missing and kind:
        raise CheckpointError(f"{path}: this is {kind}, not a {what}")
    if missing or unexpected:
        found = ", ".join(keys[:8]) + (", ..." if len(keys) > 8 else "")
        raise CheckpointError(
            f"{path}: not a {what}: top-level keys are [{found}]; expected {', '.join(MANIPULATOR_PARTS)}"
            + (f" (missing: {', '.join(missing)})" if missing else "")
            + (f" (unexpected: {', '.join(unexpected[:8])})" if unexpected else "")
        )
    if kind and "optimiser" in kind:
        raise CheckpointError(f"{path}: this is {kind}, not a {what}")
    return {
        part: strip_module_prefix(as_tensor_dict(path, payload[part], f"{what} '{part}' part"))
        for part in MANIPULATOR_PARTS
    }


def load_manipulator_checkpoint(path: str | os.PathLike[str]) -> ManipulatorCheckpoint:
    """Load a NED-format manipulator file (NED's own, or one our training wrote) with its channel info.

    Raises:
        CheckpointError: unreadable file, wrong top-level keys (listed), or a part whose tensors do
            not match the networks (missing / unexpected / mis-shaped tensors listed per part).
    """
    path = Path(path)
    payload = read_torch_file(path)
    parts = _manipulator_parts(path, payload)
    dims = _infer_dims(path, parts)
    with torch.device("meta"):
        model = NedManipulator(dims)
    for part in MANIPULATOR_PARTS:
        _adopt(path, getattr(model, part), parts[part], f"NED manipulator '{part}'")
    info = _info_from(path, payload.get(METADATA_KEY), dims.input_dim)
    return ManipulatorCheckpoint(model=model.eval(), info=info)


def load_ned_manipulator(path: str | os.PathLike[str]) -> NedManipulator:
    """Load the four manipulator networks of a NED-format file (e.g. `02_nets_finetuned.pth`), eval mode."""
    return load_manipulator_checkpoint(path).model


def save_ned_manipulator(
    model: NedManipulator, path: str | os.PathLike[str], info: ManipulatorInfo | None = None
) -> Path:
    """Write the four networks in NED's layout; `info`, if given, goes under the extra metadata key."""
    payload: dict[str, Any] = {
        part: {key: value.detach().cpu() for key, value in getattr(model, part).state_dict().items()}
        for part in MANIPULATOR_PARTS
    }
    if info is not None:
        payload[METADATA_KEY] = info.to_dict()
    return write_torch_file(payload, path)


# --- our compact renderer generator --------------------------------------------------------------


def load_compact_generator(path: str | os.PathLike[str]) -> CompactGenerator:
    """Load our renderer generator; its architecture comes from the file's stored config."""
    path = Path(path)
    what = f"Emotion Director compact generator checkpoint ({COMPACT_FORMAT})"
    payload = read_torch_file(path)
    if not isinstance(payload, Mapping) or payload.get("format") != COMPACT_FORMAT:
        kind = describe_checkpoint_kind(payload)
        raise CheckpointError(f"{path}: {'this is ' + kind if kind else 'unrecognised content'}, not an {what}")
    if payload.get("version") != COMPACT_VERSION:
        raise CheckpointError(f"{path}: {what} version {payload.get('version')!r}; this build reads {COMPACT_VERSION}")
    try:
        config = CompactGeneratorConfig(**payload["config"])
    except (KeyError, TypeError, ValueError) as exc:
        raise CheckpointError(f"{path}: missing or invalid architecture config ({exc})") from exc
    if not isinstance(payload.get("state_dict"), Mapping):
        raise CheckpointError(f"{path}: {what} without a 'state_dict' dict of tensors")
    state = as_tensor_dict(path, payload["state_dict"], what)
    return _materialise(path, lambda: CompactGenerator(config), state, what).eval()


def save_compact_generator(model: CompactGenerator, path: str | os.PathLike[str]) -> Path:
    """Write our generator with its config, so the file alone rebuilds the network."""
    payload = {
        "format": COMPACT_FORMAT,
        "version": COMPACT_VERSION,
        "config": model.config.to_dict(),
        "state_dict": {key: value.detach().cpu() for key, value in model.state_dict().items()},
    }
    return write_torch_file(payload, path)

"""Safe reading and writing of torch checkpoint files, and precise messages when one is not as expected.

Everything here is format-agnostic: `checkpoints.py` knows the formats. Files are read with
`weights_only=True`, so a checkpoint can hold tensors and plain containers but never runs code.
"""

from __future__ import annotations

import os
import pickle
import tempfile
import zipfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import torch

from ned_models.errors import CheckpointError

__all__ = [
    "read_torch_file",
    "write_torch_file",
    "as_tensor_dict",
    "strip_module_prefix",
    "check_state_dict",
    "describe_checkpoint_kind",
]

_ZIP_MAGIC = b"PK\x03\x04"
_PICKLE_PROTOCOL_OPCODE = 0x80
_MAX_LISTED = 5
_MANIPULATOR_KEYS = ("generator", "mapping_network", "style_encoder", "discriminator")


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}"


def _check_container(path: Path) -> None:
    """Reject what torch.load would misreport: missing, empty, truncated zip, not a pickle at all."""
    if not path.exists():
        raise CheckpointError(f"{path}: no such file")
    if not path.is_file():
        raise CheckpointError(f"{path}: not a regular file")
    size = path.stat().st_size
    if size == 0:
        raise CheckpointError(f"{path}: empty file (0 bytes)")
    with path.open("rb") as handle:
        head = handle.read(4)
    if head == _ZIP_MAGIC:
        if not zipfile.is_zipfile(path):
            raise CheckpointError(
                f"{path}: truncated or corrupt zip archive ({size} bytes, no central directory); "
                "re-download or re-save the checkpoint"
            )
    elif head[0] != _PICKLE_PROTOCOL_OPCODE:
        raise CheckpointError(
            f"{path}: not a PyTorch checkpoint (starts with {head!r}: neither a torch zip archive nor a pickle)"
        )


def read_torch_file(path: str | os.PathLike[str]) -> Any:
    """Load a torch checkpoint on the CPU, refusing anything but tensors and plain containers.

    Raises:
        CheckpointError: naming the file and the problem (missing, empty, truncated, corrupt, not a
            torch file, or holding arbitrary Python objects).
    """
    path = Path(path)
    _check_container(path)
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        if "weights only" in str(exc).lower():
            raise CheckpointError(
                f"{path}: holds Python objects other than tensors and plain containers; "
                "refusing to unpickle them (a checkpoint never needs to run code)"
            ) from exc
        raise CheckpointError(f"{path}: corrupt pickle data ({_first_line(exc)})") from exc
    except Exception as exc:  # torch.load reports damage as many types (RuntimeError, KeyError, UnicodeDecodeError)
        raise CheckpointError(f"{path}: truncated or corrupt checkpoint ({_first_line(exc)})") from exc


def write_torch_file(payload: Any, path: str | os.PathLike[str]) -> Path:
    """torch.save `payload` atomically: a crash mid-write never leaves a truncated file at `path`."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    os.close(handle)
    try:
        torch.save(payload, temporary)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path


def describe_checkpoint_kind(payload: Any) -> str | None:
    """Name the kind of checkpoint `payload` looks like (for 'this is X, not Y' messages), or None."""
    if not isinstance(payload, Mapping):
        return None
    keys = set(payload)
    if set(_MANIPULATOR_KEYS) <= keys:
        part = payload["generator"]
        if isinstance(part, Mapping) and {"state", "param_groups"} <= set(part):
            return "a NED manipulator optimiser file (NN_optims.pth)"
        return "a NED manipulator checkpoint (NN_nets[_finetuned].pth)"
    if isinstance(payload.get("format"), str):
        return f"an Emotion Director checkpoint of format {payload['format']!r}"
    names = [strip_module_prefix_key(key) for key in keys if isinstance(key, str)]
    prefixes = {
        "model_down_seg.": "a NED renderer generator (<epoch>_net_G.pth)",
        "scale0_layer0.": "a NED renderer discriminator (<epoch>_net_D.pth or _net_Dm.pth)",
        "E_flame.": "a DECA model (deca_model.tar)",
    }
    for prefix, kind in prefixes.items():
        if any(name.startswith(prefix) or name == prefix[:-1] for name in names):
            return kind
    if "state_dict" in keys:
        return "a wrapped training checkpoint (a dict holding 'state_dict')"
    return None


def strip_module_prefix_key(key: str) -> str:
    """'module.x' -> 'x' (DataParallel's prefix); other keys unchanged."""
    return key[len("module.") :] if key.startswith("module.") else key


def as_tensor_dict(path: Path, payload: Any, what: str) -> dict[str, torch.Tensor]:
    """Check that `payload` is a flat {name: tensor} state dict, or say what it is instead."""
    if not isinstance(payload, Mapping):
        raise CheckpointError(f"{path}: holds a {type(payload).__name__}, not a {what} (expected a dict of tensors)")
    non_tensors = [key for key, value in payload.items() if not isinstance(value, torch.Tensor)]
    if non_tensors or not payload:
        kind = describe_checkpoint_kind(payload)
        if kind:
            raise CheckpointError(f"{path}: this is {kind}, not a {what}")
        if not payload:
            raise CheckpointError(f"{path}: empty dict, not a {what}")
        listed = ", ".join(repr(key) for key in non_tensors[:_MAX_LISTED])
        raise CheckpointError(f"{path}: not a {what}: {len(non_tensors)} entries are not tensors ({listed})")
    return {str(key): value for key, value in payload.items()}


def strip_module_prefix(state: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Drop DataParallel's 'module.' prefix when every key carries it."""
    if state and all(key.startswith("module.") for key in state):
        return {strip_module_prefix_key(key): value for key, value in state.items()}
    return dict(state)


def _listed(names: list[str]) -> str:
    shown = ", ".join(names[:_MAX_LISTED])
    return shown + (f", ... ({len(names) - _MAX_LISTED} more)" if len(names) > _MAX_LISTED else "")


def check_state_dict(
    path: Path,
    state: Mapping[str, torch.Tensor],
    expected: Mapping[str, torch.Tensor],
    what: str,
    optional: Callable[[str], bool] = lambda key: False,
) -> None:
    """Compare a file's tensors with a model's, and raise one message listing every kind of mismatch.

    Args:
        path: the file (named in the message).
        state: the file's tensors.
        expected: the model's `state_dict()`.
        what: what the file should be, e.g. "NED renderer generator".
        optional: keys the file may lack (they keep the model's values).

    Raises:
        CheckpointError: missing, unexpected or wrongly shaped tensors, a few of each named.
    """
    missing = [key for key in expected if key not in state and not optional(key)]
    unexpected = [key for key in state if key not in expected]
    mismatched = [
        f"{key} {tuple(state[key].shape)} in the file, {tuple(expected[key].shape)} expected"
        for key in expected
        if key in state and state[key].shape != expected[key].shape
    ]
    problems = []
    if missing:
        problems.append(f"{len(missing)} missing tensors ({_listed(missing)})")
    if unexpected:
        problems.append(f"{len(unexpected)} unexpected tensors ({_listed(unexpected)})")
    if mismatched:
        problems.append(f"{len(mismatched)} tensors of the wrong shape ({_listed(mismatched)})")
    if problems:
        raise CheckpointError(f"{path}: does not match the {what} layout: " + "; ".join(problems))

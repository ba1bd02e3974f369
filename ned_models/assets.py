"""Registry of the model files ned_models runs, resolved in the local asset cache; never downloads.

The three face models are the Apache-2.0 `.tflite` files of the mediapipe 0.10.14 wheel. `build.py
build` fetches them into the asset directory; this module is the single source of truth for their
names, sha256 digests and tensor layouts, and checks a file before anything loads it.

The directory is `$NED_ASSET_DIR`, else `$XDG_CACHE_HOME/emotion-director/assets`, else
`~/.cache/emotion-director/assets`.
"""

from __future__ import annotations

import functools
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from ned_models.errors import ModelLoadError

__all__ = [
    "ModelAsset", "FACE_DETECTOR", "FACE_LANDMARKS", "IRIS_LANDMARKS", "MODEL_ASSETS",
    "asset_dir", "resolve",
]

_BUILD_HINT = "run python3 build.py build"


@dataclass(frozen=True)
class ModelAsset:
    """One model file and what its input expects.

    Attributes:
        file_name: the file's name inside the asset directory.
        sha256: hex digest of the exact file the pre/post-processing was written against.
        wheel_member: the path of the file inside the mediapipe wheel (for build.py).
        input_hw: (height, width) of the model's single image input.
        input_range: (low, high) the 0..1 RGB values are mapped to before inference.
    """

    file_name: str
    sha256: str
    wheel_member: str
    input_hw: tuple[int, int]
    input_range: tuple[float, float]


FACE_DETECTOR = ModelAsset(
    file_name="face_detection_short_range.tflite",
    sha256="bbff11cebd1eb27a1e004cae0b0e63ec8c551cbf34a4451148b4908b8db3eca8",
    wheel_member="mediapipe/modules/face_detection/face_detection_short_range.tflite",
    input_hw=(128, 128),
    input_range=(-1.0, 1.0),
)
FACE_LANDMARKS = ModelAsset(
    file_name="face_landmark.tflite",
    sha256="1055cb9d4a9ca8b8c688902a3a5194311138ba256bcc94e336d8373a5f30c814",
    wheel_member="mediapipe/modules/face_landmark/face_landmark.tflite",
    input_hw=(192, 192),
    input_range=(0.0, 1.0),
)
IRIS_LANDMARKS = ModelAsset(
    file_name="iris_landmark.tflite",
    sha256="d1744d2a09c25f501d39eba4faff47e53ecca8852c5ce19bce8eeac39357521f",
    wheel_member="mediapipe/modules/iris_landmark/iris_landmark.tflite",
    input_hw=(64, 64),
    input_range=(0.0, 1.0),
)
MODEL_ASSETS: tuple[ModelAsset, ...] = (FACE_DETECTOR, FACE_LANDMARKS, IRIS_LANDMARKS)


def asset_dir() -> Path:
    """The directory model files are read from (see the module docstring for the lookup order)."""
    explicit = os.environ.get("NED_ASSET_DIR")
    if explicit:
        return Path(explicit)
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return cache / "emotion-director" / "assets"


def resolve(asset: ModelAsset, directory: Path | None = None) -> Path:
    """Return the verified path of `asset`.

    Args:
        asset: the registry entry.
        directory: where to look; `asset_dir()` when None.

    Raises:
        ModelLoadError: the file is missing, unreadable or its sha256 differs (names the file).
    """
    path = (directory or asset_dir()) / asset.file_name
    try:
        stat = path.stat()
    except OSError as exc:
        raise ModelLoadError(f"model file {path} is missing ({exc.strerror}); {_BUILD_HINT}") from exc
    digest = _sha256_of(str(path), stat.st_size, stat.st_mtime_ns)
    if digest != asset.sha256:
        raise ModelLoadError(
            f"model file {path} is corrupt or of another version (sha256 {digest}, expected "
            f"{asset.sha256}); {_BUILD_HINT}")
    return path


@functools.lru_cache(maxsize=16)
def _sha256_of(path: str, size: int, mtime_ns: int) -> str:
    """Digest of a file, cached per (path, size, mtime) so a rewritten file is checked again."""
    del size, mtime_ns  # part of the cache key only
    digest = hashlib.sha256()
    try:
        with open(path, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                digest.update(block)
    except OSError as exc:
        raise ModelLoadError(f"model file {path} cannot be read ({exc}); {_BUILD_HINT}") from exc
    return digest.hexdigest()

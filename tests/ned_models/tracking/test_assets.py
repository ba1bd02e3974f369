"""The model registry resolves verified files and never downloads."""

from __future__ import annotations

import pytest

from ned_models.assets import FACE_LANDMARKS, MODEL_ASSETS, asset_dir, resolve
from ned_models.errors import ModelLoadError


def test_missing_file_names_it_and_says_how_to_fetch(tmp_path):
    with pytest.raises(ModelLoadError, match=r"face_landmark\.tflite.*build\.py build"):
        resolve(FACE_LANDMARKS, tmp_path)


def test_corrupt_file_is_refused(tmp_path):
    (tmp_path / FACE_LANDMARKS.file_name).write_bytes(b"not a model")
    with pytest.raises(ModelLoadError, match="sha256"):
        resolve(FACE_LANDMARKS, tmp_path)


def test_env_var_chooses_the_directory(tmp_path, monkeypatch):
    monkeypatch.setenv("NED_ASSET_DIR", str(tmp_path))
    assert asset_dir() == tmp_path


def test_installed_assets_verify():
    for asset in MODEL_ASSETS:
        assert resolve(asset).name == asset.file_name

"""The face model, built once for the face-model tests (needs the landmark model asset)."""

from __future__ import annotations

import pytest

from ned_models.face_model.morphable import FaceModel, load_face_model


@pytest.fixture(scope="session")
def model() -> FaceModel:
    return load_face_model()

"""The neutral template: derived from the landmark model's prior, symmetric, neutral, normalised."""

from __future__ import annotations

import numpy as np
import pytest

from ned_models.face_model.identity import static_expression
from ned_models.face_model.morphable import build_face_model
from ned_models.face_model.rest_shape import NEUTRAL, measure
from ned_models.face_model.template import IRIS_RADIUS, blank_inputs, mirror_pairs, to_model_frame
from ned_models.landmarks import (
    CHIN,
    LEFT_IRIS,
    LOWER_INNER_LIP_MID,
    MOUTH_LEFT_CORNER,
    MOUTH_RIGHT_CORNER,
    NOSE_TIP,
    RIGHT_IRIS,
    UPPER_INNER_LIP_MID,
)

MIDLINE = (0, 1, 2, 4, 5, 6, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 94, 151, 152, 164, 168, 175, 195,
           197, 199, 200)


def test_blank_inputs_are_deterministic_and_symmetric():
    a, b = blank_inputs(), blank_inputs()
    np.testing.assert_array_equal(a, b)
    np.testing.assert_allclose(a, a[:, :, ::-1], atol=1e-6)  # left/right mirror images of themselves


def test_mirror_pairs_match_the_mesh_layout(model):
    pairs = model.pairs
    np.testing.assert_array_equal(pairs[pairs], np.arange(468))
    assert sorted(np.flatnonzero(pairs == np.arange(468)).tolist()) == sorted(MIDLINE)
    for a, b in ((33, 263), (133, 362), (61, 291), (70, 300), (234, 454), (159, 386)):
        assert pairs[a] == b


def test_template_is_symmetric_and_normalised(model):
    t = model.template
    mirrored = t[:468][model.pairs] * [-1, 1, 1]
    np.testing.assert_allclose(mirrored, t[:468], atol=2e-6)
    np.testing.assert_allclose(to_model_frame(t), t, atol=2e-6)  # eyes level, IOD 1, origin between the eyes
    for iris in (RIGHT_IRIS, LEFT_IRIS):
        ring = t[list(iris)]
        np.testing.assert_allclose(np.linalg.norm(ring[1:] - ring[0], axis=1), IRIS_RADIUS, atol=1e-4)


def test_template_looks_neutral(model):
    """The template is a face at rest as the landmark model draws real faces (`rest_shape.NEUTRAL`)."""
    t = model.template
    assert abs(t[LOWER_INNER_LIP_MID, 1] - t[UPPER_INNER_LIP_MID, 1]) < 1e-3  # lips closed
    assert abs((t[145, 1] - t[159, 1]) - 0.13) < 5e-3  # eyes open, relaxed
    assert abs((t[MOUTH_LEFT_CORNER, 0] - t[MOUTH_RIGHT_CORNER, 0]) - 0.71) < 5e-3
    assert abs((t[CHIN, 1] - t[NOSE_TIP, 1]) - 1.0) < 5e-3
    assert t[1, 2] < t[234, 2]  # the nose is nearer the camera than the face's side
    for name, norm in NEUTRAL.items():
        assert measure(name, t) == pytest.approx(norm, abs=1e-3), name


def test_template_reads_as_no_expression(model):
    kept = np.zeros(len(model.basis), dtype=bool)
    np.testing.assert_allclose(static_expression(model, np.zeros_like(model.template), kept), 0.0, atol=1e-3)


def test_build_is_reproducible(model):
    from ned_models.assets import FACE_LANDMARKS
    from ned_models.tracking.tflite import TfliteModel

    runtime = TfliteModel(FACE_LANDMARKS, num_threads=1)
    shapes = np.stack([runtime.run(x[None])[0].reshape(468, 3) for x in blank_inputs()])
    again = build_face_model(shapes)
    np.testing.assert_array_equal(again.template, model.template)
    np.testing.assert_array_equal(again.basis, model.basis)
    assert again.fingerprint == model.fingerprint
    assert len(mirror_pairs(again.template[:468])) == 468

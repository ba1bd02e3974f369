"""Iris placement: the right eye's iris goes to 468-472, the left's to 473-477, mirror undone."""

from __future__ import annotations

import numpy as np

from ned_models.landmarks import (
    LEFT_EYE_INNER,
    LEFT_EYE_OUTER,
    LEFT_IRIS,
    MESH_POINTS,
    RIGHT_EYE_INNER,
    RIGHT_EYE_OUTER,
    RIGHT_IRIS,
)
from ned_models.tracking.iris import EYE_ROI_SCALE, IrisLandmarker


class _FakeIrisModel:
    """Answers like the iris model: iris centre 5 crop px right of the crop centre, ring of radius 4."""

    def __init__(self):
        self.batches = []

    def run(self, batch):
        self.batches.append(batch.shape)
        b = len(batch)
        iris = np.array([[37, 32, 1], [41, 32, 1], [37, 28, 1], [33, 32, 1], [37, 36, 1]], dtype=np.float32)
        contours = np.zeros((b, 213), dtype=np.float32)
        return [contours.reshape(1, -1), np.tile(iris.ravel(), (b, 1)).reshape(1, -1)]


def _mesh():
    mesh = np.zeros((MESH_POINTS, 3))
    mesh[RIGHT_EYE_OUTER, :2] = (100.0, 200.0)  # the subject's right eye is on the image's left
    mesh[RIGHT_EYE_INNER, :2] = (140.0, 200.0)
    mesh[LEFT_EYE_INNER, :2] = (180.0, 200.0)
    mesh[LEFT_EYE_OUTER, :2] = (220.0, 200.0)
    return mesh


def test_iris_points_land_at_the_documented_indices_with_the_mirror_undone():
    model = _FakeIrisModel()
    out = IrisLandmarker(model=model).run(np.zeros((400, 400, 3), np.uint8), [_mesh()])
    assert model.batches == [(2, 64, 64, 3)]  # both eyes in one batch
    full = out[0]
    assert full.shape == (478, 3)
    px = 40.0 * EYE_ROI_SCALE / 64  # frame pixels per crop pixel
    # right eye: crop +x is frame +x
    np.testing.assert_allclose(full[RIGHT_IRIS[0], :2], [120.0 + 5 * px, 200.0], atol=1e-6)
    np.testing.assert_allclose(full[RIGHT_IRIS[1], :2], [120.0 + 9 * px, 200.0], atol=1e-6)
    # left eye: its crop is mirrored, so crop +x is frame -x (towards the nose in both eyes)
    np.testing.assert_allclose(full[LEFT_IRIS[0], :2], [200.0 - 5 * px, 200.0], atol=1e-6)
    np.testing.assert_allclose(full[LEFT_IRIS[1], :2], [200.0 - 9 * px, 200.0], atol=1e-6)
    np.testing.assert_allclose(full[LEFT_IRIS[2], :2], [200.0 - 5 * px, 200.0 - 4 * px], atol=1e-6)
    np.testing.assert_array_equal(full[:MESH_POINTS], _mesh())


def test_several_faces_share_one_batch():
    model = _FakeIrisModel()
    out = IrisLandmarker(model=model).run(np.zeros((400, 400, 3), np.uint8), [_mesh(), _mesh() + 1.0])
    assert model.batches == [(4, 64, 64, 3)] and len(out) == 2
    np.testing.assert_allclose(out[1][RIGHT_IRIS[0], :2] - out[0][RIGHT_IRIS[0], :2], [1.0, 1.0])
    assert IrisLandmarker(model=model).run(np.zeros((8, 8, 3), np.uint8), []) == []

"""Vectorised piecewise-linear rasterisation onto grid nodes."""

from __future__ import annotations

import numpy as np
from scipy.spatial import Delaunay

from ned_models.render.raster import interpolate_on_grid


def test_linear_function_is_reproduced_inside_and_zero_outside() -> None:
    rng = np.random.default_rng(1)
    verts = np.vstack([[2.0, 2.0], [37.0, 3.0], [36.0, 28.0], [3.0, 27.0], rng.uniform(4, 34, (40, 2))])
    tris = Delaunay(verts).simplices
    values = np.column_stack([0.5 * verts[:, 0] - 0.25 * verts[:, 1] + 3.0, np.full(len(verts), 7.0)])
    field, covered = interpolate_on_grid(verts, tris, values, (32, 40), skip_zero=False)
    y, x = np.nonzero(covered)
    assert len(y) > 800
    np.testing.assert_allclose(field[y, x, 0], 0.5 * x - 0.25 * y + 3.0, atol=1e-4)
    np.testing.assert_allclose(field[y, x, 1], 7.0, atol=1e-5)
    assert not covered[0, 0] and not covered[31, 39]
    assert np.all(field[~covered] == 0)


def test_zero_triangles_are_skipped_but_leave_zeros() -> None:
    verts = np.array([[0.0, 0.0], [10.0, 0.0], [0.0, 10.0], [10.0, 10.0]])
    tris = np.array([[0, 1, 2], [1, 3, 2]])
    values = np.zeros((4, 1))
    values[3] = 2.0
    field, covered = interpolate_on_grid(verts, tris, values, (11, 11))
    assert covered[10, 10] and not covered[0, 0]  # the first triangle is all zero: skipped
    assert field[10, 10, 0] == np.float32(2.0) and field[0, 0, 0] == 0
    # either orientation and nodes on shared edges are handled
    field2, covered2 = interpolate_on_grid(verts, tris[:, ::-1], values, (11, 11), skip_zero=False)
    assert covered2.all()
    np.testing.assert_allclose(field2[5, 5, 0], 0.0, atol=1e-6)  # on the shared diagonal

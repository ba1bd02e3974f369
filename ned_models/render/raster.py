"""Piecewise-linear interpolation of per-vertex values onto the nodes of a regular grid.

Vectorised over (triangle, node) pairs: each triangle lists the grid nodes inside its bounding box,
all pairs get barycentric coordinates at once, and the pairs inside write their node. A render
interpolates ~1000 triangles onto ~15000 nodes this way in about a millisecond, with no Python
loop over triangles or pixels.
"""

from __future__ import annotations

import numpy as np

__all__ = ["interpolate_on_grid"]

_INSIDE_EPS = 1e-7  # barycentric slack, so nodes exactly on a shared edge are not lost to rounding
_MIN_AREA = 1e-9  # in grid cells squared: triangles this thin cover no node


def interpolate_on_grid(vertices: np.ndarray, triangles: np.ndarray, values: np.ndarray,
                        grid_hw: tuple[int, int], *, skip_zero: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Interpolate `values` linearly inside each triangle, at the integer nodes of a grid.

    Args:
        vertices: (V, 2) float (x, y) in grid units: node (i, j) sits at (j, i).
        triangles: (T, 3) int vertex indices; either orientation.
        values: (V, K) float per-vertex values.
        grid_hw: (rows, columns) of the grid.
        skip_zero: skip triangles whose three values are zero (faster; their nodes stay zero but
            do not count as covered).

    Returns:
        field: (rows, columns, K) float32, zero at nodes no triangle covers.
        covered: (rows, columns) bool, True where some (rasterised) triangle covers the node. Where triangles
            overlap (a mesh folded by the caller's geometry) one of them wins.
    """
    gh, gw = grid_hw
    if skip_zero:  # where all three values are zero the field is zero: the grid starts that way
        triangles = triangles[np.any(values[triangles] != 0, axis=(1, 2))]
    a, b, c = vertices[triangles[:, 0]], vertices[triangles[:, 1]], vertices[triangles[:, 2]]
    e1, e2 = b - a, c - a
    det = e1[:, 0] * e2[:, 1] - e1[:, 1] * e2[:, 0]
    lo = np.ceil(np.minimum(np.minimum(a, b), c)).astype(np.int64)
    hi = np.floor(np.maximum(np.maximum(a, b), c)).astype(np.int64)
    lo = np.maximum(lo, 0)
    hi = np.minimum(hi, (gw - 1, gh - 1))
    span = np.maximum(hi - lo + 1, 0)
    counts = np.where(np.abs(det) > _MIN_AREA, span[:, 0] * span[:, 1], 0)

    # one entry per (triangle, node in its bounding box)
    tri = np.repeat(np.arange(len(triangles)), counts)
    local = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
    width = span[tri, 0]
    x = lo[tri, 0] + local % width
    y = lo[tri, 1] + local // width

    # barycentric coordinates (u, v) of the node relative to vertex a
    inv = 1.0 / det[tri]
    px, py = x - a[tri, 0], y - a[tri, 1]
    u = (px * e2[tri, 1] - py * e2[tri, 0]) * inv
    v = (py * e1[tri, 0] - px * e1[tri, 1]) * inv
    inside = (u >= -_INSIDE_EPS) & (v >= -_INSIDE_EPS) & (u + v <= 1.0 + _INSIDE_EPS)
    tri, x, y, u, v = tri[inside], x[inside], y[inside], u[inside], v[inside]

    t = triangles[tri]
    vals = (values[t[:, 0]] * (1.0 - u - v)[:, None] + values[t[:, 1]] * u[:, None]
            + values[t[:, 2]] * v[:, None])
    field = np.zeros((gh, gw, values.shape[1]), dtype=np.float32)
    covered = np.zeros((gh, gw), dtype=bool)
    field[y, x] = vals
    covered[y, x] = True
    return field, covered

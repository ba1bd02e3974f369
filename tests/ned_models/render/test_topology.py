"""The fixed triangulation: valid, keeps the eye and lip contours, never spans an opening."""

from __future__ import annotations

import numpy as np
import pytest

from ned_models import landmarks as L
from ned_models.render.topology import build_topology, control_points, signed_areas
from ned_models.render.triangulate import constrained_delaunay
from tests.ned_models.render.synthetic_face import synthetic_face


def _edges(triangles: np.ndarray) -> set[frozenset]:
    return {frozenset((int(a), int(b))) for t in triangles for a, b in ((t[0], t[1]), (t[1], t[2]), (t[2], t[0]))}


@pytest.mark.parametrize("mouth_open", [0.0, 0.02, 0.3])
def test_triangulation_is_valid_and_keeps_loops(mouth_open: float) -> None:
    pts = synthetic_face(mouth_open=mouth_open)
    topo = build_topology(pts)
    assert topo.triangles.max() < topo.point_count == len(control_points(pts))
    # every control point is used, each triangle once
    assert len(np.unique(topo.triangles)) == topo.point_count
    assert len({tuple(sorted(t)) for t in topo.triangles.tolist()}) == len(topo.triangles)
    edges = _edges(topo.triangles)
    for loop in (L.RIGHT_EYE, L.LEFT_EYE, L.LIPS_INNER):
        for a, b in zip(loop, loop[1:] + loop[:1], strict=True):
            assert frozenset((a, b)) in edges, f"contour edge {a}-{b} lost"


def test_no_triangle_joins_the_two_lips_or_lids() -> None:
    topo = build_topology(synthetic_face(mouth_open=0.2))
    for loop in (L.LIPS_INNER, L.RIGHT_EYE, L.LEFT_EYE):
        n = (len(loop) - 2) // 2
        lower, upper = set(loop[1:n + 1]), set(loop[n + 2:])
        for t in topo.triangles.tolist():
            assert not (lower & set(t) and upper & set(t)), f"triangle {t} spans the opening"


def test_open_layout_triangles_are_counter_clockwise_and_tile_the_hull() -> None:
    pts = synthetic_face(mouth_open=0.2)
    topo = build_topology(pts)
    layout = control_points(pts)
    areas = signed_areas(layout, topo.triangles)
    assert np.all(areas > 0)
    ring = layout[-len(L.FACE_OVAL):]
    hull_area = 0.5 * abs(np.dot(ring[:, 0], np.roll(ring[:, 1], -1)) - np.dot(ring[:, 1], np.roll(ring[:, 0], -1)))
    assert areas.sum() == pytest.approx(hull_area, rel=1e-9)


def test_topology_depends_on_layout_not_on_position_or_scale() -> None:
    a = build_topology(synthetic_face((200.0, 200.0), 80.0))
    b = build_topology(synthetic_face((900.0, 500.0), 240.0))
    assert np.array_equal(a.triangles, b.triangles)


def test_bad_reference_points_are_rejected() -> None:
    with pytest.raises(ValueError, match="478"):
        build_topology(np.zeros((468, 2)))
    pts = synthetic_face()
    pts[5, 0] = np.nan
    with pytest.raises(ValueError, match="non-finite"):
        build_topology(pts)
    flat = synthetic_face()
    flat[L.LIPS_INNER[10], :2] = flat[L.LIPS_INNER[0], :2]  # inner-lip corners coincide
    with pytest.raises(ValueError, match="coincident"):
        build_topology(flat)


def test_constrained_delaunay_recovers_a_crossing_edge() -> None:
    # a square whose Delaunay diagonal is 1-3 (near-cocircular, nudged); force the other one, 0-2
    pts = np.array([[0.0, 0.0], [1.0, -0.1], [1.0, 1.0], [-0.1, 1.0]])
    tris = constrained_delaunay(pts, [(0, 2)])
    assert frozenset((0, 2)) in _edges(tris)
    assert np.all(signed_areas(pts, tris) > 0)
    with pytest.raises(ValueError, match="crosses"):
        constrained_delaunay(pts, [(0, 2), (1, 3)])

"""The warp's control points and their fixed triangulation (built once per shot, reused every frame).

Control points, in this order:
    [0, 468)        the mesh landmarks (iris points are not used: the eye interiors are handled below);
    eye rows        per eye, two virtual rows of points between the lower and upper lid, one point
                    per rung (a rung joins a lower-lid point to the upper-lid point above it);
    mouth rows      the same between the lower and upper inner lip;
    ring            the face oval scaled up about its centre, where the displacement is zero, so the
                    triangulation covers the face and its surroundings.

The virtual rows move rigidly (see `rigid_row_displacements`), so everything between them (iris,
pupil, catch-lights; teeth) is translated, never stretched; the bands between a row and the lid or
lip absorb the lid and lip motion. Inside the eye and mouth loops the triangles are a ladder built
from the rungs, so no triangle ever joins the two lids or lips across the opening. Outside them
the triangles are a constrained Delaunay triangulation (the loop contours are forced edges) of a
reference layout, computed once: a per-frame Delaunay would flip edges from frame to frame and
make the field jump.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ned_models.landmarks import FACE_OVAL, LANDMARK_COUNT, LEFT_EYE, LIPS_INNER, MESH_POINTS, RIGHT_EYE
from ned_models.render.triangulate import constrained_delaunay

__all__ = ["WarpTopology", "build_topology", "control_points", "rigid_row_displacements", "signed_areas"]

# Fractions of a rung (0 = lower lid/lip, 1 = upper) where the rigid rows sit.
_EYE_ROWS = (0.3, 0.7)
_MOUTH_ROWS = (0.3, 0.7)
# A rigid row gives way to its lid or lip rather than stretch the band between them more than this.
_MAX_BAND_STRAIN = 0.5
# The ring is the face oval scaled by this factor about the oval's centroid.
_RING_SCALE = 1.4
# Loops thinner than this fraction of their corner-to-corner width (a closed mouth, a blink) are
# opened in the reference layout only, so the contour constraints are not collinear.
_MIN_OPENING = 0.08


@dataclass(frozen=True)
class _Loop:
    """A closed contour with two corners and rungs across its opening (eye or inner lip)."""

    corners: tuple[int, int]
    lower: np.ndarray  # (n,) landmark index of each rung's lower end, from corner 0 to corner 1
    upper: np.ndarray  # (n,) landmark index of each rung's upper end
    rows: tuple[float, ...]


def _loop(indices: tuple[int, ...], rows: tuple[float, ...]) -> _Loop:
    """Split a loop laid out as corner, lower side, corner, upper side back (see `landmarks`)."""
    n = (len(indices) - 2) // 2
    lower = np.array(indices[1:n + 1])
    upper = np.array(indices[:n + 1:-1])  # the upper side walked from corner 0 to corner 1
    return _Loop(corners=(indices[0], indices[n + 1]), lower=lower, upper=upper, rows=rows)


_LOOPS = (_loop(RIGHT_EYE, _EYE_ROWS), _loop(LEFT_EYE, _EYE_ROWS), _loop(LIPS_INNER, _MOUTH_ROWS))
_EYE_LOOPS = 2  # the first two loops are eyes (one translation each); the mouth has one per row


@dataclass(frozen=True, eq=False)
class WarpTopology:
    """The fixed triangulation of the control points (see the module docstring for their order).

    Build it once per shot with `build_topology` from a neutral-ish frame (or the face model's
    neutral shape) and pass it to every frame's render, so the field is continuous in time.

    Attributes:
        triangles: (T, 3) int32 control-point indices, counter-clockwise in the reference layout.
        point_count: number of control points.
    """

    triangles: np.ndarray
    point_count: int


def _row_count() -> int:
    return sum(len(loop.lower) * len(loop.rows) for loop in _LOOPS)


def control_points(points: np.ndarray) -> np.ndarray:
    """The control-point positions for one face geometry.

    Args:
        points: (478, 2 or 3) landmarks in pixels.

    Returns:
        (P, 2) float64 positions: mesh points, virtual rows on their rungs, ring.
    """
    xy = np.asarray(points, dtype=np.float64)[:MESH_POINTS, :2]
    rows = []
    for loop in _LOOPS:
        lo, up = xy[loop.lower], xy[loop.upper]
        rows.extend(lo + beta * (up - lo) for beta in loop.rows)
    oval = xy[list(FACE_OVAL)]
    centre = oval.mean(axis=0)
    ring = centre + _RING_SCALE * (oval - centre)
    return np.concatenate([xy, *rows, ring])


def rigid_row_displacements(displacement: np.ndarray, dst_xy: np.ndarray) -> np.ndarray:
    """The displacement of every virtual row point, from the mesh points' displacements.

    An eye's rows share one translation (the rung-weighted mean over both lids), so the iris moves
    as a whole; the mouth's lower rows follow the lower lip's mean and the upper rows the upper
    lip's, so the teeth follow their lip without being stretched. Where a rung is too short for
    that (towards the corners, a nearly closed mouth or eye) a row point gives way to its lid or lip,
    so the band between them is never strained by more than `_MAX_BAND_STRAIN`.

    Args:
        displacement: (468, 2) per mesh point.
        dst_xy: (468, 2) the mesh points where the displacement applies (the target geometry).

    Returns:
        (R, 2) in the order of `control_points`' rows.
    """
    out = []
    for i, loop in enumerate(_LOOPS):
        n = len(loop.lower)
        w = np.sin(np.pi * np.arange(1, n + 1) / (n + 1))  # rungs near the corners count less
        w = w / w.sum()
        lower, upper = displacement[loop.lower], displacement[loop.upper]
        rung = np.linalg.norm(dst_xy[loop.upper] - dst_xy[loop.lower], axis=1)
        for beta in loop.rows:
            near_upper = beta >= 0.5
            t = 0.5 * (w @ lower + w @ upper) if i < _EYE_LOOPS else w @ (upper if near_upper else lower)
            edge = upper if near_upper else lower
            band = (1.0 - beta if near_upper else beta) * rung
            gap = np.linalg.norm(t - edge, axis=1)
            rigid = np.clip(_MAX_BAND_STRAIN * band / np.maximum(gap, 1e-12), 0.0, 1.0)
            out.append(edge + rigid[:, None] * (t - edge))
    return np.concatenate(out)


def build_topology(reference_points: np.ndarray) -> WarpTopology:
    """Triangulate the control points once, from a reference face layout.

    Args:
        reference_points: (478, 2 or 3) landmarks of a representative frame of the shot (any
            scale or position; z is ignored). A closed mouth or a blink is fine.

    Returns:
        The topology to pass to every frame's render.

    Raises:
        ValueError: the points are malformed or do not form a usable face layout (a loop whose
            contour the triangulation cannot keep).
    """
    ref = np.asarray(reference_points, dtype=np.float64)
    if ref.ndim != 2 or ref.shape[0] != LANDMARK_COUNT or ref.shape[1] not in (2, 3):
        raise ValueError(f"reference points must be ({LANDMARK_COUNT}, 2 or 3), got {ref.shape}")
    if not np.all(np.isfinite(ref)):
        raise ValueError("reference points contain non-finite values")
    layout = control_points(_opened_loops(ref[:MESH_POINTS, :2]))
    first_row = MESH_POINTS
    ladder = []
    for loop in _LOOPS:
        ladder.append(_ladder(loop, first_row))
        first_row += len(loop.lower) * len(loop.rows)
    outer = _outer_triangles(layout)
    triangles = np.concatenate([outer, *ladder])
    triangles = _counter_clockwise(triangles, layout)
    _check_cover(ladder, layout)
    return WarpTopology(triangles=triangles.astype(np.int32), point_count=len(layout))


def _opened_loops(xy: np.ndarray) -> np.ndarray:
    """Open thin loops (closed mouth, blink) a little, so their contours are well-formed constraints."""
    xy = xy.copy()
    for loop in _LOOPS:
        a, b = xy[loop.corners[0]], xy[loop.corners[1]]
        width = np.linalg.norm(b - a)
        if width <= 0:
            raise ValueError("reference points have coincident eye or mouth corners")
        axis = (b - a) / width
        normal = np.array([axis[1], -axis[0]])
        lo, up = xy[loop.lower], xy[loop.upper]
        if np.mean((up - lo) @ normal) < 0:  # make `normal` point from the lower side to the upper
            normal = -normal
        n = len(loop.lower)
        want = _MIN_OPENING * width * np.sin(np.pi * np.arange(1, n + 1) / (n + 1))
        gap = (up - lo) @ normal
        push = 0.5 * np.maximum(want - gap, 0.0)[:, None] * normal
        xy[loop.lower] = lo - push
        xy[loop.upper] = up + push
    return xy


def _ladder(loop: _Loop, first_row: int) -> np.ndarray:
    """Triangles filling a loop: quads between neighbouring rungs, fans at the two corners."""
    n, rows = len(loop.lower), len(loop.rows)
    # columns[k] lists rung k's points from the lower end to the upper end
    row_ids = first_row + np.arange(rows * n).reshape(rows, n)
    columns = np.column_stack([loop.lower, row_ids.T, loop.upper])  # (n, rows + 2)
    tris = []
    for k in range(n - 1):
        a, b = columns[k], columns[k + 1]
        for r in range(rows + 1):
            tris.append((a[r], b[r], b[r + 1]))
            tris.append((a[r], b[r + 1], a[r + 1]))
    for corner, col in ((loop.corners[0], columns[0]), (loop.corners[1], columns[-1])):
        tris.extend((corner, col[r], col[r + 1]) for r in range(rows + 1))
    return np.array(tris, dtype=np.int64)


def _outer_triangles(layout: np.ndarray) -> np.ndarray:
    """Constrained Delaunay of the mesh points and the ring (loop contours forced), minus the loops' insides."""
    keep = np.r_[np.arange(MESH_POINTS), np.arange(MESH_POINTS + _row_count(), len(layout))]
    local = np.full(len(layout), -1)
    local[keep] = np.arange(len(keep))
    contours = [_contour(loop) for loop in _LOOPS]
    constraints = [(local[a], local[b]) for c in contours for a, b in zip(c, np.roll(c, -1), strict=True)]
    tri = keep[constrained_delaunay(layout[keep], constraints)]
    centroids = layout[tri].mean(axis=1)
    inside = np.zeros(len(tri), dtype=bool)
    for contour in contours:
        inside |= _inside_polygon(centroids, layout[contour])
    return tri[~inside]


def _contour(loop: _Loop) -> np.ndarray:
    return np.r_[loop.corners[0], loop.lower, loop.corners[1], loop.upper[::-1]]


def _inside_polygon(pts: np.ndarray, poly: np.ndarray) -> np.ndarray:
    """Even-odd test of (N, 2) points against a closed (M, 2) polygon."""
    x, y = pts[:, 0:1], pts[:, 1:2]
    x0, y0 = poly[:, 0], poly[:, 1]
    x1, y1 = np.roll(x0, -1), np.roll(y0, -1)
    crosses = (y0 > y) != (y1 > y)
    with np.errstate(divide="ignore", invalid="ignore"):
        x_at = x0 + (y - y0) * (x1 - x0) / (y1 - y0)
    return np.count_nonzero(crosses & (x < x_at), axis=1) % 2 == 1


def _counter_clockwise(triangles: np.ndarray, layout: np.ndarray) -> np.ndarray:
    area = signed_areas(layout, triangles)
    out = triangles.copy()
    out[area < 0] = out[area < 0][:, [0, 2, 1]]
    return out


def signed_areas(xy: np.ndarray, triangles: np.ndarray) -> np.ndarray:
    """(T,) signed areas of triangles over points `xy`; `build_topology` makes them all positive in its layout."""
    a, b, c = xy[triangles[:, 0]], xy[triangles[:, 1]], xy[triangles[:, 2]]
    return 0.5 * ((b[:, 0] - a[:, 0]) * (c[:, 1] - a[:, 1]) - (b[:, 1] - a[:, 1]) * (c[:, 0] - a[:, 0]))


def _check_cover(ladders: list[np.ndarray], layout: np.ndarray) -> None:
    """Each ladder must fill its loop exactly (no gap, no overlap with the outer triangles)."""
    for loop, ladder in zip(_LOOPS, ladders, strict=True):
        poly = layout[_contour(loop)]
        hole = 0.5 * abs(np.dot(poly[:, 0], np.roll(poly[:, 1], -1)) - np.dot(poly[:, 1], np.roll(poly[:, 0], -1)))
        filled = np.abs(signed_areas(layout, ladder)).sum()
        if not np.isclose(hole, filled, rtol=1e-6):
            raise ValueError(f"reference points do not form a usable face layout: the eye or mouth "
                             f"contour from landmark {loop.corners[0]} to {loop.corners[1]} folds over itself")

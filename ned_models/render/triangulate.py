"""Constrained Delaunay triangulation by edge flips (run once per shot, on ~550 points).

scipy's Delaunay does not take constraint edges; a face layout needs them (the eye and inner-lip
contours must be triangle edges, so nothing is triangulated across an opening). Each missing
constraint edge is recovered by flipping the edges that cross it, the classic procedure for
inserting a segment into a triangulation: while some edge crosses the segment, flip it if its two
triangles form a strictly convex quadrilateral, else try it again later. The quadrilateral flips
keep the triangulation valid throughout.
"""

from __future__ import annotations

from collections import deque

import numpy as np
from scipy.spatial import Delaunay

__all__ = ["constrained_delaunay"]

_MAX_FLIPS_PER_EDGE = 10_000


def constrained_delaunay(points: np.ndarray, constraints: list[tuple[int, int]]) -> np.ndarray:
    """Delaunay triangulation of `points` that contains every constraint edge.

    Args:
        points: (N, 2) float positions, no duplicates.
        constraints: pairs of point indices; constraints must not cross each other.

    Returns:
        (T, 3) int64 triangles, counter-clockwise.

    Raises:
        ValueError: a constraint cannot be recovered (crossing constraints, collinear points on it).
    """
    pts = np.asarray(points, dtype=np.float64)
    mesh = _Mesh(pts, Delaunay(pts).simplices)
    fixed = {frozenset(c) for c in constraints}
    for a, b in constraints:
        mesh.insert(int(a), int(b), fixed)
    return mesh.triangles()


def _orient(p: np.ndarray, q: np.ndarray, r: np.ndarray) -> float:
    return float((q[0] - p[0]) * (r[1] - p[1]) - (q[1] - p[1]) * (r[0] - p[0]))


class _Mesh:
    """Triangles as vertex triples keyed by id, with an edge -> triangle-ids map for flips."""

    def __init__(self, pts: np.ndarray, simplices: np.ndarray) -> None:
        self.pts = pts
        self.tris: dict[int, tuple[int, int, int]] = {}
        self.edges: dict[frozenset, set[int]] = {}
        self.next_id = 0
        for t in simplices:
            self._add(tuple(int(v) for v in t))

    def _add(self, tri: tuple[int, int, int]) -> None:
        a, b, c = tri
        if _orient(self.pts[a], self.pts[b], self.pts[c]) < 0:
            tri = (a, c, b)
        tid, self.next_id = self.next_id, self.next_id + 1
        self.tris[tid] = tri
        for e in _tri_edges(tri):
            self.edges.setdefault(e, set()).add(tid)

    def _remove(self, tid: int) -> None:
        for e in _tri_edges(self.tris.pop(tid)):
            self.edges[e].discard(tid)
            if not self.edges[e]:
                del self.edges[e]

    def insert(self, a: int, b: int, fixed: set[frozenset]) -> None:
        """Flip edges crossing segment ab until ab is an edge."""
        if frozenset((a, b)) in self.edges:
            return
        # which side of line ab every point lies on, once; only edges with ends on both sides can
        # cross, so the exact test runs on a handful of edges
        pa, pb = self.pts[a], self.pts[b]
        side = ((pb[0] - pa[0]) * (self.pts[:, 1] - pa[1]) - (pb[1] - pa[1]) * (self.pts[:, 0] - pa[0])).tolist()
        crossing = deque(e for e in self.edges
                         if _opposite(side, e) and self._crosses(e, a, b))
        flips = 0
        while crossing:
            edge = crossing.popleft()
            if edge in fixed:
                raise ValueError(f"constraint ({a}, {b}) crosses constraint {tuple(edge)}")
            new = self._flip(edge)
            flips += 1
            if flips > _MAX_FLIPS_PER_EDGE:
                raise ValueError(f"constraint ({a}, {b}) cannot be recovered (degenerate points)")
            if new is None or self._crosses(new, a, b):
                crossing.append(edge if new is None else new)
        if frozenset((a, b)) not in self.edges:
            raise ValueError(f"constraint ({a}, {b}) cannot be recovered (a point lies on it)")

    def _crosses(self, edge: frozenset, a: int, b: int) -> bool:
        """True when the edge properly crosses segment ab (sharing an end point is not crossing)."""
        c, d = tuple(edge)
        if {c, d} & {a, b}:
            return False
        pa, pb, pc, pd = self.pts[a], self.pts[b], self.pts[c], self.pts[d]
        return (_orient(pa, pb, pc) * _orient(pa, pb, pd) < 0) and (_orient(pc, pd, pa) * _orient(pc, pd, pb) < 0)

    def _flip(self, edge: frozenset) -> frozenset | None:
        """Replace the two triangles on `edge` by the other diagonal; None if their quad is not convex."""
        t1, t2 = tuple(self.edges[edge])
        c, d = tuple(edge)
        e = next(v for v in self.tris[t1] if v not in edge)
        f = next(v for v in self.tris[t2] if v not in edge)
        pc, pd, pe, pf = self.pts[c], self.pts[d], self.pts[e], self.pts[f]
        # convex iff the new diagonal ef separates c and d strictly
        if _orient(pe, pf, pc) * _orient(pe, pf, pd) >= 0:
            return None
        self._remove(t1)
        self._remove(t2)
        self._add((c, e, f))
        self._add((d, f, e))
        return frozenset((e, f))

    def triangles(self) -> np.ndarray:
        return np.array(list(self.tris.values()), dtype=np.int64)


def _opposite(side: list[float], edge: frozenset) -> bool:
    c, d = tuple(edge)
    return side[c] * side[d] < 0


def _tri_edges(tri: tuple[int, int, int]) -> tuple[frozenset, frozenset, frozenset]:
    a, b, c = tri
    return frozenset((a, b)), frozenset((b, c)), frozenset((c, a))

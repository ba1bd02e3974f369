"""A synthetic 478-point face layout for unit tests: named groups on simple shapes, the rest filled in.

Not a real face: the oval is an ellipse, eyes and lips are lens shapes, brows are arcs, and the
other mesh points fill the oval away from them. It has every structural property the renderer
relies on (closed eye and lip loops, brows above the eyes, an oval around everything), so the
machinery can be tested without media; real layouts are covered by the media tests.
"""

from __future__ import annotations

import numpy as np

from ned_models import landmarks as L

_NAMED = (L.FACE_OVAL + L.RIGHT_EYE + L.LEFT_EYE + L.LIPS_OUTER + L.LIPS_INNER + L.RIGHT_BROW
          + L.LEFT_BROW)


def _lens(loop: tuple[int, ...], corner_a: np.ndarray, corner_b: np.ndarray, lower_h: float,
          upper_h: float, out: np.ndarray) -> None:
    """Place a loop (corner, lower side, corner, upper side back) as two arcs between the corners."""
    n = (len(loop) - 2) // 2
    s = np.arange(1, n + 1) / (n + 1)
    along = corner_a + s[:, None] * (corner_b - corner_a)
    bump = np.sin(np.pi * s)[:, None]
    out[loop[0]] = corner_a
    out[loop[n + 1]] = corner_b
    out[list(loop[1:n + 1])] = along + bump * (0.0, lower_h)
    out[list(loop[:n + 1:-1])] = along - bump * (0.0, upper_h)


def synthetic_face(centre: tuple[float, float] = (256.0, 256.0), iod: float = 100.0, *,
                   mouth_open: float = 0.12, eye_height: float = 0.3) -> np.ndarray:
    """(478, 3) float64 landmarks of a frontal synthetic face, z = 0.

    Args:
        centre: (x, y) pixel between the eyes and the mouth.
        iod: distance between the eye centres in pixels.
        mouth_open: inner-lip opening at the middle, fraction of `iod` (0 = closed).
        eye_height: eye opening, fraction of `iod`.
    """
    cx, cy = centre
    d = iod
    pts = np.zeros((L.LANDMARK_COUNT, 3))
    xy = pts[:, :2]
    k = np.arange(36)
    xy[list(L.FACE_OVAL)] = np.column_stack([cx + 1.1 * d * np.sin(2 * np.pi * k / 36),
                                             cy + 0.1 * d - 1.55 * d * np.cos(2 * np.pi * k / 36)])
    ey = cy - 0.3 * d
    for loop, iris, brow, sign in ((L.RIGHT_EYE, L.RIGHT_IRIS, L.RIGHT_BROW, -1.0),
                                   (L.LEFT_EYE, L.LEFT_IRIS, L.LEFT_BROW, 1.0)):
        ex = cx + sign * d / 2
        outer, inner = np.array([ex + sign * 0.25 * d, ey]), np.array([ex - sign * 0.25 * d, ey])
        _lens(loop, outer, inner, eye_height * d / 2, eye_height * d / 2, xy)
        xy[iris[0]] = (ex, ey)
        xy[list(iris[1:])] = [(ex + 0.06 * d, ey), (ex, ey - 0.06 * d), (ex - 0.06 * d, ey), (ex, ey + 0.06 * d)]
        by = ey - eye_height * d / 2 - 0.2 * d
        _lens(brow, np.array([ex + sign * 0.35 * d, by]), np.array([ex - sign * 0.3 * d, by]),
              -0.04 * d, 0.06 * d, xy)
    my = cy + 0.75 * d
    _lens(L.LIPS_OUTER, np.array([cx - 0.45 * d, my]), np.array([cx + 0.45 * d, my]), 0.25 * d, 0.2 * d, xy)
    _lens(L.LIPS_INNER, np.array([cx - 0.36 * d, my]), np.array([cx + 0.36 * d, my]),
          mouth_open * d / 2, mouth_open * d / 2, xy)
    _fill_others(xy, (cx, cy), d)
    return pts


def _fill_others(xy: np.ndarray, centre: tuple[float, float], d: float) -> None:
    """Put the unnamed mesh points inside the oval, away from the named shapes (deterministic)."""
    others = [i for i in range(L.MESH_POINTS) if i not in set(_NAMED)]
    named = xy[list(set(_NAMED))]
    loops = [xy[list(loop)] for loop in (L.RIGHT_EYE, L.LEFT_EYE, L.LIPS_OUTER)]
    cx, cy = centre
    chosen: list[np.ndarray] = []
    i = 1
    while len(chosen) < len(others):
        u, v = _halton(i, 2), _halton(i, 3)
        i += 1
        p = np.array([cx + (2 * u - 1) * 1.0 * d, cy + 0.1 * d + (2 * v - 1) * 1.45 * d])
        if ((p[0] - cx) / (1.0 * d)) ** 2 + ((p[1] - cy - 0.1 * d) / (1.45 * d)) ** 2 > 0.92:
            continue
        if any(_inside(p, loop) for loop in loops) or np.min(np.linalg.norm(named - p, axis=1)) < 0.06 * d:
            continue
        if chosen and np.min(np.linalg.norm(np.array(chosen) - p, axis=1)) < 0.07 * d:
            continue
        chosen.append(p)
    xy[others] = np.array(chosen)


def _halton(index: int, base: int) -> float:
    f, r = 1.0, 0.0
    while index > 0:
        f /= base
        r += f * (index % base)
        index //= base
    return r


def _inside(p: np.ndarray, poly: np.ndarray) -> bool:
    x, y = p
    inside = False
    for (x0, y0), (x1, y1) in zip(poly, np.roll(poly, -1, axis=0), strict=True):
        if (y0 > y) != (y1 > y) and x < x0 + (y - y0) * (x1 - x0) / (y1 - y0):
            inside = not inside
    return inside

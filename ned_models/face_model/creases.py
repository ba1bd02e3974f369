"""The skin folds that action units deepen (FACS appearance changes), as curves on the template.

FACS describes each unit by its movement and by the folds it makes: the lip-corner pull (AU12)
deepens the nasolabial furrow, from beside the nostril wing down past the lip corner, and the cheek
raise (AU6) pushes the cheek against it; the brow lower (AU4) creases the skin between the brows.
A warp can carry a fold the actor already shows but never deepen one, so a smile on a face that was
not smiling keeps a shallow furrow; the renderer shades the folds from here (`render.creases`).
A crease is a curve in the template's frame (IOD units), embedded in the template's triangles so
that it follows the tracked, edited mesh, and a depth per unit of activation that the edit adds
(what the source already shows is in its pixels).
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType

import numpy as np
from scipy.spatial import Delaunay

from ned_models.face_model.action_units import ActionUnit as AU
from ned_models.landmarks import MESH_POINTS, inter_ocular_distance

__all__ = ["Crease", "CREASES", "CreaseRig", "MAX_DEPTH"]

MAX_DEPTH = 0.25        # a fold never darkens the skin by more than this


@dataclass(frozen=True)
class Crease:
    """One fold.

    Attributes:
        name: what it is, for logs and tests.
        curve: (n, 2) template points (IOD units, x to the image's right, y down), in order.
        depth_per_unit: darkening at the fold's centre per unit of added activation of each unit.
        width: the crease line's sigma across the fold, IOD.
        bulge_side: where the skin bulges over the fold (`render.creases.CreaseStroke`).
    """

    name: str
    curve: np.ndarray
    depth_per_unit: MappingProxyType[AU, float]
    width: float
    bulge_side: int


def _mirrored(crease: Crease, name: str) -> Crease:
    """The same fold on the other side of the face, driven by that side's units."""
    units = {AU[unit.name[:-2] + "_L"] if unit.name.endswith("_R") else unit: depth
             for unit, depth in crease.depth_per_unit.items()}
    return Crease(name, crease.curve * np.array([-1.0, 1.0]), MappingProxyType(units), crease.width,
                  -crease.bulge_side)


def _quadratic(start: tuple[float, float], control: tuple[float, float], end: tuple[float, float],
               samples: int = 9) -> np.ndarray:
    t = np.linspace(0.0, 1.0, samples)[:, None]
    a, c, b = (np.array(p) for p in (start, control, end))
    return (1 - t) ** 2 * a + 2 * t * (1 - t) * c + t ** 2 * b


# The subject's right nasolabial furrow (image left, x < 0), its lower part: the smile line that
# bows out around the lip corner (template corner at (-0.355, 0.868)) from level with the upper lip
# to below the corner; the cheek bulges over it from outside. Drawn up to the nostril wing, the fold
# moved dlib's identity embedding 0.01-0.03 further on six talking clips and the smile did not read
# more strongly on the whole (fer: more on two, less on three); starting lower still, it read less.
_NASOLABIAL_R = Crease(
    "nasolabial furrow (right)", _quadratic((-0.46, 0.64), (-0.58, 0.80), (-0.52, 1.02)),
    MappingProxyType({AU.LIP_CORNER_PULL_R: 0.06, AU.CHEEK_RAISE: 0.04}), 0.018, +1)

# The brow lower (AU4) draws the brows together and down and creases the skin between them in
# vertical lines (corrugator furrows): here one each side, just inside the brow's head (template
# (-0.205, -0.34)), from brow height down toward the root of the nose, with the skin bunched toward
# the midline. Under anger (14 talking clips) the face read angrier on 11 (median gain +0.22 ->
# +0.26) and dlib's embedding came nearer the source on 12 (liveportrait_d10 0.43 -> 0.37,
# retalking_3 0.36 -> 0.33). Drawn narrower and twice as deep they looked painted on.
_GLABELLAR_R = Crease(
    "glabellar line (right)", _quadratic((-0.10, -0.38), (-0.085, -0.25), (-0.07, -0.12)),
    MappingProxyType({AU.BROW_LOWER: 0.12}), 0.03, -1)

CREASES: tuple[Crease, ...] = (
    _NASOLABIAL_R,
    _mirrored(_NASOLABIAL_R, "nasolabial furrow (left)"),
    _GLABELLAR_R,
    _mirrored(_GLABELLAR_R, "glabellar line (left)"),
)


class CreaseRig:
    """The creases embedded in one template's mesh; build once per face model."""

    def __init__(self, template: np.ndarray, creases: tuple[Crease, ...] = CREASES) -> None:
        mesh = np.asarray(template, dtype=np.float64)[:MESH_POINTS, :2]
        triangulation = Delaunay(mesh)
        self.creases = creases
        self._vertices: list[np.ndarray] = []
        self._weights: list[np.ndarray] = []
        for crease in creases:
            simplex = triangulation.find_simplex(crease.curve)
            if np.any(simplex < 0):
                raise ValueError(f"{crease.name} leaves the template's mesh")
            affine = triangulation.transform[simplex]
            bary = np.einsum("nij,nj->ni", affine[:, :2], crease.curve - affine[:, 2])
            self._vertices.append(triangulation.simplices[simplex])
            self._weights.append(np.column_stack([bary, 1.0 - bary.sum(axis=1)]))
        self._units = np.zeros((len(creases), len(AU)))
        for row, crease in enumerate(creases):
            for unit, depth in crease.depth_per_unit.items():
                self._units[row, unit] = depth

    def depths(self, source_expression: np.ndarray, edited_expression: np.ndarray) -> np.ndarray:
        """(C,) darkening of each crease for the activation the edit adds (never what it removes)."""
        added = np.maximum(np.asarray(edited_expression, dtype=np.float64)
                           - np.asarray(source_expression, dtype=np.float64), 0.0)
        return np.clip(self._units @ added, 0.0, MAX_DEPTH)

    def curves(self, points: np.ndarray) -> list[np.ndarray]:
        """Each crease's curve in the frame of `points` ((478, 2+) landmarks): (n, 2) each."""
        xy = np.asarray(points, dtype=np.float64)[:, :2]
        return [np.einsum("nk,nkd->nd", weights, xy[vertices])
                for vertices, weights in zip(self._vertices, self._weights, strict=True)]

    def widths(self, points: np.ndarray) -> np.ndarray:
        """(C,) each crease line's width in the pixels of `points`."""
        return np.array([c.width for c in self.creases]) * float(inter_ocular_distance(points))

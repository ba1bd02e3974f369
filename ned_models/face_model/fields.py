"""Displacement fields drawn from handles: the machinery behind the action units and identity units.

A field is drawn from handles: groups of mesh points (on the subject's right side and the midline;
mirrored to the left unless the unit is one-sided) with the move each gets at coefficient 1. The
moves spread over the mesh with a Gaussian falloff, blended by weight so neighbouring handles
meet smoothly, and each handle acts only inside its soft region (`regions.py`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ned_models.landmarks import MESH_POINTS

__all__ = ["Handle", "Unit", "unit_field", "interpolate", "mirror_field"]


@dataclass(frozen=True)
class Handle:
    """Mesh points (right side or midline) that get `move` at coefficient 1, inside `region`."""

    points: tuple[int, ...]
    move: tuple[float, float, float]
    region: str | None = None


@dataclass(frozen=True)
class Unit:
    """A field: its handles, falloff radius and whether only the right side has handles."""

    handles: tuple[Handle, ...]
    sigma: float  # falloff radius (IOD)
    one_sided: bool = False  # handles on the right only (the left unit is its mirror)


def mirror_field(field: np.ndarray, pairs: np.ndarray) -> np.ndarray:
    """The left/right mirror image of a (478, 3) displacement field (iris points left at 0)."""
    out = np.zeros_like(field)
    out[:MESH_POINTS] = field[pairs] * np.array([-1.0, 1.0, 1.0])
    return out


def interpolate(template: np.ndarray, handles: list[tuple[np.ndarray, np.ndarray, np.ndarray]],
                sigma: float) -> np.ndarray:
    """Spread handle moves over the mesh: a weight-normalised blend times the strongest falloff.

    Args:
        handles: (handle position (3,), move (3,), region weight (478,)) per handle point.
    """
    positions = np.array([h[0] for h in handles])
    moves = np.array([h[1] for h in handles])
    regions = np.array([h[2] for h in handles])  # (H, 478)
    d2 = ((template[None, :, :] - positions[:, None, :]) ** 2).sum(axis=-1)  # (H, 478)
    weights = np.exp(-0.5 * d2 / sigma**2) * regions
    total = weights.sum(axis=0)
    blend = (weights.T @ moves) / np.maximum(total, 1e-12)[:, None]
    return blend * weights.max(axis=0)[:, None]


def _expand(handle: Handle, template: np.ndarray, pairs: np.ndarray, regions: dict[str, np.ndarray],
            mirrored: bool) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """One entry per handle point; midline points once, with no sideways move."""
    if handle.region is None:
        region = np.ones(len(template))
        region[MESH_POINTS:] = 0.0  # irises follow gaze, never a handle
    else:
        region = regions[handle.region]
    move = np.asarray(handle.move, dtype=float)
    out = []
    for i in handle.points:
        partner = int(pairs[i])
        if partner == i:
            out.append((template[i], move * (0.0, 1.0, 1.0), region))
            continue
        out.append((template[i], move, region))
        if mirrored:
            out.append((template[partner], move * (-1.0, 1.0, 1.0), region))
    return out


def unit_field(unit: Unit, template: np.ndarray, pairs: np.ndarray,
               regions: dict[str, np.ndarray]) -> np.ndarray:
    """The (478, 3) field of `unit` on a template (regions from `regions.region_weights`)."""
    handles = [e for h in unit.handles for e in _expand(h, template, pairs, regions, not unit.one_sided)]
    return interpolate(template, handles, unit.sigma)



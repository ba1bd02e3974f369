"""Shared fixtures for the render tests: a synthetic face and textured frames to warp."""

from __future__ import annotations

import numpy as np
import pytest

from ned_models.render import WarpTopology, build_topology
from tests.ned_models.render.synthetic_face import synthetic_face

FRAME_HW = (512, 512)
CENTRE = (256.0, 240.0)
IOD = 100.0


@pytest.fixture(scope="session")
def face() -> np.ndarray:
    """(478, 3) synthetic landmarks centred in a 512 x 512 frame, 100 px between the eyes."""
    return synthetic_face(CENTRE, IOD)


@pytest.fixture(scope="session")
def topology(face: np.ndarray) -> WarpTopology:
    return build_topology(face)


def textured_frame(dtype: np.dtype = np.uint8, channels: int = 3, seed: int = 0) -> np.ndarray:
    """A frame with grain and smooth structure everywhere (so any moved pixel shows), float
    values straying below 0 and above 1 for float32."""
    rng = np.random.default_rng(seed)
    h, w = FRAME_HW
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    base = 0.5 + 0.25 * np.sin(x / 9.0)[..., None] * np.cos(y / 13.0)[..., None] * np.array([1.0, 0.6, -0.8])
    values = base + rng.normal(0.0, 0.08, (h, w, 3))
    if channels == 4:
        values = np.concatenate([values, rng.uniform(0, 1, (h, w, 1))], axis=2)
    if dtype == np.float32:
        return (values * 1.4 - 0.2).astype(np.float32)  # about -0.3 .. 1.3
    top = np.iinfo(dtype).max
    return np.clip(np.rint(values * top), 0, top).astype(dtype)


def smile(points: np.ndarray, amount: float = 0.08) -> np.ndarray:
    """Lip corners up and out, brows up: smooth displacements falling off with distance."""
    dst = points[:, :2].copy()
    xy = points[:, :2]
    for corner, side in ((61, -1.0), (291, 1.0)):
        w = np.exp(-np.sum((xy - xy[corner]) ** 2, axis=1) / (2 * (0.22 * IOD) ** 2))
        dst += w[:, None] * np.array([side * 0.6, -1.0]) * amount * IOD
    for brow in ((70, 63, 105, 66, 107), (300, 293, 334, 296, 336)):
        c = xy[list(brow)].mean(axis=0)
        w = np.exp(-np.sum((xy - c) ** 2, axis=1) / (2 * (0.25 * IOD) ** 2))
        dst += w[:, None] * np.array([0.0, -0.75]) * amount * IOD
    return dst

"""The soft face mask: zero off the face, one in its centre, a monotone feather, scale-free."""

from __future__ import annotations

import numpy as np
import pytest

from ned_models import landmarks as L
from ned_models.render.masks import face_mask, mask_outline
from tests.ned_models.render.synthetic_face import synthetic_face


def test_mask_is_zero_outside_and_one_in_the_centre() -> None:
    pts = synthetic_face((256.0, 256.0), 100.0)
    mask = face_mask(pts, (512, 512), 0.12)
    assert mask.dtype == np.float32 and mask.shape == (512, 512)
    assert mask.min() == 0.0 and mask.max() == 1.0
    assert mask[256, 256] == 1.0  # between the eyes and the mouth
    for idx in (L.RIGHT_EYE[0], L.LEFT_EYE[0], L.MOUTH_RIGHT_CORNER, L.MOUTH_LEFT_CORNER):
        x, y = pts[idx, :2].astype(int)
        assert mask[y, x] > 0.99, f"landmark {idx} is not fully inside the mask"
    # nothing outside the oval, nor above the lowered forehead
    oval = pts[list(L.FACE_OVAL), :2]
    yy, xx = np.mgrid[0:512, 0:512]
    r = ((xx + 0.5 - 256) / 110.0) ** 2 + ((yy + 0.5 - 266) / 155.0) ** 2
    assert np.all(mask[r >= 1.0] == 0)
    assert mask[int(oval[0, 1]) + 5, 256] == 0  # the oval's top (hairline) is left alone


def test_feather_is_monotone_along_rays_from_the_centre() -> None:
    pts = synthetic_face((256.0, 256.0), 100.0)
    mask = face_mask(pts, (512, 512), 0.2)
    for angle in np.linspace(0, 2 * np.pi, 24, endpoint=False):
        r = np.arange(0, 240)
        x = np.clip((256 + r * np.cos(angle)).astype(int), 0, 511)
        y = np.clip((256 + r * np.sin(angle)).astype(int), 0, 511)
        profile = mask[y, x]
        assert np.all(np.diff(profile) <= 1e-6), f"mask rises again along angle {angle:.2f}"
        ramp = np.flatnonzero((profile > 0.01) & (profile < 0.99))
        assert 10 < len(ramp) < 40  # about 0.2 IOD, allowing for the ray's slant


def test_mask_follows_render_scale() -> None:
    full = face_mask(synthetic_face((256.0, 256.0), 100.0), (512, 512), 0.12)
    half = face_mask(synthetic_face((128.0, 128.0), 50.0), (256, 256), 0.12)
    down = full.reshape(256, 2, 256, 2).mean(axis=(1, 3))
    assert np.abs(down - half).max() < 0.05


def test_coarse_grid_sampling_matches_full_resolution() -> None:
    pts = synthetic_face((256.0, 256.0), 100.0)
    full = face_mask(pts, (512, 512), 0.15)
    coarse = face_mask(pts, (64, 64), 0.15, step=8)
    # node (i, j) sits at pixel ((j + .5) * 8, (i + .5) * 8), between pixels 8j + 3 and 8j + 4
    centres = 0.5 * (full[3::8, 3::8] + full[4::8, 4::8])
    assert np.abs(coarse - centres).max() < 0.03


def test_outline_pulls_the_forehead_down_and_keeps_the_chin() -> None:
    pts = synthetic_face((256.0, 256.0), 100.0)
    outline = mask_outline(pts)
    oval = pts[list(L.FACE_OVAL), :2]
    assert outline[:, 1].min() > oval[:, 1].min() + 15
    assert outline[:, 1].max() == pytest.approx(oval[:, 1].max(), abs=1e-6)


def test_bad_arguments() -> None:
    pts = synthetic_face()
    with pytest.raises(ValueError, match="feather"):
        face_mask(pts, (64, 64), 0.0)
    with pytest.raises(ValueError, match="478"):
        face_mask(pts[:10], (64, 64), 0.1)
    with pytest.raises(ValueError, match="size_hw"):
        face_mask(pts, (0, 64), 0.1)

"""shade_creases: a warm furrow along the curve, shaped across it, and nothing where the mask is 0."""

from __future__ import annotations

import numpy as np
import pytest

from ned_models.render.creases import CreaseStroke, shade_creases

_SHAPE = (120, 100)
_PLACEMENT = (200, 300, _SHAPE[1], _SHAPE[0])


def _skin(dtype: np.dtype, channels: int = 3) -> np.ndarray:
    rng = np.random.default_rng(3)
    base = np.array([0.8, 0.6, 0.5, 1.0][:channels], dtype=np.float32)
    grain = 1.0 + 0.02 * rng.standard_normal((*_SHAPE, 1)).astype(np.float32)
    image = base * grain
    if dtype == np.float32:
        return image
    return np.rint(image * np.iinfo(dtype).max).astype(dtype)


def _vertical_stroke(depth: float = 0.2, bulge_side: int = 1) -> CreaseStroke:
    """A fold down the middle of the patch (frame x = 250), from patch row 10 to row 110."""
    x = _PLACEMENT[0] + 50.0
    curve = np.array([[x, _PLACEMENT[1] + 10.0], [x, _PLACEMENT[1] + 60.0], [x, _PLACEMENT[1] + 110.0]])
    return CreaseStroke(curve=curve, depth=depth, width=3.0, bulge_side=bulge_side)


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.float32])
def test_the_fold_darkens_its_line_warmly(dtype: np.dtype) -> None:
    patch = _skin(dtype)
    before = patch.astype(np.float64)
    shade_creases(patch, _PLACEMENT, np.ones(_SHAPE, np.float32), [_vertical_stroke()])
    ratio = patch.astype(np.float64)[55:66, 50] / before[55:66, 50]       # mid-fold, on the line
    assert np.all(ratio < 0.87)                                             # depth 0.2 at the centre
    assert np.all(ratio[:, 0] > ratio[:, 2])                                # red keeps more than blue
    assert np.allclose(patch[:, :20], _skin(dtype)[:, :20])                 # 10 widths away: untouched


def test_the_slope_is_shaded_and_the_bulge_catches_light() -> None:
    for side in (1, -1):
        patch = _skin(np.float32)
        plain = patch.copy()
        shade_creases(patch, _PLACEMENT, np.ones(_SHAPE, np.float32), [_vertical_stroke(bulge_side=side)])
        change = (patch[40:80, :, 1] / plain[40:80, :, 1]).mean(axis=0)
        # bulge_side +1 is the image's left of a curve running down; 9 px = 3 widths out
        bulge, slope = (50 - 9, 50 + 6) if side == 1 else (50 + 9, 50 - 6)
        assert change[bulge] > 1.0 and change[slope] < 0.97


def test_the_fold_fades_in_at_its_ends() -> None:
    patch = _skin(np.float32)
    plain = patch.copy()
    shade_creases(patch, _PLACEMENT, np.ones(_SHAPE, np.float32), [_vertical_stroke()])
    darkening = 1.0 - patch[:, 50, 1] / plain[:, 50, 1]
    assert darkening[12] < 0.2 * darkening[60] and darkening[108] < 0.2 * darkening[60]


@pytest.mark.parametrize("dtype", [np.uint8, np.float32])
def test_nothing_changes_where_the_mask_is_zero_nor_in_alpha(dtype: np.dtype) -> None:
    patch = _skin(dtype, channels=4)
    plain = patch.copy()
    alpha = np.ones(_SHAPE, np.float32)
    alpha[:60] = 0.0
    shade_creases(patch, _PLACEMENT, alpha, [_vertical_stroke(depth=0.3)])
    assert np.array_equal(patch[:60], plain[:60])
    assert np.array_equal(patch[..., 3], plain[..., 3])
    assert not np.array_equal(patch[60:], plain[60:])


def test_a_fold_outside_the_patch_or_without_depth_changes_nothing() -> None:
    patch = _skin(np.uint16)
    plain = patch.copy()
    far = CreaseStroke(curve=np.array([[0.0, 0.0], [10.0, 40.0]]), depth=0.3, width=3.0, bulge_side=1)
    shade_creases(patch, _PLACEMENT, np.ones(_SHAPE, np.float32), [far, _vertical_stroke(depth=0.0)])
    assert np.array_equal(patch, plain)

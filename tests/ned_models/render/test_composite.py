"""Multi-band compositing: exact outside its reach, sharp grain switch, wide colour blend."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from ned_models.render.composite import blend, blend_reach


def _frames(dtype: np.dtype) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(2)
    a = 0.4 + rng.normal(0, 0.05, (160, 200, 4))
    b = 0.7 + rng.normal(0, 0.05, (160, 200, 4))
    if dtype == np.float32:
        return (a * 2 - 0.5).astype(np.float32), (b * 2 - 0.5).astype(np.float32)  # beyond 0..1
    top = np.iinfo(dtype).max
    return (np.clip(a, 0, 1) * top).astype(dtype), (np.clip(b, 0, 1) * top).astype(dtype)


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.float32])
def test_source_is_exact_outside_the_support_and_alpha_is_kept(dtype: np.dtype) -> None:
    source, rendered = _frames(dtype)
    mask = np.zeros((160, 200), np.float32)
    cv2.circle(mask, (100, 80), 30, 1.0, -1)
    out, support = blend(source, rendered, mask, levels=3)
    assert out.dtype == dtype
    assert np.array_equal(out[~support], source[~support])
    assert np.array_equal(out[..., 3], source[..., 3])
    ys, xs = np.nonzero(support)
    reach = blend_reach(3)
    assert xs.min() >= 70 - reach - 1 and xs.max() <= 130 + reach + 1
    # inside the hard core, the rendered colour arrives (low bands fully switched)
    core = out[70:90, 90:110, :3].astype(np.float64)
    np.testing.assert_allclose(core.mean(), rendered[70:90, 90:110, :3].astype(np.float64).mean(),
                               rtol=0.02)


def test_grain_switches_sharply_and_is_not_averaged() -> None:
    rng = np.random.default_rng(4)
    h, w = 128, 256
    source = (0.5 + rng.normal(0, 0.1, (h, w, 3))).astype(np.float32)
    rendered = (0.5 + rng.normal(0, 0.1, (h, w, 3))).astype(np.float32)  # same level, other grain
    mask = np.zeros((h, w), np.float32)
    mask[:, 128:] = 1.0
    out, _ = blend(source, rendered, mask, levels=4)
    # a cross-fade of independent grain would lose up to half its variance at the seam; the finest
    # band switches at the 0.5 level, so the grain keeps most of its energy next to the seam
    def hp_var(img: np.ndarray) -> float:
        return float((img - cv2.GaussianBlur(img, (0, 0), 1.0)).var())
    seam = out[:, 120:136]
    assert hp_var(seam) > 0.8 * hp_var(source[:, 120:136])
    # far from the seam each side is its own image
    np.testing.assert_allclose(out[:, 200:], rendered[:, 200:], atol=1e-5)
    np.testing.assert_allclose(out[:, :40], source[:, :40], atol=1e-6)


def test_trivial_masks_and_bad_arguments() -> None:
    source, rendered = _frames(np.float32)
    out, support = blend(source, rendered, np.zeros((160, 200)), levels=2)
    assert not support.any() and np.array_equal(out, source)
    out, _ = blend(source, rendered, np.ones((160, 200)), levels=2)
    np.testing.assert_allclose(out[..., :3], rendered[..., :3], atol=1e-5)
    with pytest.raises(ValueError, match="same"):
        blend(source, rendered[:10], np.ones((160, 200)))
    with pytest.raises(ValueError, match="dtype"):
        blend(source, rendered.astype(np.float64), np.ones((160, 200)))
    with pytest.raises(ValueError, match="mask"):
        blend(source, rendered, np.ones((10, 10)))
    with pytest.raises(ValueError, match="levels"):
        blend(source, rendered, np.ones((160, 200)), levels=-1)

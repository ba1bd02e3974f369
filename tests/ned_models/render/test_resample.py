"""Bicubic resampling with phase-dependent detail restoration."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from ned_models.render.resample import resample


def _grid_maps(h: int, w: int, dx: float, dy: float) -> np.ndarray:
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    return np.dstack([x + np.float32(dx), y + np.float32(dy)])


def _lap_var(image: np.ndarray) -> float:
    grey = image.astype(np.float32).mean(axis=2)
    return float(cv2.Laplacian(grey, cv2.CV_32F, ksize=1)[8:-8, 8:-8].var())


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.float32])
def test_integer_positions_are_exact_copies(dtype: np.dtype) -> None:
    rng = np.random.default_rng(0)
    src = (rng.uniform(-0.2, 1.2, (40, 50, 3)) * (1 if dtype == np.float32 else np.iinfo(dtype).max))
    src = np.clip(src, 0, None).astype(dtype) if dtype != np.float32 else src.astype(np.float32)
    out = resample(src, _grid_maps(30, 40, 3, 5))
    assert out.dtype == dtype
    assert np.array_equal(out, src[5:35, 3:43])


def test_detail_restoration_recovers_what_half_pixel_sampling_loses() -> None:
    rng = np.random.default_rng(1)
    grain = np.clip(128 + rng.normal(0, 20, (120, 120, 3)), 0, 255).astype(np.uint8)
    src = cv2.GaussianBlur(grain, (0, 0), 0.7)  # camera-like: soft, but with detail near Nyquist
    maps = _grid_maps(100, 100, 10.5, 10.5)
    plain = resample(src, maps, detail=0.0)
    restored = resample(src, maps)
    reference = _lap_var(src[10:110, 10:110])
    assert _lap_var(plain) < 0.8 * reference  # what bicubic costs at the worst phase
    assert 0.85 * reference < _lap_var(restored) < 1.3 * reference


def test_flat_areas_and_float_range_are_untouched() -> None:
    flat = np.full((30, 30, 3), 1.75, np.float32)  # a float value above 1
    out = resample(flat, _grid_maps(20, 20, 3.37, 4.81))
    np.testing.assert_allclose(out, 1.75, atol=1e-5)
    u8 = np.full((30, 30, 3), 255, np.uint8)
    assert np.all(resample(u8, _grid_maps(20, 20, 3.37, 4.81)) == 255)  # saturates, no wrap-around


def test_magnified_detail_keeps_its_sharpness() -> None:
    """A 20 % stretch (a raised brow's lid skin) loses the top of the band; the boost brings back its energy."""
    rng = np.random.default_rng(2)
    grain = np.clip(128 + rng.normal(0, 20, (160, 160, 3)), 0, 255).astype(np.uint8)
    src = cv2.GaussianBlur(grain, (0, 0), 0.7)
    stretch = np.float32(1.2)
    y, x = np.mgrid[0:120, 0:120].astype(np.float32)
    maps = np.dstack([20 + x / stretch, 20 + y / stretch])
    reference = _lap_var(src[20:120, 20:120])
    assert _lap_var(resample(src, maps, detail=0.0)) < 0.6 * reference
    assert 0.85 * reference < _lap_var(resample(src, maps)) < 1.3 * reference  # 0.56 with the phase alone

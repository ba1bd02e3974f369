"""Face region, sharpness, edit magnitude and the square crop (with its pixel-centre convention)."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from ned_models.eval.image_metrics import (
    crop_square,
    face_region,
    fill_convex_hull,
    grey_255,
    laplacian_variance,
    mean_abs_change,
)

AREA_TOLERANCE = 0.05


def _box_landmarks(x0: float, y0: float, x1: float, y1: float) -> np.ndarray:
    """68 points whose jaw and brows (0-26) trace the rectangle's outline."""
    points = np.full((68, 2), ((x0 + x1) / 2, (y0 + y1) / 2))
    corners = np.array([(x0, y0), (x1, y0), (x1, y1), (x0, y1)])
    points[:27] = corners[np.arange(27) % 4]
    return points


class TestFaceRegion:
    def test_box_and_mask(self):
        region = face_region(_box_landmarks(10.0, 20.0, 50.0, 80.0), (100, 100))
        assert (region.x0, region.y0, region.x1, region.y1) == (10, 20, 50, 80)
        assert region.mask.shape == (60, 40)
        assert region.mask.mean() == pytest.approx(1.0, abs=AREA_TOLERANCE)

    def test_clipped_and_outside(self):
        region = face_region(_box_landmarks(-20.0, -20.0, 30.0, 30.0), (100, 100))
        assert (region.x0, region.y0) == (0, 0)
        assert face_region(_box_landmarks(200.0, 200.0, 300.0, 300.0), (100, 100)) is None

    def test_hull_of_a_triangle(self):
        mask = fill_convex_hull(np.array([[0.0, 0.0], [100.0, 0.0], [0.0, 100.0]]), (100, 100))
        assert mask.sum() == pytest.approx(5000, rel=AREA_TOLERANCE)


def test_grey_255_is_dtype_independent():
    rgb8 = np.array([[[255, 128, 0]]], np.uint8)
    rgb16 = (rgb8.astype(np.uint16) * 257).astype(np.uint16)
    rgbf = rgb8.astype(np.float32) / 255.0
    expected = 0.299 * 255 + 0.587 * 128
    for frame in (rgb8, rgb16, rgbf):
        assert grey_255(frame)[0, 0] == pytest.approx(expected, abs=1e-3)


def test_laplacian_variance_drops_with_blur():
    rng = np.random.default_rng(3)
    sharp = rng.uniform(0, 255, (64, 64)).astype(np.float32)
    blurred = cv2.GaussianBlur(sharp, (0, 0), 2.0)
    mask = np.ones((64, 64), bool)
    assert laplacian_variance(blurred, mask) < 0.1 * laplacian_variance(sharp, mask)
    assert np.isnan(laplacian_variance(sharp, np.zeros((64, 64), bool)))


def test_mean_abs_change_only_inside_the_region():
    source = np.zeros((100, 100, 3), np.uint8)
    edit = source.copy()
    edit[:, :50] = 10                   # left half changed, region covers x 0..80
    region = face_region(_box_landmarks(0.0, 0.0, 80.0, 100.0), (100, 100))
    assert mean_abs_change(source, edit, region) == pytest.approx(10 * 50 / 80, rel=AREA_TOLERANCE)
    assert mean_abs_change(source, source, region) == 0.0


class TestCropSquare:
    def test_pixel_centre_convention(self):
        image = np.zeros((40, 40), np.float32)
        image[12, 25] = 1.0                         # pixel centre at (25.5, 12.5)
        crop = crop_square(image, (25.5, 12.5), 9.0, 9)
        assert np.unravel_index(crop.argmax(), crop.shape) == (4, 4)
        assert crop[4, 4] == pytest.approx(1.0)

    def test_upscaled_centroid(self):
        image = np.zeros((40, 40), np.float32)
        image[20, 10] = 1.0
        crop = crop_square(image, (10.5, 20.5), 4.5, 9)
        ys, xs = np.mgrid[0:9, 0:9]
        assert (crop * xs).sum() / crop.sum() == pytest.approx(4.0, abs=1e-3)
        assert (crop * ys).sum() / crop.sum() == pytest.approx(4.0, abs=1e-3)

    def test_large_shrink_keeps_mean_and_pads_black(self):
        image = np.full((400, 400, 3), 200, np.uint8)
        crop = crop_square(image, (200.0, 200.0), 400.0, 16)
        assert crop.shape == (16, 16, 3)
        assert np.abs(crop.astype(int) - 200).max() <= 1
        half_outside = crop_square(image, (0.0, 200.0), 200.0, 20)
        assert half_outside[:, :9].max() == 0 and half_outside[:, 11:].min() >= 199

    def test_bad_size(self):
        with pytest.raises(ValueError, match="positive"):
            crop_square(np.zeros((4, 4)), (2.0, 2.0), 0.0, 4)

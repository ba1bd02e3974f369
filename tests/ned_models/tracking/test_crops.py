"""Rotated square crops: transform conventions, pixel centres, pixel aspect, flips, anti-aliasing."""

from __future__ import annotations

import numpy as np
import pytest

from ned_models.tracking.crops import (
    RotatedRect,
    apply_transform,
    crop_from_frame,
    rect_from_points,
    warp_crop,
)


def test_centre_maps_to_crop_centre_and_round_trips():
    rect = RotatedRect(center=(120.0, 80.0), size=64.0, angle=0.3)
    t = crop_from_frame(rect, 192, pixel_aspect=1.25, flip_x=True)
    np.testing.assert_allclose(apply_transform(t, np.array([[120.0, 80.0]])), [[96.0, 96.0]])
    pts = np.random.default_rng(0).uniform(0, 200, (20, 3))
    back = apply_transform(np.linalg.inv(t), apply_transform(t, pts))
    np.testing.assert_allclose(back, pts, atol=1e-9)
    np.testing.assert_array_equal(back[:, 2], pts[:, 2])  # z is not touched


def test_rotation_convention_levels_the_rect_axis():
    # a rect whose x axis points down-right at 30 degrees: that direction becomes the crop's +x
    angle = np.radians(30)
    rect = RotatedRect(center=(0.0, 0.0), size=10.0, angle=angle)
    t = crop_from_frame(rect, 10)
    tip = apply_transform(t, np.array([[np.cos(angle), np.sin(angle)]]))
    np.testing.assert_allclose(tip, [[6.0, 5.0]], atol=1e-9)


def test_pixel_aspect_makes_a_display_square():
    # with 2:1 pixels, 10 frame pixels across are 20 display pixels: half the crop's width
    rect = RotatedRect(center=(50.0, 50.0), size=40.0, angle=0.0)
    t = crop_from_frame(rect, 40, pixel_aspect=2.0)
    np.testing.assert_allclose(apply_transform(t, np.array([[60.0, 60.0]])), [[40.0, 30.0]])


def test_warp_samples_pixel_centres_exactly():
    frame = np.zeros((20, 20, 3), dtype=np.uint8)
    frame[5, 7] = 255  # pixel centre (7.5, 5.5)
    rect = RotatedRect(center=(7.5, 5.5), size=9.0, angle=0.0)
    crop = warp_crop(frame, crop_from_frame(rect, 9), 9)
    assert crop.dtype == np.float32 and crop.shape == (9, 9, 3)
    assert np.unravel_index(np.argmax(crop[..., 0]), (9, 9)) == (4, 4)
    assert crop[4, 4, 0] == pytest.approx(1.0)


@pytest.mark.parametrize("dtype, peak", [(np.uint8, 255), (np.uint16, 65535), (np.float32, 1.0)])
def test_warp_accepts_every_frame_format(dtype, peak):
    frame = np.full((32, 32, 4), 0.5 * peak, dtype=dtype)
    if dtype == np.float32:
        frame[0, 0, 0] = 7.0  # out-of-range float values are clipped for the model only
    crop = warp_crop(frame, crop_from_frame(RotatedRect((16.0, 16.0), 16.0, 0.0), 8), 8)
    assert crop.shape == (8, 8, 3) and crop.max() <= 1.0
    np.testing.assert_allclose(crop[2:6, 2:6], 0.5, atol=3e-3)


def test_strong_reduction_is_area_filtered():
    # a one-pixel checkerboard averages to grey under a 10x reduction instead of aliasing
    ys, xs = np.mgrid[0:400, 0:400]
    frame = (((xs + ys) % 2) * 255).astype(np.uint8)[..., None].repeat(3, axis=2)
    crop = warp_crop(frame, crop_from_frame(RotatedRect((200.0, 200.0), 320.0, 0.1), 32), 32)
    assert abs(float(crop[4:28, 4:28].mean()) - 0.5) < 0.02
    assert float(crop[4:28, 4:28].std()) < 0.03


def test_rect_from_points_levels_and_scales():
    pts = np.array([[10.0, 10.0], [30.0, 30.0], [20.0, 40.0]])
    rect = rect_from_points(pts, 0, 1, scale=1.5)
    assert rect.angle == pytest.approx(np.pi / 4)
    local = apply_transform(crop_from_frame(rect, 100), pts)
    assert local.min() >= 100 / 6 - 1e-6 and local.max() <= 100 - 100 / 6 + 1e-6  # 1.5x margin


def test_bad_inputs_raise():
    with pytest.raises(ValueError):
        crop_from_frame(RotatedRect((0.0, 0.0), 0.0, 0.0), 8)
    with pytest.raises(ValueError):
        warp_crop(np.zeros((8, 8, 3), dtype=np.int32), np.eye(3), 4)
    with pytest.raises(ValueError):
        warp_crop(np.zeros((8, 8), dtype=np.uint8), np.eye(3), 4)

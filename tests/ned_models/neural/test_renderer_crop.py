"""The aligned face crop: its transform, cutting (any dtype) and pasting back."""

from __future__ import annotations

import numpy as np
import pytest

from ned_models.face_model.action_units import ActionUnit
from ned_models.face_model.morphable import load_face_model
from ned_models.landmarks import NOSE_TIP
from ned_models.neural.face_crop import (
    CropLayout,
    crop_transform,
    cut_crop,
    cut_crop_values,
    paste_crop,
    transform_points,
    transform_scale,
    translation,
)
from tests.ned_models.neural.renderer_fakes import face_points, textured_frame

ROUND_TRIP_TOLERANCE = 4.0 / 255.0  # mean abs error of cut + paste on a smooth image (two resamplings)


def _frame_points(expression: np.ndarray | None = None, angle: float = 0.2) -> np.ndarray:
    model = load_face_model()
    expression = np.zeros(len(model.basis)) if expression is None else expression
    return face_points(model, expression, (300.0, 220.0), iod_px=120.0, angle=angle)


def test_crop_puts_the_face_in_the_layout() -> None:
    layout = CropLayout()
    points = _frame_points()
    crop_from_frame = crop_transform(points, layout=layout)
    in_crop = transform_points(crop_from_frame, points)
    expected = layout.template_points(load_face_model().template)
    # the landmarks are the template under a similarity, so the crop undoes it exactly
    np.testing.assert_allclose(in_crop[:, :2], expected, atol=1e-6)
    assert transform_scale(crop_from_frame) == pytest.approx(layout.iod_fraction * layout.size / 120.0)


def test_crop_ignores_expression() -> None:
    model = load_face_model()
    expression = np.zeros(len(model.basis))
    expression[ActionUnit.JAW_DROP] = 1.5
    expression[ActionUnit.LIP_CORNER_PULL_R] = 1.0
    still = crop_transform(_frame_points())
    talking = crop_transform(_frame_points(expression))
    nose = _frame_points()[NOSE_TIP:NOSE_TIP + 1, :2]
    # the rigid weights keep the crop on the head: the nose moves by well under a pixel
    assert np.abs(transform_points(still, nose) - transform_points(talking, nose)).max() < 1.0


def test_crop_is_square_on_screen_with_non_square_pixels() -> None:
    points = _frame_points(angle=0.0)
    anamorphic = points.copy()
    anamorphic[:, 0] /= 2.0  # the same face stored with pixels twice as wide
    square = crop_transform(points)
    wide = crop_transform(anamorphic, pixel_aspect=2.0)
    np.testing.assert_allclose(transform_points(wide, anamorphic)[:, :2], transform_points(square, points)[:, :2],
                               atol=1e-6)


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.float32])
def test_cut_keeps_dtype_and_cut_crop_is_unit_float(dtype: type) -> None:
    rng = np.random.default_rng(1)
    frame8 = textured_frame(rng, (480, 640))
    scale = {np.uint8: 1, np.uint16: 257, np.float32: 1 / 255}[dtype]
    frame = (frame8.astype(np.float64) * scale).astype(dtype)
    if dtype == np.float32:
        frame[0, 0] = 7.5  # out of range values are clipped for the network only
    crop_from_frame = crop_transform(_frame_points())
    values = cut_crop_values(frame, crop_from_frame, 64)
    assert values.dtype == dtype and values.shape == (64, 64, 3)
    unit = cut_crop(frame, crop_from_frame, 64)
    assert unit.dtype == np.float32 and unit.min() >= 0.0 and unit.max() <= 1.0
    reference = cut_crop(frame8, crop_from_frame, 64)
    assert np.abs(unit - reference).max() < 2.0 / 255.0


def test_cut_then_paste_round_trips() -> None:
    rng = np.random.default_rng(2)
    frame = textured_frame(rng, (480, 640))
    crop_from_frame = crop_transform(_frame_points(), layout=CropLayout(256))
    crop = cut_crop(frame, crop_from_frame, 256)
    origin = (100, 50)
    region = frame[50:430, 100:560]
    pasted = paste_crop(crop, crop_from_frame @ translation(*origin), region.shape[:2])
    inside = paste_crop(np.ones((256, 256), np.float32), crop_from_frame @ translation(*origin), region.shape[:2])
    core = inside > 0.999
    assert core.sum() > 10000
    error = np.abs(pasted[core] - region[core].astype(np.float32) / 255.0).mean()
    assert error < ROUND_TRIP_TOLERANCE
    assert np.all(pasted[inside == 0] == 0.0)


def test_pixel_centre_convention() -> None:
    """A crop that is a pure translation by whole pixels copies pixels exactly (no half-pixel shift)."""
    frame = np.arange(40 * 40 * 3, dtype=np.float32).reshape(40, 40, 3)
    crop_from_frame = translation(-5.0, -7.0)
    crop = cut_crop_values(frame, crop_from_frame, 16)
    np.testing.assert_allclose(crop, frame[7:23, 5:21], atol=1e-3)


def test_crop_transform_rejects_bad_landmarks() -> None:
    with pytest.raises(ValueError, match="landmarks"):
        crop_transform(np.zeros((10, 2)))
    bad = _frame_points()
    bad[3, 0] = np.nan
    with pytest.raises(ValueError, match="non-finite"):
        crop_transform(bad)
    with pytest.raises(ValueError, match="crop size"):
        CropLayout(size=100)

"""Debug overlay: draws the tracking in the frame's own format, touches nothing else."""

from __future__ import annotations

import numpy as np
import pytest

from ned_models.analysis.results import FrameFaceState
from ned_models.face_model.action_units import ActionUnit
from ned_models.face_model.morphable import load_face_model
from ned_models.face_model.pose import HeadPose
from ned_models.render.debug_overlay import draw_debug_overlay, draw_tracking


@pytest.fixture(scope="module")
def state():
    model = load_face_model()
    pose = HeadPose(np.eye(3), np.array([160.0, 150.0, 0.0]), 60.0)
    return FrameFaceState(
        time=0.0, face_index=0, landmarks=pose.apply(model.template), confidence=1.0, pose=pose,
        expression=np.zeros(len(ActionUnit)), residual=np.zeros(0), gaze=np.zeros((2, 2)), aperture=0.0,
        jaw_opening=0.0, identity=model.template, residual_basis=np.zeros((0, 478, 3)),
        render_region=np.array([80, 60, 240, 260]), pixel_aspect=1.0)


@pytest.mark.parametrize("dtype, fill", [(np.uint8, 40), (np.uint16, 9000), (np.float32, 3.5)])
@pytest.mark.parametrize("channels", [3, 4])
def test_overlay_keeps_format_and_untouched_pixels(state, dtype, fill, channels):
    region = np.full((200, 240, channels), fill, dtype=dtype)
    origin = (40, 30)
    result = draw_debug_overlay(region, origin, state)
    assert result.patch.dtype == region.dtype and result.patch.shape == region.shape
    assert result.placement == (40, 30, 240, 200)
    untouched = result.alpha == 0
    np.testing.assert_array_equal(result.patch[untouched], region[untouched])  # float 3.5 survives
    assert 500 < int((result.alpha > 0).sum()) < 0.5 * region.shape[0] * region.shape[1]
    nose = np.round(state.landmarks[1, :2] - origin - 0.5).astype(int)
    assert result.alpha[nose[1], nose[0]] == 1.0  # drawn where the landmarks are
    if channels == 4:
        peak = {np.uint8: 255, np.uint16: 65535, np.float32: 1.0}[dtype]
        assert result.patch[nose[1], nose[0], 3] == peak


def test_render_scale_and_faces_outside_the_region(state):
    region = np.zeros((100, 120, 3), np.uint8)
    half = draw_debug_overlay(region, (20, 15), state, render_scale=0.5)
    assert half.alpha.sum() > 200
    far = draw_tracking(region, state.landmarks + 5000.0)
    np.testing.assert_array_equal(far, region)


def test_bad_inputs(state):
    with pytest.raises(ValueError):
        draw_tracking(np.zeros((10, 10), np.uint8), state.landmarks)
    with pytest.raises(ValueError):
        draw_tracking(np.zeros((10, 10, 3), np.int16), state.landmarks)
    with pytest.raises(ValueError):
        draw_tracking(np.zeros((10, 10, 3), np.uint8), state.landmarks[:100])

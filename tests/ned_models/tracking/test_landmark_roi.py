"""The landmark ROI follows MediaPipe's face-mesh convention: axis-aligned box of the landmarks, 1.5x its
long side, turned so the eyes are level."""

from __future__ import annotations

import numpy as np
import pytest

from ned_models.landmarks import LEFT_EYE_OUTER, MESH_POINTS, RIGHT_EYE_OUTER
from ned_models.tracking.landmarks import ROI_SCALE, roi_from_landmarks


def _face(angle: float = 0.0) -> np.ndarray:
    """(468, 3) points filling a 100 x 140 px oval centred at (300, 200), turned by `angle`."""
    t = np.linspace(0.0, 2.0 * np.pi, MESH_POINTS, endpoint=False)
    local = np.stack([50.0 * np.cos(t), 70.0 * np.sin(t)], axis=1)
    local[RIGHT_EYE_OUTER], local[LEFT_EYE_OUTER] = (-30.0, -20.0), (30.0, -20.0)
    c, s = np.cos(angle), np.sin(angle)
    points = local @ np.array([[c, s], [-s, c]]) + (300.0, 200.0)
    return np.concatenate([points, np.zeros((MESH_POINTS, 1))], axis=1)


def test_upright_face():
    roi = roi_from_landmarks(_face())
    assert roi.center == pytest.approx((300.0, 200.0), abs=1e-6)
    assert roi.size == pytest.approx(ROI_SCALE * 140.0, rel=1e-3)
    assert roi.angle == pytest.approx(0.0, abs=1e-9)


def test_tilted_face_box_stays_axis_aligned():
    angle = np.deg2rad(20.0)
    points = _face(angle)
    roi = roi_from_landmarks(points)
    assert roi.angle == pytest.approx(angle, abs=1e-9)  # eyes levelled in the crop
    extent = points[:, :2].max(axis=0) - points[:, :2].min(axis=0)
    assert roi.size == pytest.approx(ROI_SCALE * extent.max())  # the frame-axis box, not the levelled one
    assert abs(roi.size - ROI_SCALE * 140.0) > 5.0  # the levelled extent would give 1.5 x 140


def test_pixel_aspect_is_folded_in():
    points = _face()
    squeezed = points.copy()
    squeezed[:, 0] = 300.0 + (points[:, 0] - 300.0) / 2.0  # anamorphic 2:1 frame pixels
    roi = roi_from_landmarks(squeezed, pixel_aspect=2.0)
    assert roi.center == pytest.approx((300.0, 200.0), abs=1e-6)
    assert roi.size == pytest.approx(ROI_SCALE * 140.0, rel=1e-3)
    assert roi.angle == pytest.approx(0.0, abs=1e-9)

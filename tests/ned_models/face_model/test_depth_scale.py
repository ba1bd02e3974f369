"""The per-shot depth scale: found where the tracker's depth is off and the head turns, 1 otherwise."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from ned_models.face_model.depth_scale import MIN_TURN_DEG, estimate_depth_scale, head_turn, rigid_spread
from ned_models.face_model.pose import HeadPose


def _turning_head(model, depth_read: float, yaw_deg: float, pitch_deg: float = 4.0, frames: int = 40,
                  noise: float = 0.2) -> np.ndarray:
    """A rigid face turning through +-yaw_deg and +-pitch_deg, seen by a tracker whose z is
    `depth_read` times the true depth, with landmark noise (display px)."""
    rng = np.random.default_rng(4)
    out = []
    for t in np.linspace(-1.0, 1.0, frames):
        rotation = Rotation.from_euler("xyz", [pitch_deg * t, yaw_deg * t, 0.0], degrees=True).as_matrix()
        points = HeadPose(rotation, np.array([500.0, 400.0, 0.0]), 120.0).apply(model.template)
        points[:, 2] *= depth_read
        out.append(points + rng.normal(0.0, noise, points.shape))
    return np.stack(out)


@pytest.mark.parametrize(("depth_read", "expected"), [(1 / 1.2, 1.2), (1 / 0.8, 0.8), (1.0, 1.0)])
def test_a_turning_head_gives_back_its_depth(model, depth_read, expected):
    assert estimate_depth_scale(model, _turning_head(model, depth_read, yaw_deg=15.0)) == pytest.approx(expected)


def test_a_still_head_keeps_the_trackers_depth(model):
    """Without rotation the depth cannot be told (noise alone, which grows with z, favours shallow
    scales): a head turning less than MIN_TURN_DEG keeps the tracker's depth, however far off it is."""
    for yaw, noise in ((0.0, 0.2), (0.0, 1.0), (0.4 * MIN_TURN_DEG, 0.2)):
        head = _turning_head(model, 1 / 1.3, yaw_deg=yaw, pitch_deg=0.0, noise=noise)
        assert head_turn(model, head) < MIN_TURN_DEG
        assert estimate_depth_scale(model, head) == 1.0
    turning = _turning_head(model, 1.0, yaw_deg=15.0, pitch_deg=0.0)
    assert head_turn(model, turning) == pytest.approx(27.0, abs=1.0)  # 5th to 95th percentile of +-15


def test_the_spread_is_least_at_the_true_depth(model):
    points = _turning_head(model, 1 / 1.2, yaw_deg=15.0, noise=0.0)
    assert rigid_spread(model, points, 1.2) < 1e-6 < rigid_spread(model, points, 1.0)

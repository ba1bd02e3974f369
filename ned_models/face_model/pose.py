"""Head pose: a similarity (rotation, scale, translation) from the model frame to display pixels.

Display pixels are frame pixels with x multiplied by the pixel aspect ratio (square on screen); z is
the landmark model's depth in the same units. Projection is scaled orthographic: image (x, y) are
the first two coordinates of `scale * rotation @ X + translation`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["HeadPose", "fit_similarity", "euler_angles", "rotation_to_quaternion", "quaternion_to_rotation"]


@dataclass(frozen=True)
class HeadPose:
    """Where the head is.

    Attributes:
        rotation: (3, 3) float64 proper rotation, model frame -> camera axes (x right, y down,
            z away from the camera).
        translation: (3,) float64 display pixels (z is relative: the landmark model's depth).
        scale: display pixels per model unit (per IOD).
    """

    rotation: np.ndarray
    translation: np.ndarray
    scale: float

    def apply(self, points: np.ndarray) -> np.ndarray:
        """(..., 3) model-frame points -> display pixels."""
        return self.scale * points @ self.rotation.T + self.translation

    def invert(self, points: np.ndarray) -> np.ndarray:
        """(..., 3) display pixels -> model frame."""
        return (points - self.translation) @ self.rotation / self.scale


def fit_similarity(source: np.ndarray, target: np.ndarray, weights: np.ndarray) -> HeadPose:
    """Weighted least-squares similarity taking source onto target (Umeyama's closed form).

    Args:
        source: (N, 3) model-frame points.
        target: (N, 3) display-pixel points.
        weights: (N,) non-negative, not all zero.
    """
    w = weights / weights.sum()
    mu_s, mu_t = w @ source, w @ target
    s0, t0 = source - mu_s, target - mu_t
    cov = (t0 * w[:, None]).T @ s0  # (3, 3) target x source
    u, sv, vt = np.linalg.svd(cov)
    sign = np.sign(np.linalg.det(u @ vt)) or 1.0
    fix = np.array([1.0, 1.0, sign])
    rotation = (u * fix) @ vt
    scale = float((sv * fix).sum() / (w @ (s0**2).sum(axis=1)))
    return HeadPose(rotation=rotation, translation=mu_t - scale * rotation @ mu_s, scale=scale)


def euler_angles(rotation: np.ndarray) -> np.ndarray:
    """(..., 3, 3) rotations -> (..., 3) radians (pitch about x, yaw about y, roll about z).

    Convention: rotation = Rz(roll) @ Ry(yaw) @ Rx(pitch) in camera axes (x right, y down, z away).
    """
    yaw = np.arcsin(np.clip(-rotation[..., 2, 0], -1.0, 1.0))
    pitch = np.arctan2(rotation[..., 2, 1], rotation[..., 2, 2])
    roll = np.arctan2(rotation[..., 1, 0], rotation[..., 0, 0])
    return np.stack([pitch, yaw, roll], axis=-1)


def rotation_to_quaternion(rotation: np.ndarray) -> np.ndarray:
    """(T, 3, 3) rotations -> (T, 4) unit quaternions (w, x, y, z), signs made continuous along T.

    Uses the eigenvector of Bar-Itzhack's symmetric 4x4 matrix: stable for every rotation, and
    batched without branches.
    """
    r = rotation
    k = np.empty((len(r), 4, 4))
    k[:, 0, 0] = r[:, 0, 0] + r[:, 1, 1] + r[:, 2, 2]
    k[:, 1, 1] = r[:, 0, 0] - r[:, 1, 1] - r[:, 2, 2]
    k[:, 2, 2] = -r[:, 0, 0] + r[:, 1, 1] - r[:, 2, 2]
    k[:, 3, 3] = -r[:, 0, 0] - r[:, 1, 1] + r[:, 2, 2]
    k[:, 0, 1] = k[:, 1, 0] = r[:, 2, 1] - r[:, 1, 2]
    k[:, 0, 2] = k[:, 2, 0] = r[:, 0, 2] - r[:, 2, 0]
    k[:, 0, 3] = k[:, 3, 0] = r[:, 1, 0] - r[:, 0, 1]
    k[:, 1, 2] = k[:, 2, 1] = r[:, 0, 1] + r[:, 1, 0]
    k[:, 1, 3] = k[:, 3, 1] = r[:, 0, 2] + r[:, 2, 0]
    k[:, 2, 3] = k[:, 3, 2] = r[:, 1, 2] + r[:, 2, 1]
    q = np.linalg.eigh(k)[1][:, :, -1]  # eigenvector of the largest eigenvalue
    q *= np.where(q[:, :1] < 0, -1.0, 1.0)
    for i in range(1, len(q)):
        if q[i] @ q[i - 1] < 0:
            q[i] = -q[i]
    return q


def quaternion_to_rotation(q: np.ndarray) -> np.ndarray:
    """(..., 4) quaternions (w, x, y, z), normalised here -> (..., 3, 3) rotations."""
    q = q / np.linalg.norm(q, axis=-1, keepdims=True)
    w, x, y, z = np.moveaxis(q, -1, 0)
    return np.stack([
        np.stack([1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y)], axis=-1),
        np.stack([2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x)], axis=-1),
        np.stack([2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)], axis=-1),
    ], axis=-2)

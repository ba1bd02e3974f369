"""Synthetic shots for the renderer tests: a textured face whose mouth opens and closes.

Frames are made by the warp renderer itself: a smooth random texture laid out under the face
model's template is moved onto each frame's landmarks (the template with the jaw drop driven by a
sine and a small head motion), so geometry and pixels agree as they do in footage. The colours
follow the mouth opening and the inner-lip opening is painted dark, as a real mouth interior is:
changes a warp of another frame cannot make, which the network has to learn.
"""

from __future__ import annotations

import cv2
import numpy as np

from ned_models.analysis.results import FaceTrack, ShotAnalysis
from ned_models.face_model.action_units import ActionUnit
from ned_models.face_model.morphable import FaceModel, load_face_model
from ned_models.landmarks import LIPS_INNER
from ned_models.render import build_topology, render_patch

FRAME_HW = (160, 160)
IOD_PX = 34.0


def face_points(model: FaceModel, expression: np.ndarray, centre_xy: tuple[float, float],
                iod_px: float = IOD_PX, angle: float = 0.0) -> np.ndarray:
    """(478, 3) frame-pixel landmarks of the template with `expression`, rotated in-plane by `angle`."""
    shape = model.shape(model.template, expression)
    c, s = np.cos(angle), np.sin(angle)
    rotation = np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])
    return shape @ rotation.T * iod_px + np.array([centre_xy[0], centre_xy[1], 0.0])


def textured_frame(rng: np.random.Generator, size_hw: tuple[int, int] = FRAME_HW) -> np.ndarray:
    """(H, W, 3) uint8 smooth random colours with some fine detail."""
    noise = rng.random((size_hw[0], size_hw[1], 3)).astype(np.float32)
    smooth = cv2.GaussianBlur(noise, (0, 0), 6.0)
    smooth = (smooth - smooth.min()) / (smooth.max() - smooth.min())
    detail = cv2.GaussianBlur(noise, (0, 0), 1.0) - 0.5
    return np.clip((0.15 + 0.7 * smooth + 0.1 * detail) * 255.0, 0, 255).astype(np.uint8)


def synthetic_shot(n_frames: int = 40, fps: float = 25.0, seed: int = 0,
                   model: FaceModel | None = None) -> tuple[list[np.ndarray], ShotAnalysis]:
    """Frames (uint8 RGB) and a matching single-face analysis."""
    model = model or load_face_model()
    rng = np.random.default_rng(seed)
    base = textured_frame(rng)
    centre = (FRAME_HW[1] / 2, FRAME_HW[0] / 2 - 8.0)
    neutral = face_points(model, np.zeros(len(model.basis)), centre)
    topology = build_topology(neutral)
    times = np.arange(n_frames) / fps
    landmarks, frames = [], []
    for t in times:
        expression = np.zeros(len(model.basis))
        jaw = 0.5 + 0.5 * np.sin(2 * np.pi * 1.3 * t)
        expression[ActionUnit.JAW_DROP] = 0.8 * jaw
        points = face_points(model, expression, (centre[0] + 2 * np.sin(t), centre[1]), angle=0.03 * np.sin(0.7 * t))
        patch = render_patch(base, (0, 0), neutral, points, topology=topology)
        frame = base.copy()
        x, y, w, h = patch.placement
        frame[y:y + h, x:x + w] = patch.patch
        # the skin flushes as the mouth opens: a change of colour no warp of another frame carries
        frame = np.clip(frame * np.array([0.8 + 0.4 * jaw, 1.0, 1.2 - 0.4 * jaw]), 0, 255).astype(np.uint8)
        # a dark mouth interior: what a warp of another frame cannot make, and the network must learn
        inner = np.round((points[list(LIPS_INNER), :2] - 0.5) * 16).astype(np.int32)
        cv2.fillPoly(frame, [inner], (90, 20, 30), cv2.LINE_AA, 4)
        frames.append(frame)
        landmarks.append(points)
    return frames, _analysis(model, times, np.asarray(landmarks, dtype=np.float32))


def _analysis(model: FaceModel, times: np.ndarray, landmarks: np.ndarray) -> ShotAnalysis:
    count = len(times)
    track = FaceTrack(
        index=0, present=np.ones(count, bool), landmarks=landmarks, raw_landmarks=landmarks.copy(),
        confidence=np.ones(count, np.float32), rotation=np.repeat(np.eye(3)[None], count, axis=0),
        translation=np.zeros((count, 3)), scale=np.full(count, IOD_PX), expression=np.zeros((count, len(model.basis)),
                                                                                           np.float32),
        residual=np.zeros((count, 0), np.float32), gaze=np.zeros((count, 2, 2), np.float32),
        aperture=np.zeros(count, np.float32), jaw_opening=np.zeros(count, np.float32), identity=model.template,
        depth_scale=np.array(1.0), residual_basis=np.zeros((0, *model.template.shape)),
        render_region=np.tile(np.array([0, 0, FRAME_HW[1], FRAME_HW[0]]), (count, 1)))
    return ShotAnalysis(times=times, scene_cuts=np.zeros(count, bool), size_hw=FRAME_HW, pixel_aspect=1.0,
                        faces=(track,), mode="full", model_fingerprint=model.fingerprint)

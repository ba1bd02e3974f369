"""One face through a whole shot: fit the model to every tracked frame, smooth, read speech, bound.

Smoothing is done on the model's parameters, zero-phase, segment by segment (a scene cut or a
tracking gap starts a new segment): strong on the rigid pose, light on expression, and the part of
the landmarks the model does not explain (the fit error) is smoothed lightly and added back, so the
smoothed landmarks are exactly `projection(smoothed parameters) + smoothed fit error`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ned_models.analysis.results import FaceTrack
from ned_models.face_model.depth_scale import estimate_depth_scale
from ned_models.face_model.fit import FrameFit, FrameFitter
from ned_models.face_model.identity import even_sample, fit_identity, residual_basis
from ned_models.face_model.morphable import FaceModel
from ned_models.face_model.pose import quaternion_to_rotation, rotation_to_quaternion
from ned_models.face_model.projection import inner_lip_aperture, jaw_opening, project_frames, to_model_frame
from ned_models.landmarks import LANDMARK_COUNT, LIPS_INNER, LIPS_OUTER
from ned_models.tracking.smoothing import adaptive_sigma, segments, smooth_zero_phase

__all__ = ["SmoothingOptions", "ModelOptions", "fit_face", "render_regions", "ParameterTrack"]

_LIPS = np.array(sorted(set(LIPS_OUTER) | set(LIPS_INNER)))
_NOT_LIPS = np.setdiff1d(np.arange(LANDMARK_COUNT), _LIPS)


@dataclass(frozen=True)
class SmoothingOptions:
    """Zero-phase smoothing widths (Gaussian sigma, seconds) per kind of signal.

    Attributes:
        pose_still: rigid head pose while the head is still (strong: most tracker jitter is rigid)...
        pose_moving: ...and while it moves fast (a laughing head shakes within a few frames).
        pose_order: polynomial degree of the pose's local regression.
        pose_speed: head speed (IOD/s, rad/s) above which the pose counts as moving.
        expression_still: action-unit and residual coefficients and gaze where the face rests...
        expression_moving: ...and where it moves (light: a blink lasts ~0.1 s, a syllable ~0.2 s).
        fit_error: the landmarks' part the model does not explain...
        fit_error_lips: ...on the lips, lighter: there it carries much of the speech the action
            units miss, and a lip closure lasts two or three frames.
    """

    pose_still: float = 0.12
    pose_moving: float = 0.02
    pose_order: int = 1
    pose_speed: float = 2.0
    expression_still: float = 0.1
    expression_moving: float = 0.03
    fit_error: float = 0.1
    fit_error_lips: float = 0.03


@dataclass(frozen=True)
class ModelOptions:
    """Face-model settings of an analysis.

    Attributes:
        residual_components: size of the per-shot residual basis.
        identity_frames: frames (evenly sampled) used to estimate the identity.
        region_margin: growth of the landmarks' bounding box on each side, as a fraction of its
            larger side, for the render region.
    """

    residual_components: int = 12
    identity_frames: int = 120
    region_margin: float = 0.25


@dataclass(frozen=True)
class ParameterTrack:
    """Model parameters of F frames of one face (display pixels, model frame)."""

    rotation: np.ndarray  # (F, 3, 3)
    translation: np.ndarray  # (F, 3)
    scale: np.ndarray  # (F,)
    expression: np.ndarray  # (F, K)
    residual: np.ndarray  # (F, R)
    gaze: np.ndarray  # (F, 2, 2)

    @classmethod
    def from_fits(cls, fits: list[FrameFit]) -> ParameterTrack:
        return cls(rotation=np.stack([f.pose.rotation for f in fits]),
                   translation=np.stack([f.pose.translation for f in fits]),
                   scale=np.array([f.pose.scale for f in fits]),
                   expression=np.stack([f.expression for f in fits]),
                   residual=np.stack([f.residual for f in fits]),
                   gaze=np.stack([f.gaze for f in fits]))

    def project(self, model: FaceModel, identity: np.ndarray, basis: np.ndarray, pixel_aspect: float) -> np.ndarray:
        return project_frames(model, identity, self.rotation, self.translation, self.scale, self.expression,
                              self.residual, basis, self.gaze, pixel_aspect)

    def smoothed(self, times: np.ndarray, options: SmoothingOptions) -> ParameterTrack:
        quaternions = rotation_to_quaternion(self.rotation)
        # head motion in IOD (translation over scale) and radians (twice the quaternion change)
        motion = np.concatenate([self.translation[:, :2] / self.scale[:, None], 2.0 * quaternions], axis=1)
        sigma = adaptive_sigma(times, motion, options.pose_still, options.pose_moving, options.pose_speed)

        def rigid(values: np.ndarray) -> np.ndarray:
            return smooth_zero_phase(times, values, sigma, order=options.pose_order)

        return ParameterTrack(
            rotation=quaternion_to_rotation(rigid(quaternions)),
            translation=rigid(self.translation),
            scale=np.exp(rigid(np.log(self.scale))),
            expression=smooth_zero_phase(times, self.expression, self._sigma(times, self.expression, options)),
            residual=smooth_zero_phase(times, self.residual, self._sigma(times, self.residual, options)),
            gaze=smooth_zero_phase(times, self.gaze, self._sigma(times, self.gaze, options)))

    @staticmethod
    def _sigma(times: np.ndarray, values: np.ndarray, options: SmoothingOptions) -> np.ndarray:
        return adaptive_sigma(times, values, options.expression_still, options.expression_moving)


def _fit_frames(fitter: FrameFitter, display: np.ndarray, parts: list[slice]) -> list[FrameFit]:
    """Fit every frame, each segment starting from neutral and each frame from the previous one."""
    fits: list[FrameFit] = []
    for part in parts:
        start = None
        for points in display[part]:
            fit = fitter.fit(points, start)
            fits.append(fit)
            start = fit.expression
    return fits


def _with_residual(model: FaceModel, identity: np.ndarray, fits: list[FrameFit],
                   count: int) -> tuple[list[FrameFit], np.ndarray]:
    """Add the per-shot residual basis and each frame's coefficients to fits made without it."""
    basis = residual_basis(model, fits, identity, count)
    fitter = FrameFitter(model, identity, basis)
    out = [FrameFit(pose=f.pose, expression=f.expression, gaze=f.gaze, model_points=f.model_points,
                    residual=fitter.residual_for(f.model_points, model.shape(identity, f.expression)))
           for f in fits]
    return out, basis


def render_regions(landmarks: np.ndarray, size_hw: tuple[int, int], margin: float) -> np.ndarray:
    """(F, 4) int64 x0, y0, x1, y1: the landmarks' box grown by `margin` x its larger side, clipped."""
    lo = np.nanmin(landmarks[..., :2], axis=1)
    hi = np.nanmax(landmarks[..., :2], axis=1)
    grow = margin * np.max(hi - lo, axis=1, keepdims=True)
    h, w = size_hw
    x0y0 = np.clip(np.floor(lo - grow), 0, [w, h])
    x1y1 = np.clip(np.ceil(hi + grow), 0, [w, h])
    return np.concatenate([x0y0, x1y1], axis=1).astype(np.int64)


def fit_face(model: FaceModel, index: int, times: np.ndarray, raw: np.ndarray, confidence: np.ndarray,
             present: np.ndarray, cuts: np.ndarray, size_hw: tuple[int, int], pixel_aspect: float,
             options: ModelOptions = ModelOptions(),
             smoothing: SmoothingOptions = SmoothingOptions()) -> FaceTrack:
    """The full-shot analysis of one face.

    Args:
        model: the face model.
        index: the face's index.
        times: (T,) frame times of the shot.
        raw: (T, 478, 3) tracked landmarks (frame px), any values where absent.
        confidence: (T,) landmark presence.
        present: (T,) bool, tracked frames (at least one).
        cuts: (T,) bool scene cuts.
        size_hw: frame size.
        pixel_aspect: width / height of a frame pixel.
    """
    frames = np.flatnonzero(present)
    aspect = np.array([pixel_aspect, 1.0, 1.0])
    depth_scale = estimate_depth_scale(model, raw[frames] * aspect)
    tracked = raw[frames] * np.array([1.0, 1.0, depth_scale])  # everything below works in this depth
    display = tracked * aspect
    identity = fit_identity(model, display[even_sample(len(frames), options.identity_frames)])
    parts = segments(times[frames], cuts[frames])
    fits = _fit_frames(FrameFitter(model, identity), display, parts)
    fits, basis = _with_residual(model, identity, fits, options.residual_components)
    params = ParameterTrack.from_fits(fits)
    error = tracked - params.project(model, identity, basis, pixel_aspect)
    smoothed = _concat(_smooth_parts(params, times[frames], parts, smoothing))
    error_s = np.concatenate([_smooth_fit_error(times[frames][p], error[p], smoothing) for p in parts])
    landmarks = smoothed.project(model, identity, basis, pixel_aspect) + error_s
    model_points = to_model_frame(landmarks, smoothed.rotation, smoothed.translation, smoothed.scale, pixel_aspect)
    return _assemble(index, len(times), frames, raw, landmarks, smoothed, identity, depth_scale, basis, model_points,
                     render_regions(landmarks, size_hw, options.region_margin), confidence[frames])


def _smooth_fit_error(times: np.ndarray, error: np.ndarray, smoothing: SmoothingOptions) -> np.ndarray:
    smoothed = np.empty(error.shape)
    smoothed[:, _NOT_LIPS] = smooth_zero_phase(times, error[:, _NOT_LIPS], smoothing.fit_error)
    smoothed[:, _LIPS] = smooth_zero_phase(times, error[:, _LIPS], smoothing.fit_error_lips)
    return smoothed


def _smooth_parts(params: ParameterTrack, times: np.ndarray, parts: list[slice],
                  smoothing: SmoothingOptions) -> list[ParameterTrack]:
    return [ParameterTrack(*(getattr(params, n)[p] for n in ("rotation", "translation", "scale", "expression",
                                                               "residual", "gaze"))).smoothed(times[p], smoothing)
            for p in parts]


def _concat(tracks: list[ParameterTrack]) -> ParameterTrack:
    names = ("rotation", "translation", "scale", "expression", "residual", "gaze")
    return ParameterTrack(*(np.concatenate([getattr(t, n) for t in tracks]) for n in names))


def _assemble(index: int, count: int, frames: np.ndarray, raw: np.ndarray, landmarks: np.ndarray,
              params: ParameterTrack, identity: np.ndarray, depth_scale: float, basis: np.ndarray,
              model_points: np.ndarray, regions: np.ndarray, confidence: np.ndarray) -> FaceTrack:
    """Spread per-present-frame arrays over all `count` frames of the shot (NaN / 0 elsewhere)."""
    def full(values: np.ndarray, dtype, fill) -> np.ndarray:
        out = np.full((count,) + values.shape[1:], fill, dtype=dtype)
        out[frames] = values
        return out

    present = np.zeros(count, dtype=bool)
    present[frames] = True
    raw_full = np.full((count, LANDMARK_COUNT, 3), np.nan, dtype=np.float32)
    raw_full[frames] = raw[frames]
    return FaceTrack(
        index=index, present=present, landmarks=full(landmarks, np.float32, np.nan), raw_landmarks=raw_full,
        confidence=full(confidence, np.float32, 0.0),
        rotation=full(params.rotation, np.float64, np.nan), translation=full(params.translation, np.float64, np.nan),
        scale=full(params.scale, np.float64, np.nan), expression=full(params.expression, np.float32, np.nan),
        residual=full(params.residual, np.float32, np.nan), gaze=full(params.gaze, np.float32, np.nan),
        aperture=full(inner_lip_aperture(model_points), np.float32, np.nan),
        jaw_opening=full(jaw_opening(model_points, identity), np.float32, np.nan),
        identity=identity, depth_scale=np.array(depth_scale, dtype=np.float64), residual_basis=basis,
        render_region=full(regions, np.int64, 0))

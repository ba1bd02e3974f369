"""The acceptance measurements of the face analysis on real clips (shared by the tests and reports)."""

from __future__ import annotations

import numpy as np

from ned_models.analysis.results import FaceTrack
from ned_models.eval.reference_landmarks import inner_lip_aperture as dlib_aperture
from ned_models.face_model.fit import FrameFitter, apply_gaze
from ned_models.face_model.identity import IDENTITY_FRAMES, even_sample, fit_identity
from ned_models.face_model.morphable import FaceModel
from ned_models.landmarks import MESH_POINTS, inter_ocular_distance


def reprojection_error(model: FaceModel, track: FaceTrack, pixel_aspect: float = 1.0) -> np.ndarray:
    """(F, 478) per-frame, per-landmark 2D distance between the tracked points and the fit's projection,
    in inter-ocular distances (each frame fitted as the analysis fits it: identity + residual basis)."""
    raw = track.raw_landmarks[track.present].astype(np.float64)
    display = raw * np.array([pixel_aspect, 1.0, float(track.depth_scale)])
    fitter = FrameFitter(model, track.identity, track.residual_basis)
    errors, start = [], None
    for points in display:
        fit = fitter.fit(points, start)
        start = fit.expression
        shape = apply_gaze(model.shape(track.identity, fit.expression, fit.residual, track.residual_basis), fit.gaze)
        projected = fit.pose.apply(shape)
        errors.append(np.linalg.norm((projected - points)[:, :2] / [pixel_aspect, 1.0], axis=1))
    return np.array(errors) / inter_ocular_distance(raw)[:, None]


def identity_halves(model: FaceModel, track: FaceTrack) -> float:
    """Median over the 468 mesh landmarks of the 3D distance (IOD units) between the identities
    estimated from the first and the second half of the shot (in the shot's depth scale, as the
    analysis fits them)."""
    raw = track.raw_landmarks[track.present].astype(np.float64) * np.array([1.0, 1.0, float(track.depth_scale)])
    half = len(raw) // 2

    def identity(points: np.ndarray) -> np.ndarray:
        return fit_identity(model, points[even_sample(len(points), IDENTITY_FRAMES)])

    first, second = identity(raw[:half]), identity(raw[half:])
    return float(np.median(np.linalg.norm(first[:MESH_POINTS] - second[:MESH_POINTS], axis=1)))


def jitter_ratio(track: FaceTrack) -> float:
    """Mean frame-to-frame landmark acceleration (2D, IOD units) after smoothing over before it."""
    raw = track.raw_landmarks.astype(np.float64)
    smooth = track.landmarks.astype(np.float64)
    iod = inter_ocular_distance(raw)[1:-1, None]

    def acceleration(points: np.ndarray) -> float:
        second = points[2:, :, :2] - 2 * points[1:-1, :, :2] + points[:-2, :, :2]
        return float(np.nanmean(np.linalg.norm(second, axis=-1) / iod))

    return acceleration(smooth) / acceleration(raw)


def aperture_correlation(track: FaceTrack, reference: list[np.ndarray | None]) -> float:
    """Pearson correlation, over frames where both exist, of our inner-lip aperture (the analysis'
    speech channel) and dlib's (68-point inner-lip gaps over eye distance)."""
    theirs = np.array([np.nan if p is None else dlib_aperture(p) for p in reference])
    ours = track.aperture.astype(np.float64)
    ok = np.isfinite(theirs) & np.isfinite(ours)
    return float(np.corrcoef(ours[ok], theirs[ok])[0, 1])

"""Online (causal) face analysis: frames arrive one at a time, as host renders ask for them.

Each frame is tracked, fitted and smoothed with one-euro filters (no look-ahead). The identity and
the depth scale (`depth_scale.estimate_depth_scale`) are re-estimated from the frames seen so far a
few times early on, then kept; with a `prior` analysis (e.g. an earlier full analysis of the same
shot) its identity, depth scale and residual basis are used from the first frame. Frames may come
in any order (an editor scrubbing): a frame earlier than the last one, or far after it, restarts
tracking with a fresh detection and fresh filters; nothing is assumed about order beyond that.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ned_models.analysis.face_track import ParameterTrack, render_regions
from ned_models.analysis.results import FaceTrack, FrameFaceState, ShotAnalysis
from ned_models.analysis.shot import AnalysisOptions
from ned_models.face_model.depth_scale import estimate_depth_scale
from ned_models.face_model.fit import FrameFitter
from ned_models.face_model.identity import fit_identity
from ned_models.face_model.morphable import FaceModel, load_face_model
from ned_models.face_model.pose import HeadPose, quaternion_to_rotation, rotation_to_quaternion
from ned_models.face_model.projection import inner_lip_aperture, jaw_opening, to_model_frame
from ned_models.landmarks import LANDMARK_COUNT
from ned_models.tracking.smoothing import OneEuroFilter
from ned_models.tracking.tracker import FaceTracker, TrackedFace

__all__ = ["OnlineAnalyser", "OnlineFilterOptions"]

_IDENTITY_UPDATES = (8, 30, 120)  # frames seen when the identity is re-estimated (then kept)
_MAX_GAP = 0.5  # seconds; a longer jump restarts tracking


@dataclass(frozen=True)
class OnlineFilterOptions:
    """One-euro settings (min cutoff Hz, beta) per kind of signal; see `smoothing.OneEuroFilter`."""

    pose: tuple[float, float] = (1.0, 4.0)
    expression: tuple[float, float] = (3.0, 0.5)
    fit_error: tuple[float, float] = (2.0, 5.0)


@dataclass
class _Face:
    """What the analyser keeps per face index."""

    identity: np.ndarray
    basis: np.ndarray
    fixed_identity: bool
    depth_scale: float = 1.0
    samples: list[np.ndarray] = field(default_factory=list)  # display-pixel landmarks (tracker's z) for the identity
    seen: int = 0
    filters: dict[str, OneEuroFilter] = field(default_factory=dict)
    fitter: FrameFitter | None = None
    last_expression: np.ndarray | None = None


class OnlineAnalyser:
    """Causal analysis of one shot, frame by frame. Not thread-safe: one per shot, one caller at a time."""

    def __init__(self, options: AnalysisOptions | None = None, prior: ShotAnalysis | None = None,
                 filters: OnlineFilterOptions | None = None, model: FaceModel | None = None,
                 tracker: FaceTracker | None = None) -> None:
        """Args: prior: an analysis of the same shot whose identities and residual bases to reuse."""
        self.options = options or AnalysisOptions()
        self.filters = filters or OnlineFilterOptions()
        self._model = model or load_face_model()
        self._tracker = tracker or FaceTracker(self.options.tracker)
        self._prior = prior
        self._faces: dict[int, _Face] = {}
        self._frames: dict[float, tuple[tuple[int, int], bool, tuple[tuple[FrameFaceState, np.ndarray], ...]]] = {}
        self._last_time: float | None = None
        self._size_hw: tuple[int, int] | None = None

    def reset(self) -> None:
        """Restart tracking and filters (identities and the frames analysed so far are kept)."""
        self._tracker.reset()
        self._last_time = None
        for face in self._faces.values():
            face.filters = {}
            face.last_expression = None

    def add_frame(self, time: float, frame: np.ndarray) -> tuple[FrameFaceState, ...]:
        """Analyse one frame.

        Args:
            time: seconds (any order across calls; see the module docstring).
            frame: (H, W, 3 or 4) uint8, uint16 or float32 RGB(A).

        Returns:
            The faces found in this frame, by ascending face index (empty when there is none).

        Raises:
            ValueError: a malformed frame.
        """
        size = (int(frame.shape[0]), int(frame.shape[1]))
        out_of_order = self._last_time is not None and not 0.0 < time - self._last_time <= _MAX_GAP
        if out_of_order or size != self._size_hw:
            self.reset()
        self._size_hw = size
        tracked = self._tracker.track(float(time), frame)
        self._last_time = float(time)
        results = tuple(self._analyse_face(time, face, size) for face in tracked.faces)
        self._frames[float(time)] = (size, tracked.scene_cut, results)
        return tuple(state for state, _ in results)

    def snapshot(self) -> ShotAnalysis | None:
        """The frames analysed so far as a ShotAnalysis (mode "online", sorted by time), or None.

        Frames of another size than the latest are left out (a shot has one frame size).
        """
        if not self._frames or self._size_hw is None:
            return None
        times = np.array(sorted(t for t, (size, _, _) in self._frames.items() if size == self._size_hw))
        cuts = np.array([self._frames[t][1] for t in times], dtype=bool)
        indices = sorted({state.face_index for t in times for state, _ in self._frames[t][2]})
        faces = tuple(self._snapshot_track(i, times) for i in range(max(indices) + 1)) if indices else ()
        return ShotAnalysis(times=times, scene_cuts=cuts, size_hw=self._size_hw,
                            pixel_aspect=self.options.tracker.pixel_aspect, faces=faces, mode="online",
                            model_fingerprint=self._model.fingerprint)

    def _snapshot_track(self, index: int, times: np.ndarray) -> FaceTrack:
        count = len(times)
        found = {n: pair for n, t in enumerate(times) for pair in self._frames[t][2] if pair[0].face_index == index}
        face = self._face(index)
        k, r = len(self._model.basis), len(face.basis)

        def gather(name: str, shape: tuple[int, ...], dtype, fill, get) -> np.ndarray:
            out = np.full((count,) + shape, fill, dtype=dtype)
            for n, pair in found.items():
                out[n] = get(*pair)
            return out

        nan = np.nan
        return FaceTrack(
            index=index, present=gather("present", (), bool, False, lambda s, raw: True),
            landmarks=gather("landmarks", (LANDMARK_COUNT, 3), np.float32, nan, lambda s, raw: s.landmarks),
            raw_landmarks=gather("raw", (LANDMARK_COUNT, 3), np.float32, nan, lambda s, raw: raw),
            confidence=gather("confidence", (), np.float32, 0.0, lambda s, raw: s.confidence),
            rotation=gather("rotation", (3, 3), np.float64, nan, lambda s, raw: s.pose.rotation),
            translation=gather("translation", (3,), np.float64, nan, lambda s, raw: s.pose.translation),
            scale=gather("scale", (), np.float64, nan, lambda s, raw: s.pose.scale),
            expression=gather("expression", (k,), np.float32, nan, lambda s, raw: s.expression),
            residual=gather("residual", (r,), np.float32, nan,
                            lambda s, raw: s.residual if len(s.residual) == r else np.full(r, nan)),
            gaze=gather("gaze", (2, 2), np.float32, nan, lambda s, raw: s.gaze),
            aperture=gather("aperture", (), np.float32, nan, lambda s, raw: s.aperture),
            jaw_opening=gather("jaw_opening", (), np.float32, nan, lambda s, raw: s.jaw_opening),
            identity=face.identity, depth_scale=np.array(face.depth_scale, dtype=np.float64), residual_basis=face.basis,
            render_region=gather("region", (4,), np.int64, 0, lambda s, raw: s.render_region))

    def _face(self, index: int) -> _Face:
        if index not in self._faces:
            track = self._prior.faces[index] if self._prior and index < len(self._prior.faces) else None
            if track is not None:
                self._faces[index] = _Face(identity=track.identity, basis=track.residual_basis, fixed_identity=True,
                                           depth_scale=float(track.depth_scale))
            else:
                self._faces[index] = _Face(identity=self._model.template, basis=np.zeros((0, LANDMARK_COUNT, 3)),
                                           fixed_identity=False)
        return self._faces[index]

    def _update_identity(self, face: _Face, display: np.ndarray) -> None:
        """Collect frames for the identity; re-estimate it and the depth scale at the update counts (unless fixed)."""
        face.seen += 1
        refit = False
        if not face.fixed_identity:
            face.samples.append(display)
            if len(face.samples) > self.options.model.identity_frames:
                face.samples = face.samples[::2]  # keep an even spread over all frames seen
            if face.seen in _IDENTITY_UPDATES:
                samples = np.stack(face.samples)
                face.depth_scale = estimate_depth_scale(self._model, samples)
                face.identity = fit_identity(self._model, samples * np.array([1.0, 1.0, face.depth_scale]))
                refit = True
        if refit or face.fitter is None:
            face.fitter = FrameFitter(self._model, face.identity, face.basis)
            face.filters = {}

    def _analyse_face(self, time: float, tracked: TrackedFace,
                      size_hw: tuple[int, int]) -> tuple[FrameFaceState, np.ndarray]:
        par = self.options.tracker.pixel_aspect
        face = self._face(tracked.index)
        self._update_identity(face, tracked.points * np.array([par, 1.0, 1.0]))
        points = tracked.points * np.array([1.0, 1.0, face.depth_scale])  # the depth the fit works in
        fit = face.fitter.fit(points * np.array([par, 1.0, 1.0]), face.last_expression)
        face.last_expression = fit.expression
        params = ParameterTrack.from_fits([fit])
        error = points - params.project(self._model, face.identity, face.basis, par)[0]
        smoothed = self._filter(face, time, params)
        error = self._run(face, "error", self.filters.fit_error, time, error)
        landmarks = smoothed.project(self._model, face.identity, face.basis, par)[0] + error
        model_points = to_model_frame(landmarks[None], smoothed.rotation, smoothed.translation,
                                      smoothed.scale, par)[0]
        state = FrameFaceState(
            time=float(time), face_index=tracked.index, landmarks=landmarks, confidence=tracked.confidence,
            pose=HeadPose(smoothed.rotation[0], smoothed.translation[0], float(smoothed.scale[0])),
            expression=smoothed.expression[0], residual=smoothed.residual[0], gaze=smoothed.gaze[0],
            aperture=float(inner_lip_aperture(model_points)),
            jaw_opening=float(jaw_opening(model_points, face.identity)),
            identity=face.identity, residual_basis=face.basis,
            render_region=render_regions(landmarks[None], size_hw, self.options.model.region_margin)[0],
            pixel_aspect=par)
        return state, tracked.points

    @staticmethod
    def _run(face: _Face, name: str, setting: tuple[float, float], time: float, value: np.ndarray) -> np.ndarray:
        if name not in face.filters:
            face.filters[name] = OneEuroFilter(*setting)
        return face.filters[name](time, value)

    def _filter(self, face: _Face, time: float, params: ParameterTrack) -> ParameterTrack:
        """The causal counterpart of ParameterTrack.smoothed, on a single frame."""
        scale = float(params.scale[0])
        pose = np.concatenate([rotation_to_quaternion(params.rotation)[0], params.translation[0] / scale,
                               [np.log(scale)]])
        previous = face.filters["pose"].value if "pose" in face.filters else None
        if previous is not None:
            pose[:4] *= np.sign(pose[:4] @ previous[:4]) or 1.0  # keep quaternions in one hemisphere
        pose = self._run(face, "pose", self.filters.pose, time, pose)
        new_scale = float(np.exp(pose[7]))
        expression = self._run(face, "expression", self.filters.expression, time, params.expression[0])
        residual = self._run(face, "residual", self.filters.expression, time, params.residual[0])
        gaze = self._run(face, "gaze", self.filters.expression, time, params.gaze[0])
        return ParameterTrack(rotation=quaternion_to_rotation(pose[:4])[None],
                              translation=(pose[4:7] * new_scale)[None], scale=np.array([new_scale]),
                              expression=expression[None], residual=residual[None], gaze=gaze[None])

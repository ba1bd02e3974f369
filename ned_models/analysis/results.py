"""What a face analysis produces: per-frame face states, per-face tracks, the shot's analysis.

Coordinates follow `ned_models.conventions`: landmarks are frame pixels (x, y) with z in display
pixels (x times the pixel aspect ratio); model-frame quantities are in IOD units.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ned_models.errors import AnalysisMissing
from ned_models.face_model.morphable import load_face_model
from ned_models.face_model.pose import HeadPose
from ned_models.face_model.projection import project_frames

__all__ = ["FrameFaceState", "FaceTrack", "ShotAnalysis", "SCHEMA_VERSION"]

SCHEMA_VERSION = 2  # 2: FaceTrack.depth_scale


@dataclass(frozen=True)
class FrameFaceState:
    """One face in one frame: what manipulation and rendering need.

    Attributes:
        time: seconds.
        face_index: the face's stable index in the shot (0 = largest at acquisition).
        landmarks: (478, 3) float64 smoothed tracked landmarks (frame px; z display px in the track's
            depth scale, as the pose).
        confidence: landmark presence in [0, 1].
        pose: head pose (model frame -> display pixels).
        expression: (K,) float64 action-unit coefficients (`ActionUnit` order).
        residual: (R,) float64 coefficients of `residual_basis`.
        gaze: (2, 2) float64 right/left iris offsets (model frame, IOD).
        aperture: inner-lip aperture, IOD units (pose-normalised).
        jaw_opening: chin drop below the neutral chin, IOD units.
        identity: (478, 3) float64 the face's neutral shape (model frame).
        residual_basis: (R, 478, 3) float64.
        render_region: (4,) int64 x0, y0, x1, y1 frame pixels (render scale 1, clipped to the
            frame): everything an edit of this face may touch.
        pixel_aspect: width / height of a frame pixel.
    """

    time: float
    face_index: int
    landmarks: np.ndarray
    confidence: float
    pose: HeadPose
    expression: np.ndarray
    residual: np.ndarray
    gaze: np.ndarray
    aperture: float
    jaw_opening: float
    identity: np.ndarray
    residual_basis: np.ndarray
    render_region: np.ndarray
    pixel_aspect: float

    def project(self, expression: np.ndarray | None = None, residual: np.ndarray | None = None,
                gaze: np.ndarray | None = None) -> np.ndarray:
        """(478, 3) model image points (frame px) for this pose, with the given or fitted parameters."""
        p = self.pose
        return project_frames(
            load_face_model(), self.identity, p.rotation[None], p.translation[None], np.array([p.scale]),
            (self.expression if expression is None else expression)[None],
            (self.residual if residual is None else residual)[None], self.residual_basis,
            (self.gaze if gaze is None else gaze)[None], self.pixel_aspect)[0]

    def edited_landmarks(self, expression: np.ndarray, residual: np.ndarray | None = None,
                         gaze: np.ndarray | None = None) -> np.ndarray:
        """Target landmarks for edited parameters: tracked + projection(edited) - projection(fitted).

        The fit's own error stays where it was, so an unedited face does not move at all.
        """
        return self.landmarks + self.project(expression, residual, gaze) - self.project()


@dataclass(frozen=True)
class FaceTrack:
    """One face through the shot; arrays span all T frames of the shot (NaN where absent).

    Attributes:
        index: stable face index.
        present: (T,) bool, the face was tracked in that frame.
        landmarks: (T, 478, 3) float32 smoothed landmarks (frame px; z display px, times depth_scale).
        raw_landmarks: (T, 478, 3) float32 the tracker's landmarks before smoothing (its own z).
        confidence: (T,) float32 landmark presence (0 where absent).
        rotation: (T, 3, 3) float64; translation: (T, 3) float64 display px; scale: (T,) float64.
        expression: (T, K) float32; residual: (T, R) float32; gaze: (T, 2, 2) float32.
        aperture: (T,) float32 inner-lip aperture (IOD); jaw_opening: (T,) float32 (IOD).
        identity: (478, 3) float64 neutral shape; residual_basis: (R, 478, 3) float64.
        depth_scale: () float64, the factor on the tracker's z that the fit works in (the identity,
            the pose and `landmarks`; `depth_scale.estimate_depth_scale`).
        render_region: (T, 4) int64 x0, y0, x1, y1 (0 where absent).
    """

    index: int
    present: np.ndarray
    landmarks: np.ndarray
    raw_landmarks: np.ndarray
    confidence: np.ndarray
    rotation: np.ndarray
    translation: np.ndarray
    scale: np.ndarray
    expression: np.ndarray
    residual: np.ndarray
    gaze: np.ndarray
    aperture: np.ndarray
    jaw_opening: np.ndarray
    identity: np.ndarray
    depth_scale: np.ndarray
    residual_basis: np.ndarray
    render_region: np.ndarray


@dataclass(frozen=True)
class ShotAnalysis:
    """The face analysis of one shot, as the server stores it (see `storage.py` for the format).

    Attributes:
        times: (T,) float64 increasing frame times (seconds).
        scene_cuts: (T,) bool, a new scene starts at that frame.
        size_hw: frame (height, width) in pixels.
        pixel_aspect: width / height of a frame pixel.
        faces: one track per face, `faces[i].index == i`.
        mode: "full" (whole shot, zero-phase smoothing) or "online" (causal, frame by frame).
        model_fingerprint: the face model the coefficients belong to.
    """

    times: np.ndarray
    scene_cuts: np.ndarray
    size_hw: tuple[int, int]
    pixel_aspect: float
    faces: tuple[FaceTrack, ...]
    mode: str
    model_fingerprint: str

    def frame_index(self, time: float) -> int | None:
        """The frame nearest `time` if within half a frame interval (1/50 s for a single frame)."""
        if len(self.times) == 0:
            return None
        i = int(np.argmin(np.abs(self.times - time)))
        tolerance = 0.5 * float(np.median(np.diff(self.times))) if len(self.times) > 1 else 0.02
        return i if abs(self.times[i] - time) <= tolerance + 1e-9 else None

    def to_arrays(self) -> dict[str, np.ndarray]:
        """Plain arrays for `np.savez` (no pickling); `from_arrays` restores this exactly."""
        from ned_models.analysis.storage import shot_to_arrays

        return shot_to_arrays(self)

    @classmethod
    def from_arrays(cls, arrays, check_model: bool = True) -> ShotAnalysis:
        """Rebuild an analysis saved with `to_arrays` (e.g. `np.load(path)`).

        Args:
            arrays: mapping of names to arrays.
            check_model: also require the current face model's fingerprint (needs the assets).

        Raises:
            AnalysisMissing: another schema version, another face model, or corrupt contents;
                the message says to analyse the shot again.
        """
        from ned_models.analysis.storage import shot_from_arrays

        return shot_from_arrays(arrays, check_model)

    def state(self, face_index: int, time: float) -> FrameFaceState:
        """The state of face `face_index` at `time`.

        Raises:
            AnalysisMissing: no analysed frame at that time, or the face is not there then.
        """
        if not 0 <= face_index < len(self.faces):
            raise AnalysisMissing(f"the shot has {len(self.faces)} tracked face(s); no face {face_index}")
        i = self.frame_index(time)
        track = self.faces[face_index]
        if i is None:
            raise AnalysisMissing(f"no analysed frame at t={time:.4f}s")
        if not track.present[i]:
            raise AnalysisMissing(f"face {face_index} is not tracked at t={time:.4f}s")
        pose = HeadPose(rotation=track.rotation[i], translation=track.translation[i], scale=float(track.scale[i]))
        return FrameFaceState(
            time=float(self.times[i]), face_index=face_index, landmarks=track.landmarks[i].astype(np.float64),
            confidence=float(track.confidence[i]), pose=pose, expression=track.expression[i].astype(np.float64),
            residual=track.residual[i].astype(np.float64), gaze=track.gaze[i].astype(np.float64),
            aperture=float(track.aperture[i]), jaw_opening=float(track.jaw_opening[i]),
            identity=track.identity, residual_basis=track.residual_basis,
            render_region=track.render_region[i].copy(), pixel_aspect=self.pixel_aspect)

    def render_region(self, face_index: int, time: float) -> np.ndarray:
        """(4,) int64 x0, y0, x1, y1 frame pixels bounding any edit of the face at `time`."""
        return self.state(face_index, time).render_region

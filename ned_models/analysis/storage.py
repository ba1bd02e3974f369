"""ShotAnalysis <-> a flat dict of arrays (saved by the server as .npz, no pickling).

Layout: shot-level keys (`schema_version`, `model_fingerprint`, `mode`, `size_hw`, `pixel_aspect`,
`times`, `scene_cuts`, `face_count`) and per face `face{i}.{field}` for every FaceTrack field but
`index`. Arrays go in and come out unchanged, so a reloaded analysis gives bit-identical render
inputs.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

import numpy as np

from ned_models.analysis.results import SCHEMA_VERSION, FaceTrack, ShotAnalysis
from ned_models.errors import AnalysisMissing
from ned_models.face_model.action_units import ActionUnit
from ned_models.landmarks import LANDMARK_COUNT

__all__ = ["shot_to_arrays", "shot_from_arrays"]

_TRACK_FIELDS = tuple(f.name for f in dataclasses.fields(FaceTrack) if f.name != "index")
_MODES = ("full", "online")


def shot_to_arrays(shot: ShotAnalysis) -> dict[str, np.ndarray]:
    """The arrays of `shot` under their storage names."""
    out = {
        "schema_version": np.array(SCHEMA_VERSION, dtype=np.int64),
        "model_fingerprint": np.array(shot.model_fingerprint),
        "mode": np.array(shot.mode),
        "size_hw": np.array(shot.size_hw, dtype=np.int64),
        "pixel_aspect": np.array(shot.pixel_aspect, dtype=np.float64),
        "times": shot.times,
        "scene_cuts": shot.scene_cuts,
        "face_count": np.array(len(shot.faces), dtype=np.int64),
    }
    for track in shot.faces:
        for name in _TRACK_FIELDS:
            out[f"face{track.index}.{name}"] = getattr(track, name)
    return out


def _unusable(reason: str) -> AnalysisMissing:
    return AnalysisMissing(f"the stored face analysis is unusable ({reason}); analyse the shot again")


def _get(arrays: Mapping[str, np.ndarray], key: str) -> np.ndarray:
    try:
        return np.asarray(arrays[key])
    except KeyError:
        raise _unusable(f"'{key}' is missing") from None


def _check_track(track: FaceTrack, frames: int) -> None:
    """Shapes that every track must have; raises with the first mismatch."""
    k, r = len(ActionUnit), track.residual_basis.shape[0] if track.residual_basis.ndim == 3 else -1
    expected = {
        "present": (frames,), "landmarks": (frames, LANDMARK_COUNT, 3),
        "raw_landmarks": (frames, LANDMARK_COUNT, 3), "confidence": (frames,), "rotation": (frames, 3, 3),
        "translation": (frames, 3), "scale": (frames,), "expression": (frames, k), "residual": (frames, r),
        "gaze": (frames, 2, 2), "aperture": (frames,), "jaw_opening": (frames,),
        "identity": (LANDMARK_COUNT, 3), "depth_scale": (), "residual_basis": (r, LANDMARK_COUNT, 3),
        "render_region": (frames, 4),
    }
    for name, shape in expected.items():
        got = getattr(track, name).shape
        if got != shape:
            raise _unusable(f"face {track.index} {name} has shape {got}, expected {shape}")


def shot_from_arrays(arrays: Mapping[str, np.ndarray], check_model: bool = True) -> ShotAnalysis:
    """Rebuild a ShotAnalysis from `shot_to_arrays` output (see `ShotAnalysis.from_arrays`)."""
    version = _get(arrays, "schema_version")
    if version.shape != () or int(version) != SCHEMA_VERSION:
        raise _unusable(f"schema version {version}, this version reads {SCHEMA_VERSION}")
    fingerprint = str(_get(arrays, "model_fingerprint"))
    if check_model:
        from ned_models.face_model.morphable import load_face_model

        current = load_face_model().fingerprint
        if fingerprint != current:
            raise _unusable(f"made with face model {fingerprint}, the current one is {current}")
    mode = str(_get(arrays, "mode"))
    if mode not in _MODES:
        raise _unusable(f"unknown mode {mode!r}")
    times = _get(arrays, "times")
    cuts = _get(arrays, "scene_cuts")
    size_hw = _get(arrays, "size_hw")
    if times.ndim != 1 or cuts.shape != times.shape or size_hw.shape != (2,):
        raise _unusable("times, scene_cuts or size_hw have the wrong shape")
    faces = []
    for i in range(int(_get(arrays, "face_count"))):
        track = FaceTrack(index=i, **{name: _get(arrays, f"face{i}.{name}") for name in _TRACK_FIELDS})
        _check_track(track, len(times))
        faces.append(track)
    return ShotAnalysis(times=times, scene_cuts=cuts, size_hw=(int(size_hw[0]), int(size_hw[1])),
                        pixel_aspect=float(_get(arrays, "pixel_aspect")), faces=tuple(faces), mode=mode,
                        model_fingerprint=fingerprint)

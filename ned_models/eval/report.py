"""Evaluate an edit against its source: one call, one typed report, one JSON.

    report = evaluate_edit(source_frames, edit_frames, Emotion.HAPPY, frames_step=5)
    report.emotion.target_gain, report.speech.correlation, report.identity.median_paired_distance,
    report.flicker.ratio, report.sharpness_ratio, report.exactness.pixels_changed_outside

Every measurement uses dlib's landmarks and models, never our own tracker. The aperture, flicker,
sharpness, edit magnitude and exactness are measured on every frame; the emotion classifier and
the identity embedding (the slow part, ~75 ms per face) on every `frames_step`-th frame from 0.
The result depends only on the frames and options (deterministic, single-threaded models).
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from dataclasses import dataclass
from itertools import zip_longest
from pathlib import Path

import numpy as np

from ned_models.edit import Emotion
from ned_models.errors import NoFaceFound
from ned_models.eval.exactness import PatchRect
from ned_models.eval.flicker import FlickerScores
from ned_models.eval.frame_pass import EvalModels, FramePass, Thumbnail
from ned_models.eval.identity import SAME_PERSON_THRESHOLD, IdentityDistances, identity_distances
from ned_models.eval.metrics import EmotionScores, SpeechScores, emotion_scores, ratio, speech_scores

__all__ = ["ExactnessResult", "EditReport", "evaluate_edit", "write_report_json"]

_JSON_DIGITS = 6


@dataclass(frozen=True)
class ExactnessResult:
    """Pixels outside the patch rectangles that differ between source and edit (must be 0).

    Attributes:
        checkable: False when the inputs cannot show it (lossy codec, no placements, dtype mismatch).
        reason: why it is not checkable ("" when it is).
        pixels_changed_outside: total over all frames (None when not checkable).
        frames_with_changes: indices of frames with at least one such pixel.
    """

    checkable: bool
    reason: str
    pixels_changed_outside: int | None
    frames_with_changes: tuple[int, ...]


@dataclass(frozen=True)
class EditReport:
    """Everything measured about one edit (see the module doc; series are (T,) with NaN = no face).

    Attributes:
        target: the emotion asked for.
        frame_count: frames compared.
        frames_step: the classifier/identity ran on frames 0, step, 2 step, ...
        classifier: the emotion classifier's name.
        scored_frames: the frames the classifier and identity ran on.
        source_frames_without_face, edit_frames_without_face: frames where dlib found no face.
        emotion: clip-level classifier scores; `source_p_target`/`edit_p_target` per scored frame.
        speech: aperture agreement; `source_aperture`/`edit_aperture` per frame (IOD units).
        identity: descriptor distances (None when no scored frame had a face in both clips).
        flicker: face-region flicker of both clips and their ratio.
        source_sharpness, edit_sharpness: per-frame Laplacian variance of the face region.
        sharpness_ratio: mean edit sharpness / mean source sharpness.
        edit_magnitude: per-frame mean |edit - source| in the face region (0..255 scale).
        exactness: the outside-patch check.
        thumbnails: source/edit face views of the scored frames, for the contact sheet (not in JSON).
    """

    target: Emotion
    frame_count: int
    frames_step: int
    classifier: str
    scored_frames: tuple[int, ...]
    source_frames_without_face: tuple[int, ...]
    edit_frames_without_face: tuple[int, ...]
    emotion: EmotionScores
    source_p_target: np.ndarray
    edit_p_target: np.ndarray
    speech: SpeechScores
    source_aperture: np.ndarray
    edit_aperture: np.ndarray
    identity: IdentityDistances | None
    flicker: FlickerScores
    source_sharpness: np.ndarray
    edit_sharpness: np.ndarray
    sharpness_ratio: float
    edit_magnitude: np.ndarray
    exactness: ExactnessResult
    thumbnails: tuple[Thumbnail, ...]

    def to_dict(self) -> dict:
        """A JSON-ready dict: plain numbers and lists, NaN written as null, emotions by name."""
        return _json_ready(self._as_tree())

    def _as_tree(self) -> dict:
        names = [e.name.lower() for e in Emotion]
        identity = None if self.identity is None else {
            "mean_embedding_distance": self.identity.mean_embedding_distance,
            "median_paired_distance": self.identity.median_paired_distance,
            "paired_distances": self.identity.paired_distances,
            "same_person_threshold": SAME_PERSON_THRESHOLD,
        }
        return {
            "target": self.target.name.lower(),
            "frame_count": self.frame_count,
            "frames_step": self.frames_step,
            "classifier": self.classifier,
            "scored_frames": list(self.scored_frames),
            "source_frames_without_face": list(self.source_frames_without_face),
            "edit_frames_without_face": list(self.edit_frames_without_face),
            "emotion": {
                "target_gain": self.emotion.target_gain,
                "frames_used": self.emotion.frames_used,
                "source_mean": dict(zip(names, self.emotion.source_mean, strict=True)),
                "edit_mean": dict(zip(names, self.emotion.edit_mean, strict=True)),
                "source_p_target": self.source_p_target,
                "edit_p_target": self.edit_p_target,
            },
            "speech": {
                "aperture_correlation": self.speech.correlation,
                "mean_abs_aperture_difference_iod": self.speech.mean_abs_difference,
                "frames_used": self.speech.frames_used,
                "source_aperture": self.source_aperture,
                "edit_aperture": self.edit_aperture,
            },
            "identity": identity,
            "flicker": {"ratio": self.flicker.ratio, "source_mean": self.flicker.source_mean,
                        "edit_mean": self.flicker.edit_mean, "source": self.flicker.source,
                        "edit": self.flicker.edit},
            "sharpness": {"ratio": self.sharpness_ratio, "source": self.source_sharpness,
                          "edit": self.edit_sharpness},
            "edit_magnitude": {"mean": _nanmean(self.edit_magnitude), "max": _nanmax(self.edit_magnitude),
                               "per_frame": self.edit_magnitude},
            "outside_patch": {"checkable": self.exactness.checkable, "reason": self.exactness.reason,
                              "pixels_changed": self.exactness.pixels_changed_outside,
                              "frames_with_changes": list(self.exactness.frames_with_changes)},
        }


def _nanmean(values: np.ndarray) -> float:
    finite = values[np.isfinite(values)]
    return float(finite.mean()) if finite.size else float("nan")


def _nanmax(values: np.ndarray) -> float:
    finite = values[np.isfinite(values)]
    return float(finite.max()) if finite.size else float("nan")


def _json_ready(value: object) -> object:
    if isinstance(value, dict):
        return {key: _json_ready(item) for key, item in value.items()}
    if isinstance(value, (list, tuple, np.ndarray)):
        return [_json_ready(item) for item in value]
    if isinstance(value, (float, np.floating)):
        return None if not math.isfinite(value) else round(float(value), _JSON_DIGITS)
    if isinstance(value, np.integer):
        return int(value)
    return value


def write_report_json(report: EditReport, path: str | Path) -> None:
    """Write `report.to_dict()` as indented JSON (stable key order, so runs diff cleanly)."""
    Path(path).write_text(json.dumps(report.to_dict(), indent=1) + "\n")


def evaluate_edit(source_frames: Iterable[np.ndarray], edit_frames: Iterable[np.ndarray],
                  target_emotion: Emotion | str, *, frames_step: int = 5,
                  placements: dict[int, list[PatchRect]] | None = None, lossless: bool = True,
                  lossy_reason: str = "", models: EvalModels | None = None) -> EditReport:
    """Measure an edit against its source, frame by frame (frames stream; nothing is held whole).

    Args:
        source_frames: (H, W, 3|4) RGB frames (uint8, uint16 or float32) of the source, in order.
        edit_frames: the edited clip, frame for frame (same count and size).
        target_emotion: the emotion the edit asked for (Emotion or its name).
        frames_step: run the classifier and identity embedding on every this-many frames.
        placements: per-frame patch rectangles for the outside-patch check (None: not checked).
        lossless: whether the frames hold the stored pixels exactly (False: check not possible).
        lossy_reason: what made them lossy, for the report.
        models: loaded models to reuse (default: load them now, ~2 s).

    Raises:
        ValueError: bad arguments, or the clips differ in frame count or frame size.
        NoFaceFound: dlib found no face in any source frame.
    """
    target = target_emotion if isinstance(target_emotion, Emotion) else Emotion.parse(target_emotion)
    if not isinstance(frames_step, int) or frames_step < 1:
        raise ValueError(f"frames_step must be a positive integer, got {frames_step!r}")
    if models is None:
        models = EvalModels.load()
    exactness_reason = _exactness_blocker(placements, lossless, lossy_reason)
    collected = FramePass(models, int(target), frames_step, placements, check_exactness=not exactness_reason)
    for t, (source, edit) in enumerate(zip_longest(source_frames, edit_frames)):
        if source is None or edit is None:
            longer = "source" if edit is None else "edit"
            raise ValueError(f"the clips differ in length: the {longer} has more than {t} frames")
        if collected.check_exactness and source.dtype != edit.dtype:
            exactness_reason = f"source ({source.dtype}) and edit ({edit.dtype}) frames differ in bit depth"
            collected.check_exactness = False
        collected.add(source, edit)
    if collected.frame_count == 0:
        raise ValueError("the clips have no frames")
    if np.isnan(collected.source_aperture).all():
        raise NoFaceFound(f"dlib found no face in any of the {collected.frame_count} source frames")
    return _build_report(collected, target, models.classifier.name, exactness_reason)


def _exactness_blocker(placements: dict[int, list[PatchRect]] | None, lossless: bool, lossy_reason: str) -> str:
    if placements is None:
        return "no patch placements given"
    if not lossless:
        return f"not checkable: lossy input ({lossy_reason or 'lossy codec'})"
    return ""


def _build_report(collected: FramePass, target: Emotion, classifier: str, exactness_reason: str) -> EditReport:
    source_probs, edit_probs = np.array(collected.source_probs), np.array(collected.edit_probs)
    source_aperture = np.array(collected.source_aperture)
    edit_aperture = np.array(collected.edit_aperture)
    identity = None
    if collected.source_embeddings:
        identity = identity_distances(np.array(collected.source_embeddings), np.array(collected.edit_embeddings))
    source_sharpness, edit_sharpness = np.array(collected.source_sharpness), np.array(collected.edit_sharpness)
    both_sharp = np.isfinite(source_sharpness) & np.isfinite(edit_sharpness)
    sharpness_ratio = (ratio(float(edit_sharpness[both_sharp].mean()), float(source_sharpness[both_sharp].mean()))
                       if both_sharp.any() else float("nan"))
    return EditReport(
        target=target, frame_count=collected.frame_count, frames_step=collected.frames_step, classifier=classifier,
        scored_frames=tuple(collected.scored_frames),
        source_frames_without_face=tuple(int(t) for t in np.flatnonzero(np.isnan(source_aperture))),
        edit_frames_without_face=tuple(int(t) for t in np.flatnonzero(np.isnan(edit_aperture))),
        emotion=emotion_scores(source_probs, edit_probs, target),
        source_p_target=source_probs[:, target], edit_p_target=edit_probs[:, target],
        speech=speech_scores(source_aperture, edit_aperture), source_aperture=source_aperture,
        edit_aperture=edit_aperture, identity=identity, flicker=collected.flicker.scores(),
        source_sharpness=source_sharpness, edit_sharpness=edit_sharpness, sharpness_ratio=sharpness_ratio,
        edit_magnitude=np.array(collected.edit_magnitude),
        exactness=_exactness_result(collected.changed_outside, exactness_reason, collected.check_exactness),
        thumbnails=tuple(collected.thumbnails),
    )


def _exactness_result(changed: list[int], reason: str, checked: bool) -> ExactnessResult:
    if not checked:
        return ExactnessResult(False, reason, None, ())
    frames = tuple(t for t, count in enumerate(changed) if count)
    return ExactnessResult(True, "", int(sum(changed)), frames)

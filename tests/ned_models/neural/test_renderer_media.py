"""The neural renderer on real footage: analysis -> training set -> training -> ONNX -> frames."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from ned_models.analysis.shot import analyse_shot
from ned_models.edit import EditParams, Emotion
from ned_models.media import open_source
from ned_models.neural.face_crop import transform_points
from ned_models.neural.neural_renderer import NeuralRenderer
from ned_models.neural.renderer_data import TrainingSet
from ned_models.neural.renderer_training import RendererTrainingConfig, train_renderer
from ned_models.neural.train_renderer import build_training_set
from ned_models.pipeline import edit_face, shot_topology

CLIP = "talking/RD_Radio10_0_clip_0.mp4"  # 61 frames, 512x512
CROP_JITTER_PX = 1.5  # frame-to-frame motion of the nose in the aligned crop (smoothed landmarks)


@pytest.mark.media
@pytest.mark.slow
def test_train_and_render_on_footage(media_dir: Path, tmp_path: Path) -> None:
    video = media_dir / CLIP
    with open_source(video) as source:
        frames = [image for _, _, image in source]
        analysis = analyse_shot((float(t), image) for _, t, image in source)
    build_training_set(video, tmp_path, analysis, face_index=0, max_frames=1500)
    training_set = TrainingSet.open(tmp_path)
    assert len(training_set) == int(analysis.faces[0].present.sum())
    nose = np.array([transform_points(m, p[1:2].astype(float))[0, :2]
                     for m, p in zip(training_set.crop_from_frame, training_set.landmarks, strict=True)])
    assert np.abs(np.diff(nose, axis=0)).max() < CROP_JITTER_PX  # the crop follows the head steadily

    config = RendererTrainingConfig(device="cpu", max_steps=2, threads=1, validation_frames=2)
    result = train_renderer(training_set, analysis, config)
    assert result.onnx_path is not None and result.validation is not None
    assert 10.0 < result.validation.warp_psnr < 60.0

    renderer = NeuralRenderer.load(tmp_path, device="cpu", threads=1)
    topology = shot_topology(analysis.faces[0].identity)
    params = EditParams(emotion=Emotion.HAPPY, intensity=1.0)
    memory = None
    for index in (20, 21, 22):
        state = analysis.state(0, float(analysis.times[index]))
        edited = edit_face(state, np.zeros_like(state.expression), params)
        x0, y0, x1, y1 = (int(v) for v in state.render_region)
        region = frames[index][y0:y1, x0:x1]
        stage_ms: dict[str, float] = {}
        patch, memory = renderer.render(region, (x0, y0), 1.0, state, edited.source, edited.target, memory,
                                        topology=topology, stage_ms=stage_ms)
        out = frames[index].copy()
        alpha = np.zeros(out.shape[:2], np.float32)
        x, y, w, h = patch.placement
        out[y:y + h, x:x + w] = patch.patch
        alpha[y:y + h, x:x + w] = patch.alpha
        np.testing.assert_array_equal(out[alpha == 0], frames[index][alpha == 0])
        assert np.any(out != frames[index])
        assert set(stage_ms) == {"warp", "conditioning", "network", "paste"}
    assert len(memory.outputs) == 2  # three consecutive frames: the sequence carried on

"""NeuralRenderer: ONNX inference pasted back into the host's pixels, exact outside its alpha."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import pytest
import torch

from ned_models.analysis.results import FrameFaceState
from ned_models.errors import ModelLoadError
from ned_models.face_model.action_units import ActionUnit
from ned_models.face_model.morphable import load_face_model
from ned_models.face_model.pose import HeadPose
from ned_models.neural.face_crop import CropLayout
from ned_models.neural.networks import CompactGenerator, CompactGeneratorConfig
from ned_models.neural.neural_renderer import NeuralRenderer, RendererMemory, blend_levels
from ned_models.neural.renderer_checkpoint import ONNX_NAME, export_renderer
from ned_models.render import build_topology
from tests.ned_models.neural.renderer_fakes import face_points, textured_frame

ORIGIN = (10, 6)


@pytest.fixture(scope="module")
def shot_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A renderer export at 64x64 whose (random) correction is far from zero."""
    torch.manual_seed(0)
    generator = CompactGenerator(CompactGeneratorConfig(ngf=8, n_downsampling=2, n_blocks=1, max_channels=16))
    torch.nn.init.normal_(generator.head.weight, std=0.2)
    directory = tmp_path_factory.mktemp("shot")
    export_renderer(generator, directory, CropLayout(64))
    return directory


@pytest.fixture(scope="module")
def renderer(shot_dir: Path) -> NeuralRenderer:
    return NeuralRenderer.load(shot_dir, device="cpu", threads=1)


def _state(time: float = 1.0) -> tuple[FrameFaceState, np.ndarray]:
    model = load_face_model()
    source = face_points(model, np.zeros(len(model.basis)), (80.0, 72.0))
    expression = np.zeros(len(model.basis))
    expression[ActionUnit.LIP_CORNER_PULL_R] = expression[ActionUnit.LIP_CORNER_PULL_L] = 1.0
    target = face_points(model, expression, (80.0, 72.0))
    state = FrameFaceState(
        time=time, face_index=0, landmarks=source, confidence=1.0,
        pose=HeadPose(rotation=np.eye(3), translation=np.zeros(3), scale=34.0), expression=np.zeros(len(model.basis)),
        residual=np.zeros(0), gaze=np.zeros((2, 2)), aperture=0.0, jaw_opening=0.0, identity=model.template,
        residual_basis=np.zeros((0, 478, 3)), render_region=np.array([0, 0, 160, 160]), pixel_aspect=1.0)
    return state, target


def _region(dtype: type, channels: int = 3) -> np.ndarray:
    frame = textured_frame(np.random.default_rng(5))[ORIGIN[1]:150, ORIGIN[0]:150]
    if channels == 4:
        frame = np.concatenate([frame, np.arange(frame.size // 3, dtype=np.uint8).reshape(*frame.shape[:2], 1)], 2)
    if dtype == np.uint16:
        return frame.astype(np.uint16) * np.uint16(257)
    if dtype == np.float32:
        values = frame.astype(np.float32) / 255.0 * 1.6 - 0.3  # a float host: values below 0 and above 1
        values[::7, ::5] = np.float32(12.5)
        values[3::7, 2::5] = np.float32(-0.75)
        return values
    return frame


def _render(renderer: NeuralRenderer, region: np.ndarray, memory: RendererMemory | None = None, time: float = 1.0):
    state, target = _state(time)
    topology = build_topology(load_face_model().template[:, :2])
    return renderer.render(region, ORIGIN, 1.0, state, state.landmarks[:, :2], target[:, :2], memory,
                           topology=topology)


def _pasted(region: np.ndarray, result) -> tuple[np.ndarray, np.ndarray]:
    out, alpha = region.copy(), np.zeros(region.shape[:2], np.float32)
    x, y, w, h = result.placement
    out[y - ORIGIN[1]:y - ORIGIN[1] + h, x - ORIGIN[0]:x - ORIGIN[0] + w] = result.patch
    alpha[y - ORIGIN[1]:y - ORIGIN[1] + h, x - ORIGIN[0]:x - ORIGIN[0] + w] = result.alpha
    return out, alpha


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.float32])
def test_outside_the_alpha_is_the_source_bit_for_bit(renderer: NeuralRenderer, dtype: type) -> None:
    region = _region(dtype)
    result, memory = _render(renderer, region)
    assert result.patch.dtype == dtype and result.patch.shape[:2] == result.alpha.shape
    out, alpha = _pasted(region, result)
    outside = alpha == 0
    assert outside.sum() > 1000 and (~outside).sum() > 1000
    assert np.array_equal(out[outside].view(np.uint8), region[outside].view(np.uint8))  # bit for bit, NaN-safe
    changed = np.any(out != region, axis=2)
    assert changed.sum() > 300  # the network's correction reached the frame
    assert np.all(np.isfinite(out))
    if dtype == np.float32:  # out-of-range values survive (inside the face the correction adds to them)
        assert out[outside].max() == np.float32(12.5) and out[outside].min() == np.float32(-0.75)
        assert out[~outside].max() > 12.0
    assert isinstance(memory, RendererMemory) and len(memory.outputs) == 1 and len(memory.conditioning) == 3


def test_rgba_keeps_the_host_alpha(renderer: NeuralRenderer) -> None:
    region = _region(np.uint8, channels=4)
    result, _ = _render(renderer, region)
    out, _ = _pasted(region, result)
    np.testing.assert_array_equal(out[..., 3], region[..., 3])


def test_memory_continues_and_resets(renderer: NeuralRenderer) -> None:
    region = _region(np.uint8)
    first, memory = _render(renderer, region, time=1.0)
    fresh_again, _ = _render(renderer, region, None, time=1.04)
    continued, memory2 = _render(renderer, region, memory, time=1.04)
    assert not np.array_equal(continued.patch, fresh_again.patch)  # the previous output was used
    assert memory2.time == pytest.approx(1.04) and len(memory2.outputs) == 2
    scrubbed, _ = _render(renderer, region, memory2, time=0.5)  # backwards: a fresh sequence
    fresh, _ = _render(renderer, region, None, time=0.5)
    np.testing.assert_array_equal(scrubbed.patch, fresh.patch)
    jumped, _ = _render(renderer, region, memory2, time=3.0)  # too far ahead: fresh too
    np.testing.assert_array_equal(jumped.patch, fresh.patch)


def test_batched_inference_matches_single_frames(renderer: NeuralRenderer) -> None:
    rng = np.random.default_rng(2)
    inputs = [rng.random((3, 30, 64, 64), np.float32), rng.random((3, 6, 64, 64), np.float32) * 2 - 1,
              rng.random((3, 3, 64, 64), np.float32) * 2 - 1, np.ones((3, 1, 64, 64), np.float32)]
    batched = renderer.infer(*inputs, max_batch=2)
    single = np.concatenate([renderer.infer(*(a[i:i + 1] for a in inputs)) for i in range(3)])
    np.testing.assert_allclose(batched, single, atol=1e-5)


def test_blend_levels_follow_the_face_size() -> None:
    assert blend_levels(20.0) == 1
    assert blend_levels(150.0) == 3
    assert blend_levels(400.0) == 4


def test_missing_model_names_the_file(tmp_path: Path) -> None:
    with pytest.raises(ModelLoadError, match=str(tmp_path / ONNX_NAME)):
        NeuralRenderer.load(tmp_path)


def test_corrupt_model_names_the_file(tmp_path: Path) -> None:
    (tmp_path / ONNX_NAME).write_bytes(b"\x08\x07garbage, not a protobuf")
    with pytest.raises(ModelLoadError, match=ONNX_NAME):
        NeuralRenderer.load(tmp_path, device="cpu")


def test_another_model_kind_is_refused(shot_dir: Path, tmp_path: Path) -> None:
    model = onnx.load(str(shot_dir / ONNX_NAME))
    for prop in model.metadata_props:
        if prop.key == "ned.model":
            prop.value = "manipulator-generator"
    onnx.save(model, str(tmp_path / ONNX_NAME))
    with pytest.raises(ModelLoadError, match="not a neural face renderer"):
        NeuralRenderer.load(tmp_path, device="cpu")

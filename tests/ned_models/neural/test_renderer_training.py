"""Renderer training on a tiny synthetic shot: the loss falls, checkpoints resume, cancel, ONNX parity."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch

from ned_models.errors import AnalysisMissing, CheckpointError
from ned_models.neural.checkpoints import load_compact_generator
from ned_models.neural.face_crop import CropLayout
from ned_models.neural.networks import CompactGeneratorConfig
from ned_models.neural.neural_renderer import NeuralRenderer
from ned_models.neural.renderer_data import HoldOut, TrainingSet, TrainingSetWriter
from ned_models.neural.renderer_optimisation import LossWeights, RendererNetworks
from ned_models.neural.renderer_samples import ReferencePicker, SequenceState, ShotSamples, TrainingSequences
from ned_models.neural.renderer_training import CHECKPOINT_NAME, RendererTrainingConfig, train_renderer
from tests.ned_models.neural.renderer_fakes import synthetic_shot

ONNX_TOLERANCE = 1e-3
TINY = RendererTrainingConfig(
    time_budget_s=600.0, device="cpu", batch_size=2, ndf=4, threads=1, bfloat16=False, validate_every_s=1e9,
    checkpoint_every_s=1e9, validation_frames=4, sequence_frames=(3, 6), reference_offset_s=(0.08, 0.2),
    generator=CompactGeneratorConfig(ngf=8, n_downsampling=2, n_blocks=1, max_channels=16),
    losses=LossWeights(gan=0.1, feature_matching=0.5, l1=20.0, structural=1.0), lr=1e-3,
    # the 60-frame shot is too short to train on after holding out both kinds of blocks: its test
    # blocks (8-11, 28-31, 48-51) also choose the exported weights (see the selection test below)
    hold_out=HoldOut(block=4, every=5, guard=1, selection=False))


@pytest.fixture(scope="module")
def shot(tmp_path_factory: pytest.TempPathFactory):
    """A 60-frame synthetic shot, its analysis and its 64x64 training set."""
    frames, analysis = synthetic_shot(60)
    directory = tmp_path_factory.mktemp("shot")
    with TrainingSetWriter(directory, layout=CropLayout(64)) as writer:
        for index, frame in enumerate(frames):
            writer.add(index, float(analysis.times[index]), frame, analysis.faces[0].landmarks[index])
    return directory, analysis


def test_samples_are_consistent(shot) -> None:
    directory, analysis = shot
    samples = ShotSamples(TrainingSet.open(directory), analysis)
    sample = samples.frame(10, 14)
    assert sample.conditioning.shape == (10, 64, 64) and sample.source.shape == (3, 64, 64)
    inside = sample.mask[0] > 0
    assert np.all(sample.target[:, ~inside] == -1.0)
    assert -1.0 <= sample.source.min() and sample.source.max() <= 1.0
    picker = ReferencePicker(samples.training_set.time, np.arange(0, 60))
    assert picker.pick(10, 0.2) == 15 and picker.pick(58, 0.2) == 53  # flips at the end of the shot
    state = SequenceState(3, 2)
    window = state.push_conditioning(sample.conditioning)
    np.testing.assert_array_equal(window[:10], window[20:])  # a fresh sequence repeats its first frame
    assert np.all(state.previous(64) == 0.0)


def _sequences(shot, frames: int, batch_size: int, length: int, dropout: float = 0.0,
               pool: ThreadPoolExecutor | None = None) -> TrainingSequences:
    """Training sequences over the first `frames` frames of the synthetic shot (no feedback dropout by default)."""
    directory, analysis = shot
    samples = ShotSamples(TrainingSet.open(directory), analysis)
    positions = np.arange(frames)
    return TrainingSequences(samples, (positions,), ReferencePicker(samples.training_set.time, positions),
                             batch_size=batch_size, n_frames=3, n_previous=2, sequence_frames=(length, length),
                             offset_range_s=(0.12, 0.2), feedback_dropout=dropout, mouth_box=18,
                             rng=np.random.default_rng(0), pool=pool)


def test_sample_threads_change_nothing_but_the_pace(shot) -> None:
    """Built in a pool one step ahead, the batches are those built in the training thread: same
    frames, references, restarts, dropped feedback and fed-back outputs, step after step."""
    with ThreadPoolExecutor(3) as pool:
        pooled = _sequences(shot, frames=30, batch_size=3, length=4, dropout=0.5, pool=pool)
        plain = _sequences(shot, frames=30, batch_size=3, length=4, dropout=0.5)
        rng = np.random.default_rng(1)
        dropped = 0
        for _ in range(10):  # 2.5 sequences per item: restarts land between prefetch and feedback
            batches = [sequences.next_batch(torch.device("cpu")) for sequences in (pooled, plain)]
            assert batches[0].mouth_boxes == batches[1].mouth_boxes
            for key in ("conditioning", "previous", "source", "mask", "target"):
                torch.testing.assert_close(getattr(batches[0], key), getattr(batches[1], key), rtol=0, atol=0)
            dropped += int((batches[1].previous.flatten(1).abs().amax(1) == 0).sum())
            outputs = torch.from_numpy(rng.uniform(-1, 1, (3, 3, 64, 64)).astype(np.float32))
            pooled.feed_back(outputs)
            plain.feed_back(outputs)
        assert 0 < dropped < 30  # the comparison covered dropped and kept feedback


def test_train_step_fits_a_batch(shot) -> None:
    """The optimisation step itself (both discriminators, all losses, both optimisers) fits a fixed batch."""
    batch = _sequences(shot, frames=40, batch_size=2, length=4).next_batch(torch.device("cpu"))
    networks = RendererNetworks(TINY.generator, ndf=4, mouth_box=18, lr=1e-3)
    losses = [networks.train_step(batch, TINY.losses)[1] for _ in range(30)]
    assert losses[-1].g_l1 < 0.7 * losses[0].g_l1
    assert all(np.isfinite(vars(step)[key]) for step in losses for key in vars(step))


def test_average_follows_the_generator_and_the_best_is_kept(shot) -> None:
    """The rendered (averaged) weights: the warm-up weighting, then the decay; never G's own weights."""
    sequences = _sequences(shot, frames=20, batch_size=1, length=2)
    networks = RendererNetworks(TINY.generator, ndf=4, mouth_box=18, lr=1e-3, average_decay=0.5)
    expected = {k: v.clone() for k, v in networks.generator.state_dict().items()}
    for step in range(1, 4):
        networks.train_step(sequences.next_batch(torch.device("cpu")), TINY.losses)
        decay = min(0.5, (1 + step) / (10 + step))  # 2/11, 3/12, then 0.5 from step 4 on
        for key, value in networks.generator.state_dict().items():
            expected[key] = decay * expected[key] + (1 - decay) * value
    averaged = networks.average.state_dict()
    for key, value in expected.items():
        torch.testing.assert_close(averaged[key], value)
    assert any(not torch.equal(averaged[k], v) for k, v in networks.generator.state_dict().items())
    assert not any(p.requires_grad for p in networks.average.parameters())
    with pytest.raises(ValueError, match="average_decay"):
        RendererNetworks(TINY.generator, ndf=4, mouth_box=18, average_decay=1.0)

    # the best validated average is kept through later, worse ones, and survives a checkpoint
    assert networks.restore_best() is None
    assert networks.remember_if_best(3, 25.0)
    kept = {k: v.clone() for k, v in networks.average.state_dict().items()}
    networks.train_step(sequences.next_batch(torch.device("cpu")), TINY.losses)
    assert not networks.remember_if_best(4, 24.0)
    restored = RendererNetworks(TINY.generator, ndf=4, mouth_box=18, average_decay=0.5)
    restored.load_training_state(networks.training_state())
    for candidate in (networks, restored):
        assert candidate.restore_best() == 3
        for key, value in kept.items():
            torch.testing.assert_close(candidate.average.state_dict()[key], value)


@pytest.mark.slow
def test_training_improves_on_the_warp_and_exports(shot, tmp_path: Path) -> None:
    directory, analysis = shot
    history = []
    result = train_renderer(TrainingSet.open(directory), analysis, replace(TINY, max_steps=120),
                            on_progress=history.append, checkpoint_dir=tmp_path)
    assert result.stopped == "max_steps" and result.steps == 120
    assert sum(1 for p in history if p.stage == "training" and p.losses is not None) == 120
    stages = [p.stage for p in history]
    assert stages[0] == "preparing" and stages[-1] == "done" and "exporting" in stages
    assert result.validation is not None and result.validation.frames == 12  # the test blocks
    assert result.validation.neural_psnr > result.validation.warp_psnr + 0.5
    assert result.selected_step == 120 and result.selection.frames == TINY.validation_frames
    assert result.onnx_path == tmp_path / "renderer.onnx" and result.onnx_path.is_file()
    _onnx_matches_torch(tmp_path, result.generator_path)


def _onnx_matches_torch(directory: Path, generator_path: Path) -> None:
    renderer = NeuralRenderer.load(directory, device="cpu", threads=1)
    generator = load_compact_generator(generator_path)
    rng = np.random.default_rng(3)
    inputs = [rng.random((2, 30, 64, 64), np.float32), rng.random((2, 6, 64, 64), np.float32) * 2 - 1,
              rng.random((2, 3, 64, 64), np.float32) * 2 - 1, (rng.random((2, 1, 64, 64)) > 0.3).astype(np.float32)]
    with torch.no_grad():
        expected = generator(*(torch.from_numpy(a) for a in inputs)).numpy()
    assert np.abs(renderer.infer(*inputs) - expected).max() < ONNX_TOLERANCE
    assert renderer.layout == CropLayout(64)


@pytest.mark.slow
def test_training_with_sample_threads_is_the_same_training(shot, tmp_path: Path) -> None:
    """The sample pool (the CUDA default) trains, validates and exports what the training thread alone does."""
    directory, analysis = shot
    results = [train_renderer(TrainingSet.open(directory), analysis,
                              replace(TINY, max_steps=8, sample_threads=threads, validate_every_s=0.0),
                              checkpoint_dir=tmp_path / str(threads)) for threads in (0, 3)]
    assert results[0].validation == results[1].validation and results[0].selection == results[1].selection
    weights = [load_compact_generator(result.generator_path).state_dict() for result in results]
    for key, value in weights[0].items():
        torch.testing.assert_close(weights[1][key], value, rtol=0, atol=0)
    assert RendererTrainingConfig(device="cpu").for_device(torch.device("cpu")).sample_threads == 0
    assert 1 <= RendererTrainingConfig().for_device(torch.device("cuda")).sample_threads <= 8
    with pytest.raises(ValueError, match="sample_threads"):
        RendererTrainingConfig(sample_threads=-1)


@pytest.mark.slow
def test_resume_continues_from_the_checkpoint(shot, tmp_path: Path) -> None:
    directory, analysis = shot
    training_set = TrainingSet.open(directory)
    first = train_renderer(training_set, analysis, replace(TINY, max_steps=6), checkpoint_dir=tmp_path)
    saved = torch.load(tmp_path / CHECKPOINT_NAME, weights_only=True)
    assert saved["step"] == 6 and first.steps == 6
    again = train_renderer(training_set, analysis, replace(TINY, max_steps=6), checkpoint_dir=tmp_path, resume=True)
    assert again.run_steps == 0 and again.steps == 6  # nothing left to do: the weights are the checkpoint's
    exported = load_compact_generator(again.generator_path).state_dict()
    for key, value in saved["state"]["best_average"].items():  # the best weight average is what is exported
        torch.testing.assert_close(exported[key], value)
    more = train_renderer(training_set, analysis, replace(TINY, max_steps=9), checkpoint_dir=tmp_path, resume=True)
    assert more.run_steps == 3 and more.steps == 9
    assert torch.load(tmp_path / CHECKPOINT_NAME, weights_only=True)["step"] == 9


@pytest.mark.slow
def test_resume_rejects_another_architecture(shot, tmp_path: Path) -> None:
    directory, analysis = shot
    train_renderer(TrainingSet.open(directory), analysis, replace(TINY, max_steps=1), checkpoint_dir=tmp_path)
    wider = replace(TINY, max_steps=2, generator=replace(TINY.generator, ngf=4))
    with pytest.raises(CheckpointError, match="another architecture"):
        train_renderer(TrainingSet.open(directory), analysis, wider, checkpoint_dir=tmp_path, resume=True)


@pytest.mark.slow
def test_cancel_keeps_the_checkpoint_and_exports_nothing(shot, tmp_path: Path) -> None:
    directory, analysis = shot
    calls = iter(range(100))
    result = train_renderer(TrainingSet.open(directory), analysis, TINY, checkpoint_dir=tmp_path,
                            should_stop=lambda: next(calls) >= 3)
    assert result.stopped == "cancelled" and result.steps == 3
    assert result.onnx_path is None and not (tmp_path / "renderer.onnx").exists()
    assert (tmp_path / CHECKPOINT_NAME).is_file()


@pytest.mark.slow
def test_selection_blocks_choose_the_exported_weights(shot, tmp_path: Path) -> None:
    """With selection blocks, the weights validated best on them are exported and the test blocks
    only measure: the untrained weights (the warp renderer exactly) compete too, so the exported
    renderer is never worse than the warp on the selection frames."""
    directory, analysis = shot
    history: list = []
    config = replace(TINY, max_steps=30, validate_every_s=0.0, validation_frames=None,
                     hold_out=HoldOut(block=4, every=8, guard=1))  # select 0-3, 32-35; test 16-19, 48-51
    result = train_renderer(TrainingSet.open(directory), analysis, config, on_progress=history.append,
                            checkpoint_dir=tmp_path)
    scores = {p.step: p.validation.neural_psnr for p in history if p.stage == "training" and p.validation}
    assert result.selection.frames == 8 and result.validation.frames == 8
    assert result.selected_step == max(scores, key=lambda step: (scores[step], -step))
    assert result.selection.neural_psnr == pytest.approx(scores[result.selected_step], abs=1e-3)
    assert result.selection.neural_psnr >= result.selection.warp_psnr - 1e-3


@pytest.mark.slow
def test_time_budget_stops_training(shot, tmp_path: Path) -> None:
    directory, analysis = shot
    result = train_renderer(TrainingSet.open(directory), analysis, replace(TINY, time_budget_s=0.5),
                            checkpoint_dir=tmp_path)
    assert result.stopped == "budget" and result.steps >= 1


def test_training_set_of_another_analysis_is_refused(shot) -> None:
    directory, analysis = shot
    shifted = replace(analysis, times=analysis.times + 1.0)
    with pytest.raises(AnalysisMissing, match="analyse the shot again"):
        train_renderer(TrainingSet.open(directory), shifted, TINY)

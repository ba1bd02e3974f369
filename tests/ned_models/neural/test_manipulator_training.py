"""End-to-end training of the manipulator on synthetic emotion-labelled sequences (tiny networks)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from ned_models.neural.checkpoints import (
    ManipulatorCheckpoint,
    ManipulatorInfo,
    load_manipulator_checkpoint,
    save_ned_manipulator,
)
from ned_models.neural.manipulator_data import ExpressionClip, WindowSampler, mead_label
from ned_models.neural.manipulator_inference import LearnedManipulator
from ned_models.neural.manipulator_training import (
    ManipulatorStepLosses,
    ManipulatorTrainingConfig,
    mean_losses,
    train_manipulator,
)
from ned_models.neural.networks import ManipulatorDims, NedManipulator
from tests.ned_models.neural.synthetic_expressions import emotion_means, make_clip, make_clips

DIM = 8
TINY = ManipulatorDims(input_dim=DIM, generator_width=16, encoder_width=16, mapping_width=8)


@pytest.fixture(scope="module")
def means() -> np.ndarray:
    return emotion_means(DIM)


@pytest.fixture(scope="module")
def trained(means: np.ndarray) -> tuple[NedManipulator, list]:
    clips = make_clips(means, per_emotion=2, frames=24)
    config = ManipulatorTrainingConfig(steps=60, batch_size=8, lr=1e-3, mapping_lr=1e-3, log_every=0)
    return train_manipulator(clips, config, TINY)


def _generator_objective(losses: ManipulatorStepLosses) -> float:
    """adv + sty + cyc - (corr_fwd + corr_bwd), the quantity the G step minimises (weights 1)."""
    return losses.g_adversarial + losses.g_style + losses.g_cycle - 2.0 * losses.g_mouth_correlation


def test_losses_fall(trained) -> None:
    _, history = trained
    assert len(history) == 60
    start, end = mean_losses(history[:15]), mean_losses(history[-15:])
    assert _generator_objective(end) < _generator_objective(start) - 0.3
    assert end.g_style < 0.8 * start.g_style
    assert end.g_mouth_correlation > 0.85 > start.g_mouth_correlation
    assert end.d_latent < start.d_latent and end.d_reference < start.d_reference
    assert all(np.isfinite(list(vars(step).values())).all() for step in history)


def test_speech_channel_keeps_its_time_course(trained, means: np.ndarray, tmp_path: Path) -> None:
    model, _ = trained
    info = ManipulatorInfo(channel_names=tuple(f"c{i}" for i in range(DIM)), mouth_channels=(0,), note="synthetic")
    manipulator = LearnedManipulator(load_manipulator_checkpoint(save_ned_manipulator(model, tmp_path / "m.pth", info)))
    source = make_clip(means, label=0, frames=30, seed=4242).values
    for target in (1, 4, 6):
        edited = manipulator.edit(source, manipulator.label_style(target, seed=target))
        assert np.corrcoef(source[:, 0], edited[:, 0])[0, 1] > 0.9


def test_should_stop_and_on_step(means: np.ndarray) -> None:
    seen: list[int] = []
    config = ManipulatorTrainingConfig(steps=50, batch_size=4, log_every=0)
    _, history = train_manipulator(
        make_clips(means, per_emotion=1, frames=12), config, TINY, on_step=lambda step, _: seen.append(step),
        should_stop=lambda: len(seen) >= 3,
    )  # fmt: skip
    assert len(history) == 3 and seen == [0, 1, 2]


def test_fine_tuning_a_loaded_checkpoint(means: np.ndarray, tmp_path: Path) -> None:
    model = load_manipulator_checkpoint(save_ned_manipulator(NedManipulator(TINY), tmp_path / "02_nets.pth")).model
    before = {name: value.clone() for name, value in model.state_dict().items()}
    config = ManipulatorTrainingConfig(steps=2, batch_size=4, log_every=0)
    trained_model, _ = train_manipulator(make_clips(means, 1, 12), config, model=model)
    assert trained_model is model and not model.training
    changed = {name.split(".")[0] for name, value in model.state_dict().items() if not torch.equal(value, before[name])}
    assert changed == {"generator", "mapping_network", "style_encoder", "discriminator"}


def test_mismatched_inputs_are_refused(means: np.ndarray) -> None:
    clips = make_clips(means, 1, 12)
    with pytest.raises(ValueError, match="the clips have 8 channels, the networks expect 51"):
        train_manipulator(clips, ManipulatorTrainingConfig(steps=1), model=NedManipulator())
    with pytest.raises(ValueError, match="mouth_channels"):
        train_manipulator(clips, ManipulatorTrainingConfig(steps=1, mouth_channels=(8,)), TINY)
    with pytest.raises(ValueError, match="no clip has the 10 frames"):
        WindowSampler([make_clip(means, 0, 9, seed=0)])


def test_clip_validation() -> None:
    with pytest.raises(ValueError, match="float32"):
        ExpressionClip(np.zeros((10, 3)), 0)
    with pytest.raises(ValueError, match="label 7"):
        ExpressionClip(np.zeros((10, 3), np.float32), 7)
    with pytest.raises(ValueError, match="NaN"):
        ExpressionClip(np.full((10, 3), np.nan, np.float32), 1)


def test_reference_windows_show_the_requested_emotion(means: np.ndarray) -> None:
    sampler = WindowSampler(make_clips(means, 1, 15), seq_len=10, seed=1)
    assert len(sampler) == 7 * 6
    labels = np.array([3, 3, 5])
    references = sampler.sample_references(labels)
    nearest = [int(np.argmin(np.linalg.norm(means[:, 1:] - window[:, 1:].mean(0), axis=1))) for window in references]
    assert nearest == [3, 3, 5]


@pytest.mark.slow
def test_translation_reaches_the_target_emotion(means: np.ndarray) -> None:
    """A longer run (about a minute): edited clips land nearest their target emotion far above chance."""
    clips = make_clips(means, per_emotion=3, frames=30)
    dims = ManipulatorDims(input_dim=DIM, generator_width=32, encoder_width=32, mapping_width=16)
    config = ManipulatorTrainingConfig(steps=600, batch_size=32, lr=1e-3, mapping_lr=1e-3, log_every=0)
    model, _ = train_manipulator(clips, config, dims)
    manipulator = LearnedManipulator(_checkpoint_of(model))
    hits = 0
    for source_label in range(7):
        source = make_clip(means, source_label, 30, seed=999 + source_label).values
        for target in range(7):
            edited = manipulator.edit(source, manipulator.label_style(target, seed=1))
            nearest = np.argmin(np.linalg.norm(means[:, 1:] - edited[:, 1:].mean(0), axis=1))
            hits += int(nearest == target)
            assert np.corrcoef(source[:, 0], edited[:, 0])[0, 1] > 0.9
    assert hits / 49 > 0.4  # chance is 1/7


def _checkpoint_of(model: NedManipulator) -> ManipulatorCheckpoint:
    return ManipulatorCheckpoint(model, ManipulatorInfo(channel_names=tuple(f"c{i}" for i in range(DIM))))


def test_mead_labels_follow_neds_selection() -> None:
    assert mead_label("M030_front_angry_level3_001") == 1
    assert mead_label("W009_front_fear_level3_001") == 3
    assert mead_label("W011_front_neutral_level1_001") == 0
    assert mead_label("M030_front_contempt_level3_001") is None
    assert mead_label("M030_front_happy_level1_001") is None
    assert mead_label("M030_left_30_happy_level3_001") is None
    with pytest.raises(ValueError, match="not a MEAD clip name"):
        mead_label("video_happy")

"""Whole-clip manipulation: NED's Gaussian stitching, geometric median, label/reference styles."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from ned_models.neural.checkpoints import ManipulatorCheckpoint, ManipulatorInfo, save_ned_manipulator
from ned_models.neural.manipulator_inference import (
    LearnedManipulator,
    gaussian_window,
    geometric_median,
    sliding_windows,
    stitch_windows,
)
from ned_models.neural.networks import ManipulatorDims, NedManipulator

DIMS = ManipulatorDims(input_dim=6, generator_width=16, encoder_width=16, mapping_width=8)


@pytest.fixture
def manipulator() -> LearnedManipulator:
    info = ManipulatorInfo(channel_names=tuple(f"c{i}" for i in range(6)))
    return LearnedManipulator(ManipulatorCheckpoint(NedManipulator(DIMS).eval(), info), max_windows_per_batch=4)


def test_gaussian_window_is_opencvs_default() -> None:
    window = gaussian_window(10)
    assert window.sum() == pytest.approx(1.0)
    assert np.allclose(window, window[::-1])
    # OpenCV's even-size kernel: sigma 1.85 at offsets 1.5, 2.5, ... but the centre pair weighs exp(0)
    sigma = 0.3 * (4.5 - 1) + 0.8
    raw = np.exp(-((np.arange(10) - 4.5) ** 2) / (2 * sigma**2))
    raw[4:6] = 1.0
    assert np.allclose(window, raw / raw.sum())


def test_sliding_windows() -> None:
    sequence = np.arange(24, dtype=np.float32).reshape(12, 2)
    windows = sliding_windows(sequence, 10)
    assert windows.shape == (3, 10, 2)
    assert np.array_equal(windows[2], sequence[2:12])
    with pytest.raises(ValueError, match="N >= 10"):
        sliding_windows(sequence[:9], 10)


def test_stitching_windows_of_the_input_gives_the_input_back() -> None:
    sequence = np.random.default_rng(0).normal(size=(37, 3)).astype(np.float32)
    assert np.allclose(stitch_windows(sliding_windows(sequence, 10)), sequence, atol=1e-6)


def test_stitching_takes_the_edges_from_the_edge_windows() -> None:
    outputs = np.zeros((15, 10, 1), dtype=np.float32)
    outputs[0] = 1.0
    outputs[-1] = 2.0
    stitched = stitch_windows(outputs)[:, 0]
    assert stitched.shape == (24,)
    assert np.all(stitched[:9] == 1.0) and np.all(stitched[-9:] == 2.0)
    assert stitched[9] == pytest.approx(gaussian_window(10)[9])  # window 0's last frame, overlap-added
    assert np.all(stitched[10:14] == 0.0)  # frames 10..13 see neither edge window


def test_geometric_median() -> None:
    square = np.array([[0, 0], [0, 2], [2, 0], [2, 2]], dtype=np.float32)
    assert np.allclose(geometric_median(square), [1, 1], atol=1e-4)
    with_outlier = np.vstack([square, [[100.0, 100.0]]]).astype(np.float32)
    assert np.linalg.norm(geometric_median(with_outlier) - [1, 1]) < 1.0  # the mean would be ~(20.8, 20.8)
    with pytest.raises(ValueError):
        geometric_median(np.zeros((0, 3), np.float32))


def test_translate_and_edit(manipulator: LearnedManipulator) -> None:
    sequence = np.random.default_rng(1).normal(size=(23, 6)).astype(np.float32)
    style = manipulator.label_style(4, seed=3)
    assert style.shape == (16,)
    translated = manipulator.translate(sequence, style)
    assert translated.shape == (23, 6) and translated.dtype == np.float32
    with torch.no_grad():
        first = manipulator.model.generator(torch.from_numpy(sequence[None, :10]), torch.from_numpy(style[None]))
    assert np.allclose(translated[:9], first[0, :9].numpy(), atol=1e-5)
    assert np.allclose(manipulator.edit(sequence, style, 0.0), sequence)
    assert np.allclose(manipulator.edit(sequence, style, 1.0), translated, atol=1e-6)
    ramp = np.linspace(0, 1, 23, dtype=np.float32)
    ramped = manipulator.edit(sequence, style, ramp)
    assert np.allclose(ramped[0], sequence[0]) and np.allclose(ramped[-1], translated[-1], atol=1e-6)


def test_label_styles_are_seeded(manipulator: LearnedManipulator) -> None:
    assert np.array_equal(manipulator.label_style(2, seed=5), manipulator.label_style(2, seed=5))
    assert not np.array_equal(manipulator.label_style(2, seed=5), manipulator.label_style(2, seed=6))
    with pytest.raises(ValueError, match="emotion 7"):
        manipulator.label_style(7)


def test_reference_style_is_the_median_of_window_styles(manipulator: LearnedManipulator) -> None:
    reference = np.random.default_rng(2).normal(size=(15, 6)).astype(np.float32)
    style = manipulator.reference_style(reference)
    with torch.no_grad():
        window_styles = manipulator.model.style_encoder(torch.from_numpy(sliding_windows(reference, 10))).numpy()
    assert np.allclose(style, geometric_median(window_styles), atol=1e-5)


def test_bad_sequences(manipulator: LearnedManipulator) -> None:
    with pytest.raises(ValueError, match="at least 10"):
        manipulator.translate(np.zeros((9, 6), np.float32), np.zeros(16, np.float32))
    with pytest.raises(ValueError, match=r"must be \(N, 6\)"):
        manipulator.translate(np.zeros((12, 5), np.float32), np.zeros(16, np.float32))
    with pytest.raises(ValueError, match="16 values"):
        manipulator.translate(np.zeros((12, 6), np.float32), np.zeros(4, np.float32))


def test_from_file(tmp_path) -> None:
    model = NedManipulator(DIMS)
    path = save_ned_manipulator(model, tmp_path / "nets.pth", ManipulatorInfo(tuple("abcdef"), (0,), "test"))
    loaded = LearnedManipulator.from_file(path)
    assert loaded.info.channel_names == tuple("abcdef")
    sequence = np.random.default_rng(3).normal(size=(12, 6)).astype(np.float32)
    style = loaded.label_style(1)
    reference = LearnedManipulator(ManipulatorCheckpoint(model.eval()))
    assert np.allclose(loaded.translate(sequence, style), reference.translate(sequence, style))


def test_edit_by_label_is_edit_with_the_label_style(manipulator: LearnedManipulator) -> None:
    sequence = np.random.default_rng(4).normal(size=(12, 6)).astype(np.float32)
    expected = manipulator.edit(sequence, manipulator.label_style(5, seed=9), 0.5)
    assert np.array_equal(manipulator.edit_by_label(sequence, 5, 0.5, seed=9), expected)

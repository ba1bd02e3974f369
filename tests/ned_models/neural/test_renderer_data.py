"""The renderer training set: writer/reader round trip, even decimation, dtypes, hold-out split."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from ned_models.errors import AnalysisMissing
from ned_models.face_model.morphable import load_face_model
from ned_models.neural.face_crop import CropLayout, crop_transform, cut_crop_values
from ned_models.neural.renderer_data import DATA_DIR, HoldOut, TrainingSet, TrainingSetWriter
from tests.ned_models.neural.renderer_fakes import face_points, textured_frame

LAYOUT = CropLayout(64)


def _points(shift: float = 0.0) -> np.ndarray:
    model = load_face_model()
    return face_points(model, np.zeros(len(model.basis)), (80.0 + shift, 72.0))


def _write(directory: Path, count: int, dtype: type = np.uint8, **kwargs: object) -> list[np.ndarray]:
    rng = np.random.default_rng(0)
    frames = []
    with TrainingSetWriter(directory, layout=LAYOUT, **kwargs) as writer:
        for index in range(count):
            frame = textured_frame(rng)
            if dtype == np.uint16:
                frame = frame.astype(np.uint16) * np.uint16(257)
            elif dtype == np.float32:
                frame = frame.astype(np.float32) / 255.0
            frames.append(frame)
            writer.add(index, index / 25.0, frame, _points(0.1 * index))
    return frames


def test_round_trip(tmp_path: Path) -> None:
    frames = _write(tmp_path, 12)
    training_set = TrainingSet.open(tmp_path)
    assert len(training_set) == 12 and training_set.dtype == np.uint8
    assert training_set.layout == LAYOUT
    np.testing.assert_array_equal(training_set.frame_index, np.arange(12))
    np.testing.assert_allclose(training_set.time, np.arange(12) / 25.0)
    for position in (0, 7, 11):
        transform = crop_transform(_points(0.1 * position), layout=LAYOUT)
        np.testing.assert_allclose(training_set.crop_from_frame[position], transform)
        np.testing.assert_array_equal(training_set.crop(position), cut_crop_values(frames[position], transform, 64))
        np.testing.assert_allclose(training_set.landmarks[position], _points(0.1 * position), atol=1e-4)
    assert not list(tmp_path.glob(".*partial"))


def test_keeps_at_most_max_frames_evenly_spread(tmp_path: Path) -> None:
    _write(tmp_path, 30, max_frames=8)
    training_set = TrainingSet.open(tmp_path)
    np.testing.assert_array_equal(training_set.frame_index, np.arange(0, 30, 4))
    for position, index in enumerate(training_set.frame_index):  # crops still match their frames after reuse
        transform = crop_transform(_points(0.1 * index), layout=LAYOUT)
        np.testing.assert_allclose(training_set.crop_from_frame[position], transform)
    size = (tmp_path / DATA_DIR / "crops.raw").stat().st_size
    assert size == 8 * 64 * 64 * 3  # slots were reused, the file never grew past max_frames


def test_expected_frames_sets_the_stride(tmp_path: Path) -> None:
    _write(tmp_path, 30, max_frames=10, expected_frames=30)
    np.testing.assert_array_equal(TrainingSet.open(tmp_path).frame_index, np.arange(0, 30, 3))


@pytest.mark.parametrize("dtype", [np.uint16, np.float32])
def test_deep_sources_are_kept_as_uint16(tmp_path: Path, dtype: type) -> None:
    _write(tmp_path, 3, dtype=dtype)
    training_set = TrainingSet.open(tmp_path)
    assert training_set.dtype == np.uint16
    assert training_set.crop(0).max() > 255


def test_frames_without_the_face_are_skipped(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    with TrainingSetWriter(tmp_path, layout=LAYOUT) as writer:
        assert writer.add(0, 0.0, textured_frame(rng), _points())
        assert not writer.add(1, 0.04, textured_frame(rng), None)
        nan = _points()
        nan[5] = np.nan
        assert not writer.add(2, 0.08, textured_frame(rng), nan)
        assert writer.add(3, 0.12, textured_frame(rng), _points())
        with pytest.raises(ValueError, match="twice"):
            writer.add(3, 0.12, textured_frame(rng), _points())
    np.testing.assert_array_equal(TrainingSet.open(tmp_path).frame_index, [0, 3])


def test_abort_and_too_few_frames_leave_nothing(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError), TrainingSetWriter(tmp_path, layout=LAYOUT) as writer:
        writer.add(0, 0.0, textured_frame(np.random.default_rng(0)), _points())
        raise RuntimeError("the analysis failed")
    with pytest.raises(ValueError, match="at least 2"):
        _write(tmp_path, 1)
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(AnalysisMissing, match="no renderer training set"):
        TrainingSet.open(tmp_path)


def test_corrupt_table_is_reported(tmp_path: Path) -> None:
    _write(tmp_path, 3)
    (tmp_path / DATA_DIR / "frames.npz").write_bytes(b"not an npz")
    with pytest.raises(AnalysisMissing, match="frames.npz"):
        TrainingSet.open(tmp_path)


def test_hold_out_blocks_with_guards(tmp_path: Path) -> None:
    _write(tmp_path, 40)
    training_set = TrainingSet.open(tmp_path)
    breaks = np.zeros(40, bool)
    breaks[30] = True  # a scene cut
    split = training_set.split(HoldOut(block=4, every=4, guard=1, selection=False), breaks=breaks)
    np.testing.assert_array_equal(split.validation, [8, 9, 10, 11, 24, 25, 26, 27])
    assert len(split.selection) == 0 and split.selection_runs == ()
    assert not set(split.train) & {7, 12, 23, 28}  # guards
    assert not set(split.train) & set(split.validation)
    assert len(split.train) + len(split.validation) + 4 == 40
    assert [run.tolist() for run in split.validation_runs] == [[8, 9, 10, 11], [24, 25, 26, 27]]
    assert [(run[0], run[-1]) for run in split.train_runs] == [(0, 6), (13, 22), (29, 29), (30, 39)]


def test_selection_blocks_are_apart_from_the_test_and_training_frames(tmp_path: Path) -> None:
    _write(tmp_path, 40)
    split = TrainingSet.open(tmp_path).split(HoldOut(block=4, every=4, guard=1))
    np.testing.assert_array_equal(split.validation, [8, 9, 10, 11, 24, 25, 26, 27])  # as without selection
    np.testing.assert_array_equal(split.selection, [0, 1, 2, 3, 16, 17, 18, 19, 32, 33, 34, 35])
    assert [run.tolist() for run in split.selection_runs] == [[0, 1, 2, 3], [16, 17, 18, 19], [32, 33, 34, 35]]
    assert not set(split.train) & {4, 15, 20, 31, 36}  # guards of the selection blocks
    assert not set(split.train) & set(split.selection) and not set(split.validation) & set(split.selection)
    assert [(run[0], run[-1]) for run in split.train_runs] == [(5, 6), (13, 14), (21, 22), (29, 30), (37, 39)]


def test_hold_out_needs_enough_frames(tmp_path: Path) -> None:
    _write(tmp_path, 5)
    with pytest.raises(ValueError, match="too few"):
        TrainingSet.open(tmp_path).split(HoldOut(block=10, every=8))

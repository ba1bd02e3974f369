"""A shot's renderer training set: aligned face crops kept during analysis, read back by training.

The server keeps what training needs while it analyses a shot, so no frame is sent twice:

    with TrainingSetWriter(shot_dir, expected_frames=n) as writer:
        for index, (time, frame) in enumerate(frames):
            writer.add(index, time, frame, landmarks)      # landmarks of the trained face, frame px
    training_set = TrainingSet.open(shot_dir)

Storage (`shot_dir/renderer_data/`): `crops.raw`, raw (S, S, 3) crops one after the other (uint8, or
uint16 for deeper sources: 196 KB or 393 KB per frame at 256; no image encoding on the hot path), and
`frames.npz` with each kept frame's slot in that file, frame index, time, crop_from_frame and
landmarks. At most `max_frames` frames are kept, evenly spread: frames whose index is a multiple of a
stride, the stride doubling (and every other kept frame freed) whenever the slots are full. Both
files are written under hidden names and renamed by `close()`; an aborted writer leaves nothing.

Validation frames are held out in contiguous blocks (`HoldOut`), with a guard of frames on both sides
that neither set uses: neighbouring frames are nearly identical, and training on them would leak the
held-out answer.
"""

from __future__ import annotations

import logging
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ned_models.errors import AnalysisMissing
from ned_models.face_model.morphable import FaceModel
from ned_models.landmarks import LANDMARK_COUNT, MESH_POINTS
from ned_models.neural.face_crop import CropLayout, crop_transform, cut_crop_values

__all__ = ["DATA_DIR", "DEFAULT_MAX_FRAMES", "TrainingSetWriter", "TrainingSet", "HoldOut", "Split"]

logger = logging.getLogger(__name__)

DATA_DIR = "renderer_data"
DEFAULT_MAX_FRAMES = 1500
_CROPS, _META = "crops.raw", "frames.npz"
_FORMAT = "emotion-director/renderer-training-set"
_VERSION = 1


class TrainingSetWriter:
    """Keeps aligned crops of up to `max_frames` evenly spread frames of one face.

    Args:
        shot_dir: the shot's folder; the data goes to `shot_dir/renderer_data/` (replaced on close).
        max_frames: most frames kept.
        expected_frames: the shot's length if known (the stride is then right from the start).
        layout: the crop layout.
        pixel_aspect: width / height of a frame pixel.
        model: the face model (for the crop alignment).
    """

    def __init__(self, shot_dir: str | os.PathLike[str], *, max_frames: int = DEFAULT_MAX_FRAMES,
                 expected_frames: int | None = None, layout: CropLayout | None = None, pixel_aspect: float = 1.0,
                 model: FaceModel | None = None) -> None:
        if max_frames < 2:
            raise ValueError(f"max_frames must be >= 2, got {max_frames}")
        self.directory = Path(shot_dir) / DATA_DIR
        self.layout = layout or CropLayout()
        self.pixel_aspect = float(pixel_aspect)
        self._model = model
        self._capacity = int(max_frames)
        self._stride = max(1, -(-int(expected_frames) // max_frames)) if expected_frames else 1
        self._staging = Path(shot_dir) / f".{DATA_DIR}.partial"
        shutil.rmtree(self._staging, ignore_errors=True)
        self._staging.mkdir(parents=True)
        self._file = open(self._staging / _CROPS, "wb+")  # noqa: SIM115 - closed by close()/abort()
        self._dtype: np.dtype | None = None
        self._slots: dict[int, int] = {}  # frame index -> slot
        self._records: dict[int, tuple[float, np.ndarray, np.ndarray]] = {}
        self._free: list[int] = []
        self._next_slot = 0
        self._closed = False

    def __enter__(self) -> TrainingSetWriter:
        return self

    def __exit__(self, exc_type: object, *rest: object) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()

    @property
    def frame_count(self) -> int:
        return len(self._slots)

    def _frame_bytes(self) -> int:
        assert self._dtype is not None
        return self.layout.size * self.layout.size * 3 * self._dtype.itemsize

    def _make_room(self) -> None:
        """Double the stride and free the slots of the frames that no longer fall on it."""
        self._stride *= 2
        for index in [i for i in self._slots if i % self._stride]:
            self._free.append(self._slots.pop(index))
            del self._records[index]
        logger.debug("training set stride now %d (%d frames kept)", self._stride, len(self._slots))

    def add(self, frame_index: int, time: float, frame: np.ndarray, landmarks: np.ndarray | None) -> bool:
        """Offer one frame; returns whether it was kept.

        Args:
            frame_index: the frame's index in the shot's analysis (`ShotAnalysis.times[frame_index]`).
            time: its time in seconds.
            frame: (H, W, 3 or 4) uint8/uint16/float32 RGB(A) host values.
            landmarks: (478, 2 or 3) the trained face's landmarks in frame pixels, or None (or
                non-finite) where the face is not in the frame (the frame is skipped).

        Raises:
            ValueError: a closed writer, a frame index seen twice, or a malformed frame.
        """
        if self._closed:
            raise ValueError("the training set writer is closed")
        if frame_index in self._slots:
            raise ValueError(f"frame {frame_index} was added twice")
        if landmarks is None or not np.all(np.isfinite(np.asarray(landmarks)[:MESH_POINTS, :2])):
            return False
        if frame_index % self._stride:
            return False
        if self._dtype is None:
            self._dtype = np.dtype(np.uint8) if frame.dtype == np.uint8 else np.dtype(np.uint16)
        if len(self._slots) >= self._capacity:
            self._make_room()
            if frame_index % self._stride:
                return False
        points = np.asarray(landmarks, dtype=np.float64)
        if points.shape[1] == 2:
            points = np.column_stack([points, np.zeros(LANDMARK_COUNT)])
        crop_from_frame = crop_transform(points, self.pixel_aspect, self.layout, self._model)
        crop = _as_stored(cut_crop_values(frame, crop_from_frame, self.layout.size), self._dtype)
        slot = self._free.pop() if self._free else self._next_slot
        self._next_slot = max(self._next_slot, slot + 1)
        self._file.seek(slot * self._frame_bytes())
        self._file.write(np.ascontiguousarray(crop).tobytes())
        self._slots[frame_index] = slot
        self._records[frame_index] = (float(time), crop_from_frame, points.astype(np.float32))
        return True

    def close(self) -> Path:
        """Finish: write the frame table, move the data into place; returns its folder.

        Raises:
            ValueError: fewer than 2 frames were kept (nothing to train on).
        """
        if self._closed:
            return self.directory
        if len(self._slots) < 2:
            self.abort()
            raise ValueError(f"the training set needs at least 2 frames with the face, got {len(self._slots)}")
        self._file.flush()
        os.fsync(self._file.fileno())
        self._file.close()
        order = sorted(self._slots)
        np.savez(self._staging / _META, format=np.array(_FORMAT), version=np.array(_VERSION),
                 dtype=np.array(self._dtype.str), size=np.array(self.layout.size),
                 slot_count=np.array(self._next_slot), pixel_aspect=np.array(self.pixel_aspect),
                 layout=np.array([self.layout.size, self.layout.iod_fraction, self.layout.centre_y]),
                 frame_index=np.array(order, dtype=np.int64),
                 slot=np.array([self._slots[i] for i in order], dtype=np.int64),
                 time=np.array([self._records[i][0] for i in order]),
                 crop_from_frame=np.stack([self._records[i][1] for i in order]),
                 landmarks=np.stack([self._records[i][2] for i in order]))
        shutil.rmtree(self.directory, ignore_errors=True)
        os.replace(self._staging, self.directory)
        self._closed = True
        logger.info("renderer training set: %d frames (stride %d) in %s", len(order), self._stride, self.directory)
        return self.directory

    def abort(self) -> None:
        """Drop everything written so far (the previous training set, if any, stays)."""
        if not self._file.closed:
            self._file.close()
        shutil.rmtree(self._staging, ignore_errors=True)
        self._closed = True


def _as_stored(crop: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """Crops keep the source's precision: uint8 as is; uint16 as is; float32 clipped to 0..1 as uint16."""
    if crop.dtype == dtype:
        return crop
    if crop.dtype == np.float32:
        return np.rint(np.clip(crop, 0.0, 1.0) * 65535.0).astype(np.uint16)
    return crop.astype(np.uint16) * np.uint16(257)  # uint8 after a deeper first frame


@dataclass(frozen=True)
class HoldOut:
    """Which frames validation keeps: blocks of `block` consecutive kept frames, in groups of `every`.

    The middle block of each group is a *test* block: it measures the trained renderer and chooses
    nothing. With `selection`, the first block of each group is a *selection* block: the job
    validates on those while it trains and exports the weights that did best there.

    Attributes:
        block: frames per block.
        every: blocks per group.
        guard: frames on each side of a held-out block used by no set.
        selection: hold out selection blocks too.
    """

    block: int = 10
    every: int = 8
    guard: int = 2
    selection: bool = True

    def __post_init__(self) -> None:
        if self.block < 1 or self.every < 2 or self.guard < 0:
            raise ValueError(f"need block >= 1, every >= 2, guard >= 0; got {self}")


@dataclass(frozen=True)
class Split:
    """Positions (into a TrainingSet's frames) of the training, test and selection frames.

    Attributes:
        train: (N,) int positions.
        validation: (M,) int positions of the test blocks.
        selection: (L,) int positions of the selection blocks (empty without `HoldOut.selection`).
        train_runs: runs of consecutive training positions (each a contiguous piece of the shot).
        validation_runs: the test blocks.
        selection_runs: the selection blocks.
    """

    train: np.ndarray
    validation: np.ndarray
    selection: np.ndarray
    train_runs: tuple[np.ndarray, ...]
    validation_runs: tuple[np.ndarray, ...]
    selection_runs: tuple[np.ndarray, ...]


def _runs(positions: np.ndarray, breaks: np.ndarray) -> tuple[np.ndarray, ...]:
    """Split sorted positions where they are not consecutive or where `breaks[pos]` starts a new piece."""
    if len(positions) == 0:
        return ()
    cut = np.flatnonzero((np.diff(positions) != 1) | breaks[positions[1:]]) + 1
    return tuple(np.split(positions, cut))


@dataclass(frozen=True, eq=False)
class TrainingSet:
    """A stored training set (see the module docstring); frames are in increasing frame index.

    Attributes:
        directory: where it is stored.
        layout: the crop layout the crops were cut with.
        pixel_aspect: width / height of a frame pixel.
        frame_index: (N,) int64 index of each frame in the shot's analysis.
        time: (N,) float64 seconds.
        crop_from_frame: (N, 3, 3) float64.
        landmarks: (N, 478, 3) float32 frame pixels, as given to the writer.
    """

    directory: Path
    layout: CropLayout
    pixel_aspect: float
    frame_index: np.ndarray
    time: np.ndarray
    crop_from_frame: np.ndarray
    landmarks: np.ndarray
    _crops: np.ndarray
    _slot: np.ndarray

    @classmethod
    def open(cls, shot_dir: str | os.PathLike[str]) -> TrainingSet:
        """Open the training set a `TrainingSetWriter` left in `shot_dir`.

        Raises:
            AnalysisMissing: no training set, or one that is incomplete or of another format (the
                message names the file and says to analyse the shot again).
        """
        directory = Path(shot_dir) / DATA_DIR
        meta_path, crops_path = directory / _META, directory / _CROPS
        if not meta_path.is_file() or not crops_path.is_file():
            raise AnalysisMissing(f"{directory}: no renderer training set (analyse the shot to make one)")
        try:
            with np.load(meta_path, allow_pickle=False) as meta:
                arrays = {key: meta[key] for key in meta.files}
            if str(arrays["format"]) != _FORMAT or int(arrays["version"]) != _VERSION:
                raise ValueError(f"format {arrays['format']} version {arrays['version']}")
            size, dtype = int(arrays["size"]), np.dtype(str(arrays["dtype"]))
            crops = np.memmap(crops_path, dtype=dtype, mode="r", shape=(int(arrays["slot_count"]), size, size, 3))
            layout_values = arrays["layout"]
            layout = CropLayout(int(layout_values[0]), float(layout_values[1]), float(layout_values[2]))
        except (KeyError, ValueError, OSError) as exc:
            raise AnalysisMissing(f"{meta_path}: unreadable renderer training set ({exc}); analyse the shot again") \
                from exc
        slot = arrays["slot"]
        if len(slot) < 2 or slot.max() >= len(crops) or arrays["landmarks"].shape[1:] != (LANDMARK_COUNT, 3):
            raise AnalysisMissing(f"{directory}: inconsistent renderer training set; analyse the shot again")
        return cls(directory=directory, layout=layout, pixel_aspect=float(arrays["pixel_aspect"]),
                   frame_index=arrays["frame_index"], time=arrays["time"],
                   crop_from_frame=arrays["crop_from_frame"], landmarks=arrays["landmarks"], _crops=crops,
                   _slot=slot)

    def __len__(self) -> int:
        return len(self.frame_index)

    @property
    def dtype(self) -> np.dtype:
        return self._crops.dtype

    def crop(self, position: int) -> np.ndarray:
        """(S, S, 3) the stored crop of frame `position` (uint8 or uint16)."""
        return np.array(self._crops[self._slot[position]])

    def time_breaks(self) -> np.ndarray:
        """(N,) bool: True where the stored frames jump in time (a gap of more than 1.5 strides)."""
        gaps = np.diff(self.frame_index)
        breaks = np.zeros(len(self), dtype=bool)
        if len(gaps):
            breaks[1:] = gaps > 1.5 * np.median(gaps)
        return breaks

    def split(self, hold_out: HoldOut | None = None, breaks: np.ndarray | None = None) -> Split:
        """Training, test and selection positions.

        Args:
            hold_out: the hold-out pattern.
            breaks: (N,) bool, True where a new piece of the shot starts (a scene cut); time gaps
                are added to it.

        Raises:
            ValueError: too few frames for a held-out block and a training run.
        """
        hold_out = hold_out or HoldOut()
        n = len(self)
        positions = np.arange(n)
        phase = (positions // hold_out.block) % hold_out.every
        held = phase == hold_out.every // 2
        chosen = (phase == 0) if hold_out.selection else np.zeros(n, dtype=bool)
        near = np.convolve((held | chosen).astype(int), np.ones(2 * hold_out.guard + 1, dtype=int), mode="same") > 0
        train = positions[~near]
        validation, selection = positions[held], positions[chosen]
        if len(validation) == 0 or len(train) < 2:
            raise ValueError(f"{n} frames are too few to hold out blocks of {hold_out.block} "
                             f"(in groups of {hold_out.every}) and keep training frames")
        all_breaks = self.time_breaks() | (np.zeros(n, bool) if breaks is None else np.asarray(breaks, bool))
        return Split(train=train, validation=validation, selection=selection, train_runs=_runs(train, all_breaks),
                     validation_runs=_runs(validation, all_breaks), selection_runs=_runs(selection, all_breaks))

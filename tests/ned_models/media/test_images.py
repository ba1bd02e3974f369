"""Single images and image sequences in and out: exact pixels in 8 and 16 bits, numbering, timing."""

from __future__ import annotations

import logging
from fractions import Fraction
from pathlib import Path

import cv2
import numpy as np
import pytest

from ned_models.media import (
    CorruptMedia,
    EmptyMedia,
    MediaNotFound,
    SourceKind,
    UnsupportedMedia,
    open_sink,
    open_source,
)
from tests.ned_models.media.synth import gradient_frames, write_still

JPEG_DECODER_TOLERANCE = 1.0  # mean |difference| between FFmpeg's and libjpeg's JPEG decoders (0..255)


def _sequence(folder: Path, numbers: list[int], dtype: type = np.uint8, name: str = "shot_{:04d}.png"
              ) -> list[np.ndarray]:
    folder.mkdir(exist_ok=True)
    frames = gradient_frames(len(numbers), 24, 40, dtype=dtype)
    for number, image in zip(numbers, frames, strict=True):
        write_still(folder / name.format(number), image)
    return frames


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16])
def test_single_png_in_and_out_is_exact(tmp_path: Path, dtype: type) -> None:
    image = gradient_frames(1, 24, 40, dtype=dtype)[0]
    write_still(tmp_path / "in.png", image)
    with open_source(tmp_path / "in.png") as source:
        assert source.info.kind is SourceKind.IMAGE and len(source) == 1
        assert source.info.dtype == dtype
        _, time_s, got = next(iter(source))
        assert time_s == 0.0
        np.testing.assert_array_equal(got, image)
        with open_sink(tmp_path / "out.png", source) as sink:
            sink.write(0, got)
    with open_source(tmp_path / "out.png") as reread:
        assert reread.info.bit_depth == (8 if dtype == np.uint8 else 16)
        np.testing.assert_array_equal(reread.read(0), image)


def test_sixteen_bit_tiff_output_keeps_uint16(tmp_path: Path) -> None:
    image = gradient_frames(1, 24, 40, dtype=np.uint16)[0]
    write_still(tmp_path / "in.png", image)
    with open_source(tmp_path / "in.png") as source, open_sink(tmp_path / "out.tif", source) as sink:
        sink.write(0, source.read(0))
    back = cv2.imread(str(tmp_path / "out.tif"), cv2.IMREAD_UNCHANGED)  # an independent reader
    assert back.dtype == np.uint16
    np.testing.assert_array_equal(back[:, :, ::-1], image)


def test_pattern_sequence_reads_in_number_order_with_timing(tmp_path: Path) -> None:
    frames = _sequence(tmp_path / "seq", [7, 8, 9, 10, 11])
    with open_source(tmp_path / "seq" / "shot_%04d.png", fps=24) as source:
        info = source.info
        assert info.kind is SourceKind.IMAGE_SEQUENCE
        assert info.frame_numbers == (7, 8, 9, 10, 11)
        assert [info.time_s(i) for i in range(len(source))] == [Fraction(i, 24) for i in range(5)]
        assert info.duration_s == Fraction(5, 24)
        for (index, _, image), expected in zip(source, frames, strict=True):
            np.testing.assert_array_equal(image, expected, err_msg=f"frame {index}")


def test_hash_pattern_and_folder_read_the_same_sequence(tmp_path: Path) -> None:
    frames = _sequence(tmp_path / "seq", [1, 2, 3, 10])  # 10 sorts before 2 as text, not as a number
    for spec in (tmp_path / "seq" / "shot_####.png", tmp_path / "seq"):
        with open_source(spec) as source:
            assert source.info.frame_numbers == (1, 2, 3, 10)
            np.testing.assert_array_equal(source.read(3), frames[3])


def test_gap_in_numbering_stays_a_gap_in_time(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    _sequence(tmp_path / "seq", [1, 2, 5])
    with caplog.at_level(logging.WARNING), open_source(tmp_path / "seq" / "shot_%04d.png", fps=25) as source:
        assert source.info.pts == (0, 1, 4)
        assert source.info.is_vfr
    assert "gaps" in caplog.text


def test_sequence_output_keeps_the_source_numbers(tmp_path: Path) -> None:
    frames = _sequence(tmp_path / "seq", [1001, 1002, 1004], dtype=np.uint16)
    out_dir = tmp_path / "out"  # does not exist yet: created whole on close
    with open_source(tmp_path / "seq") as source, open_sink(out_dir / "edit.%04d.png", source) as sink:
        for index, _, image in source:
            sink.write(index, image)
    assert sorted(p.name for p in out_dir.iterdir()) == ["edit.1001.png", "edit.1002.png", "edit.1004.png"]
    with open_source(out_dir / "edit.%04d.png") as reread:
        assert reread.info.dtype == np.uint16
        for (_, _, image), expected in zip(reread, frames, strict=True):
            np.testing.assert_array_equal(image, expected)


def test_video_to_sequence_in_an_existing_folder(tmp_path: Path) -> None:
    from tests.ned_models.media.synth import write_clip

    write_clip(tmp_path / "clip.mkv", gradient_frames(3, 24, 40), codec="ffv1", pix_fmt="bgr0")
    out_dir = tmp_path / "frames"
    out_dir.mkdir()
    (out_dir / "notes.txt").write_text("kept")
    with open_source(tmp_path / "clip.mkv") as source, open_sink(out_dir, source) as sink:
        for index, _, image in source:
            sink.write(index, image)
    names = sorted(p.name for p in out_dir.iterdir())
    assert names == ["frame_000001.png", "frame_000002.png", "frame_000003.png", "notes.txt"]


def test_single_image_output_needs_a_single_frame_source(tmp_path: Path) -> None:
    _sequence(tmp_path / "seq", [1, 2])
    with open_source(tmp_path / "seq") as source, pytest.raises(ValueError, match="single image holds one frame"):
        open_sink(tmp_path / "out.png", source)
    assert not (tmp_path / "out.png").exists()


def test_sequence_errors_name_the_problem(tmp_path: Path) -> None:
    with pytest.raises(MediaNotFound, match=r"shot_%04d\.png: no files match"):
        open_source(tmp_path / "shot_%04d.png")
    (tmp_path / "empty").mkdir()
    with pytest.raises(EmptyMedia, match="folder holds no image files"):
        open_source(tmp_path / "empty")
    mixed = tmp_path / "mixed"
    _sequence(mixed, [1])
    write_still(mixed / "other.tif", gradient_frames(1, 24, 40)[0])
    with pytest.raises(UnsupportedMedia, match=r"mixes image types \(\.png, \.tif\)"):
        open_source(mixed)


def test_frame_of_another_size_is_named(tmp_path: Path) -> None:
    _sequence(tmp_path / "seq", [1, 2])
    write_still(tmp_path / "seq" / "shot_0003.png", gradient_frames(1, 30, 40)[0])
    with open_source(tmp_path / "seq") as source, pytest.raises(CorruptMedia, match=r"shot_0003\.png: is 40x30"):
        list(source)


@pytest.mark.media
def test_real_stills_read_like_an_independent_decoder(media_dir: Path) -> None:
    png = media_dir / "stills" / "happy.png"
    with open_source(png) as source:
        assert (source.info.width, source.info.height, source.info.dtype) == (256, 256, np.uint8)
        np.testing.assert_array_equal(source.read(0), cv2.imread(str(png))[:, :, ::-1])
    jpeg = media_dir / "stills" / "source_s42.jpg"
    with open_source(jpeg) as source:
        assert source.info.kind is SourceKind.IMAGE and source.info.yuv_rule.full_range
        image = source.read(0).astype(np.float64)
    reference = cv2.imread(str(jpeg))[:, :, ::-1].astype(np.float64)
    assert np.abs(image - reference).mean() < JPEG_DECODER_TOLERANCE

"""Reading videos: exact timestamps, bit depth, rotation, seeking, and one-line errors for bad input."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from ned_models.media import (
    CorruptMedia,
    EmptyMedia,
    MediaNotFound,
    SourceKind,
    TruncatedMedia,
    UnsupportedMedia,
    open_source,
    probe,
)
from tests.ned_models.media.conftest import manifest_entries
from tests.ned_models.media.synth import decode_rgb, gradient_frames, write_clip

VFR_PTS = [0, 40, 80, 200, 210, 300, 333, 400, 520, 530]  # ms: irregular on purpose


@pytest.fixture
def vfr_clip(tmp_path: Path) -> Path:
    path = tmp_path / "vfr.mp4"
    write_clip(path, gradient_frames(len(VFR_PTS), 48, 64), pts=VFR_PTS, time_base=Fraction(1, 1000),
               audio="aac")
    return path


def test_vfr_timestamps_are_read_exactly(vfr_clip: Path) -> None:
    with open_source(vfr_clip) as source:
        info = source.info
        assert info.kind is SourceKind.VIDEO
        assert len(source) == len(VFR_PTS)
        times = [info.time_s(i) for i in range(len(source))]
        assert times == [Fraction(p, 1000) for p in VFR_PTS]
        assert info.is_vfr
        assert info.has_audio and info.audio_codecs == ("aac",)
        seen = [(index, time_s) for index, time_s, _ in source]
    assert seen == [(i, p / 1000) for i, p in enumerate(VFR_PTS)]


def test_frames_are_rgb_top_down_in_order(tmp_path: Path) -> None:
    frames = gradient_frames(6, 32, 48)
    path = tmp_path / "lossless.mkv"
    write_clip(path, frames, codec="ffv1", pix_fmt="bgr0")
    with open_source(path) as source:
        decoded = [image for _, _, image in source]
    assert all(d.shape == (32, 48, 3) and d.dtype == np.uint8 for d in decoded)
    for expected, got in zip(frames, decoded, strict=True):
        np.testing.assert_array_equal(got, expected)


def test_ten_bit_source_decodes_to_uint16(tmp_path: Path) -> None:
    frames = gradient_frames(3, 32, 48, dtype=np.uint16)
    path = tmp_path / "ten_bit.mp4"
    write_clip(path, frames, pix_fmt="yuv444p10le", options={"qp": "0"})  # lossless 10-bit 4:4:4
    with open_source(path) as source:
        assert source.info.bit_depth == 10
        assert source.info.dtype == np.uint16
        image = source.read(1)
    assert image.dtype == np.uint16
    # more than 256 distinct levels: the 10-bit precision reached the caller
    assert len(np.unique(image[..., 1])) > 256
    err = np.abs(image.astype(np.int64) - frames[1].astype(np.int64))
    assert err.mean() < 2 * 65535 / 1023  # within two 10-bit steps: only the RGB<->YUV rounding


def test_rotation_metadata_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "rotated.mp4"
    write_clip(path, gradient_frames(3, 32, 48), rotation=90)
    with open_source(path) as source:
        assert source.info.rotation == 90
        assert source.read(0).shape == (32, 48, 3)  # frames stay as stored


def test_missing_file_names_the_problem(tmp_path: Path) -> None:
    path = tmp_path / "nothing_here.mp4"
    with pytest.raises(MediaNotFound, match=r"nothing_here\.mp4: no such file"):
        open_source(path)


def test_text_file_renamed_mp4_is_not_a_video(tmp_path: Path) -> None:
    path = tmp_path / "notes.mp4"
    path.write_text("this is a text file, not a video\n")
    with pytest.raises(UnsupportedMedia, match=r"notes\.mp4: not a video or image file") as caught:
        open_source(path)
    assert "\n" not in str(caught.value)


def test_empty_file_is_reported_as_empty(tmp_path: Path) -> None:
    path = tmp_path / "empty.mp4"
    path.touch()
    with pytest.raises(UnsupportedMedia, match=r"empty\.mp4: file is empty"):
        open_source(path)


def test_mp4_cut_before_its_index_is_reported_damaged(tmp_path: Path) -> None:
    whole = tmp_path / "whole.mp4"
    write_clip(whole, gradient_frames(20, 32, 48))  # no faststart: the index (moov) is at the end
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    with pytest.raises(UnsupportedMedia, match=r"cut\.mp4: MP4/MOV file is damaged or truncated"):
        open_source(cut)


def test_audio_only_file_has_no_video_stream(tmp_path: Path) -> None:
    import av

    path = tmp_path / "tone.m4a"
    with av.open(str(path), "w", format="mp4") as output:
        stream = output.add_stream("aac", rate=44100, layout="mono")
        frame = av.AudioFrame.from_ndarray(np.zeros((1, 1024), np.float32), format="flt", layout="mono")
        frame.sample_rate, frame.pts = 44100, 0
        for packet in [*stream.encode(frame), *stream.encode(None)]:
            output.mux(packet)
    with pytest.raises(UnsupportedMedia, match=r"tone\.m4a: has no video stream \(audio\)"):
        open_source(path)


def test_corrupt_frame_in_the_middle_is_named(tmp_path: Path) -> None:
    import av

    path = tmp_path / "damaged.mp4"
    write_clip(path, gradient_frames(12, 64, 64))
    with av.open(str(path)) as container:
        packets = [(p.pos, p.size) for p in container.demux(video=0) if p.size]
    pos, size = packets[5]
    data = bytearray(path.read_bytes())
    data[pos:pos + size] = bytes(size)  # frame 5's data zeroed: its packet can no longer be parsed
    path.write_bytes(bytes(data))
    with open_source(path) as source:
        assert len(source) == 12  # the damage is inside the data: the file looks whole until decoded
        with pytest.raises(CorruptMedia, match=r"damaged\.mp4: frame 5 of 12 \(t=0\.200 s\) does not decode"):
            for _ in source:
                pass


def test_zero_frame_video_is_empty(tmp_path: Path) -> None:
    import av

    path = tmp_path / "no_frames.mp4"
    with av.open(str(path), "w") as output:
        stream = output.add_stream("libx264", rate=25)
        stream.width, stream.height, stream.pix_fmt = 32, 32, "yuv420p"
        audio = output.add_stream("aac", rate=44100, layout="mono")
        frame = av.AudioFrame.from_ndarray(np.zeros((1, 1024), np.float32), format="flt", layout="mono")
        frame.sample_rate, frame.pts = 44100, 0
        for packet in [*audio.encode(frame), *audio.encode(None)]:
            output.mux(packet)
    with pytest.raises((EmptyMedia, UnsupportedMedia), match=r"no_frames\.mp4: "):
        open_source(path)


def test_range_and_read_arguments_are_checked(vfr_clip: Path) -> None:
    with open_source(vfr_clip) as source:
        with pytest.raises(ValueError, match="frame range"):
            source.frames(3, 99)
        with pytest.raises(IndexError):
            source.read(len(source))
    with pytest.raises(ValueError, match="closed"):
        source.frames()


@pytest.mark.media
def test_truncated_mead_clip_is_refused_with_both_counts(media_dir: Path) -> None:
    path = media_dir / "mead" / "video_sad.mp4"
    with pytest.raises(TruncatedMedia, match=r"video_sad\.mp4: only 110 of 157 frames decode") as caught:
        open_source(path)
    assert (caught.value.decodable, caught.value.declared) == (110, 157)
    assert "\n" not in str(caught.value)


@pytest.mark.media
def test_truncated_clip_with_allow_truncated_reads_the_decodable_frames(media_dir: Path) -> None:
    path = media_dir / "mead" / "video_sad.mp4"
    with open_source(path, allow_truncated=True) as source:
        assert source.info.truncated and source.info.declared_frames == 157
        assert len(source) == 110
        count = sum(1 for _ in source)
    assert count == 110 == probe(path).decoded_frames


@pytest.mark.media
@pytest.mark.parametrize("entry", [e for e in manifest_entries() if e["path"].startswith("talking/")]
                         or [{"path": "<shared media missing>"}], ids=lambda e: e["path"])
def test_talking_clip_metadata_matches_the_manifest(media_dir: Path, entry: dict) -> None:
    with open_source(media_dir / entry["path"]) as source:
        info = source.info
        assert len(source) == entry["frames"]
        assert f"{info.width}x{info.height}" == entry["res"]
        assert info.has_audio == entry["audio"]
        assert float(info.frame_rate) == pytest.approx(entry["fps"], abs=0.01)
        assert float(info.duration_s) == pytest.approx(entry["dur_s"], abs=0.05)
        assert info.dtype == np.uint8


@pytest.mark.media
def test_seeking_is_frame_accurate(media_dir: Path) -> None:
    path = media_dir / "talking" / "liveportrait_d12.mp4"  # H.264 with B-frames
    reference = decode_rgb(path)
    with open_source(path) as source:
        sequential = [image for _, _, image in source.frames(0, 60)]
        for index in (0, 1, 17, 30, 59, len(source) - 1):
            np.testing.assert_array_equal(source.read(index), _as_source_rgb(source, index, sequential))
        run = [index for index, _, _ in source.frames(37, 45)]
    assert run == list(range(37, 45))
    assert len(reference) == len(source)


def _as_source_rgb(source, index: int, sequential: list[np.ndarray]) -> np.ndarray:
    if index < len(sequential):
        return sequential[index]
    return [image for _, _, image in source.frames(index - 2, index + 1)][-1]


FAST_RGB_TOLERANCE = 2.0  # mean |difference| of the fast YUV->RGB path from the exact one (0..255)


@pytest.mark.media
def test_fast_conversion_is_close_to_exact_but_not_equal(media_dir: Path) -> None:
    path = media_dir / "wide" / "source_s32.mp4"  # 1280x720
    with open_source(path) as source:
        exact = [image for _, _, image in source.frames(0, 4)]
        fast = [image for _, _, image in source.frames(0, 4, exact=False)]
    differences = [np.abs(a.astype(np.int64) - b).mean() for a, b in zip(exact, fast, strict=True)]
    assert all(0 < d < FAST_RGB_TOLERANCE for d in differences)

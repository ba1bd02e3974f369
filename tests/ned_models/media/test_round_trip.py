"""Read -> write round trips: frame count, timestamps, duration and audio packets survive exactly.

The acceptance test of issue #6 runs on every talking/ clip with audio: the output's frames, their
presentation times and the stream's end equal the input's to the tick, the audio packets are the same
bytes at the same times, and the frames decoded from the output are the frames that were written
(pixel-exact for FFV1, within H.264's loss otherwise).
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from ned_models.media import MediaInfo, open_sink, open_source, probe
from tests.ned_models.media.conftest import talking_clips_with_audio
from tests.ned_models.media.synth import decode_rgb, gradient_frames, psnr, write_clip

H264_MIN_PSNR_DB = 40.0  # CRF 16, default preset: visually transparent
H264_FAST_MIN_PSNR_DB = 36.0  # CRF 16 with the ultrafast preset the tests use to save time
PRORES_MIN_PSNR_DB = 45.0
MATROSKA_TICK = Fraction(1, 1000)  # Matroska stores times in milliseconds
MAX_LUMA_DRIFT = 0.25  # mean code-value shift of a decode + encode round trip (swscale accuracy)


def _read_all(path: Path) -> list[np.ndarray]:
    """Frames of `path` read back through open_source (swscale's default YUV->RGB is biased by about
    one code value, so an independent default decode would blur what this checks)."""
    with open_source(path) as source:
        return [image for _, _, image in source]


def _copy_through(source_path: Path, out: Path, **sink_options) -> list[np.ndarray]:
    """Read every frame and write it unchanged; returns the frames written."""
    written = []
    with open_source(source_path) as source, open_sink(out, source, **sink_options) as sink:
        for index, _, image in source:
            sink.write(index, image)
            written.append(image)
    return written


def _assert_same_timing_and_audio(before: MediaInfo, after: MediaInfo, *, tick: Fraction | None = None) -> None:
    assert after.decoded_frames == before.decoded_frames
    assert after.decode_error is None
    if tick is None:
        assert after.pts_s == before.pts_s
        assert after.end_s == before.end_s
    else:
        assert max(abs(a - b) for a, b in zip(after.pts_s, before.pts_s, strict=True)) <= tick / 2
        assert abs(after.end_s - before.end_s) <= tick
    assert len(after.audio) == len(before.audio)
    for a, b in zip(after.audio, before.audio, strict=True):
        assert (a.codec, a.sample_rate, a.channels, a.packets, a.size_bytes) == \
               (b.codec, b.sample_rate, b.channels, b.packets, b.size_bytes)
        assert a.data_digest == b.data_digest  # the same payload bytes, packet by packet
        if tick is None:
            assert a.digest == b.digest  # ... at the same times
            assert (a.start_s, a.end_s) == (b.start_s, b.end_s)
        else:
            assert abs(a.start_s - b.start_s) <= tick / 2


@pytest.mark.media
@pytest.mark.slow
@pytest.mark.parametrize("clip", talking_clips_with_audio())
def test_h264_round_trip_keeps_frames_timing_and_audio(media_dir: Path, manifest: dict, clip: str,
                                                       tmp_path: Path) -> None:
    source_path = media_dir / clip
    out = tmp_path / "out.mp4"
    # the x264 speed preset changes compression only; the timing and audio paths are the default ones
    written = _copy_through(source_path, out, preset="ultrafast")
    before, after = probe(source_path), probe(out)
    assert before.decoded_frames == manifest[clip]["frames"]
    _assert_same_timing_and_audio(before, after)
    assert (after.width, after.height, after.sample_aspect) == (before.width, before.height, before.sample_aspect)
    worst = min(psnr(w, d) for w, d in zip(written, _read_all(out), strict=True))
    assert worst >= H264_FAST_MIN_PSNR_DB


@pytest.mark.media
def test_h264_default_settings_round_trip(media_dir: Path, tmp_path: Path) -> None:
    # retalking_1 is variable-rate and starts at 33 ms; RD_Radio10 drops a frame and trims one by edit list
    for clip in ("talking/retalking_1.mp4", "talking/RD_Radio10_0_clip_0.mp4"):
        out = tmp_path / (Path(clip).stem + ".mp4")
        written = _copy_through(media_dir / clip, out)
        before, after = probe(media_dir / clip), probe(out)
        _assert_same_timing_and_audio(before, after)
        decoded = _read_all(out)
        drift = np.mean([d.astype(np.float64).mean() - w.astype(np.float64).mean()
                         for w, d in zip(written, decoded, strict=True)])
        assert abs(drift) <= MAX_LUMA_DRIFT
        assert min(psnr(w, d) for w, d in zip(written, decoded, strict=True)) >= H264_MIN_PSNR_DB


@pytest.mark.media
@pytest.mark.parametrize("clip", ["talking/RD_Radio10_0_clip_0.mp4", "talking/retalking_5.mp4"])
def test_ffv1_round_trip_is_pixel_exact(media_dir: Path, clip: str, tmp_path: Path) -> None:
    out = tmp_path / "out.mkv"
    written = _copy_through(media_dir / clip, out, codec="ffv1")
    with open_source(out) as reread:
        assert len(reread) == len(written)
        for (_, _, image), expected in zip(reread, written, strict=True):
            np.testing.assert_array_equal(image, expected)
    before, after = probe(media_dir / clip), probe(out)
    _assert_same_timing_and_audio(before, after, tick=MATROSKA_TICK)


@pytest.mark.media
def test_prores_round_trip_is_ten_bit_and_keeps_timing(media_dir: Path, tmp_path: Path) -> None:
    clip = media_dir / "talking" / "RD_Radio10_0_clip_0.mp4"
    out = tmp_path / "out.mov"
    written = _copy_through(clip, out, codec="prores")
    after = probe(out)
    assert after.codec == "prores" and after.pix_fmt == "yuv422p10le"
    _assert_same_timing_and_audio(probe(clip), after)
    decoded = _read_all(out)
    assert all(d.dtype == np.uint16 for d in decoded)  # a 10-bit file reads back as 16-bit
    # 8-bit v on the 16-bit scale is v * 257
    assert min(psnr(w.astype(np.float64) * 257, d, peak=65535.0)
               for w, d in zip(written, decoded, strict=True)) >= PRORES_MIN_PSNR_DB


def test_sample_aspect_is_kept(tmp_path: Path) -> None:
    anamorphic = tmp_path / "anamorphic.mp4"
    write_clip(anamorphic, gradient_frames(3, 32, 48), sample_aspect=Fraction(4, 3))
    with open_source(anamorphic) as source:
        assert source.info.sample_aspect == Fraction(4, 3)
    for out, codec in ((tmp_path / "out.mp4", "h264"), (tmp_path / "out.mov", "prores")):
        _copy_through(anamorphic, out, codec=codec)
        assert probe(out).sample_aspect == Fraction(4, 3)
    _copy_through(anamorphic, tmp_path / "png" / "f_%02d.png")  # PNG keeps it in its pHYs chunk
    with open_source(tmp_path / "png") as frames:
        assert frames.info.sample_aspect == Fraction(4, 3)
    with open_source(anamorphic) as source, pytest.raises(ValueError, match="would lose the source's 4/3 pixel"):
        open_sink(tmp_path / "out.mkv", source, codec="ffv1")  # refused rather than squashed
    assert not (tmp_path / "out.mkv").exists()


@pytest.mark.media
def test_real_clip_sample_aspect_is_read(media_dir: Path) -> None:
    with open_source(media_dir / "expressive" / "liveportrait_d9.mp4") as source:
        assert source.info.sample_aspect == Fraction(15, 16)


VFR_PTS = [0, 40, 80, 200, 210, 300, 333, 400, 520, 530]


@pytest.mark.parametrize(("suffix", "codec"), [(".mp4", "h264"), (".mov", "prores"), (".mkv", "ffv1")])
def test_variable_frame_rate_survives(tmp_path: Path, suffix: str, codec: str) -> None:
    source_path = tmp_path / "vfr.mp4"
    write_clip(source_path, gradient_frames(len(VFR_PTS), 48, 64), pts=VFR_PTS, time_base=Fraction(1, 1000),
               audio="aac", options={"bf": "0"})
    out = tmp_path / f"out{suffix}"
    written = _copy_through(source_path, out, codec=codec)
    before, after = probe(source_path), probe(out)
    assert after.pts_s == tuple(Fraction(p, 1000) for p in VFR_PTS)
    assert before.end_s == Fraction(540, 1000)
    _assert_same_timing_and_audio(before, after, tick=MATROSKA_TICK if codec == "ffv1" else None)
    if codec == "ffv1":
        for expected, got in zip(written, decode_rgb(out), strict=True):
            np.testing.assert_array_equal(got, expected)


def test_sixteen_bit_source_stays_sixteen_bit_in_ffv1(tmp_path: Path) -> None:
    source_path = tmp_path / "deep.mkv"
    frames = gradient_frames(4, 32, 48, dtype=np.uint16)
    write_clip(source_path, frames, codec="ffv1", pix_fmt="rgb48le")
    out = tmp_path / "out.mkv"
    written = _copy_through(source_path, out, codec="ffv1")
    assert all(w.dtype == np.uint16 for w in written)
    for expected, original, got in zip(written, frames, decode_rgb(out, np.uint16), strict=True):
        np.testing.assert_array_equal(expected, original)
        np.testing.assert_array_equal(got, original)


def test_rotation_is_written_back(tmp_path: Path) -> None:
    source_path = tmp_path / "rotated.mp4"
    write_clip(source_path, gradient_frames(3, 32, 48), rotation=270)
    out = tmp_path / "out.mp4"
    _copy_through(source_path, out)
    assert probe(out).rotation == probe(source_path).rotation == 270


def test_odd_sizes_are_kept_with_full_chroma(tmp_path: Path) -> None:
    source_path = tmp_path / "odd.mkv"
    write_clip(source_path, gradient_frames(3, 33, 47), codec="ffv1", pix_fmt="bgr0")
    for out, codec in ((tmp_path / "out.mp4", "h264"), (tmp_path / "out.mov", "prores")):
        _copy_through(source_path, out, codec=codec)
        info = probe(out)
        assert (info.width, info.height, info.decoded_frames) == (47, 33, 3)
        assert info.pix_fmt.startswith("yuv444")


@pytest.mark.parametrize(("x264_params", "expected"), [
    ("colorprim=bt709:transfer=bt709:colormatrix=bt709", (1, 1, 1)),  # tagged BT.709 stays BT.709
    (None, (2, 2, 2)),  # untagged stays untagged, so players guess the same for input and output
])
def test_colour_tags_follow_the_source(tmp_path: Path, x264_params: str | None, expected: tuple) -> None:
    import av

    source_path = tmp_path / "tagged.mp4"
    write_clip(source_path, gradient_frames(3, 32, 48), options={"x264-params": x264_params} if x264_params else None)
    out = tmp_path / "out.mp4"
    _copy_through(source_path, out)
    for path in (source_path, out):
        with av.open(str(path)) as container:
            frame = next(container.decode(video=0))
            assert (frame.colorspace, frame.color_primaries, frame.color_trc) == expected

"""Writing outputs: all or nothing, destination problems found before any work, audio compatibility."""

from __future__ import annotations

import gc
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from ned_models.media import (
    AudioCopyError,
    MediaSource,
    OutputError,
    check_writable,
    open_sink,
    open_source,
    probe,
)
from tests.ned_models.media.synth import gradient_frames, write_clip

FRAMES = 6


@pytest.fixture
def clip(tmp_path: Path) -> Path:
    """A short H.264 clip with AAC audio in its own folder, so tests can list what else appears there."""
    folder = tmp_path / "work"
    folder.mkdir()
    path = folder / "clip.mp4"
    write_clip(path, gradient_frames(FRAMES, 32, 48), audio="aac")
    return path


def _write_all(source: MediaSource, sink) -> None:
    for index, _, image in source:
        sink.write(index, image)


def _names(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def test_unwritable_folder_fails_before_any_work(clip: Path, unwritable_dir: Path) -> None:
    target = unwritable_dir / "out.mp4"
    with pytest.raises(OutputError, match=r"out\.mp4: cannot write in") as caught:
        check_writable(target)
    assert "\n" not in str(caught.value)
    with open_source(clip) as source, pytest.raises(OutputError, match="cannot write in"):
        open_sink(target, source)
    assert not target.exists()


def test_missing_folder_and_folder_as_file_are_refused(clip: Path) -> None:
    with pytest.raises(OutputError, match=r"folder .*missing_dir does not exist"):
        check_writable(clip.parent / "missing_dir" / "out.mp4")
    with pytest.raises(OutputError, match="is a folder, not an output file"):
        check_writable(clip.parent)


def test_check_writable_creates_nothing(clip: Path) -> None:
    before = _names(clip.parent)
    assert check_writable(clip.parent / "out.mp4") == (clip.parent / "out.mp4").absolute()
    assert _names(clip.parent) == before


def test_existing_output_needs_overwrite(clip: Path) -> None:
    target = clip.parent / "out.mp4"
    target.write_bytes(b"precious")
    with open_source(clip) as source:
        with pytest.raises(OutputError, match=r"out\.mp4: already exists"):
            open_sink(target, source)
        assert target.read_bytes() == b"precious"
        with open_sink(target, source, overwrite=True) as sink:
            _write_all(source, sink)
    assert probe(target).decoded_frames == FRAMES
    assert _names(clip.parent) == ["clip.mp4", "out.mp4"]


@pytest.mark.parametrize("failure", [RuntimeError("edit failed"), KeyboardInterrupt()])
def test_failure_inside_with_leaves_nothing(clip: Path, failure: BaseException) -> None:
    with open_source(clip) as source, pytest.raises(type(failure)):
        with open_sink(clip.parent / "out.mp4", source) as sink:
            for index, _, image in source:
                sink.write(index, image)
                if index == 2:
                    raise failure
    assert _names(clip.parent) == ["clip.mp4"]


def test_abort_and_incomplete_close_leave_nothing(clip: Path) -> None:
    with open_source(clip) as source:
        sink = open_sink(clip.parent / "out.mp4", source)
        sink.write(0, source.read(0))
        assert len(_names(clip.parent)) == 2  # the hidden partial file
        sink.abort()
        assert _names(clip.parent) == ["clip.mp4"]
        with pytest.raises(OutputError, match="aborted"):
            sink.write(1, source.read(1))
        short = open_sink(clip.parent / "short.mp4", source)
        short.write(0, source.read(0))
        with pytest.raises(OutputError, match=rf"only 1 of {FRAMES} frames were written; nothing was saved"):
            short.close()
    assert _names(clip.parent) == ["clip.mp4"]


def test_dropped_sink_removes_its_partial_file(clip: Path) -> None:
    with open_source(clip) as source:
        sink = open_sink(clip.parent / "out.mp4", source)
        sink.write(0, source.read(0))
        del sink
        gc.collect()
    assert _names(clip.parent) == ["clip.mp4"]


def test_bad_frames_are_refused_and_the_sink_stays_usable(clip: Path) -> None:
    target = clip.parent / "out.mp4"
    with open_source(clip) as source, open_sink(target, source) as sink:
        good = source.read(0)
        with pytest.raises(ValueError, match="dtype uint16 does not match the source's uint8"):
            sink.write(0, good.astype(np.uint16))
        with pytest.raises(ValueError, match=r"shape \(32, 47, 3\) does not match"):
            sink.write(0, good[:, :47])
        with pytest.raises(ValueError, match="frame 1 written out of order: .* expects frame 0"):
            sink.write(1, good)
        _write_all(source, sink)
    assert probe(target).decoded_frames == FRAMES


def test_codec_must_fit_the_container(clip: Path) -> None:
    with open_source(clip) as source:
        with pytest.raises(ValueError, match=r"prores goes into \.mkv, \.mov files, not \.mp4"):
            open_sink(clip.parent / "out.mp4", source, codec="prores")
        with pytest.raises(ValueError, match=r"unknown output type \.avi"):
            open_sink(clip.parent / "out.avi", source)
    assert _names(clip.parent) == ["clip.mp4"]


def test_rewriting_the_input_in_place_is_safe(clip: Path) -> None:
    """The source is read until close(); the rename replaces it only then."""
    before = probe(clip)
    with open_source(clip) as source, open_sink(clip, source, overwrite=True) as sink:
        _write_all(source, sink)
    after = probe(clip)
    assert after.pts_s == before.pts_s
    assert after.audio[0].digest == before.audio[0].digest


@pytest.fixture
def mulaw_clip(tmp_path: Path) -> Path:
    """A QuickTime clip with G.711 mu-law audio, which MP4 cannot hold."""
    path = tmp_path / "mulaw.mov"
    write_clip(path, gradient_frames(FRAMES, 32, 48), audio="pcm_mulaw")
    return path


def test_audio_that_cannot_go_into_the_container_is_refused(mulaw_clip: Path) -> None:
    with open_source(mulaw_clip) as source:
        assert source.info.audio_codecs == ("pcm_mulaw",)
        with pytest.raises(AudioCopyError, match=r"mulaw\.mov: its pcm_mulaw audio cannot be copied unchanged"):
            open_sink(mulaw_clip.parent / "out.mp4", source)
    assert _names(mulaw_clip.parent) == ["mulaw.mov"]


def test_audio_is_copied_where_the_container_allows_it(mulaw_clip: Path) -> None:
    out = mulaw_clip.parent / "out.mov"
    with open_source(mulaw_clip) as source, open_sink(out, source) as sink:
        _write_all(source, sink)
    assert probe(out).audio[0].digest == probe(mulaw_clip).audio[0].digest


def test_audio_is_reencoded_or_dropped_only_on_request(mulaw_clip: Path) -> None:
    with open_source(mulaw_clip) as source:
        with open_sink(mulaw_clip.parent / "aac.mp4", source, audio="aac") as sink:
            _write_all(source, sink)
        with open_sink(mulaw_clip.parent / "silent.mp4", source, audio="none") as sink:
            _write_all(source, sink)
    original, aac = probe(mulaw_clip).audio[0], probe(mulaw_clip.parent / "aac.mp4").audio[0]
    assert aac.codec == "aac"
    aac_frame = Fraction(1024, aac.sample_rate)  # AAC codes 1024 samples per packet
    assert abs(aac.end_s - original.end_s) <= aac_frame  # the same stretch of time
    assert original.start_s - aac_frame <= aac.start_s <= original.start_s  # priming comes first
    assert probe(mulaw_clip.parent / "silent.mp4").audio == ()


def test_sequence_output_is_all_or_nothing(clip: Path) -> None:
    out_dir = clip.parent / "frames"
    with open_source(clip) as source, pytest.raises(RuntimeError):
        with open_sink(out_dir / "f_%03d.png", source) as sink:
            for index, _, image in source:
                sink.write(index, image)
                if index == 3:
                    raise RuntimeError("stop")
    assert _names(clip.parent) == ["clip.mp4"]
    out_dir.mkdir()
    (out_dir / "f_002.png").write_bytes(b"someone else's")
    with open_source(clip) as source, pytest.raises(OutputError, match=r"f_002\.png: already exists"):
        open_sink(out_dir / "f_%03d.png", source)
    assert _names(out_dir) == ["f_002.png"]
    assert _names(clip.parent) == ["clip.mp4", "frames"]

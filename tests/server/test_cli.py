"""`ned-emotion` end to end: the real console script, a real ned-server, real clips.

Every run goes through the installed `ned-emotion` in a subprocess, exactly as a user runs it.
Runs that pass --server share one private server (module scope), which the tests also call
directly to render frames and compare them with what the CLI wrote.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import av
import numpy as np
import pytest
from ned_server.cli_job import shot_id_for
from ned_server.client import LocalServer, NedClient, free_port
from ned_server.keyframes import IntensityCurve, parse_keyframes

from ned_models.edit import EditParams, Emotion
from ned_models.media import open_source, probe

SHORT_CLIP = "talking/RD_Radio10_0_clip_0.mp4"   # 61 frames, 29.97 fps (variable timing), 512x512, AAC
SECOND_CLIP = "talking/retalking_5.mp4"          # 122 frames, 25 fps, 524x524, AAC
TRUNCATED_CLIP = "mead/video_sad.mp4"            # only 110 of 157 frames decode
RUN_TIMEOUT_S = 300


def ned_emotion() -> Path:
    script = Path(sys.executable).parent / "ned-emotion"
    if not script.is_file():
        pytest.fail(f"the ned-emotion console script is not installed next to {sys.executable}; "
                    "run `python3 build.py setup`")
    return script


def run(*args: object, timeout: float = RUN_TIMEOUT_S) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(ned_emotion()), *map(str, args)], capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="module")
def server() -> Iterator[LocalServer]:
    with LocalServer() as s:
        yield s


@pytest.fixture(scope="module")
def faceless_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Ten frames of scikit-image's coffee cup, panning: a real video without a face."""
    import skimage.data

    path = tmp_path_factory.mktemp("faceless") / "coffee.mp4"
    image = skimage.data.coffee()[:400, :600]
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=25)
        stream.width, stream.height, stream.pix_fmt = 600, 400, "yuv420p"
        for i in range(10):
            frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(np.roll(image, 3 * i, axis=1)), format="rgb24")
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    return path


def assert_same_timing_and_audio(source: Path, output: Path) -> None:
    a, b = probe(source), probe(output)
    assert b.decoded_frames == a.decoded_frames, f"{output}: {b.decoded_frames} frames, source {a.decoded_frames}"
    assert b.pts_s == a.pts_s, "frame timestamps differ"
    assert b.duration_s == a.duration_s, f"duration {b.duration_s} != {a.duration_s}"
    assert (b.width, b.height, b.sample_aspect) == (a.width, a.height, a.sample_aspect)
    assert len(b.audio) == len(a.audio) >= 1
    for x, y in zip(a.audio, b.audio, strict=True):
        assert (y.codec, y.packets, y.size_bytes, y.data_digest) == (x.codec, x.packets, x.size_bytes, x.data_digest)


def assert_one_line_error(result: subprocess.CompletedProcess[str], *fragments: str) -> None:
    lines = result.stderr.strip().splitlines()
    assert result.returncode != 0, f"exit 0 for a bad input; stderr: {result.stderr}"
    assert len(lines) == 1, f"expected one line on stderr, got:\n{result.stderr}"
    assert lines[0].startswith("ned-emotion: error: "), lines[0]
    assert "Traceback" not in result.stderr
    for fragment in fragments:
        assert fragment in lines[0], f"{fragment!r} not in {lines[0]!r}"


def folder_is_empty(folder: Path) -> bool:
    return not any(folder.iterdir())  # hidden partial files count too


# --------------------------------------------------------------------------------------- good runs
@pytest.mark.media
def test_edit_keeps_frames_timing_and_audio_with_a_private_server(media_dir, tmp_path):
    source = media_dir / SHORT_CLIP
    output, preview = tmp_path / "sad.mp4", tmp_path / "sad_preview.mp4"
    result = run(source, "-o", output, "--emotion", "sad", "--intensity", "1", "--preview", preview)
    assert result.returncode == 0, result.stderr
    assert f"wrote {output}: 61 frames" in result.stdout and "audio aac copied" in result.stdout
    assert "face 0 edited in 61 of 61 frames" in result.stdout
    assert_same_timing_and_audio(source, output)

    shown = probe(preview)
    assert (shown.decoded_frames, shown.width, shown.height) == (61, 1024, 512)
    assert shown.pts_s == probe(source).pts_s and shown.audio[0].data_digest == probe(source).audio[0].data_digest
    with open_source(source) as src, open_source(output) as out:
        change = np.abs(src.read(30).astype(np.int16) - out.read(30)).max(axis=2)
    assert np.count_nonzero(change > 12) > 200, "the face was not edited"


@pytest.mark.media
def test_written_frames_are_what_the_server_returns(media_dir, tmp_path, server):
    source_path = media_dir / SECOND_CLIP
    output = tmp_path / "happy.mkv"
    result = run(source_path, "-o", output, "--codec", "ffv1", "--emotion", "happy", "--intensity", "0.8",
                 "--mouth", "0.7", "--feather", "0.4", "--server", server.address)
    assert result.returncode == 0, result.stderr
    assert_same_timing_and_audio(source_path, output)

    params = EditParams(emotion=Emotion.HAPPY, intensity=0.8, mouth_preservation=0.7, feather=0.4)
    with open_source(source_path) as source, open_source(output) as written, NedClient(server.address) as client:
        shot = shot_id_for(source)
        assert client.get_shot(shot).frames_analysed == len(source)
        rate = float(source.info.frame_rate)
        edited = 0
        for t in range(0, len(source), 15):
            frame = source.read(t)
            rendered = client.render_frame(shot, float(t), frame, params, frame_rate=rate)
            expected = rendered.apply(frame)
            got = written.read(t)
            assert np.array_equal(got, expected), f"frame {t}: {np.count_nonzero(got != expected)} values differ"
            edited += not np.array_equal(got, frame)
    assert edited >= 8, "the server's edit left the frames unchanged"


@pytest.mark.media
def test_keyframed_ramp_shows_as_rising_edit_magnitude(media_dir, tmp_path, server):
    source = media_dir / SHORT_CLIP
    output, report = tmp_path / "ramp.mp4", tmp_path / "ramp.json"
    keys = "0:0,1.5s:1"
    result = run(source, "-o", output, "--emotion", "surprised", "--keyframes", keys, "--report", report,
                 "--server", server.address)
    assert result.returncode == 0, result.stderr
    document = json.loads(report.read_text())
    frames = document["per_frame"]
    intensity, magnitude = np.array(frames["intensity"]), np.array(frames["edit_magnitude"], dtype=float)
    with open_source(source) as src:
        times = np.array([float(src.info.time_s(i) - src.info.start_s) for i in range(len(src))])
    expected = IntensityCurve(parse_keyframes(keys), times).per_frame(len(times))
    assert intensity == pytest.approx(expected, abs=1e-4)

    # The edit's size also follows the actor (speech, their own expression), so each frame is judged
    # against the same frame edited at full intensity: the ratio must follow the ramp.
    full_report = tmp_path / "full.json"
    full = run(source, "-o", tmp_path / "full.mp4", "--emotion", "surprised", "--intensity", "1", "--report",
               full_report, "--server", server.address, "-q")
    assert full.returncode == 0, full.stderr
    full_magnitude = np.array(json.loads(full_report.read_text())["per_frame"]["edit_magnitude"], dtype=float)
    ramp = np.flatnonzero((expected > 0) & (expected < 1) & (full_magnitude > 0))
    assert len(ramp) >= 40 and magnitude[0] == 0.0 and frames["status"][0] == "unchanged"
    share = magnitude[ramp] / full_magnitude[ramp]
    quarters = [float(np.mean(q)) for q in np.array_split(share, 4)]
    assert quarters == sorted(quarters) and quarters[-1] > 3 * quarters[0], f"ramp / full-edit magnitudes {quarters}"
    assert np.corrcoef(intensity[ramp], share)[0, 1] > 0.95

    evaluation = document["evaluation"]
    assert evaluation is not None, document.get("evaluation_skipped")
    assert evaluation["frame_count"] == 61 and evaluation["target"] == "surprised"
    edited = [t for t, s in enumerate(frames["status"]) if s == "edited"]
    assert [p["frame"] for p in document["placements"]] == edited
    assert (tmp_path / "ramp_sheet.png").is_file()


@pytest.mark.media
def test_png_sequence_output_holds_the_edited_frames(media_dir, tmp_path, server):
    source_path, frames = media_dir / SHORT_CLIP, tmp_path / "frames"
    frames.mkdir()
    result = run(source_path, "-o", frames, "--codec", "png", "--emotion", "angry", "--server", server.address, "-q")
    assert result.returncode == 0, result.stderr
    files = sorted(frames.iterdir())
    assert [f.name for f in files] == [f"frame_{i:06d}.png" for i in range(1, 62)]
    with open_source(source_path) as source, open_source(files[40]) as still, NedClient(server.address) as client:
        frame = source.read(40)
        rendered = client.render_frame(shot_id_for(source), 40.0, frame, EditParams(emotion=Emotion.ANGRY),
                                       frame_rate=float(source.info.frame_rate))
        assert np.array_equal(still.read(0), rendered.apply(frame))


@pytest.mark.media
def test_truncated_video_is_refused_unless_allowed(media_dir, tmp_path, server):
    source = media_dir / TRUNCATED_CLIP
    output = tmp_path / "sad.mp4"
    refused = run(source, "-o", output, "--emotion", "sad", "-q")
    assert_one_line_error(refused, "only 110 of 157 frames decode", "--allow-truncated")
    assert refused.returncode == 2 and folder_is_empty(tmp_path)

    allowed = run(source, "-o", output, "--emotion", "sad", "--allow-truncated", "--server", server.address, "-q")
    assert allowed.returncode == 0, allowed.stderr
    assert probe(output).decoded_frames == 110


@pytest.mark.media
def test_ctrl_c_stops_and_removes_the_partial_outputs(media_dir, tmp_path, server):
    cmd = [str(ned_emotion()), str(media_dir / SHORT_CLIP), "-o", str(tmp_path / "out.mp4"), "--emotion", "happy",
           "--preview", str(tmp_path / "preview.mp4"), "--server", server.address]
    # As after Ctrl-C in a terminal. A shell without job control starts background jobs with SIGINT
    # ignored, and the child would inherit that (CI launched with `&` did: the render ran to the end).
    process = subprocess.Popen(cmd, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True,
                               preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        seen = []
        for line in process.stderr:  # progress goes to stderr as plain lines when it is not a terminal
            seen.append(line)
            if line.startswith("render:"):
                break
        assert any(line.startswith("render:") for line in seen), "".join(seen)
        assert any(p.name.endswith(".partial") for p in tmp_path.iterdir()), "no output was being written"
        process.send_signal(signal.SIGINT)
        rest = process.stderr.read()
        assert process.wait(timeout=60) == 130
    finally:
        process.kill()
    assert rest.strip().splitlines()[-1] == "ned-emotion: interrupted; no output was written"
    assert folder_is_empty(tmp_path), sorted(p.name for p in tmp_path.iterdir())


# --------------------------------------------------------------------------------------- bad input
@pytest.mark.parametrize(("args", "fragments"), [
    (["--emotion", "bored"], ["unknown emotion 'bored'", "sad"]),
    (["--emotion", "sad", "--intensity", "2"], ["intensity 2 out of range 0..1.5"]),
    (["--emotion", "sad", "--mouth", "-0.5"], ["mouth -0.5 out of range 0..1"]),
    (["--emotion", "sad", "--face", "-1"], ["face '-1' must be a whole number"]),
    (["--emotion", "sad", "--keyframes", "0:0,2:x"], ["keyframe '2:x' is not TIME:VALUE"]),
    (["--emotion", "sad", "--keyframes", "0:0", "--intensity", "1"], ["not allowed with argument"]),
    (["--emotion", "sad", "--server", "nowhere"], ["'nowhere' is not HOST:PORT"]),
    (["--emotion", "sad", "--codec", "png"], ["--codec png writes PNG images, not out.mp4"]),
])
def test_bad_arguments_are_named_in_one_line(faceless_clip, tmp_path, args, fragments):
    result = run(faceless_clip, "-o", tmp_path / "out.mp4", *args)
    assert_one_line_error(result, *fragments)
    assert result.returncode == 2 and folder_is_empty(tmp_path)


def test_missing_input(tmp_path):
    result = run(tmp_path / "nowhere.mp4", "-o", tmp_path / "out.mp4", "--emotion", "sad", "-q")
    assert_one_line_error(result, "nowhere.mp4: no such file")
    assert result.returncode == 2 and folder_is_empty(tmp_path)


def test_input_that_is_not_a_video(tmp_path):
    text = tmp_path / "notes.mp4"
    text.write_text("this is not a video\n" * 100)
    result = run(text, "-o", tmp_path / "out.mp4", "--emotion", "sad", "-q")
    assert_one_line_error(result, "notes.mp4: not a video or image")
    assert result.returncode == 2 and sorted(p.name for p in tmp_path.iterdir()) == ["notes.mp4"]


def test_clip_without_a_face(faceless_clip, tmp_path):
    result = run(faceless_clip, "-o", tmp_path / "out.mp4", "--emotion", "sad", "-q")
    assert_one_line_error(result, f"no face found in {faceless_clip}")
    assert result.returncode == 2 and folder_is_empty(tmp_path)


def test_unreachable_server(faceless_clip, tmp_path):
    address = f"127.0.0.1:{free_port()}"
    result = run(faceless_clip, "-o", tmp_path / "out.mp4", "--emotion", "sad", "--server", address, "-q")
    assert_one_line_error(result, f"cannot reach ned-server at {address}")
    assert result.returncode == 3 and folder_is_empty(tmp_path)


@pytest.mark.parametrize("output", ["/proc/ned-emotion-test.mp4", "{tmp}/missing-folder/out.mp4"])
def test_unwritable_output(faceless_clip, tmp_path, output):
    target = output.format(tmp=tmp_path)
    result = run(faceless_clip, "-o", target, "--emotion", "sad", "-q")
    assert_one_line_error(result, target)
    assert result.returncode == 2 and folder_is_empty(tmp_path) and not Path(target).is_file()


def test_existing_output_is_kept_unless_overwrite(faceless_clip, tmp_path):
    existing = tmp_path / "out.mp4"
    existing.write_bytes(b"keep me")
    result = run(faceless_clip, "-o", existing, "--emotion", "sad", "-q")
    assert_one_line_error(result, "already exists")
    assert existing.read_bytes() == b"keep me"


def test_help_lists_every_option():
    result = run("--help")
    assert result.returncode == 0
    for option in ("-o OUTPUT", "--emotion", "--intensity", "--mouth", "--renderer", "--face", "--keyframes",
                   "--server", "--report", "--preview", "--codec", "--allow-truncated", "--overwrite", "--quiet",
                   "Exit codes"):
        assert option in result.stdout, option


@pytest.mark.media
def test_neural_renderer_is_trained_when_needed_and_used(media_dir: Path, server: LocalServer, tmp_path: Path):
    clip = media_dir / SECOND_CLIP  # 122 frames: enough for the held-out blocks of renderer training
    out = tmp_path / "neural.mkv"
    result = run(clip, "-o", out, "--emotion", "surprised", "--renderer", "neural", "--train-minutes", "0.3",
                 "--codec", "ffv1", "--server", server.address, "-q")
    assert result.returncode == 0, result.stderr
    with NedClient(server.address) as client:
        with open_source(clip) as source:
            shot = client.get_shot(shot_id_for(source))
    assert shot is not None and shot.has_neural_renderer
    assert_same_timing_and_audio(clip, out)
    with open_source(clip) as source, open_source(out) as edited:
        changed = [not np.array_equal(a.image, b.image) for a, b in zip(source.frames(), edited.frames(), strict=True)]
    assert sum(changed) > 0.9 * len(changed)

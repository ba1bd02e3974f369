"""The `ned-eval` command: files in, JSON report and contact sheet out, clear errors."""

from __future__ import annotations

import json
from itertools import islice

import cv2
import pytest

from ned_models.eval.__main__ import main
from ned_models.eval.clips import open_clip
from ned_models.eval.reference_landmarks import Dlib68

FRAMES = 12
pytestmark = pytest.mark.media


@pytest.fixture(scope="module")
def png_clips(media_dir, tmp_path_factory):
    """A source PNG sequence from a real clip, an edit with the mouth region darkened, placements."""
    root = tmp_path_factory.mktemp("clips")
    source_dir, edit_dir = root / "source", root / "edit"
    source_dir.mkdir()
    edit_dir.mkdir()
    landmarker = Dlib68(track=True)
    placements = []
    frames = islice(open_clip(media_dir / "mead" / "W011_front_neutral_level1_001.mp4").frames(), FRAMES)
    for t, frame in enumerate(frames):
        points = landmarker.detect(frame)
        x0, y0 = (int(v) - 4 for v in points[48:60].min(axis=0))
        x1, y1 = (int(v) + 4 for v in points[48:60].max(axis=0))
        edit = frame.copy()
        edit[y0:y1, x0:x1] //= 2
        cv2.imwrite(str(source_dir / f"f{t}.png"), frame[:, :, ::-1])
        cv2.imwrite(str(edit_dir / f"f{t}.png"), edit[:, :, ::-1])
        placements.append({"frame": t, "x": x0, "y": y0, "width": x1 - x0, "height": y1 - y0})
    (root / "placements.json").write_text(json.dumps(placements))
    return source_dir, edit_dir, root / "placements.json"


def test_png_sequences_with_placements(png_clips, tmp_path, capsys):
    source_dir, edit_dir, placements = png_clips
    report_path, sheet_path = tmp_path / "report.json", tmp_path / "sheet.png"
    code = main([str(source_dir), str(edit_dir), "--target", "angry", "--placements", str(placements),
                 "-o", str(report_path), "--sheet", str(sheet_path), "--frames-step", "4", "--sheet-frames", "3"])
    assert code == 0
    report = json.loads(report_path.read_text())
    assert report["frame_count"] == FRAMES and report["scored_frames"] == [0, 4, 8]
    assert report["outside_patch"]["checkable"] and report["outside_patch"]["pixels_changed"] == 0
    assert min(report["edit_magnitude"]["per_frame"]) > 0
    assert cv2.imread(str(sheet_path)).shape[0] > 3 * 192
    out = capsys.readouterr().out
    assert "P(angry)" in out and "outside patch: 0 pixels changed" in out


def test_lossy_inputs_are_not_checkable(media_dir, tmp_path, png_clips, capsys):
    clip = str(media_dir / "mead" / "W011_front_neutral_level1_001.mp4")
    code = main([clip, clip, "--target", "neutral", "--placements", str(png_clips[2]), "--frames-step", "50",
                 "-o", str(tmp_path / "r.json")])
    assert code == 0
    report = json.loads((tmp_path / "r.json").read_text())
    assert not report["outside_patch"]["checkable"] and report["outside_patch"]["pixels_changed"] is None
    assert "not checkable: lossy input (" in report["outside_patch"]["reason"]
    assert "h264" in report["outside_patch"]["reason"]


def test_errors_exit_2_with_a_message(png_clips, tmp_path, capsys):
    source_dir, edit_dir, _ = png_clips
    short = tmp_path / "short"
    short.mkdir()
    for path in sorted(edit_dir.iterdir())[:FRAMES - 1]:
        (short / path.name).write_bytes(path.read_bytes())
    assert main([str(source_dir), str(short), "--target", "happy"]) == 2
    assert "differ in length: source 12 frames" in capsys.readouterr().err
    assert main([str(source_dir), str(edit_dir), "--target", "smug"]) == 2
    assert "unknown emotion 'smug'" in capsys.readouterr().err
    assert main([str(source_dir), str(tmp_path / "absent"), "--target", "happy"]) == 2
    assert "clip not found" in capsys.readouterr().err
    assert main([str(source_dir), str(edit_dir), "--target", "happy", "--fer-model", str(tmp_path / "x.onnx")]) == 2
    assert "emotion classifier not found" in capsys.readouterr().err

"""evaluate_edit end to end on real footage with edits whose effect is known."""

from __future__ import annotations

import json
from itertools import islice

import cv2
import numpy as np
import pytest

from ned_models.edit import Emotion
from ned_models.errors import NoFaceFound
from ned_models.eval.clips import open_clip
from ned_models.eval.contact_sheet import pick_sheet_frames, render_contact_sheet, write_contact_sheet
from ned_models.eval.exactness import PatchRect
from ned_models.eval.frame_pass import THUMBNAIL_PX, EvalModels
from ned_models.eval.reference_landmarks import Dlib68
from ned_models.eval.report import evaluate_edit, write_report_json

FRAMES = 40
pytestmark = pytest.mark.media


@pytest.fixture(scope="module")
def models() -> EvalModels:
    return EvalModels.load()


@pytest.fixture(scope="module")
def neutral(media_dir) -> list[np.ndarray]:
    return list(islice(open_clip(media_dir / "mead" / "W009_front_neutral_level1_001.mp4").frames(), FRAMES))


def _blurred_face(frames: list[np.ndarray]) -> tuple[list[np.ndarray], dict[int, list[PatchRect]]]:
    """Blur a box around the face in every frame; return the edit and the boxes as placements."""
    landmarker = Dlib68(track=True)
    edits, placements = [], {}
    for t, frame in enumerate(frames):
        x0, y0, x1, y1 = (round(v) for v in landmarker.detect_face(frame).box)
        rect = PatchRect(x0, y0, x1 - x0, y1 - y0)
        edit = frame.copy()
        edit[y0:y1, x0:x1] = cv2.GaussianBlur(frame[y0:y1, x0:x1], (0, 0), 3.0)
        edits.append(edit)
        placements[t] = [rect]
    return edits, placements


def test_identical_edit(neutral, models):
    report = evaluate_edit(neutral, neutral, "happy", frames_step=8, placements={}, models=models)
    assert report.frame_count == FRAMES and report.scored_frames == (0, 8, 16, 24, 32)
    assert report.emotion.target_gain == 0.0
    assert report.speech.correlation == pytest.approx(1.0) and report.speech.mean_abs_difference == 0.0
    assert report.identity.median_paired_distance == 0.0
    assert report.flicker.ratio == pytest.approx(1.0) and report.sharpness_ratio == pytest.approx(1.0)
    assert np.nanmax(report.edit_magnitude) == 0.0
    assert report.exactness.checkable and report.exactness.pixels_changed_outside == 0
    assert report.source_frames_without_face == () == report.edit_frames_without_face


def test_blurred_face_patch(neutral, models):
    edits, placements = _blurred_face(neutral)
    report = evaluate_edit(neutral, edits, Emotion.SAD, frames_step=10, placements=placements, models=models)
    assert report.exactness.pixels_changed_outside == 0            # the blur stayed in its boxes
    assert report.sharpness_ratio < 0.5
    assert np.nanmin(report.edit_magnitude) > 0.5
    assert report.identity.median_paired_distance < 0.6            # a blurred face is still W009

    shrunk = {t: [PatchRect(r.x + 2, r.y + 2, r.width - 4, r.height - 4) for r in rects]
              for t, rects in placements.items()}
    expected = 0
    for source, edit, (rect,) in zip(neutral, edits, placements.values(), strict=True):
        ring = np.zeros(source.shape[:2], bool)
        ring[rect.y:rect.y + rect.height, rect.x:rect.x + rect.width] = True
        ring[rect.y + 2:rect.y + rect.height - 2, rect.x + 2:rect.x + rect.width - 2] = False
        expected += int(((source != edit).any(axis=2) & ring).sum())
    reported = evaluate_edit(neutral, edits, Emotion.SAD, frames_step=40, placements=shrunk, models=models)
    assert reported.exactness.pixels_changed_outside == expected > 0
    assert len(reported.exactness.frames_with_changes) == FRAMES


def test_a_real_smile_reads_as_happy(media_dir, neutral, models):
    happy = list(islice(open_clip(media_dir / "mead" / "W009_front_happy_level3_001.mp4").frames(), FRAMES))
    report = evaluate_edit(neutral, happy, "happy", frames_step=4, placements={}, lossless=False,
                           lossy_reason="h264 yuv420p", models=models)
    assert report.emotion.target_gain > 0.4
    assert report.emotion.edit_mean.argmax() == Emotion.HAPPY
    assert report.identity.mean_embedding_distance < 0.45          # same actor, other expression
    assert not report.exactness.checkable and "lossy" in report.exactness.reason
    assert report.exactness.pixels_changed_outside is None


def test_report_is_deterministic_json(tmp_path, neutral, models):
    edits, placements = _blurred_face(neutral[:12])
    first = evaluate_edit(neutral[:12], edits, "surprised", frames_step=3, placements=placements, models=models)
    second = evaluate_edit(neutral[:12], edits, "surprised", frames_step=3, placements=placements, models=models)
    write_report_json(first, tmp_path / "a.json")
    write_report_json(second, tmp_path / "b.json")
    assert (tmp_path / "a.json").read_text() == (tmp_path / "b.json").read_text()
    data = json.loads((tmp_path / "a.json").read_text())
    assert data["target"] == "surprised" and data["frame_count"] == 12
    assert data["flicker"]["source"][0] is None                    # undefined at the clip's ends
    assert len(data["speech"]["source_aperture"]) == 12 and len(data["emotion"]["edit_p_target"]) == 4
    assert set(data["emotion"]["source_mean"]) == {e.name.lower() for e in Emotion}
    assert data["outside_patch"] == {"checkable": True, "reason": "", "pixels_changed": 0, "frames_with_changes": []}


def test_contact_sheet(tmp_path, neutral, models):
    report = evaluate_edit(neutral, neutral, "happy", frames_step=2, models=models)
    assert not report.exactness.checkable and report.exactness.reason == "no patch placements given"
    picked = pick_sheet_frames(report.thumbnails, 6)
    assert [t.frame for t in picked] == [0, 8, 16, 22, 30, 38]
    sheet = render_contact_sheet(report)
    assert sheet.shape[1] == 2 * THUMBNAIL_PX + 12 and sheet.shape[0] > 6 * THUMBNAIL_PX
    for row, thumb in enumerate(picked):                          # header 26 px, rows 22 + 192 + 4 px
        top = 26 + row * (22 + THUMBNAIL_PX + 4) + 22
        np.testing.assert_array_equal(sheet[top:top + THUMBNAIL_PX, 4:4 + THUMBNAIL_PX], thumb.source)
        np.testing.assert_array_equal(sheet[top:top + THUMBNAIL_PX, 8 + THUMBNAIL_PX:8 + 2 * THUMBNAIL_PX], thumb.edit)
        np.testing.assert_array_equal(thumb.source, thumb.edit)  # an identical edit
    write_contact_sheet(report, tmp_path / "sheet.png")
    assert cv2.imread(str(tmp_path / "sheet.png")).shape == sheet.shape


class TestBadInput:
    def test_length_mismatch(self, neutral, models):
        with pytest.raises(ValueError, match="differ in length: the source has more"):
            evaluate_edit(neutral[:5], neutral[:4], "happy", models=models)
        with pytest.raises(ValueError, match="the edit has more"):
            evaluate_edit(neutral[:4], neutral[:5], "happy", models=models)

    def test_size_mismatch(self, neutral, models):
        with pytest.raises(ValueError, match="differ in size"):
            evaluate_edit(neutral[:2], [f[:-2] for f in neutral[:2]], "happy", models=models)

    def test_no_face(self, models):
        blank = [np.zeros((120, 160, 3), np.uint8)] * 3
        with pytest.raises(NoFaceFound, match="no face in any of the 3 source frames"):
            evaluate_edit(blank, blank, "happy", models=models)

    def test_bad_arguments(self, neutral, models):
        with pytest.raises(ValueError, match="unknown emotion"):
            evaluate_edit(neutral[:2], neutral[:2], "smug", models=models)
        with pytest.raises(ValueError, match="frames_step"):
            evaluate_edit(neutral[:2], neutral[:2], "happy", frames_step=0, models=models)
        with pytest.raises(ValueError, match="no frames"):
            evaluate_edit([], [], "happy", models=models)

"""The CLI's side outputs: edit magnitude, side-by-side frames, and the pieces of the job it reports."""

from __future__ import annotations

import os
from pathlib import Path

import av
import numpy as np
import pytest
from ned_server.cli_job import JobOptions, frame_times_s, intensities, shot_id_for
from ned_server.cli_outputs import edit_magnitude, report_sheet_path, side_by_side
from ned_server.keyframes import parse_keyframes

from ned_models.edit import EditParams, Emotion
from ned_models.media import open_source


@pytest.fixture
def small_clip(tmp_path: Path) -> Path:
    """A 12-frame 25 fps grey gradient clip."""
    path = tmp_path / "grey.mp4"
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=25)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
        for i in range(12):
            image = np.full((48, 64, 3), 10 * i, np.uint8)
            container.mux(stream.encode(av.VideoFrame.from_ndarray(image, format="rgb24")))
        container.mux(stream.encode(None))
    return path


def test_edit_magnitude_averages_over_the_mask_in_8bit_levels():
    source = np.zeros((4, 4, 3), np.uint8)
    edit = source.copy()
    edit[:2] = 6  # the top half changed by 6 levels
    alpha = np.zeros((4, 4), np.uint8)
    alpha[:2] = 255
    assert edit_magnitude(source, edit, alpha) == pytest.approx(6.0)
    assert edit_magnitude(source, edit, None) == pytest.approx(3.0)
    assert edit_magnitude(source, edit, np.zeros((4, 4), np.uint8)) == 0.0
    deep_source, deep_edit = source.astype(np.uint16) * 257, edit.astype(np.uint16) * 257
    assert edit_magnitude(deep_source, deep_edit, alpha) == pytest.approx(6.0)


def test_side_by_side_keeps_dtype_and_places_the_panels():
    left = np.full((60, 80, 3), 200, np.uint16)
    right = np.full((60, 80, 3), 40000, np.uint16)
    frame = side_by_side([left, right], ["source", "sad 0.50"], (30, 40))
    assert frame.shape == (30, 80, 3) and frame.dtype == np.uint16
    assert np.all(frame[-5:, :40] == 200) and np.all(frame[-5:, 40:] == 40000)
    band = frame[:5, 40:60]
    assert band.min() < 40000 // 2, "the caption band is not drawn"


def test_report_sheet_sits_next_to_the_report(tmp_path):
    assert report_sheet_path(tmp_path / "job.json") == tmp_path / "job_sheet.png"


def test_shot_id_is_stable_for_a_file_and_changes_with_it(small_clip):
    with open_source(small_clip) as source:
        first = shot_id_for(source)
    with open_source(small_clip) as source:
        assert shot_id_for(source) == first
    assert first.startswith("cli:grey.mp4:") and first.endswith("@64x48") and len(first) <= 512
    stat = small_clip.stat()
    os.utime(small_clip, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
    with open_source(small_clip) as source:
        assert shot_id_for(source) != first


def test_per_frame_intensity_constant_or_keyed(small_clip, tmp_path):
    with open_source(small_clip) as source:
        assert frame_times_s(source) == pytest.approx(np.arange(12) / 25)
        constant = JobOptions(small_clip, tmp_path / "o.mp4", EditParams(Emotion.SAD, intensity=0.4))
        assert np.all(intensities(constant, source) == 0.4)
        keyed = JobOptions(small_clip, tmp_path / "o.mp4", EditParams(Emotion.SAD),
                           keyframes=parse_keyframes("2:0,0.4s:1"))
        values = intensities(keyed, source)
    assert values[:3] == pytest.approx([0, 0, 0]) and values[10:] == pytest.approx([1, 1])
    assert np.all(np.diff(values) >= 0) and 0 < values[6] < 1

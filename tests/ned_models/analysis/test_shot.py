"""Full-shot orchestration: progress, cancel, errors."""

from __future__ import annotations

import numpy as np
import pytest

from ned_models.analysis.shot import AnalysisCancelled, analyse_shot
from ned_models.errors import NoFaceFound


@pytest.mark.media
def test_progress_and_cancel(short_clip):
    seen = []
    analyse_shot(iter(short_clip[:5]), progress=seen.append)
    assert seen == [1, 2, 3, 4, 5]
    with pytest.raises(AnalysisCancelled):
        analyse_shot(iter(short_clip), cancelled=lambda: len(seen) > 7, progress=seen.append)


def test_no_face_and_no_frames():
    blank = [(i / 25, np.full((64, 64, 3), 128, np.uint8)) for i in range(3)]
    with pytest.raises(NoFaceFound, match="no face found"):
        analyse_shot(iter(blank))
    with pytest.raises(NoFaceFound, match="no frames"):
        analyse_shot(iter([]))


@pytest.mark.media
def test_frames_must_keep_their_size_and_order(short_clip):
    (t0, f0), (t1, f1) = short_clip[:2]
    with pytest.raises(ValueError, match="the shot's frames are"):
        analyse_shot(iter([(t0, f0), (t1, f1[:256])]))
    with pytest.raises(ValueError, match="does not follow"):
        analyse_shot(iter([(t1, f1), (t0, f0)]))


@pytest.mark.media
def test_any_pixel_format(short_clip):
    frames16 = [(t, f.astype(np.uint16) * 257) for t, f in short_clip[:12]]
    frames_float = [(t, np.dstack([f.astype(np.float32) / 255.0, np.ones(f.shape[:2], np.float32)]))
                    for t, f in short_clip[:12]]
    a = analyse_shot(iter(frames16)).faces[0].raw_landmarks
    b = analyse_shot(iter(frames_float)).faces[0].raw_landmarks
    c = analyse_shot(iter(short_clip[:12])).faces[0].raw_landmarks
    # the crops are sampled in each format's own precision: sub-pixel differences only
    for other in (a, b):
        error = np.linalg.norm(other[..., :2] - c[..., :2], axis=-1)
        assert np.median(error) < 0.3 and error.max() < 3.0

"""The tracker on real footage: acceptance (tracking rate), multiple faces, time order, the models' scale.

Acceptance: a face is tracked on >= 99% of the frames of every clip in talking/ and expressive/ and
of the 1080x1920 clips in wide/ (all frames of all those clips: about 4,000 frames, ~1 min).
"""

from __future__ import annotations

import json

import av
import cv2
import numpy as np
import pytest

from ned_models.landmarks import LEFT_EYE_OUTER, RIGHT_EYE_OUTER, RIGHT_IRIS, inter_ocular_distance
from ned_models.tracking.detector import FaceDetector
from ned_models.tracking.tracker import FaceTracker, TrackerOptions


def _frames(path, limit=None):
    with av.open(str(path)) as container:
        for i, frame in enumerate(container.decode(video=0)):
            if limit is not None and i >= limit:
                return
            yield float(frame.time), frame.to_ndarray(format="rgb24")


def _acceptance_clips(media_dir):
    manifest = json.loads((media_dir / "manifest.json").read_text())
    wide = [m["path"] for m in manifest if m["path"].startswith("wide/") and m["res"] == "1080x1920"]
    talking = sorted(p.relative_to(media_dir).as_posix() for p in (media_dir / "talking").glob("*.mp4"))
    expressive = sorted(p.relative_to(media_dir).as_posix() for p in (media_dir / "expressive").glob("*.mp4"))
    assert len(talking) == 14 and len(expressive) == 7 and len(wide) >= 3
    return talking + expressive + wide


@pytest.mark.media
@pytest.mark.slow
def test_tracking_rate_on_every_acceptance_clip(media_dir):
    tracker = FaceTracker()
    rates = {}
    for clip in _acceptance_clips(media_dir):
        tracker.reset()
        results = [tracker.track(t, f) for t, f in _frames(media_dir / clip)]
        rates[clip] = np.mean([bool(r.faces) for r in results])
    assert min(rates.values()) >= 0.99, rates


@pytest.mark.media
def test_tracked_landmarks_are_on_the_face(media_dir):
    tracker = FaceTracker()
    results = [tracker.track(t, f) for t, f in _frames(media_dir / "talking/WDA_KatieHill_000.mp4", 20)]
    faces = [r.faces[0] for r in results]
    assert [f.index for f in faces] == [0] * 20
    assert faces[0].detected and not any(f.detected for f in faces[1:])
    points = np.stack([f.points for f in faces])
    assert points.shape == (20, 478, 3) and min(f.confidence for f in faces) > 0.9
    iod = inter_ocular_distance(points)
    assert 60 < iod.mean() < 200 and np.ptp(iod) < 0.1 * iod.mean()
    # the subject's right eye is on the image's left; the right iris sits between its corners
    assert np.all(points[:, RIGHT_EYE_OUTER, 0] < points[:, LEFT_EYE_OUTER, 0])
    centre = points[:, RIGHT_IRIS[0], 0]
    assert np.all((centre > points[:, 33, 0]) & (centre < points[:, 133, 0]))


@pytest.mark.media
def test_two_faces_keep_indices_ordered_by_size(media_dir):
    frames = list(_frames(media_dir / "talking/WDA_KatieHill_000.mp4", 6))
    small = list(_frames(media_dir / "talking/retalking_5.mp4", 6))
    tracker = FaceTracker(TrackerOptions(max_faces=2))
    for (t, big), (_, little) in zip(frames, small, strict=True):
        half = little[::2, ::2]
        canvas = np.zeros((512, 512 + half.shape[1], 3), np.uint8)
        canvas[:, :512] = big
        canvas[: half.shape[0], 512:] = half
        result = tracker.track(t, canvas)
        assert [f.index for f in result.faces] == [0, 1]
        big_face, small_face = result.faces
        assert big_face.points[:, 0].mean() < 512 < small_face.points[:, 0].mean()


@pytest.mark.media
def test_time_must_increase_until_reset(media_dir):
    tracker = FaceTracker()
    (t0, f0), (t1, f1) = list(_frames(media_dir / "talking/retalking_2.mp4", 2))
    tracker.track(t1, f1)
    with pytest.raises(ValueError, match="does not follow"):
        tracker.track(t0, f0)
    tracker.reset()
    assert tracker.track(t0, f0).faces
    with pytest.raises(ValueError):
        tracker.track(t1, f1[..., 0])


@pytest.mark.media
def test_pixel_aspect_is_folded_into_the_crops(media_dir):
    (_, frame), = list(_frames(media_dir / "talking/retalking_2.mp4", 1))
    squeezed = frame[:, ::2]  # anamorphic: pixels twice as wide as tall
    plain = FaceTracker().track(0.0, frame).faces[0].points
    wide = FaceTracker(TrackerOptions(pixel_aspect=2.0)).track(0.0, squeezed).faces[0].points
    iod = inter_ocular_distance(plain)
    error = np.linalg.norm(wide[:468, :2] * [2.0, 1.0] - plain[:468, :2], axis=1) / iod
    assert np.median(error) < 0.03


@pytest.mark.media
def test_small_faces_in_portrait_1080p_are_found(media_dir):
    (_, frame), = list(_frames(media_dir / "wide/demo1_video.mp4", 1))
    detections = FaceDetector().detect(frame)
    assert detections and detections[0].score > 0.5
    assert detections[0].size < 0.3 * frame.shape[1]


@pytest.mark.media
@pytest.mark.parametrize("face_px", [70, 120])
def test_tiles_find_faces_too_small_for_the_whole_frame_pass(media_dir, face_px):
    (_, frame), = list(_frames(media_dir / "talking/retalking_2.mp4", 1))
    detector = FaceDetector()
    scale = face_px / detector.detect(frame)[0].size
    small = cv2.resize(frame, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    canvas = np.full((1920, 1080, 3), 90, np.uint8)
    canvas[1200:1200 + small.shape[0], 300:300 + small.shape[1]] = small
    assert detector.detect(canvas, search_tiles=False) == []
    found = detector.detect(canvas)
    assert len(found) == 1
    centre = 0.5 * (found[0].box[:2] + found[0].box[2:])
    assert 300 < centre[0] < 300 + small.shape[1] and 1200 < centre[1] < 1200 + small.shape[0]
    assert FaceTracker().track(0.0, canvas).faces[0].confidence > 0.9

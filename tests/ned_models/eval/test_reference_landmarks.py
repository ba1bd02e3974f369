"""The independent dlib 68-point landmarker and the speech measures built on it."""

from __future__ import annotations

import numpy as np
import pytest

from ned_models.eval.clips import open_clip
from ned_models.eval.reference_landmarks import (
    MIRROR,
    Dlib68,
    DlibFace,
    inner_lip_aperture,
    inter_ocular_distance,
    to_rgb_uint8,
)

APERTURE_TOLERANCE = 1e-9


def _synthetic_points(iod: float = 60.0, gaps: tuple[float, float, float] = (4.0, 6.0, 5.0)) -> np.ndarray:
    """68 points with the eyes `iod` apart (centres) and the given inner-lip gaps."""
    points = np.zeros((68, 2))
    points[36:42] = (100.0, 100.0)
    points[42:48] = (100.0 + iod, 100.0)
    for (upper, lower), gap, x in zip(((61, 67), (62, 66), (63, 65)), gaps, (120.0, 130.0, 140.0), strict=True):
        points[upper] = (x, 180.0)
        points[lower] = (x, 180.0 + gap)
    return points


class TestApertureMath:
    def test_value(self):
        points = _synthetic_points(iod=60.0, gaps=(4.0, 6.0, 5.0))
        assert inter_ocular_distance(points) == pytest.approx(60.0)
        assert inner_lip_aperture(points) == pytest.approx(5.0 / 60.0, abs=APERTURE_TOLERANCE)

    def test_scale_and_rotation_invariant(self):
        points = _synthetic_points()
        angle = np.deg2rad(20.0)
        rotation = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
        moved = 2.5 * points @ rotation.T + (13.0, -7.0)
        assert inner_lip_aperture(moved) == pytest.approx(inner_lip_aperture(points), abs=APERTURE_TOLERANCE)

    def test_closed_mouth_is_zero(self):
        assert inner_lip_aperture(_synthetic_points(gaps=(0.0, 0.0, 0.0))) == 0.0

    def test_bad_input(self):
        with pytest.raises(ValueError, match="68, 2"):
            inner_lip_aperture(np.zeros((478, 2)))
        with pytest.raises(ValueError, match="eye centres coincide"):
            inner_lip_aperture(np.zeros((68, 2)))


class TestConventions:
    def test_dlib_shape_round_trip_keeps_pixel_centres(self):
        points = np.stack([np.arange(68) + 10.5, np.arange(68) * 2 + 20.5], axis=1)
        face = DlibFace(box=(10.0, 20.0, 90.0, 170.0), points=points, detected=True)
        shape = face.to_dlib_shape()
        assert (shape.rect.left(), shape.rect.top(), shape.rect.right(), shape.rect.bottom()) == (10, 20, 89, 169)
        parts = np.array([(p.x, p.y) for p in shape.parts()], dtype=float)
        np.testing.assert_array_equal(parts + 0.5, points)

    def test_mirror_pairs_each_point_with_its_mirror_image(self):
        mirror = np.array(MIRROR)
        np.testing.assert_array_equal(mirror[mirror], np.arange(68))
        midline = {8, 27, 28, 29, 30, 33, 51, 57, 62, 66}
        assert set(np.flatnonzero(mirror == np.arange(68))) == midline
        assert mirror[36] == 45 and mirror[48] == 54 and mirror[60] == 64 and mirror[0] == 16

    def test_to_rgb_uint8(self):
        frame16 = np.full((4, 5, 4), 65535, np.uint16)
        assert to_rgb_uint8(frame16).shape == (4, 5, 3)
        assert to_rgb_uint8(frame16).max() == 255
        floats = np.full((2, 2, 3), 2.0, np.float32)
        assert to_rgb_uint8(floats).max() == 255          # out-of-range float clipped for dlib only
        with pytest.raises(ValueError, match="H, W, 3"):
            to_rgb_uint8(np.zeros((4, 5), np.uint8))


@pytest.mark.media
class TestOnRealFaces:
    def test_still_portrait(self, media_dir):
        frame = next(open_clip(media_dir / "stills" / "happy.png").frames())
        face = Dlib68().detect_face(frame)
        assert face is not None and face.detected
        points = face.points
        assert points.shape == (68, 2)
        h, w = frame.shape[:2]
        assert np.all((points >= 0) & (points <= (w, h)))
        # anatomy in image coordinates: the subject's right eye is on the image's left, eyes above
        # the nose tip, nose above the mouth, mouth above the chin
        assert points[36:42, 0].mean() < points[42:48, 0].mean()
        assert points[36:48, 1].mean() < points[30, 1] < points[62, 1] < points[8, 1]
        assert 40.0 < inter_ocular_distance(points) < 90.0       # face box ~150 px in a 256 px still
        assert inner_lip_aperture(points) < 0.08                  # closed-mouth smile

    def test_consensus_reads_a_mirrored_face_as_its_mirror_image(self, media_dir):
        """The consensus mean is (nearly) mirror-symmetric by construction; one box's reading is not."""
        frame = to_rgb_uint8(next(open_clip(media_dir / "talking" / "retalking_5.mp4").frames()))
        flipped = np.ascontiguousarray(frame[:, ::-1])
        width = frame.shape[1]

        def asymmetry(landmarker: Dlib68) -> float:
            points, mirrored = landmarker.detect(frame), landmarker.detect(flipped)
            mirrored = np.column_stack([width - mirrored[:, 0], mirrored[:, 1]])[list(MIRROR)]
            return float(np.abs(points - mirrored).mean())

        consensus, single = asymmetry(Dlib68()), asymmetry(Dlib68(consensus=False))
        assert consensus < 0.35 and consensus < 0.5 * single, (consensus, single)

    def test_no_face(self):
        rng = np.random.default_rng(0)
        assert Dlib68().detect(np.zeros((240, 320, 3), np.uint8)) is None
        assert Dlib68().detect(rng.integers(0, 255, (240, 320, 3), dtype=np.uint8)) is None

    def test_talking_clip_aperture_follows_speech(self, media_dir):
        landmarker = Dlib68(track=True)
        apertures = []
        for frame in open_clip(media_dir / "talking" / "retalking_2.mp4").frames():
            face = landmarker.detect_face(frame)
            assert face is not None
            apertures.append(inner_lip_aperture(face.points))
        apertures = np.array(apertures)
        assert len(apertures) == 125
        assert apertures.min() < 0.06                      # lips closed between words
        assert apertures.max() > 0.2                       # open on vowels
        # speech opens and closes the mouth many times in 5 s, not once
        crossings = np.count_nonzero(np.diff(np.sign(apertures - np.median(apertures))))
        assert crossings >= 10

    def test_small_face_in_portrait_1080p(self, media_dir):
        frame = next(open_clip(media_dir / "wide" / "demo1_video.mp4").frames())
        assert frame.shape[:2] == (1920, 1080)
        face = Dlib68().detect_face(frame)
        assert face is not None
        x0, y0, x1, y1 = face.box
        assert 100 < x1 - x0 < 260                          # the ~130-180 px face, not a false hit
        assert 0.35 * 1080 < (x0 + x1) / 2 < 0.75 * 1080

    def test_track_mode_reuses_box_then_gives_up(self, media_dir):
        frame = next(open_clip(media_dir / "stills" / "happy.png").frames())
        blank = np.zeros_like(frame)
        landmarker = Dlib68(track=True, max_reused_frames=2)
        first = landmarker.detect_face(frame)
        reused = [landmarker.detect_face(blank) for _ in range(3)]
        assert first is not None and first.detected
        assert reused[0] is not None and not reused[0].detected and reused[0].box == first.box
        assert reused[1] is not None and reused[2] is None
        landmarker.reset()
        assert landmarker.detect_face(blank) is None
        assert Dlib68(track=False).detect_face(blank) is None

    def test_bad_settings(self):
        with pytest.raises(ValueError, match="min_face_px"):
            Dlib68(min_face_px=5)

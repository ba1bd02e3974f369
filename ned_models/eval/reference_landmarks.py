"""An independent 68-point face landmarker (dlib), so evaluation never trusts our own tracker.

dlib's HOG frontal-face detector finds the face on a downscaled copy of the frame (it is the slow
part); its 68-point shape predictor (iBUG 300-W layout) then runs at full resolution. Index facts
of the 68-point layout used here (0-based): 0-16 jaw, 17-26 brows, 27-35 nose, 36-41 the subject's
right eye, 42-47 the left eye, 48-59 outer lips, 60-67 inner lips.

Coordinates follow `ned_models.conventions`: dlib reports integer pixel indices whose centres lie on
integers, so every point is shifted by +0.5 to put pixel centres at i + 0.5.
"""

from __future__ import annotations

import functools
import importlib.util
import logging
from dataclasses import dataclass
from pathlib import Path

import cv2
import dlib
import numpy as np

from ned_models.conventions import as_float_image
from ned_models.errors import ModelLoadError

__all__ = [
    "POINT_COUNT", "MIRROR", "RIGHT_EYE", "LEFT_EYE", "INNER_LIP_PAIRS", "JAW_AND_BROWS",
    "DlibFace", "Dlib68", "dlib_model_path", "to_rgb_uint8", "inner_lip_aperture", "inter_ocular_distance",
]

logger = logging.getLogger(__name__)

POINT_COUNT = 68
RIGHT_EYE = tuple(range(36, 42))
LEFT_EYE = tuple(range(42, 48))
# Upper/lower inner-lip points facing each other: left of centre, centre, right of centre.
INNER_LIP_PAIRS = ((61, 67), (62, 66), (63, 65))
# The outline of the face (jaw, then brows): its convex hull is the face region metrics look at.
JAW_AND_BROWS = tuple(range(0, 27))

_HOG_WINDOW_PX = 80          # dlib's frontal detector finds faces down to about its 80x80 window
_ROI_FACE_PX = 100           # face size the tracking ROI is resampled to (fast, above the window)
_ROI_CONTEXT = 0.5           # ROI = previous box grown by half a box size on every side

# Consensus reading (see `Dlib68`): the boxes the 68-point predictor reads the face from, as scale
# about the detector box's centre and shifts in box sizes. They span how far dlib's own HOG box moves
# between consecutive frames of the talking clips (centre 3-5 %, size 5-15 % at the median).
_CONSENSUS_SCALES = (0.92, 1.0, 1.08)
_CONSENSUS_SHIFTS = (-0.04, 0.0, 0.04)
_CONSENSUS_MARGIN = 0.5      # the predictor reads a crop: every box grown by half a box size
# Index of each point's mirror image in the 68-point layout (jaw, brows, nose, eyes, lips).
MIRROR = (tuple(range(16, -1, -1)) + tuple(range(26, 16, -1)) + (27, 28, 29, 30, 35, 34, 33, 32, 31)
          + (45, 44, 43, 42, 47, 46, 39, 38, 37, 36, 41, 40)
          + (54, 53, 52, 51, 50, 49, 48, 59, 58, 57, 56, 55, 64, 63, 62, 61, 60, 67, 66, 65))


def dlib_model_path(name: str) -> Path:
    """Path of one of the dlib model files shipped by the `face-recognition-models` wheel.

    The package itself cannot be imported (it needs pkg_resources), so its files are found through
    the import system's spec without executing it.

    Raises:
        ModelLoadError: the package or the file is missing.
    """
    spec = importlib.util.find_spec("face_recognition_models")
    if spec is None or not spec.submodule_search_locations:
        raise ModelLoadError(
            "the dlib models are missing: install the 'eval' extra (package face-recognition-models)")
    path = Path(spec.submodule_search_locations[0]) / "models" / name
    if not path.is_file():
        raise ModelLoadError(f"dlib model file not found: {path}")
    return path


@functools.lru_cache(maxsize=1)
def _shared_models() -> tuple[dlib.fhog_object_detector, dlib.shape_predictor]:
    """dlib's HOG detector and 68-point predictor, loaded once per process (~1.7 s, ~100 MB).

    Both are read-only after loading, so every `Dlib68` shares them.
    """
    path = dlib_model_path("shape_predictor_68_face_landmarks.dat")
    try:
        predictor = dlib.shape_predictor(str(path))
    except RuntimeError as exc:
        raise ModelLoadError(f"cannot load dlib's 68-point shape predictor {path}: {exc}") from exc
    return dlib.get_frontal_face_detector(), predictor


def to_rgb_uint8(frame: np.ndarray) -> np.ndarray:
    """Return a C-contiguous (H, W, 3) uint8 RGB copy or view of a ned_models frame.

    dlib needs 8-bit RGB; uint16 and float32 frames are scaled (float clipped to 0..1) and alpha
    is dropped. This is an evaluation-side conversion, not the product's colour path.
    """
    if frame.ndim != 3 or frame.shape[2] not in (3, 4):
        raise ValueError(f"expected an (H, W, 3|4) frame, got shape {frame.shape}")
    rgb = frame[:, :, :3]
    if rgb.dtype != np.uint8:
        rgb = np.rint(np.clip(as_float_image(rgb), 0.0, 1.0) * 255.0).astype(np.uint8)
    return np.ascontiguousarray(rgb)


@dataclass(frozen=True)
class DlibFace:
    """One face found by `Dlib68`.

    Attributes:
        box: (x0, y0, x1, y1) float pixel edges of dlib's face box in the frame (x1, y1 exclusive).
        points: (68, 2) float64 pixel (x, y) landmarks, pixel centres at i + 0.5.
        detected: False when the box was carried over from an earlier frame (track mode).
    """

    box: tuple[float, float, float, float]
    points: np.ndarray
    detected: bool

    def to_dlib_shape(self) -> dlib.full_object_detection:
        """The face as dlib's own landmark object (what dlib's face-recognition network takes)."""
        x0, y0, x1, y1 = self.box
        rect = dlib.rectangle(round(x0), round(y0), round(x1) - 1, round(y1) - 1)
        parts = dlib.points([dlib.point(round(x - 0.5), round(y - 0.5)) for x, y in self.points])
        return dlib.full_object_detection(rect, parts)


class Dlib68:
    """dlib HOG face detector + 68-point shape predictor, largest face per frame.

    Detection tries cheap passes first and stops at the first that finds a face: the frame scaled
    so its long side is `detect_long_side`, the same with dlib's 2x upsampling, then a scale at which
    a face of `min_face_px` fills the detector's 80 px window (for a 1080x1920 frame and 80 px faces
    that is full resolution, ~0.2 s). Faces of 80-850 px in 256 px to 1080x1920 frames are found.

    With `track=True` (for consecutive frames of one clip) the detector first searches a region
    around the previous frame's box, resampled so the face is ~100 px (a few ms; it so keeps to the
    face it follows even if a larger one appears elsewhere), and when no pass
    finds a face it *reuses the previous frame's box* for up to `max_reused_frames` frames in a row
    (`DlibFace.detected` is then False). Call `reset()` between clips. With `track=False` every
    call is independent.

    With `consensus=True` (the default) the landmarks are the mean of the predictor's readings from
    27 boxes around the detector's (scaled by 0.92-1.08, shifted by +-4 %) and from the mirror image
    of each. Why: the HOG box is quantised to the detector's cells and pyramid steps, so it moves by
    3-5 % (centre) and 5-15 % (size) between consecutive frames of a face that hardly moves, and the
    predictor's reading of the lips moves with it (the inner-lip aperture by 0.005-0.015 IOD, standard
    deviation over those boxes); the mean is dlib's reading of the face rather than of one box
    (~35 ms a face on one core instead of ~1 ms).
    """

    def __init__(self, *, track: bool = False, detect_long_side: int = 640, min_face_px: int = 80,
                 max_reused_frames: int = 25, consensus: bool = True) -> None:
        if detect_long_side < _HOG_WINDOW_PX or min_face_px < 20 or max_reused_frames < 0:
            raise ValueError(f"bad Dlib68 settings: detect_long_side={detect_long_side} (>= 80), "
                             f"min_face_px={min_face_px} (>= 20), max_reused_frames={max_reused_frames} (>= 0)")
        self._detector, self._predictor = _shared_models()
        self.track = track
        self.detect_long_side = detect_long_side
        self.min_face_px = min_face_px
        self.max_reused_frames = max_reused_frames
        self.consensus = consensus
        self._last_box: tuple[float, float, float, float] | None = None
        self._reused = 0

    def reset(self) -> None:
        """Forget the previous frame's box (start of a new clip in track mode)."""
        self._last_box = None
        self._reused = 0

    def detect(self, frame_rgb_uint8: np.ndarray) -> np.ndarray | None:
        """(68, 2) float64 landmarks of the largest face in an (H, W, 3) RGB frame, or None."""
        face = self.detect_face(frame_rgb_uint8)
        return None if face is None else face.points

    def detect_face(self, frame: np.ndarray) -> DlibFace | None:
        """The largest face in an (H, W, 3|4) RGB frame (uint8 preferred), or None when there is none."""
        rgb = to_rgb_uint8(frame)
        box = self._find_box(rgb)
        detected = box is not None
        if box is None and self.track and self._last_box is not None and self._reused < self.max_reused_frames:
            box, self._reused = self._last_box, self._reused + 1
            logger.debug("no face detected; reusing the previous box (%d in a row)", self._reused)
        if box is None:
            return None
        if detected:
            self._reused = 0
        if self.track:
            self._last_box = box
        return DlibFace(box=box, points=self._predict_points(rgb, box), detected=detected)

    def _find_box(self, rgb: np.ndarray) -> tuple[float, float, float, float] | None:
        if self.track and self._last_box is not None:
            box = self._search_near(rgb, self._last_box)
            if box is not None:
                return box
        for scale, upsample in self._full_frame_passes(rgb.shape[:2]):
            box = self._detect_scaled(rgb, scale, upsample)
            if box is not None:
                return box
        return None

    def _full_frame_passes(self, size_hw: tuple[int, int]) -> list[tuple[float, int]]:
        """(scale, dlib upsample count) passes, cheapest first, until `min_face_px` faces are covered."""
        base = min(1.0, self.detect_long_side / max(size_hw))
        passes = [(base, 0), (base, 1)]
        needed = _HOG_WINDOW_PX / self.min_face_px       # effective scale that fits the smallest face
        if needed > 2.0 * base:
            passes.append((needed, 0) if needed <= 1.0 else (needed / 2.0, 1))
        return passes

    def _detect_scaled(self, rgb: np.ndarray, scale: float, upsample: int,
                       origin: tuple[float, float] = (0.0, 0.0)) -> tuple[float, float, float, float] | None:
        """Largest detection in `rgb` resampled by `scale`, as a box in the coordinates `origin` offsets."""
        h, w = rgb.shape[:2]
        if scale != 1.0:
            size_wh = (max(1, round(w * scale)), max(1, round(h * scale)))
            interpolation = cv2.INTER_AREA if scale < 1.0 else cv2.INTER_LINEAR
            rgb = cv2.resize(rgb, size_wh, interpolation=interpolation)
            scale_x, scale_y = size_wh[0] / w, size_wh[1] / h
        else:
            scale_x = scale_y = 1.0
        rects = self._detector(rgb, upsample)
        if len(rects) == 0:
            return None
        best = max(rects, key=lambda r: r.width() * r.height())
        ox, oy = origin
        return (ox + best.left() / scale_x, oy + best.top() / scale_y,
                ox + (best.right() + 1) / scale_x, oy + (best.bottom() + 1) / scale_y)

    def _search_near(self, rgb: np.ndarray, box: tuple[float, float, float, float]
                     ) -> tuple[float, float, float, float] | None:
        rx0, ry0, rx1, ry1 = _grown_region(box, _ROI_CONTEXT, rgb.shape[:2])
        if rx1 - rx0 < 8 or ry1 - ry0 < 8:
            return None
        size = max(box[2] - box[0], box[3] - box[1])
        return self._detect_scaled(rgb[ry0:ry1, rx0:rx1], _ROI_FACE_PX / size, 0, origin=(rx0, ry0))

    def _predict_points(self, rgb: np.ndarray, box: tuple[float, float, float, float]) -> np.ndarray:
        if not self.consensus:
            return self._read(rgb, box) + 0.5
        x0, y0, x1, y1 = box
        cx0, cy0, cx1, cy1 = _grown_region(box, _CONSENSUS_MARGIN, rgb.shape[:2])
        crop = np.ascontiguousarray(rgb[cy0:cy1, cx0:cx1])
        mirror = np.ascontiguousarray(crop[:, ::-1])
        width = cx1 - cx0
        order = list(MIRROR)
        readings = []
        for bx0, by0, bx1, by1 in _consensus_boxes((x0 - cx0, y0 - cy0, x1 - cx0, y1 - cy0)):
            readings.append(self._read(crop, (bx0, by0, bx1, by1)))
            mirrored = self._read(mirror, (width - bx1, by0, width - bx0, by1))
            mirrored[:, 0] = width - 1 - mirrored[:, 0]
            readings.append(mirrored[order])
        return np.mean(readings, axis=0) + (cx0 + 0.5, cy0 + 0.5)

    def _read(self, rgb: np.ndarray, box: tuple[float, float, float, float]) -> np.ndarray:
        """The predictor's (68, 2) points for one box, as integer pixel indices."""
        x0, y0, x1, y1 = box
        rect = dlib.rectangle(round(x0), round(y0), round(x1) - 1, round(y1) - 1)
        shape = self._predictor(rgb, rect)
        return np.array([(p.x, p.y) for p in shape.parts()], dtype=np.float64)


def _grown_region(box: tuple[float, float, float, float], fraction: float,
                  size_hw: tuple[int, int]) -> tuple[int, int, int, int]:
    """Integer (x0, y0, x1, y1) of `box` grown by `fraction` of its larger side, clipped to the frame."""
    x0, y0, x1, y1 = box
    pad = fraction * max(x1 - x0, y1 - y0)
    h, w = size_hw
    return (max(0, int(x0 - pad)), max(0, int(y0 - pad)),
            min(w, int(np.ceil(x1 + pad))), min(h, int(np.ceil(y1 + pad))))


def _consensus_boxes(box: tuple[float, float, float, float]) -> list[tuple[float, float, float, float]]:
    """The boxes of a consensus reading: `box` scaled about its centre and shifted (see `Dlib68`)."""
    x0, y0, x1, y1 = box
    cx, cy, w, h = (x0 + x1) / 2, (y0 + y1) / 2, x1 - x0, y1 - y0
    return [(cx + dx * w - s * w / 2, cy + dy * h - s * h / 2, cx + dx * w + s * w / 2, cy + dy * h + s * h / 2)
            for s in _CONSENSUS_SCALES for dx in _CONSENSUS_SHIFTS for dy in _CONSENSUS_SHIFTS]


def _check_points(points68: np.ndarray) -> np.ndarray:
    points = np.asarray(points68, dtype=np.float64)
    if points.shape != (POINT_COUNT, 2):
        raise ValueError(f"expected (68, 2) landmarks, got shape {points.shape}")
    return points


def inter_ocular_distance(points68: np.ndarray) -> float:
    """Distance in pixels between the eye centres (means of points 36-41 and 42-47)."""
    points = _check_points(points68)
    right = points[list(RIGHT_EYE)].mean(axis=0)
    left = points[list(LEFT_EYE)].mean(axis=0)
    return float(np.linalg.norm(left - right))


def inner_lip_aperture(points68: np.ndarray) -> float:
    """Mouth opening: mean of the three inner-lip vertical gaps (61-67, 62-66, 63-65) / inter-ocular distance.

    Dividing by the inter-ocular distance makes it independent of face size and camera distance;
    a closed mouth reads about 0, speech peaks at roughly 0.2-0.5.

    Raises:
        ValueError: the landmarks are not (68, 2) or the eyes coincide.
    """
    points = _check_points(points68)
    iod = inter_ocular_distance(points)
    if iod <= 1e-6:
        raise ValueError("degenerate landmarks: the eye centres coincide")
    upper = points[[a for a, _ in INNER_LIP_PAIRS]]
    lower = points[[b for _, b in INNER_LIP_PAIRS]]
    return float(np.linalg.norm(lower - upper, axis=1).mean() / iod)

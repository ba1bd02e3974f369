"""BlazeFace short-range face detector: anchors, box and keypoint decoding, NMS, multi-scale search.

Model facts (MediaPipe's published options for face_detection_short_range): a 128x128 RGB input in
[-1, 1]; 896 SSD anchors from 4 layers with strides 8, 16, 16, 16, two anchors per layer and cell,
fixed anchor size 1, offset 0.5; 16 regressors per anchor, (x_center, y_center, w, h) then six
(x, y) keypoints, all in input pixels relative to the anchor centre; one logit score per anchor.
Keypoints, subject's side: 0 right eye, 1 left eye, 2 nose tip, 3 mouth centre, 4 right ear
tragion, 5 left ear tragion.

The model only finds faces that fill a fair part of its input (anchor scale >= 0.15), so a 100-px
face in a 1920-px frame needs tiles: `detect` searches the whole frame, then overlapping tiles.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ned_models.assets import FACE_DETECTOR
from ned_models.tracking.crops import RotatedRect, apply_transform, crop_from_frame, warp_crop
from ned_models.tracking.tflite import TfliteModel

__all__ = ["FaceDetection", "FaceDetector", "DetectorOptions", "ssd_anchors", "decode_detections",
           "non_max_suppression", "box_iou"]

_INPUT = 128
_STRIDES = (8, 16, 16, 16)
_ANCHORS_PER_LAYER = 2  # aspect ratio 1 plus the interpolated scale
_NUM_KEYPOINTS = 6
_SCORE_CLIP = 100.0
_NUM_ANCHORS = 896
_STRIDE8_ANCHORS = (_INPUT // 8) ** 2 * _ANCHORS_PER_LAYER  # 512, the first output head


@dataclass(frozen=True)
class FaceDetection:
    """One detected face in frame pixels.

    Attributes:
        box: (4,) float64 x0, y0, x1, y1 (frame pixels).
        keypoints: (6, 2) float64 (x, y) frame pixels, in the model's keypoint order.
        score: detection confidence in [0, 1].
    """

    box: np.ndarray
    keypoints: np.ndarray
    score: float

    @property
    def size(self) -> float:
        """Geometric mean of the box sides (pixels)."""
        w, h = self.box[2] - self.box[0], self.box[3] - self.box[1]
        return float(np.sqrt(max(w, 0.0) * max(h, 0.0)))


@dataclass(frozen=True)
class DetectorOptions:
    """Detector thresholds and search settings.

    Attributes:
        min_score: minimum detection confidence.
        nms_iou: IoU above which overlapping detections merge.
        tile_fractions: tile sides, as fractions of the frame's short side, searched after the whole
            frame (smaller = smaller faces found). Tiles overlap by half.
    """

    min_score: float = 0.5
    nms_iou: float = 0.3
    tile_fractions: tuple[float, ...] = field(default=(0.5,))


def ssd_anchors() -> np.ndarray:
    """The 896 anchor centres, (896, 2) float32 (x, y) on a 0..1 scale of the input, in model order."""
    centres = []
    for stride in sorted(set(_STRIDES)):
        per_cell = _ANCHORS_PER_LAYER * _STRIDES.count(stride)
        n = _INPUT // stride
        ys, xs = np.meshgrid((np.arange(n) + 0.5) / n, (np.arange(n) + 0.5) / n, indexing="ij")
        cells = np.stack([xs.ravel(), ys.ravel()], axis=1)  # (n*n, 2), row-major
        centres.append(np.repeat(cells, per_cell, axis=0))
    return np.concatenate(centres).astype(np.float32)


def decode_detections(regressors: np.ndarray, logits: np.ndarray, anchors: np.ndarray,
                      min_score: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Decode raw outputs into boxes, keypoints and scores in input-normalised coordinates.

    Args:
        regressors: (896, 16) raw box/keypoint regressors.
        logits: (896,) raw scores.
        anchors: (896, 2) from `ssd_anchors`.
        min_score: keep anchors scoring at least this.

    Returns:
        boxes (N, 4) x0, y0, x1, y1; keypoints (N, 6, 2); scores (N,), all on a 0..1 input scale.
    """
    scores = 1.0 / (1.0 + np.exp(-np.clip(logits.astype(np.float64), -_SCORE_CLIP, _SCORE_CLIP)))
    keep = np.flatnonzero(scores >= min_score)
    reg = regressors[keep] / _INPUT
    anc = anchors[keep]
    centre = reg[:, 0:2] + anc
    half = 0.5 * reg[:, 2:4]
    boxes = np.concatenate([centre - half, centre + half], axis=1)
    keypoints = reg[:, 4:4 + 2 * _NUM_KEYPOINTS].reshape(-1, _NUM_KEYPOINTS, 2) + anc[:, None, :]
    return boxes, keypoints, scores[keep]


def box_iou(box: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    """IoU of one (4,) box with (N, 4) boxes, x0, y0, x1, y1."""
    lo = np.maximum(box[:2], boxes[:, :2])
    hi = np.minimum(box[2:], boxes[:, 2:])
    inter = np.prod(np.clip(hi - lo, 0.0, None), axis=1)
    area = np.prod(box[2:] - box[:2])
    areas = np.prod(boxes[:, 2:] - boxes[:, :2], axis=1)
    return inter / np.maximum(area + areas - inter, 1e-12)


def non_max_suppression(boxes: np.ndarray, keypoints: np.ndarray, scores: np.ndarray, iou: float,
                        weighted: bool = True) -> list[tuple[np.ndarray, np.ndarray, float]]:
    """Greedy NMS, highest score first; weighted NMS averages each cluster by score (BlazeFace's rule).

    Returns:
        [(box (4,), keypoints (6, 2), score)] with the cluster's best score, best first.
    """
    order = np.argsort(-scores)
    remaining = order
    out = []
    while remaining.size:
        best = remaining[0]
        overlap = box_iou(boxes[best], boxes[remaining]) > iou
        cluster = remaining[overlap]
        remaining = remaining[~overlap]
        if weighted:
            w = scores[cluster] / scores[cluster].sum()
            box = (boxes[cluster] * w[:, None]).sum(axis=0)
            kps = (keypoints[cluster] * w[:, None, None]).sum(axis=0)
        else:
            box, kps = boxes[best], keypoints[best]
        out.append((box, kps, float(scores[best])))
    return out


class FaceDetector:
    """Finds faces in a frame (whole frame, then tiles for small faces)."""

    def __init__(self, options: DetectorOptions | None = None, model: TfliteModel | None = None) -> None:
        self.options = options or DetectorOptions()
        self._model = model or TfliteModel(FACE_DETECTOR)
        self._anchors = ssd_anchors()

    def detect(self, frame: np.ndarray, pixel_aspect: float = 1.0,
               search_tiles: bool = True) -> list[FaceDetection]:
        """Detect faces, largest first.

        Args:
            frame: (H, W, 3 or 4) uint8/uint16/float32 RGB(A).
            pixel_aspect: width / height of a frame pixel.
            search_tiles: also search overlapping tiles when the whole frame finds nothing.
        """
        regions = [_whole_frame(frame.shape[:2], pixel_aspect)]
        found = self._detect_in(frame, regions, pixel_aspect)
        if search_tiles and not found:
            tiles = [t for f in self.options.tile_fractions for t in _tiles(frame.shape[:2], pixel_aspect, f)]
            found = self._detect_in(frame, tiles, pixel_aspect)
        return sorted(found, key=lambda d: -d.size)

    def _detect_in(self, frame: np.ndarray, regions: list[RotatedRect],
                   pixel_aspect: float) -> list[FaceDetection]:
        transforms = [crop_from_frame(r, _INPUT, pixel_aspect) for r in regions]
        lo, hi = FACE_DETECTOR.input_range
        batch = np.stack([warp_crop(frame, t, _INPUT) for t in transforms]) * (hi - lo) + lo
        regressors, logits = (_unbatch_heads(o, len(regions)) for o in self._model.run(batch.astype(np.float32)))
        boxes, kps, scores = [], [], []
        for i, transform in enumerate(transforms):
            b, k, s = decode_detections(regressors[i], logits[i, :, 0], self._anchors, self.options.min_score)
            frame_from_crop = np.linalg.inv(transform)
            corners = apply_transform(frame_from_crop, b.reshape(-1, 2) * _INPUT).reshape(-1, 4)
            boxes.append(corners)
            kps.append(apply_transform(frame_from_crop, k * _INPUT))
            scores.append(s)
        if not regions or sum(len(s) for s in scores) == 0:
            return []
        merged = non_max_suppression(np.concatenate(boxes), np.concatenate(kps), np.concatenate(scores),
                                     self.options.nms_iou)
        return [FaceDetection(box=b, keypoints=k, score=s) for b, k, s in merged]


def _unbatch_heads(output: np.ndarray, batch: int) -> np.ndarray:
    """(1, B*896, C) model output -> (B, 896, C).

    The model's final reshapes fold the batch into the anchor axis head by head: all B images' 512
    stride-8 anchors come first, then all B images' 384 stride-16 anchors.
    """
    rows = output.reshape(batch * _NUM_ANCHORS, -1)
    split = batch * _STRIDE8_ANCHORS
    first = rows[:split].reshape(batch, _STRIDE8_ANCHORS, -1)
    second = rows[split:].reshape(batch, _NUM_ANCHORS - _STRIDE8_ANCHORS, -1)
    return np.concatenate([first, second], axis=1)


def _whole_frame(size_hw: tuple[int, int], pixel_aspect: float) -> RotatedRect:
    """The letterboxed square region around the whole frame."""
    h, w = size_hw
    return RotatedRect(center=(w / 2.0, h / 2.0), size=max(w * pixel_aspect, float(h)), angle=0.0)


def _tiles(size_hw: tuple[int, int], pixel_aspect: float, fraction: float) -> list[RotatedRect]:
    """Square tiles of side `fraction` x the short side, overlapping by half, covering the frame."""
    h, w = size_hw
    wd = w * pixel_aspect
    side = fraction * min(wd, h)
    step = side / 2.0

    def starts(extent: float) -> np.ndarray:
        n = max(int(np.ceil((extent - side) / step)), 0) + 1
        return np.linspace(0.0, max(extent - side, 0.0), n)

    return [RotatedRect(center=((x + side / 2.0) / pixel_aspect, y + side / 2.0), size=side, angle=0.0)
            for y in starts(h) for x in starts(wd)]

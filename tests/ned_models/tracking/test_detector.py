"""BlazeFace decoding: anchors, boxes and keypoints, NMS, the batch layout of the model's outputs."""

from __future__ import annotations

import numpy as np
import pytest

from ned_models.tracking.detector import (
    _unbatch_heads,
    box_iou,
    decode_detections,
    non_max_suppression,
    ssd_anchors,
)


def test_anchor_count_and_layout():
    anchors = ssd_anchors()
    assert anchors.shape == (896, 2)
    # stride 8: 16x16 cells, 2 anchors each, row-major from the top-left cell
    np.testing.assert_allclose(anchors[0], [0.5 / 16, 0.5 / 16])
    np.testing.assert_allclose(anchors[1], anchors[0])
    np.testing.assert_allclose(anchors[2], [1.5 / 16, 0.5 / 16])
    np.testing.assert_allclose(anchors[32], [0.5 / 16, 1.5 / 16])
    # stride 16: 8x8 cells with 6 anchors each (three layers share the stride)
    np.testing.assert_allclose(anchors[512:518], np.tile([0.5 / 8, 0.5 / 8], (6, 1)))
    np.testing.assert_allclose(anchors[-1], [7.5 / 8, 7.5 / 8])
    assert anchors.min() > 0 and anchors.max() < 1


def test_decode_known_detection():
    anchors = ssd_anchors()
    regressors = np.zeros((896, 16), dtype=np.float32)
    logits = np.full(896, -10.0, dtype=np.float32)
    k = 600  # a stride-16 anchor
    ax, ay = anchors[k]
    # box centred 4 px right and 2 px below the anchor, 40 x 48 px; keypoints at fixed offsets
    regressors[k, :4] = [4.0, 2.0, 40.0, 48.0]
    regressors[k, 4:] = np.arange(12, dtype=np.float32) - 6.0
    logits[k] = 3.0
    boxes, keypoints, scores = decode_detections(regressors, logits, anchors, min_score=0.5)
    assert boxes.shape == (1, 4) and keypoints.shape == (1, 6, 2)
    cx, cy = ax + 4 / 128, ay + 2 / 128
    np.testing.assert_allclose(boxes[0], [cx - 20 / 128, cy - 24 / 128, cx + 20 / 128, cy + 24 / 128], atol=1e-6)
    expected = (np.arange(12).reshape(6, 2) - 6.0) / 128 + [ax, ay]
    np.testing.assert_allclose(keypoints[0], expected, atol=1e-6)
    assert scores[0] == pytest.approx(1 / (1 + np.exp(-3.0)))


def test_decode_drops_low_scores_and_survives_huge_logits():
    anchors = ssd_anchors()
    logits = np.full(896, -500.0, dtype=np.float32)
    logits[3] = 1e6
    _, _, scores = decode_detections(np.zeros((896, 16), np.float32), logits, anchors, min_score=0.5)
    assert scores.shape == (1,) and scores[0] == pytest.approx(1.0)


def test_box_iou():
    box = np.array([0.0, 0.0, 2.0, 2.0])
    others = np.array([[0.0, 0.0, 2.0, 2.0], [1.0, 1.0, 3.0, 3.0], [5.0, 5.0, 6.0, 6.0]])
    np.testing.assert_allclose(box_iou(box, others), [1.0, 1.0 / 7.0, 0.0])


def test_weighted_nms_merges_overlaps_and_keeps_separate_faces():
    boxes = np.array([[0.0, 0.0, 10.0, 10.0], [1.0, 0.0, 11.0, 10.0], [50.0, 50.0, 60.0, 60.0]])
    keypoints = np.zeros((3, 6, 2))
    keypoints[1] += 2.0
    scores = np.array([0.9, 0.6, 0.8])
    merged = non_max_suppression(boxes, keypoints, scores, iou=0.3)
    assert len(merged) == 2
    box, kps, score = merged[0]
    assert score == pytest.approx(0.9)
    np.testing.assert_allclose(box, [0.4, 0.0, 10.4, 10.0])  # score-weighted mean of the cluster
    np.testing.assert_allclose(kps, 0.8)
    plain = non_max_suppression(boxes, keypoints, scores, iou=0.3, weighted=False)
    np.testing.assert_allclose(plain[0][0], boxes[0])


def test_unbatch_heads_follows_the_models_layout():
    batch = 3
    per_image = np.arange(batch)[:, None, None] * 1000 + np.arange(896)[None, :, None]  # (3, 896, 1)
    # the model emits all images' stride-8 rows, then all images' stride-16 rows
    folded = np.concatenate([per_image[:, :512].reshape(-1, 1), per_image[:, 512:].reshape(-1, 1)])[None]
    np.testing.assert_array_equal(_unbatch_heads(folded, batch), per_image)

"""A smile edited on real footage gets the nasolabial folds a warp alone cannot deepen.

The clip is analysed as the server does; each frame is rendered through `FramePipeline.render` and,
for comparison, as the bare warp of the same edited geometry (`render_patch` without creases). The
folds must lie beside the mouth, darken the skin, and make the independent classifier (fer, on
dlib's crop) read the smile more strongly; an edit that only removes expression draws none.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from ned_models import landmarks as L
from ned_models.analysis.shot import analyse_shot
from ned_models.edit import EditParams, Emotion
from ned_models.eval.emotion_classifier import FerClassifier
from ned_models.eval.reference_landmarks import Dlib68
from ned_models.manipulation.expression import emotional_baseline
from ned_models.media import open_source
from ned_models.pipeline import FEATHER_PER_UNIT, FramePipeline, edit_face, shot_topology
from ned_models.render import render_patch

pytestmark = [pytest.mark.media, pytest.mark.slow]

CLIP = "retalking_1.mp4"
FRAMES = 24
RENDERED = (4, 8, 12, 16, 20)


@pytest.fixture(scope="module")
def shot(media_dir: Path):
    with open_source(media_dir / "talking" / CLIP) as source:
        decoded = [(time_s, image) for (_, time_s, image), _ in zip(source, range(FRAMES), strict=False)]
    times, frames = [t for t, _ in decoded], [image for _, image in decoded]
    return frames, times, analyse_shot(iter(decoded))


@pytest.fixture(scope="module")
def smiles(shot):
    return _renders(shot, Emotion.HAPPY)


def _paste(frame: np.ndarray, patch, placement) -> np.ndarray:
    out = frame.copy()
    x, y, w, h = placement
    out[y:y + h, x:x + w] = patch
    return out


def _renders(shot, emotion: Emotion) -> list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]]:
    """(source, bare warp, pipeline render, edited landmarks) of the rendered frames."""
    frames, times, analysis = shot
    track = analysis.faces[0]
    baselines = emotional_baseline(track.expression.astype(np.float64), 25.0)
    pipeline, topology = FramePipeline(), shot_topology(track.identity)
    params = EditParams(emotion=emotion, intensity=1.0, mouth_preservation=1.0)
    out = []
    for i in RENDERED:
        state = analysis.state(0, times[i])
        edited = edit_face(state, baselines[i], params)
        bare = render_patch(frames[i], (0, 0), edited.source, edited.target, topology=topology, forehead=1.0,
                            feather=params.feather * FEATHER_PER_UNIT)
        full = pipeline.render(frames[i], (0, 0), 1.0, state, baselines[i], params, topology)
        out.append((frames[i], _paste(frames[i], bare.patch, bare.placement),
                    _paste(frames[i], full.patch, full.placement), edited.target))
    return out


def test_folds_darken_the_cheeks_beside_the_mouth_and_nothing_else(smiles) -> None:
    for _, bare, full, target in smiles:
        change = full.astype(np.float64).sum(axis=2) - bare.astype(np.float64).sum(axis=2)
        assert change.sum() < 0.0 and change.max() < -0.5 * change.min(), "the sheen outshines the fold"
        ys, xs = np.nonzero(change < -3.0)
        assert len(xs) > 50, "no visible fold"
        iod = float(L.inter_ocular_distance(target))
        corners = target[[L.MOUTH_RIGHT_CORNER, L.MOUTH_LEFT_CORNER]]
        nose = target[L.NOSE_TIP]
        for corner in corners:                      # a fold on each side, outside the lip corner
            side = np.sign(corner[0] - nose[0])
            mine = side * (xs - nose[0]) > 0
            assert np.count_nonzero(mine) > 20
            assert np.median(side * (xs[mine] - corner[0])) > -0.05 * iod
        assert ys.min() > target[list(L.RIGHT_EYE + L.LEFT_EYE), 1].max(), "shading reached the eyes"
        assert ys.max() < target[L.CHIN, 1], "shading reached below the chin"


def test_the_folds_make_the_smile_read_more_strongly(smiles) -> None:
    classifier, landmarker = FerClassifier.load(), Dlib68()
    gains = []
    for _, bare, full, _ in smiles:
        points = landmarker.detect(bare)
        assert points is not None
        p_bare = classifier.face_probabilities(bare, points)[Emotion.HAPPY]
        p_full = classifier.face_probabilities(full, points)[Emotion.HAPPY]
        gains.append(p_full - p_bare)
    assert np.mean(gains) > 0.05, f"P(happy) with the folds minus without: {np.round(gains, 3)}"


def test_an_edit_that_removes_expression_draws_no_fold(shot) -> None:
    for _, bare, full, _ in _renders(shot, Emotion.NEUTRAL):
        assert np.array_equal(bare, full)

"""Acceptance of the face analysis on the 14 talking clips (all frames of every clip; ~4 min).

- reprojection: median landmark error of the 3D fit < 1.5% of the inter-ocular distance, per clip;
- identity: the identities of the two halves of each clip differ by < 2% IOD (median landmark);
- jitter: the mean landmark acceleration after smoothing is at most half of the raw tracker's;
- speech: our inner-lip aperture correlates with dlib's 68-point one at >= 0.9 on at least 12 of
  the 14 clips and >= 0.85 on all (dlib's consensus reading over 27 boxes and their mirror images,
  see `ned_models.eval.reference_landmarks.Dlib68`).
(Tracking rate is tested in tests/ned_models/tracking/test_tracker_media.py.)
"""

from __future__ import annotations

import numpy as np
import pytest

from ned_models.analysis.shot import analyse_shot
from ned_models.eval.reference_landmarks import Dlib68
from ned_models.face_model.morphable import load_face_model
from tests.ned_models.analysis.acceptance import (
    aperture_correlation,
    identity_halves,
    jitter_ratio,
    reprojection_error,
)
from tests.ned_models.analysis.conftest import decode

pytestmark = [pytest.mark.media, pytest.mark.slow]


@pytest.fixture(scope="module")
def talking(media_dir):
    """name -> (analysis, dlib landmarks per frame) for every talking clip."""
    clips = sorted((media_dir / "talking").glob("*.mp4"))
    assert len(clips) == 14
    out = {}
    for clip in clips:
        frames = decode(clip)
        dlib = Dlib68(track=True)
        out[clip.stem] = (analyse_shot(iter(frames)), [dlib.detect(f) for _, f in frames])
    return out


def test_every_frame_has_its_face(talking):
    for name, (shot, _) in talking.items():
        assert len(shot.faces) == 1 and shot.faces[0].present.mean() >= 0.99, name


def test_reprojection_error_of_the_fit(talking):
    model = load_face_model()
    medians = {name: float(np.median(reprojection_error(model, shot.faces[0]))) for name, (shot, _) in talking.items()}
    assert max(medians.values()) < 0.015, medians


def test_identity_is_stable_over_the_shot(talking):
    model = load_face_model()
    spread = {name: identity_halves(model, shot.faces[0]) for name, (shot, _) in talking.items()}
    assert max(spread.values()) < 0.02, spread


def test_smoothing_halves_the_jitter(talking):
    ratios = {name: jitter_ratio(shot.faces[0]) for name, (shot, _) in talking.items()}
    assert max(ratios.values()) <= 0.5, ratios


def test_speech_channel_agrees_with_an_independent_landmarker(talking):
    correlations = {name: aperture_correlation(shot.faces[0], dlib) for name, (shot, dlib) in talking.items()}
    values = np.array(list(correlations.values()))
    assert (values >= 0.9).sum() >= 12 and values.min() >= 0.85, correlations

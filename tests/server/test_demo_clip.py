"""The demo clip generator: the mouth really moves (as our tracker sees it), the head sways, there is sound.

The full demo (CLI + melt) runs in `python3 build.py demo`; this keeps to the clip, at 1.6 s.
"""

from __future__ import annotations

import numpy as np
import pytest
from ned_server.demo_clip import DemoClipSpec, make_demo_clip, openness, speech_audio, syllables

from ned_models.analysis.shot import analyse_shot
from ned_models.landmarks import NOSE_TIP
from ned_models.media import open_source, probe

SPEC = DemoClipSpec(seconds=1.6, fps=25)


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory):
    return make_demo_clip(tmp_path_factory.mktemp("demo") / "talking.mp4", SPEC)


@pytest.fixture(scope="module")
def analysis(clip):
    with open_source(clip.path) as source:
        return analyse_shot((f.time_s, f.image) for f in source.frames())


def test_clip_has_the_frames_timing_and_audio_it_promises(clip):
    info = probe(clip.path)
    assert clip.frame_count == info.decoded_frames == 40
    assert info.pts_s == tuple(np.arange(40) / 25) or [float(t) for t in info.pts_s] == pytest.approx(
        list(np.arange(40) / 25))
    assert (info.width, info.height, info.codec) == (512, 512, "h264")
    assert len(info.audio) == 1 and info.audio[0].codec == "aac" and info.audio[0].sample_rate == SPEC.sample_rate
    assert float(info.audio[0].end_s) == pytest.approx(1.6, abs=0.03)


def test_tracked_mouth_follows_the_speech_track(clip, analysis):
    face = analysis.faces[0]
    assert face.present.all(), "the tracker lost the face in the demo clip"
    aperture = face.aperture.astype(float)
    assert clip.openness.max() > 0.8 and clip.openness.min() < 0.05
    assert aperture.max() - aperture.min() > 0.05, f"inner-lip aperture (IOD) barely moves: {aperture.round(3)}"
    assert np.corrcoef(aperture, clip.openness)[0, 1] > 0.8


def test_head_moves_as_the_sway_says(clip, analysis):
    nose = analysis.faces[0].landmarks[:, NOSE_TIP, :2].astype(float)
    assert np.ptp(nose[:, 0]) > 3 or np.ptp(nose[:, 1]) > 3, "the head does not move"
    # the tracked nose tip follows the similarity applied to the still (within tracking noise)
    still_nose = np.linalg.solve(clip.head_from_still[0], np.append(nose[0], 1.0))
    predicted = np.einsum("tij,j->ti", clip.head_from_still, still_nose)[:, :2]
    assert np.abs(predicted - nose).max() < 4.0


def test_speech_track_is_deterministic_and_has_a_pause():
    table = syllables(4.0, seed=7)
    assert np.array_equal(table, syllables(4.0, seed=7)) and not np.array_equal(table, syllables(4.0, seed=8))
    assert 9 <= len(table) <= 22  # 3-5 syllables a second over the ~3 s of speech
    t = np.linspace(0, 4, 4001)
    track = openness(t, table)
    assert track.min() == 0.0 and 0.9 <= track.max() <= 1.0
    assert np.all(track[(t > 1.9) & (t < 2.3)] == 0.0), "no pause between the phrases"


def test_audio_is_loud_when_the_mouth_is_open():
    table = syllables(2.0, seed=3)
    audio = speech_audio(2.0, 16_000, table)
    assert audio.dtype == np.float32 and audio.shape == (32_000,) and np.abs(audio).max() <= 1.0
    track = openness(np.arange(32_000) / 16_000, table)
    assert np.all(audio[track == 0.0] == 0.0)
    assert np.sqrt(np.mean(audio[track > 0.5] ** 2)) > 0.1

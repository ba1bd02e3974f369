"""Online analysis: causal, frame by frame, any order, and the same storage format."""

from __future__ import annotations

import numpy as np
import pytest

from ned_models.analysis.online import OnlineAnalyser
from ned_models.analysis.results import ShotAnalysis
from ned_models.analysis.shot import analyse_shot


@pytest.mark.media
def test_frames_in_order_give_states_and_a_storable_snapshot(short_clip):
    online = OnlineAnalyser()
    states = [online.add_frame(t, f) for t, f in short_clip[:25]]
    assert all(len(s) == 1 and s[0].face_index == 0 for s in states)
    snapshot = online.snapshot()
    assert snapshot.mode == "online" and len(snapshot.times) == 25
    again = ShotAnalysis.from_arrays(snapshot.to_arrays())
    np.testing.assert_array_equal(again.faces[0].landmarks, snapshot.faces[0].landmarks)
    state = again.state(0, short_clip[10][0])
    np.testing.assert_allclose(state.landmarks, states[10][0].landmarks, atol=1e-4)


@pytest.mark.media
def test_causal_states_do_not_depend_on_later_frames(short_clip):
    a, b = OnlineAnalyser(), OnlineAnalyser()
    first = [a.add_frame(t, f)[0] for t, f in short_clip[:12]]
    second = [b.add_frame(t, f)[0] for t, f in short_clip[:12]]
    b.add_frame(*short_clip[12])
    np.testing.assert_array_equal(first[-1].landmarks, second[-1].landmarks)


@pytest.mark.media
def test_scrubbing_backwards_and_jumping_never_fails(short_clip):
    online = OnlineAnalyser()
    order = [20, 21, 5, 6, 39, 0, 0, 22]
    for i in order:
        states = online.add_frame(*short_clip[i])
        assert len(states) == 1
        iod = np.linalg.norm(states[0].landmarks[263, :2] - states[0].landmarks[33, :2])
        assert iod > 50
    assert len(online.snapshot().times) == len(set(order))


@pytest.mark.media
def test_a_prior_analysis_gives_its_identity_from_the_first_frame(short_clip):
    full = analyse_shot(iter(short_clip))
    online = OnlineAnalyser(prior=full)
    state = online.add_frame(*short_clip[3])[0]
    np.testing.assert_array_equal(state.identity, full.faces[0].identity)
    assert state.residual.shape == (full.faces[0].residual_basis.shape[0],)

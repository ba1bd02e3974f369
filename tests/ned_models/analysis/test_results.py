"""ShotAnalysis: storage round trip (bit-identical after a reload), state lookup, errors."""

from __future__ import annotations

import numpy as np
import pytest

from ned_models.analysis.results import SCHEMA_VERSION, ShotAnalysis
from ned_models.analysis.shot import analyse_shot
from ned_models.errors import AnalysisMissing
from ned_models.face_model.action_units import ActionUnit
from ned_models.face_model.morphable import load_face_model


@pytest.fixture(scope="module")
def shot(short_clip):
    return analyse_shot(iter(short_clip))


def _reload(shot, tmp_path):
    path = tmp_path / "shot.npz"
    np.savez(path, **shot.to_arrays())
    with np.load(path, allow_pickle=False) as stored:
        return ShotAnalysis.from_arrays(dict(stored))


@pytest.mark.media
def test_analysis_shapes(shot):
    assert shot.mode == "full" and shot.size_hw == (512, 512) and len(shot.faces) == 1
    track = shot.faces[0]
    t = len(shot.times)
    assert t == 40 and track.present.all()
    assert track.landmarks.shape == (t, 478, 3) and track.landmarks.dtype == np.float32
    assert track.expression.shape == (t, len(ActionUnit))
    assert track.residual.shape == (t, track.residual_basis.shape[0])
    assert np.all(track.render_region[:, 2:] > track.render_region[:, :2])
    lo = track.landmarks[..., :2].min(axis=1)
    assert np.all(track.render_region[:, :2] <= lo) and np.all(track.render_region[:, :2] >= 0)


@pytest.mark.media
def test_reload_gives_identical_render_inputs(shot, tmp_path):
    again = _reload(shot, tmp_path)
    for name, value in shot.to_arrays().items():
        np.testing.assert_array_equal(again.to_arrays()[name], value, err_msg=name)
    time = float(shot.times[17])
    before, after = shot.state(0, time), again.state(0, time)
    edit = before.expression.copy()
    edit[ActionUnit.LIP_CORNER_PULL_L] += 1.0
    np.testing.assert_array_equal(before.landmarks, after.landmarks)
    np.testing.assert_array_equal(before.edited_landmarks(edit), after.edited_landmarks(edit))
    # a restarted server rebuilds the face model: it must be the same model, bit for bit
    cached = load_face_model()
    load_face_model.cache_clear()
    rebuilt = load_face_model()
    assert rebuilt.fingerprint == cached.fingerprint
    np.testing.assert_array_equal(rebuilt.basis, cached.basis)
    np.testing.assert_array_equal(after.edited_landmarks(edit), before.edited_landmarks(edit))


@pytest.mark.media
def test_unedited_state_projects_onto_its_landmarks(shot):
    state = shot.state(0, float(shot.times[5]))
    np.testing.assert_allclose(state.edited_landmarks(state.expression), state.landmarks, atol=1e-9)
    edit = state.expression.copy()
    edit[ActionUnit.JAW_DROP] += 1.0
    moved = state.edited_landmarks(edit) - state.landmarks
    iod = state.pose.scale
    assert moved[152, 1] > 0.2 * iod  # the chin goes down
    assert np.abs(moved[10]).max() < 0.01 * iod  # the forehead stays


@pytest.mark.media
def test_state_lookup(shot):
    step = float(np.median(np.diff(shot.times)))
    assert shot.state(0, float(shot.times[3]) + 0.3 * step).time == float(shot.times[3])
    with pytest.raises(AnalysisMissing, match="no analysed frame"):
        shot.state(0, float(shot.times[-1]) + 10 * step)
    with pytest.raises(AnalysisMissing, match="no face 1"):
        shot.state(1, float(shot.times[0]))
    np.testing.assert_array_equal(shot.render_region(0, float(shot.times[3])), shot.faces[0].render_region[3])


@pytest.mark.media
@pytest.mark.parametrize("damage, message", [
    (lambda a: a.update(schema_version=np.array(SCHEMA_VERSION + 1)), "schema version"),
    (lambda a: a.update(model_fingerprint=np.array("0000")), "face model"),
    (lambda a: a.pop("face0.landmarks"), "missing"),
    (lambda a: a.update({"face0.expression": a["face0.expression"][:, :3]}), "shape"),
    (lambda a: a.update(mode=np.array("sideways")), "mode"),
])
def test_old_or_corrupt_analyses_are_refused(shot, damage, message):
    arrays = shot.to_arrays()
    damage(arrays)
    with pytest.raises(AnalysisMissing, match=message):
        ShotAnalysis.from_arrays(arrays)

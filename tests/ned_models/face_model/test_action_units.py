"""The action-unit basis: named, local, mirrored where one-sided, distinct, visible at 1."""

from __future__ import annotations

import numpy as np
import pytest

from ned_models.face_model.action_units import ACTION_UNIT_INFO, ActionUnit
from ned_models.landmarks import LIPS_INNER, LIPS_OUTER, MESH_POINTS, RIGHT_BROW

BROW_AND_EYE_UNITS = (ActionUnit.BROW_INNER_RAISE, ActionUnit.BROW_OUTER_RAISE_R, ActionUnit.BROW_OUTER_RAISE_L,
                      ActionUnit.BROW_LOWER, ActionUnit.UPPER_LID_RAISE, ActionUnit.LID_TIGHTEN,
                      ActionUnit.EYE_CLOSE_R, ActionUnit.EYE_CLOSE_L)
MOUTH_UNITS = (ActionUnit.LIP_CORNER_PULL_R, ActionUnit.LIP_CORNER_PULL_L, ActionUnit.LIP_CORNER_DEPRESS,
               ActionUnit.CHIN_RAISE, ActionUnit.LIP_PUCKER, ActionUnit.LIP_STRETCH, ActionUnit.LIP_FUNNEL,
               ActionUnit.LIP_PRESS, ActionUnit.LIPS_PART, ActionUnit.JAW_DROP)
PAIRS = ((ActionUnit.BROW_OUTER_RAISE_R, ActionUnit.BROW_OUTER_RAISE_L),
         (ActionUnit.EYE_CLOSE_R, ActionUnit.EYE_CLOSE_L),
         (ActionUnit.LIP_CORNER_PULL_R, ActionUnit.LIP_CORNER_PULL_L))


def _mirror(field, pairs):
    return field[:MESH_POINTS][pairs] * [-1, 1, 1]


def test_every_unit_is_named_and_documented(model):
    assert model.basis.shape == (len(ActionUnit), 478, 3)
    assert set(ACTION_UNIT_INFO) == set(ActionUnit)


@pytest.mark.parametrize("unit", list(ActionUnit))
def test_unit_is_visible_and_leaves_the_irises(model, unit):
    field = model.basis[unit]
    assert 0.025 <= np.linalg.norm(field, axis=1).max() <= 0.35  # IOD at coefficient 1
    np.testing.assert_array_equal(field[MESH_POINTS:], 0.0)


def test_units_are_local(model):
    mouth = list(LIPS_OUTER + LIPS_INNER)
    brow = list(RIGHT_BROW)
    for unit in BROW_AND_EYE_UNITS:
        assert np.abs(model.basis[unit][mouth]).max() < 1e-3, unit.name
    for unit in MOUTH_UNITS:
        assert np.abs(model.basis[unit][brow]).max() < 1e-3, unit.name


def test_one_sided_units_mirror_each_other_and_symmetric_units_are_symmetric(model):
    for right, left in PAIRS:
        np.testing.assert_allclose(_mirror(model.basis[right], model.pairs), model.basis[left][:MESH_POINTS],
                                   atol=1e-9)
        assert np.abs(model.basis[right][[263, 291, 300]]).max() < 1e-3  # nothing on the other side
    for unit in set(ActionUnit) - {u for pair in PAIRS for u in pair}:
        np.testing.assert_allclose(_mirror(model.basis[unit], model.pairs), model.basis[unit][:MESH_POINTS],
                                   atol=1e-6)


def test_units_are_distinct(model):
    flat = model.basis.reshape(len(ActionUnit), -1)
    unit = flat / np.linalg.norm(flat, axis=1, keepdims=True)
    cosine = unit @ unit.T
    np.fill_diagonal(cosine, 0.0)
    assert cosine.max() < 0.9  # no two units draw nearly the same motion
    gram = flat @ flat.T
    assert np.linalg.cond(gram) < 1e4  # the basis is well conditioned for the fit


def test_units_move_the_way_their_names_say(model):
    b = model.basis
    assert b[ActionUnit.BROW_INNER_RAISE][107, 1] < -0.05  # up is -y
    assert b[ActionUnit.BROW_LOWER][107, 1] > 0.03 and b[ActionUnit.BROW_LOWER][107, 0] > 0.02  # down, in
    assert b[ActionUnit.LIP_CORNER_PULL_R][61, 1] < -0.05 and b[ActionUnit.LIP_CORNER_PULL_R][61, 0] < -0.05
    assert b[ActionUnit.LIP_CORNER_DEPRESS][61, 1] > 0.05
    assert b[ActionUnit.JAW_DROP][152, 1] == pytest.approx(0.3, abs=0.02)
    gap = lambda f: f[14, 1] - f[13, 1]  # noqa: E731
    assert gap(b[ActionUnit.LIPS_PART]) > 0.08 and abs(b[ActionUnit.LIPS_PART][152, 1]) < 0.01
    t = model.template
    closed = t + b[ActionUnit.EYE_CLOSE_R]
    assert abs(closed[145, 1] - closed[159, 1]) < 0.01  # lids meet at 1
    assert (t + b[ActionUnit.EYE_CLOSE_R])[374, 1] == pytest.approx(t[374, 1])

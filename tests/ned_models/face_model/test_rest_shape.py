"""Rest-shape cues and the static (shot-long) expression read from them."""

from __future__ import annotations

import numpy as np
import pytest

from ned_models.face_model.action_units import ActionUnit
from ned_models.face_model.identity import STATIC_UNITS, static_expression
from ned_models.face_model.rest_shape import CUE_NORM, CUE_SPREAD, CUES, MEASURES, NEUTRAL, cue_values, measure

NO_KEPT = np.zeros(len(ActionUnit), dtype=bool)


def test_tables_are_consistent():
    assert set(NEUTRAL) <= set(MEASURES) and set(CUES) <= set(MEASURES)
    assert CUE_NORM.shape == CUE_SPREAD.shape == (len(CUES),) and np.all(CUE_SPREAD > 0)


def test_cues_are_batched_and_translation_free(model):
    shapes = np.stack([model.template, model.template + [0.3, -0.2, 0.1]])
    values = cue_values(shapes)
    assert values.shape == (2, len(CUES))
    np.testing.assert_allclose(values[0], values[1], atol=1e-12)  # read against the face's own points


def test_measures_read_the_way_their_names_say(model):
    t, b = model.template, model.basis
    assert measure("mouth_width", t + b[ActionUnit.LIP_STRETCH]) > measure("mouth_width", t) + 0.05
    assert measure("corner_lift", t + b[ActionUnit.LIP_CORNER_DEPRESS]) < measure("corner_lift", t) - 0.03
    assert measure("inner_brow", t + b[ActionUnit.BROW_INNER_RAISE]) > measure("inner_brow", t) + 0.05
    assert measure("lid_gap", t + b[ActionUnit.UPPER_LID_RAISE]) > measure("lid_gap", t) + 0.02


@pytest.mark.parametrize("units, strength", [
    ((ActionUnit.LIP_CORNER_PULL_R, ActionUnit.LIP_CORNER_PULL_L), 1.0),
    ((ActionUnit.BROW_INNER_RAISE, ActionUnit.BROW_OUTER_RAISE_R, ActionUnit.BROW_OUTER_RAISE_L), 1.0),
    ((ActionUnit.BROW_LOWER,), 1.0),
    ((ActionUnit.LIP_CORNER_DEPRESS,), 1.0),
])
def test_a_held_expression_reads_as_itself(model, units, strength):
    held = np.zeros(len(ActionUnit))
    held[list(units)] = strength
    read = static_expression(model, np.tensordot(held, model.basis, axes=1), NO_KEPT)
    assert min(read[u] for u in units) > 0.4 * strength
    others = [u for u in STATIC_UNITS if u not in units]
    assert read[others].max() < 0.5 * min(read[u] for u in units)


def test_faces_within_the_spread_read_as_at_rest(model):
    """Offsets that keep every cue within the dead zone of faces at rest hold no expression."""
    rng = np.random.default_rng(4)
    for _ in range(5):
        face = rng.normal(0.0, 0.1, len(model.identity_basis))
        offset = np.tensordot(face, model.identity_basis, axes=1)
        assert np.all(np.abs(cue_values(model.template + offset) - CUE_NORM) < 0.5 * CUE_SPREAD + 0.01)
        assert static_expression(model, offset, NO_KEPT).max() < 0.1


def test_stronger_holds_read_stronger(model):
    pull = model.basis[ActionUnit.LIP_CORNER_PULL_R] + model.basis[ActionUnit.LIP_CORNER_PULL_L]
    reads = [static_expression(model, a * pull, NO_KEPT)[ActionUnit.LIP_CORNER_PULL_R] for a in (0.3, 0.6, 1.2)]
    assert reads[0] < reads[1] < reads[2]

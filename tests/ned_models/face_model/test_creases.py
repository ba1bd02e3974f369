"""The crease rig: folds ride on the mesh and deepen only with the activation an edit adds."""

from __future__ import annotations

import numpy as np

from ned_models.face_model.action_units import ActionUnit as AU
from ned_models.face_model.creases import CREASES, MAX_DEPTH, CreaseRig
from ned_models.face_model.morphable import FaceModel


def test_curves_follow_the_mesh_through_any_affine_map(model: FaceModel) -> None:
    rig = CreaseRig(model.template)
    # a frame's landmarks: the template turned, scaled to ~200 px between the eyes and moved
    turn = np.array([[np.cos(0.2), -np.sin(0.2)], [np.sin(0.2), np.cos(0.2)]])
    points = model.template[:, :2] @ (200.0 * turn).T + np.array([640.0, 360.0])
    for crease, curve in zip(CREASES, rig.curves(points), strict=True):
        expected = crease.curve @ (200.0 * turn).T + np.array([640.0, 360.0])
        assert np.allclose(curve, expected, atol=1e-6)
    assert np.allclose(rig.widths(points), [200.0 * c.width for c in CREASES])


def test_the_two_nasolabial_folds_mirror_each_other() -> None:
    right, left = (c for c in CREASES if "nasolabial" in c.name)
    assert np.allclose(left.curve * [-1.0, 1.0], right.curve)
    assert left.bulge_side == -right.bulge_side


def test_a_smile_added_deepens_both_folds_and_one_removed_deepens_none(model: FaceModel) -> None:
    rig = CreaseRig(model.template)
    neutral = np.zeros(len(AU))
    smiling = neutral.copy()
    smiling[[AU.LIP_CORNER_PULL_R, AU.LIP_CORNER_PULL_L, AU.CHEEK_RAISE]] = [1.5, 1.5, 0.7]
    names = [c.name for c in CREASES]
    nasolabial = np.array(["nasolabial" in name for name in names])
    added = rig.depths(neutral, smiling)
    assert np.all(added[nasolabial] > 0.05) and np.all(added[~nasolabial] == 0.0)
    assert np.allclose(rig.depths(smiling, neutral), 0.0)            # a smile taken away: no fold drawn
    half = smiling.copy()
    half[AU.LIP_CORNER_PULL_L] = 0.0                                  # one-sided: only the right fold
    one_sided = rig.depths(neutral, half)
    assert one_sided[names.index("nasolabial furrow (right)")] > one_sided[names.index("nasolabial furrow (left)")]
    assert np.all(rig.depths(neutral, 100.0 * smiling) <= MAX_DEPTH)


def test_lowered_brows_crease_only_between_the_brows(model: FaceModel) -> None:
    rig = CreaseRig(model.template)
    frowning = np.zeros(len(AU))
    frowning[AU.BROW_LOWER] = 1.0
    depths = rig.depths(np.zeros(len(AU)), frowning)
    glabellar = np.array(["glabellar" in c.name for c in CREASES])
    assert glabellar.sum() == 2 and np.all(depths[glabellar] > 0.1) and np.all(depths[~glabellar] == 0.0)
    right, left = (c for c in CREASES if "glabellar" in c.name)
    assert np.all(right.curve[:, 0] < 0.0) and np.allclose(left.curve * [-1.0, 1.0], right.curve)

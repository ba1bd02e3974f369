"""The dense warp: exactness, sub-pixel accuracy, no folding, rigid eye and mouth interiors."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from ned_models import landmarks as L
from ned_models.render import WarpTopology, build_topology, dense_warp_field, warp_image
from ned_models.render.field import corner_jacobians, fold_guard
from tests.ned_models.render.conftest import CENTRE, FRAME_HW, IOD, smile, textured_frame
from tests.ned_models.render.synthetic_face import synthetic_face

BOUNDS = (0, 0, FRAME_HW[1], FRAME_HW[0])


def _paste(frame: np.ndarray, patch: np.ndarray, placement: tuple[int, int, int, int]) -> np.ndarray:
    out = frame.copy()
    x, y, w, h = placement
    out[y:y + h, x:x + w] = patch
    return out


def _blob_centroid(image: np.ndarray, centre: np.ndarray, radius: int) -> np.ndarray:
    x0, y0 = (centre - radius).astype(int)
    win = image[y0:y0 + 2 * radius, x0:x0 + 2 * radius].astype(np.float64)
    yy, xx = np.mgrid[0:win.shape[0], 0:win.shape[1]]
    return np.array([(win * (xx + 0.5)).sum(), (win * (yy + 0.5)).sum()]) / win.sum() + (x0, y0)


def test_uniform_translation_moves_the_face_centre_exactly(face: np.ndarray, topology: WarpTopology) -> None:
    shift = np.array([1.3, -0.7])
    dst = face[:, :2] + shift
    field = dense_warp_field(face, dst, topology, BOUNDS, feather=0.12)
    # where the mask is 1, every control point moved by `shift`, so the output samples at p - shift
    pos = field.sample_positions((206, 190, 100, 100))
    yy, xx = np.mgrid[190:290, 206:306] + 0.5
    np.testing.assert_allclose(pos[..., 0], xx - shift[0], atol=2e-3)
    np.testing.assert_allclose(pos[..., 1], yy - shift[1], atol=2e-3)
    # a smooth dot moves by `shift`, to OpenCV's cubic accuracy: its kernel (a = -0.75) does not
    # reproduce linear ramps, positions are off by up to 0.048 px depending on the phase
    y, x = np.mgrid[0:FRAME_HW[0], 0:FRAME_HW[1]] + 0.5
    dot_at = np.array([256.2, 241.7])
    frame = (200 * np.exp(-((x - dot_at[0]) ** 2 + (y - dot_at[1]) ** 2) / (2 * 3.0 ** 2))).astype(np.float32)
    frame = np.repeat(frame[..., None], 3, axis=2)
    patch, placement, _ = warp_image(frame, (0, 0), field)
    out = _paste(frame, patch, placement)
    np.testing.assert_allclose(_blob_centroid(out[..., 0], dot_at + shift, 24), dot_at + shift, atol=0.05)


def test_identity_edit_is_an_exact_copy(face: np.ndarray, topology: WarpTopology) -> None:
    field = dense_warp_field(face, face, topology, BOUNDS, feather=0.12)
    assert not field.displacement.any()
    for dtype in (np.uint8, np.uint16, np.float32):
        frame = textured_frame(dtype, 4)
        patch, (x, y, w, h), alpha = warp_image(frame, (0, 0), field)
        assert patch.dtype == dtype
        assert np.array_equal(patch, frame[y:y + h, x:x + w])


def test_pixels_outside_the_mask_are_bit_exact(face: np.ndarray, topology: WarpTopology) -> None:
    field = dense_warp_field(face, smile(face), topology, BOUNDS, feather=0.12)
    for dtype in (np.uint8, np.uint16, np.float32):
        frame = textured_frame(dtype, 4)
        patch, (x, y, w, h), alpha = warp_image(frame, (0, 0), field)
        source = frame[y:y + h, x:x + w]
        outside = alpha == 0
        assert outside.any() and (alpha > 0).any()
        assert np.array_equal(patch[outside], source[outside])
        assert np.array_equal(patch[..., 3], source[..., 3])  # host alpha carried through
        assert not np.array_equal(patch[..., :3], source[..., :3])  # and the face did change
    assert field.mask_and_motion((x, y, w, h), 1e-9)[1][alpha == 0].sum() == 0


def test_float_values_outside_zero_one_survive(face: np.ndarray, topology: WarpTopology) -> None:
    frame = textured_frame(np.float32)
    assert frame.min() < -0.1 and frame.max() > 1.1
    field = dense_warp_field(face, smile(face), topology, BOUNDS, feather=0.12)
    patch, _, alpha = warp_image(frame, (0, 0), field)
    moved = patch[alpha > 0.5]
    assert moved.min() < -0.1 and moved.max() > 1.1


@pytest.mark.parametrize("amount", [0.2, 0.6])
def test_large_displacements_never_fold(face: np.ndarray, topology: WarpTopology, amount: float) -> None:
    rng = np.random.default_rng(3)
    dst = smile(face, amount) + rng.normal(0.0, 0.05 * IOD, (len(face), 2))  # crossing, noisy points
    field = dense_warp_field(face, dst, topology, BOUNDS, feather=0.12, min_jacobian=0.2)
    assert corner_jacobians(field.displacement, field.step).min() >= 0.2
    # per pixel too: finite differences of the sampling positions
    pos = field.sample_positions((150, 80, 220, 330)).astype(np.float64)
    dx, dy = np.diff(pos, axis=1)[:-1], np.diff(pos, axis=0)[:, :-1]
    jac = dx[..., 0] * dy[..., 1] - dx[..., 1] * dy[..., 0]
    assert jac.min() > 0.15


def test_fold_guard_keeps_a_safe_edit_untouched(face: np.ndarray, topology: WarpTopology) -> None:
    gentle = dense_warp_field(face, smile(face, 0.04), topology, BOUNDS, feather=0.12)
    unguarded = dense_warp_field(face, smile(face, 0.04), topology, BOUNDS, feather=0.12, min_jacobian=1e-6)
    assert np.array_equal(gentle.displacement, unguarded.displacement)


def test_fold_guard_cures_a_local_fold_without_weakening_the_edit() -> None:
    """A lift that stops abruptly (as a raised lid meets a brow) folds along its edge; the
    guard smooths that edge and leaves the lift's size, instead of scaling the whole field down."""
    field = np.zeros((60, 60, 2), np.float32)
    field[20:40, 24:36, 1] = 10.0  # 10 px over a 3 px node spacing: a step of 3 cells
    guarded = fold_guard(field, 3, 0.2)
    assert corner_jacobians(field, 3).min() < 0.2 <= corner_jacobians(guarded, 3).min()
    assert np.abs(guarded).max() > 0.8 * 10.0
    assert np.linalg.norm(guarded) > 0.8 * np.linalg.norm(field)  # a uniform scale-down kept 24%
    assert np.array_equal(guarded[:8], field[:8]), "nodes far from the fold must stay as they were"


def _eye_frame(face: np.ndarray, radius: float) -> np.ndarray:
    frame = np.full((*FRAME_HW, 3), 200, np.uint8)
    centre = face[L.RIGHT_IRIS[0], :2]
    cv2.circle(frame, tuple(np.round(centre * 16).astype(int)), int(radius * 16), (40, 30, 20), -1,
               lineType=cv2.LINE_AA, shift=4)
    return frame


def _disk_shape(image: np.ndarray) -> tuple[np.ndarray, float, float]:
    """Centroid, area and axis ratio of the dark disk (intensity-weighted moments)."""
    weight = (200.0 - image[..., 0].astype(np.float64)) / 160.0
    m = cv2.moments(weight.astype(np.float32))
    c = np.array([m["m10"], m["m01"]]) / m["m00"] + 0.5
    cov = np.array([[m["mu20"], m["mu11"]], [m["mu11"], m["mu02"]]]) / m["m00"]
    ev = np.linalg.eigvalsh(cov)
    return c, m["m00"], float(np.sqrt(ev[1] / ev[0]))


def test_iris_moves_rigidly_while_the_lids_open(face: np.ndarray, topology: WarpTopology) -> None:
    dst = face[:, :2].copy()
    n = (len(L.RIGHT_EYE) - 2) // 2
    upper, lower = list(L.RIGHT_EYE[n + 2:]), list(L.RIGHT_EYE[1:n + 1])
    dst[upper] += (1.5, -5.0)  # surprise: the upper lid goes up, the lower a little down
    dst[lower] += (1.5, 1.0)
    dst[list(L.RIGHT_EYE[:1]) + [L.RIGHT_EYE[n + 1]]] += (1.5, -1.0)
    frame = _eye_frame(face, 0.05 * IOD)
    field = dense_warp_field(face, dst, topology, BOUNDS, feather=0.12)
    patch, placement, _ = warp_image(frame, (0, 0), field, detail=0.0)
    out = _paste(frame, patch, placement)
    y0, y1 = int(face[L.RIGHT_IRIS[0], 1]) - 20, int(face[L.RIGHT_IRIS[0], 1]) + 20
    x0, x1 = int(face[L.RIGHT_IRIS[0], 0]) - 20, int(face[L.RIGHT_IRIS[0], 0]) + 20
    c0, area0, ratio0 = _disk_shape(frame[y0:y1, x0:x1])
    c1, area1, ratio1 = _disk_shape(out[y0:y1, x0:x1])
    # the iris core moves by one translation: minus the displacement at its centre
    px, py = int(c0[0]) + x0, int(c0[1]) + y0
    expected = (px + 0.5, py + 0.5) - field.sample_positions((px, py, 1, 1))[0, 0]
    assert np.linalg.norm(expected) > 1.0  # the eye did move
    np.testing.assert_allclose(c1 - c0, expected, atol=0.05)
    assert area1 == pytest.approx(area0, rel=0.01)
    assert ratio1 == pytest.approx(ratio0, abs=0.01)  # still a disk, not stretched by the lids


def test_mouth_interior_translates_when_the_corners_lift(topology: WarpTopology) -> None:
    face = synthetic_face(CENTRE, IOD, mouth_open=0.3)
    topo = build_topology(face)
    dst = smile(face, 0.06)
    field = dense_warp_field(face, dst, topo, BOUNDS, feather=0.12)
    # sample positions across the middle of the mouth opening: a pure translation (rigid teeth)
    mid = face[[L.UPPER_INNER_LIP_MID, L.LOWER_INNER_LIP_MID], :2].mean(axis=0).astype(int)
    pos = field.sample_positions((mid[0] - 12, mid[1] - 3, 24, 6))
    centres = np.mgrid[0:6, 0:24].transpose(1, 2, 0)[..., ::-1] + (mid[0] - 11.5, mid[1] - 2.5)
    offsets = pos - centres
    lip_corner_motion = np.linalg.norm(dst[L.LIPS_INNER[0]] - face[L.LIPS_INNER[0], :2])
    assert lip_corner_motion > 3.0
    assert np.ptp(offsets[..., 0]) < 0.05 and np.ptp(offsets[..., 1]) < 0.05


def test_field_scales_with_the_render_scale(topology: WarpTopology) -> None:
    full = synthetic_face(CENTRE, IOD)
    half = synthetic_face((CENTRE[0] / 2, CENTRE[1] / 2), IOD / 2)
    f1 = dense_warp_field(full, smile(full), topology, BOUNDS, feather=0.12)
    half_dst = half[:, :2] + (smile(full) - full[:, :2]) / 2  # the same edit, at half scale
    f2 = dense_warp_field(half, half_dst, topology, (0, 0, 256, 256), feather=0.12)
    assert f2.step * 2 == f1.step or abs(f2.step * 2 - f1.step) <= 1
    # sample the same face-relative points at both scales: displacements halve
    p1 = f1.sample_positions((200, 250, 100, 60))[::2, ::2]
    p2 = f2.sample_positions((100, 125, 50, 30))
    grid1 = np.mgrid[250:310:2, 200:300:2].transpose(1, 2, 0)[..., ::-1] + 0.5
    grid2 = np.mgrid[125:155, 100:150].transpose(1, 2, 0)[..., ::-1] + 0.5
    d1, d2 = p1 - grid1, p2 - grid2
    assert np.abs(d1).max() > 2.0
    assert np.abs(d1 / 2 - d2).max() < 0.03 * np.abs(d1).max()


def test_small_landmark_motion_gives_small_field_change(face: np.ndarray, topology: WarpTopology) -> None:
    """Temporal stability: the field is continuous in the landmarks (fixed topology, no choices)."""
    rng = np.random.default_rng(5)
    nudge = rng.normal(0.0, 0.05, (len(face), 2))  # 0.05 px of tracking jitter on every point
    moved = face.copy()
    moved[:, :2] += nudge
    a = dense_warp_field(face, smile(face), topology, BOUNDS, feather=0.12)
    b = dense_warp_field(moved, smile(face) + nudge, topology, BOUNDS, feather=0.12)
    rect = (100, 60, 300, 380)
    change = np.abs(a.sample_positions(rect) - b.sample_positions(rect))
    assert change.max() < 0.3


def test_bad_inputs_are_rejected(face: np.ndarray, topology: WarpTopology) -> None:
    with pytest.raises(ValueError, match="dst_points"):
        dense_warp_field(face, face[:100], topology, BOUNDS, feather=0.1)
    bad = face.copy()
    bad[3, 1] = np.inf
    with pytest.raises(ValueError, match="non-finite"):
        dense_warp_field(bad, face, topology, BOUNDS, feather=0.1)
    with pytest.raises(ValueError, match="not inside the region"):
        dense_warp_field(face, face, topology, (2000, 2000, 100, 100), feather=0.1)
    with pytest.raises(ValueError, match="min_jacobian"):
        dense_warp_field(face, face, topology, BOUNDS, feather=0.1, min_jacobian=1.5)

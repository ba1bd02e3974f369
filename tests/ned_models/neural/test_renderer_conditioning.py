"""The neural renderer's conditioning images: rasteriser, NMFC, eye/mouth image, mask, channel stack."""

from __future__ import annotations

import numpy as np
import pytest

from ned_models.face_model.action_units import ActionUnit
from ned_models.face_model.morphable import load_face_model
from ned_models.landmarks import LEFT_IRIS, MESH_POINTS, NOSE_TIP, RIGHT_EYE, RIGHT_IRIS
from ned_models.neural.conditioning import (
    CHANNELS,
    CHANNELS_PER_FRAME,
    FaceConditioner,
    frame_channels,
    warp_reference,
)
from ned_models.neural.face_crop import CropLayout
from ned_models.neural.mesh_raster import rasterise
from ned_models.render import build_topology, face_mask

COLOUR_TOLERANCE = 0.03  # NMFC colour change across ~1 pixel of interpolation


@pytest.fixture(scope="module")
def conditioner() -> FaceConditioner:
    return FaceConditioner(256)


@pytest.fixture(scope="module")
def crop_points() -> np.ndarray:
    """The neutral template laid out in a 256 crop, depth in crop pixels (larger = farther)."""
    template = load_face_model().template
    layout = CropLayout()
    xy = layout.template_points(template)
    return np.column_stack([xy, template[:, 2] * layout.iod_fraction * layout.size])


def test_rasterise_nearest_surface_wins_and_interpolates() -> None:
    square = np.array([[10.0, 10.0, 5.0], [30.0, 10.0, 5.0], [10.0, 30.0, 5.0],
                       [0.0, 0.0, 1.0], [40.0, 0.0, 1.0], [0.0, 40.0, 1.0]])
    triangles = np.array([[0, 1, 2], [3, 4, 5]])
    values = np.array([[1.0], [1.0], [1.0], [0.0], [2.0], [0.0]])
    image, covered = rasterise(square, triangles, values, (48, 48))
    # pixel (15, 15): both triangles cover it; the second is nearer (z 1 < 5)
    assert covered[15, 15]
    assert image[15, 15, 0] == pytest.approx(2.0 * 15.5 / 40.0, abs=1e-5)  # linear in x over the near triangle
    assert not covered[45, 45] and image[45, 45, 0] == 0.0


def test_rasterise_culls_back_faces() -> None:
    vertices = np.array([[0.0, 0.0, 0.0], [20.0, 0.0, 0.0], [0.0, 20.0, 0.0]])
    front, back = np.array([[0, 1, 2]]), np.array([[0, 2, 1]])
    values = np.ones((3, 1))
    assert rasterise(vertices, front, values, (24, 24), cull_back_faces=True)[1].sum() > 150
    assert rasterise(vertices, back, values, (24, 24), cull_back_faces=True)[1].sum() == 0
    assert rasterise(vertices, back, values, (24, 24))[1].sum() > 150


def test_nmfc_colour_is_the_normalised_template_position(conditioner: FaceConditioner,
                                                          crop_points: np.ndarray) -> None:
    template = load_face_model().template[:MESH_POINTS]
    expected = (template - template.min(axis=0)) / (template.max(axis=0) - template.min(axis=0))
    nmfc = conditioner.nmfc(crop_points)
    for vertex in (NOSE_TIP, 4, 50, 280, 152 - 23):  # nose tip, nose bridge, cheeks, chin area
        x, y = crop_points[vertex, :2]
        colour = nmfc[int(y), int(x)]  # the pixel whose area holds the vertex
        assert np.all(np.abs(colour - expected[vertex]) < COLOUR_TOLERANCE), (vertex, colour, expected[vertex])


def test_nmfc_leaves_the_eye_openings_empty(conditioner: FaceConditioner, crop_points: np.ndarray) -> None:
    nmfc = conditioner.nmfc(crop_points)
    for iris in (RIGHT_IRIS, LEFT_IRIS):
        x, y = crop_points[iris[0], :2]
        assert np.all(nmfc[int(y), int(x)] == 0.0)
    x, y = crop_points[NOSE_TIP, :2]
    assert np.all(nmfc[int(y), int(x)] > 0.0)


def test_nmfc_z_buffer_keeps_the_nearer_surface(conditioner: FaceConditioner, crop_points: np.ndarray) -> None:
    """Turning the head far to one side folds the far cheek behind the nose: the nose stays visible."""
    angle = np.deg2rad(40)
    centre = crop_points[:, :3].mean(axis=0)
    c, s = np.cos(angle), np.sin(angle)
    rotation = np.array([[c, 0, s], [0, 1, 0], [-s, 0, c]])
    turned = (crop_points - centre) @ rotation.T + centre
    nmfc = conditioner.nmfc(turned)
    x, y = turned[NOSE_TIP, :2]
    expected_x = conditioner.colours[NOSE_TIP, 0]
    assert abs(nmfc[int(y), int(x), 0] - expected_x) < 0.05


def test_eye_image_draws_iris_discs_inside_the_openings(conditioner: FaceConditioner,
                                                         crop_points: np.ndarray) -> None:
    eyes = conditioner.eyes(crop_points)
    centre = crop_points[RIGHT_IRIS[0], :2]
    radius = np.mean(np.linalg.norm(crop_points[list(RIGHT_IRIS[1:]), :2] - centre, axis=1))
    cx, cy = centre
    assert eyes[int(cy), int(cx), 0] > 0.9  # iris disc
    assert eyes[int(cy), int(cx), 1] > 0.9  # eye opening
    assert eyes[int(cy), int(cx + 2.0 * radius), 0] == 0.0  # outside the disc
    # the template's lids cover the top of the iris: no disc drawn above the upper lid
    upper_lid_y = crop_points[list(RIGHT_EYE[9:]), 1].min()
    assert np.all(eyes[: int(upper_lid_y) - 1, :, 0] == 0.0)



def test_mouth_channel_follows_the_lips(conditioner: FaceConditioner, crop_points: np.ndarray) -> None:
    model = load_face_model()
    expression = np.zeros(len(model.basis))
    expression[ActionUnit.JAW_DROP] = 1.0
    layout = CropLayout()
    opened = model.shape(model.template, expression)
    opened_points = np.column_stack([layout.template_points(opened), opened[:, 2] * 74.24])
    closed_area = conditioner.eyes(crop_points)[..., 2].sum()  # closed lips: only the anti-aliased line
    open_area = conditioner.eyes(opened_points)[..., 2].sum()
    assert open_area > 5 * max(closed_area, 1.0)


def test_mask_is_the_hard_warp_mask(conditioner: FaceConditioner, crop_points: np.ndarray) -> None:
    geometry = conditioner.geometry(crop_points)
    soft = face_mask(crop_points, (256, 256), 0.12)
    np.testing.assert_array_equal(geometry.mask, (soft >= 0.5).astype(np.float32))
    np.testing.assert_array_equal(geometry.soft_mask, soft)
    assert set(np.unique(geometry.mask)) == {0.0, 1.0}


def test_frame_channels_layout(conditioner: FaceConditioner, crop_points: np.ndarray) -> None:
    geometry = conditioner.geometry(crop_points)
    warped = np.full((256, 256, 3), 0.25, np.float32)
    channels = frame_channels(geometry, warped)
    assert channels.shape == (CHANNELS_PER_FRAME, 256, 256) and channels.dtype == np.float32
    np.testing.assert_array_equal(channels[CHANNELS.index("nmfc_x")], geometry.nmfc[..., 0])
    np.testing.assert_array_equal(channels[CHANNELS.index("iris")], geometry.eyes[..., 0])
    np.testing.assert_array_equal(channels[CHANNELS.index("warped_g")], warped[..., 1])
    np.testing.assert_array_equal(channels[CHANNELS.index("mask")], geometry.mask)


def test_geometry_rejects_bad_points(conditioner: FaceConditioner) -> None:
    with pytest.raises(ValueError, match="points"):
        conditioner.geometry(np.zeros((468, 3)))
    with pytest.raises(ValueError, match="points"):
        conditioner.geometry(np.full((478, 3), np.nan))


def test_warp_reference_moves_the_face_and_is_exact_without_motion(crop_points: np.ndarray) -> None:
    rng = np.random.default_rng(0)
    reference = rng.integers(0, 256, (256, 256, 3), dtype=np.uint8)
    topology = build_topology(load_face_model().template[:, :2])
    same = warp_reference(reference, crop_points, crop_points, topology)
    np.testing.assert_array_equal(same, reference)
    moved_points = crop_points.copy()
    moved_points[:MESH_POINTS, 1] += 2.0  # the face two pixels lower
    moved = warp_reference(reference, crop_points, moved_points, topology)
    x, y = crop_points[NOSE_TIP, :2].astype(int)
    np.testing.assert_array_equal(moved[y + 2, x - 3:x + 3], reference[y, x - 3:x + 3])
    assert moved.dtype == np.uint8

"""render_patch: the API the pipeline calls (exact passthrough, placement, regions, errors)."""

from __future__ import annotations

import numpy as np
import pytest

from ned_models.render import PatchResult, WarpTopology, render_patch
from tests.ned_models.render.conftest import smile, textured_frame


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.float32])
@pytest.mark.parametrize("channels", [3, 4])
def test_no_edit_returns_the_source_exactly(face: np.ndarray, topology: WarpTopology, dtype: np.dtype,
                                            channels: int) -> None:
    frame = textured_frame(dtype, channels)
    result = render_patch(frame, (0, 0), face, face[:, :2], topology=topology)
    x, y, w, h = result.placement
    assert result.patch.dtype == dtype and result.patch.shape == (h, w, channels)
    assert np.array_equal(result.patch, frame[y:y + h, x:x + w])
    assert result.alpha.dtype == np.float32 and result.alpha.shape == (h, w)
    assert result.alpha.max() == 1.0 and result.alpha.min() == 0.0


def test_region_offset_gives_the_same_patch_as_the_full_frame(face: np.ndarray, topology: WarpTopology) -> None:
    frame = textured_frame(np.uint16, 4)
    dst = smile(face)
    full = render_patch(frame, (0, 0), face, dst, topology=topology)
    region = frame[40:500, 70:470]
    part = render_patch(region, (70, 40), face, dst, topology=topology)
    assert part.placement == full.placement
    assert np.array_equal(part.patch, full.patch)
    assert np.array_equal(part.alpha, full.alpha)


def test_edit_changes_only_inside_alpha_and_stays_in_the_region(face: np.ndarray, topology: WarpTopology) -> None:
    frame = textured_frame(np.float32, 4)
    result = render_patch(frame, (0, 0), face, smile(face), topology=topology)
    x, y, w, h = result.placement
    assert 0 <= x and 0 <= y and x + w <= frame.shape[1] and y + h <= frame.shape[0]
    source = frame[y:y + h, x:x + w]
    changed = np.any(result.patch != source, axis=2)
    assert changed.any()
    assert np.all(result.alpha[changed] > 0)
    assert np.array_equal(result.patch[..., 3], source[..., 3])


def test_without_a_topology_one_is_built_from_the_frame(face: np.ndarray, topology: WarpTopology) -> None:
    frame = textured_frame(np.uint8)
    a = render_patch(frame, (0, 0), face, smile(face))
    b = render_patch(frame, (0, 0), face, smile(face), topology=topology)
    assert isinstance(a, PatchResult) and np.array_equal(a.patch, b.patch)


def test_feather_widens_the_ramp(face: np.ndarray, topology: WarpTopology) -> None:
    frame = textured_frame(np.uint8)
    narrow = render_patch(frame, (0, 0), face, face, feather=0.05, topology=topology).alpha
    wide = render_patch(frame, (0, 0), face, face, feather=0.4, topology=topology).alpha
    ramp = lambda a: np.count_nonzero((a > 0) & (a < 1))  # noqa: E731
    assert ramp(wide) > 3 * ramp(narrow)


def test_bad_arguments_are_named(face: np.ndarray, topology: WarpTopology) -> None:
    frame = textured_frame(np.uint8)
    with pytest.raises(ValueError, match="dtype"):
        render_patch(frame.astype(np.float64), (0, 0), face, face, topology=topology)
    with pytest.raises(ValueError, match=r"\(H, W, 3 or 4\)"):
        render_patch(frame[..., 0], (0, 0), face, face, topology=topology)
    with pytest.raises(ValueError, match="feather"):
        render_patch(frame, (0, 0), face, face, feather=0.0, topology=topology)
    with pytest.raises(ValueError, match="not inside the region"):
        render_patch(frame[:100, :100], (0, 0), face, face, topology=topology)


def test_face_cut_by_the_region_fades_out_before_its_border(face: np.ndarray, topology: WarpTopology) -> None:
    frame = textured_frame(np.uint8)
    region = frame[:, :300]  # the face runs on to about x = 370
    result = render_patch(region, (0, 0), face, smile(face), topology=topology)
    x, y, w, h = result.placement
    assert x + w <= 300
    if x + w == 300:
        assert np.all(result.alpha[:, -1] == 0)
        assert np.array_equal(result.patch[:, -1], region[y:y + h, 299])
    assert (result.alpha > 0.5).any()

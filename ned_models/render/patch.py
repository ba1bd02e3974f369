"""One frame's face render: warp the source face onto the edited geometry, return only the patch.

The compositing happens in the displacement domain: the face mask fades the warp itself to zero
(see `warp`), so every output pixel is a single resampled source pixel, never a cross-fade of the
warped face and the source. Nothing can ghost, grain is neither doubled nor averaged, and colour
is the source's own. (`composite.blend`, a multi-band blend, is there for renderers that make new
pixels.) Measured on real frames, the outer quarter of the feather carries the same gradient
energy as the source (ratio 1.00 - 1.02): no seam. The one exception to "only moved pixels" is a
fold the edit deepens, which no moving of pixels can make: it is shaded onto the warped pixels,
multiplicatively and inside the mask (`creases`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

from ned_models.render.creases import CreaseStroke, shade_creases
from ned_models.render.masks import DEFAULT_FOREHEAD, DEFAULT_INSET
from ned_models.render.topology import WarpTopology, build_topology
from ned_models.render.warp import dense_warp_field, warp_image

__all__ = ["PatchResult", "render_patch", "DEFAULT_FEATHER"]

logger = logging.getLogger(__name__)

DEFAULT_FEATHER = 0.12
_DTYPES = (np.uint8, np.uint16, np.float32)


@dataclass(frozen=True, eq=False)
class PatchResult:
    """The rendered face patch, ready to paste.

    Attributes:
        patch: (h, w, C) same dtype and channels as the input region. It is already composited:
            paste it as is (do not blend it again with `alpha`).
        placement: (x, y, w, h) of the patch in full-frame pixels, inside the given region.
        alpha: (h, w) float32 in [0, 1], the face mask the edit was faded by. Where it is 0 the
            patch is a bit-exact copy of the source (so are pixels that did not move).
    """

    patch: np.ndarray
    placement: tuple[int, int, int, int]
    alpha: np.ndarray


def render_patch(frame_region: np.ndarray, region_origin_xy: tuple[int, int], src_points: np.ndarray,
                 dst_points: np.ndarray, *, feather: float = DEFAULT_FEATHER,
                 topology: WarpTopology | None = None, inset: float = DEFAULT_INSET,
                 forehead: float = DEFAULT_FOREHEAD, creases: list[CreaseStroke] | None = None) -> PatchResult:
    """Re-render the face region by moving the source's own pixels onto the edited geometry.

    Inputs are at the host's render scale: the region and the points are in the same (scaled)
    pixels; every length inside is a fraction of the inter-ocular distance.

    Args:
        frame_region: (H, W, 3 or 4) uint8/uint16/float32 RGB(A), top-down, the host's values
            (float may lie outside 0..1; nothing clamps it). It should hold the face with a margin.
        region_origin_xy: full-frame pixel (x, y) of the region's top-left corner.
        src_points: (478, 2 or 3) tracked landmarks in full-frame pixels.
        dst_points: (478, 2 or 3) edited landmarks, same pixels. Equal to `src_points` gives an
            exact copy of the source.
        feather: width of the mask's ramp, fraction of the inter-ocular distance, in (0, 1].
        topology: the shot's triangulation (`build_topology`, once per shot). None builds one from
            `src_points` for this call alone, which costs a few ms and is not stable over time.
        inset, forehead: see `masks.face_mask`.
        creases: folds to shade on the warped face (`creases.shade_creases`), e.g. the ones the
            edit deepens; None shades nothing.

    Returns:
        The patch (see `PatchResult`).

    Raises:
        ValueError: a malformed region, points or parameter, or a face not inside the region.
    """
    _check_region(frame_region)
    if not 0.0 < feather <= 1.0:
        raise ValueError(f"feather must be in (0, 1], got {feather}")
    ox, oy = (int(v) for v in region_origin_xy)
    if topology is None:
        logger.debug("no shot topology given; triangulating this frame's landmarks")
        topology = build_topology(src_points)
    bounds = (ox, oy, frame_region.shape[1], frame_region.shape[0])
    field = dense_warp_field(src_points, dst_points, topology, bounds, feather=feather, inset=inset,
                             forehead=forehead)
    patch, placement, alpha = warp_image(frame_region, (ox, oy), field)
    if creases:
        shade_creases(patch, placement, alpha, creases)
    return PatchResult(patch=patch, placement=placement, alpha=alpha)


def _check_region(region: np.ndarray) -> None:
    if not isinstance(region, np.ndarray):
        raise ValueError(f"frame_region must be a numpy array, got {type(region).__name__}")
    if region.ndim != 3 or region.shape[2] not in (3, 4):
        raise ValueError(f"frame_region must be (H, W, 3 or 4), got {region.shape}")
    if region.dtype not in _DTYPES:
        raise ValueError(f"frame_region dtype must be uint8, uint16 or float32, got {region.dtype}")

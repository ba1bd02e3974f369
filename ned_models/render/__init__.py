"""Face rendering: the warp renderer (moves the source's own pixels) and the compositor.

    topology = build_topology(reference_points)          # once per shot
    result = render_patch(region, origin_xy, src_points, dst_points, topology=topology)
    frame[y:y + h, x:x + w] = result.patch                # x, y, w, h = result.placement
"""

from ned_models.render.composite import blend, blend_reach
from ned_models.render.masks import face_mask, mask_outline
from ned_models.render.patch import DEFAULT_FEATHER, PatchResult, render_patch
from ned_models.render.topology import WarpTopology, build_topology
from ned_models.render.warp import WarpField, dense_warp_field, warp_image

__all__ = [
    "PatchResult", "render_patch", "DEFAULT_FEATHER", "WarpTopology", "build_topology", "WarpField",
    "dense_warp_field", "warp_image", "face_mask", "mask_outline", "blend", "blend_reach",
]

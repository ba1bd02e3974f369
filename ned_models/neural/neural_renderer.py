"""Inference of a shot's trained neural renderer (ONNX Runtime), pasted back at the host's resolution.

    renderer = NeuralRenderer.load(shot_dir)                      # once per shot
    result, memory = renderer.render(region, origin_xy, render_scale, state, source, target,
                                     memory, feather=feather, topology=topology)

One frame:
1. The warp renderer moves the frame's own pixels onto the edited geometry (its patch is the
   network's warped source, and what the user sees outside the neural face).
2. The aligned crop (from the tracked landmarks) of that warped frame, plus the edited geometry's
   NMFC, eye and mask images, plus the conditioning of the previous frames and the previous outputs
   (`RendererMemory`), go through the network.
3. The network's *correction* (its face minus the warped source, zero outside its mask) is resampled
   back to the host resolution (Lanczos) and added to the warped frame, so the source's detail above
   the crop's resolution (grain, pores) survives; then `composite.blend` blends it in band by band
   inside the face mask, which hides the seam and keeps the source's colour and grain outside.
Outside the returned alpha the patch is the source bit for bit; the dtype (uint8, uint16, float32)
is kept, and float values outside 0..1 survive (the network sees a clipped copy; its correction is
added to the unclipped values).

Memory: the caller keeps one `RendererMemory` per shot and face and passes back what the last call
returned. It is dropped (a fresh start, as NED's at a sequence change) when the time does not follow
on: a jump backwards (scrubbing), the same frame again, or a gap over `max_gap_s`; the caller passes
None after a scene cut.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ned_models.analysis.results import FrameFaceState
from ned_models.errors import ModelLoadError
from ned_models.landmarks import LANDMARK_COUNT, inter_ocular_distance
from ned_models.neural.conditioning import CHANNELS_PER_FRAME, MASK_FEATHER, FaceConditioner, frame_channels
from ned_models.neural.face_crop import (
    CropLayout,
    crop_transform,
    cut_crop,
    paste_crop,
    transform_points,
    translation,
)
from ned_models.neural.renderer_checkpoint import LAYOUT_KEY, ONNX_NAME
from ned_models.neural.renderer_samples import SequenceState
from ned_models.neural.runtime import OnnxModel, OnnxRuntimeOptions
from ned_models.render import (
    DEFAULT_FEATHER,
    PatchResult,
    WarpTopology,
    blend,
    blend_reach,
    face_mask,
    mask_outline,
    render_patch,
)

__all__ = ["NeuralRenderer", "RendererMemory", "blend_levels"]

logger = logging.getLogger(__name__)

BLEND_REACH_IOD = 0.35  # the multi-band blend may reach this far (IODs) beyond the mask's 0.5 level
_MAX_LEVELS = 4
_STAGES = ("warp", "conditioning", "network", "paste")
_DTYPES = (np.uint8, np.uint16, np.float32)


@dataclass(frozen=True)
class RendererMemory:
    """The autoregressive state of one face's sequence (the caller keeps it between frames).

    Attributes:
        time: the frame time it follows (seconds).
        conditioning: the last frames' conditioning, each (10, S, S) float32, oldest first.
        outputs: the last outputs, each (3, S, S) float32 [-1, 1], oldest first.
    """

    time: float
    conditioning: tuple[np.ndarray, ...]
    outputs: tuple[np.ndarray, ...]

    def follows(self, time: float, max_gap_s: float) -> bool:
        """Whether a frame at `time` continues this sequence."""
        return 0.0 < time - self.time <= max_gap_s


def blend_levels(iod_px: float) -> int:
    """Bands of the paste-back blend: as many as keep its reach within BLEND_REACH_IOD (at least 1)."""
    levels = 1
    while levels < _MAX_LEVELS and blend_reach(levels + 1) <= BLEND_REACH_IOD * iod_px:
        levels += 1
    return levels


def _parse_config(path: Path, metadata: dict[str, str]) -> tuple[dict[str, int], CropLayout]:
    try:
        if metadata.get("ned.model") != "compact-generator":
            raise ValueError(f"model kind {metadata.get('ned.model')!r}")
        config = {key: int(value) for key, value in (item.split("=") for item in metadata["ned.config"].split(","))}
        size = int(metadata["ned.size_hw"].split(",")[0])
        values = metadata.get(LAYOUT_KEY)
        layout = CropLayout(size) if values is None else CropLayout(int(values.split(",")[0]),
                                                                     *map(float, values.split(",")[1:]))
        if config["channels_per_frame"] != CHANNELS_PER_FRAME or layout.size != size:
            raise ValueError(f"{config['channels_per_frame']} channels per frame, crop {layout.size} vs {size}")
    except (KeyError, ValueError, TypeError) as exc:
        raise ModelLoadError(f"{path}: not a neural face renderer export ({exc})") from exc
    return config, layout


class NeuralRenderer:
    """A shot's trained renderer. Stateless between calls (the memory is the caller's), so one
    instance may serve several threads as far as ONNX Runtime allows (its sessions are thread-safe).

    Attributes:
        clock: the clock of `render`'s stage timings (wall time; a benchmark may use CPU time).
    """

    clock: Callable[[], float] = staticmethod(time.perf_counter)

    def __init__(self, model: OnnxModel, layout: CropLayout, n_frames: int, n_previous: int,
                 conditioner: FaceConditioner | None = None) -> None:
        self.model = model
        self.layout = layout
        self.n_frames = n_frames
        self.n_previous = n_previous
        self.conditioner = conditioner or FaceConditioner(layout.size)

    @classmethod
    def load(cls, shot_dir: str | os.PathLike[str], device: str = "auto", threads: int = 0) -> NeuralRenderer:
        """Load `shot_dir/renderer.onnx` (written by `train_renderer`).

        Args:
            device: "auto" (CUDA provider when present), "cpu" or "cuda".
            threads: ONNX Runtime intra-op threads (0: one per core).

        Raises:
            ModelLoadError: the file is missing, corrupt, or not a renderer export (named in the message).
        """
        path = Path(shot_dir) / ONNX_NAME
        if not path.is_file():
            raise ModelLoadError(f"{path}: no trained neural renderer for this shot (train it first)")
        model = OnnxModel(path, OnnxRuntimeOptions(device=device, intra_op_threads=threads))
        config, layout = _parse_config(path, model.metadata)
        return cls(model, layout, config["n_frames"], config["n_previous"])

    @property
    def provider(self) -> str:
        return self.model.provider

    def infer(self, conditioning: np.ndarray, previous: np.ndarray, source: np.ndarray, mask: np.ndarray,
              max_batch: int = 8) -> np.ndarray:
        """Run the network on a batch: (B, n_frames*10 | 3*n_previous | 3 | 1, S, S) -> (B, 3, S, S) [-1, 1]."""
        feeds = {"conditioning": conditioning, "previous": previous, "source": source, "mask": mask}
        return next(iter(self.model.run_batched(feeds, max_batch).values()))

    def render(self, region: np.ndarray, origin_xy: tuple[int, int], render_scale: float, state: FrameFaceState,
               source_landmarks: np.ndarray, target_landmarks: np.ndarray, memory: RendererMemory | None, *,
               feather: float = DEFAULT_FEATHER, topology: WarpTopology | None = None,
               max_gap_s: float = 0.1, stage_ms: dict[str, float] | None = None) -> tuple[PatchResult, RendererMemory]:
        """Render one frame's edited face.

        Args:
            region: (H, W, 3 or 4) uint8/uint16/float32 RGB(A), top-down, the host's values.
            origin_xy: full-frame pixel of the region's top-left corner (at render scale).
            render_scale: the host's render scale (landmarks are at scale 1).
            state: the face at this frame (time, depth of the landmarks, pixel aspect).
            source_landmarks: (478, 2 or 3) tracked landmarks, frame pixels at scale 1.
            target_landmarks: (478, 2 or 3) edited landmarks, same pixels (`pipeline.edit_face`).
            memory: what the previous call returned for this face, or None (a new sequence).
            feather: the warp renderer's mask feather (IOD).
            topology: the shot's warp triangulation (`pipeline.shot_topology`).
            max_gap_s: a frame further than this after `memory.time` starts a new sequence.
            stage_ms: if given, receives milliseconds per stage ("warp", "conditioning",
                "network", "paste"), e.g. for the server's diagnostics.

        Returns:
            (the patch, the memory to pass with the next frame).

        Raises:
            ValueError: a malformed region or landmarks, or a face outside the region.
        """
        _check_region(region)
        clock, times = self.clock, [self.clock()]
        source = _scaled_points(state, source_landmarks, render_scale)
        target = _scaled_points(state, target_landmarks, render_scale)
        ox, oy = (int(v) for v in origin_xy)
        warp = render_patch(region, (ox, oy), source, target, feather=feather, topology=topology)
        warped = region.copy()
        x, y, w, h = warp.placement
        warped[y - oy:y - oy + h, x - ox:x - ox + w] = warp.patch
        times.append(clock())
        crop_from_region = crop_transform(source, state.pixel_aspect, self.layout) @ translation(ox, oy)
        warped_crop = cut_crop(warped, crop_from_region, self.layout.size)
        geometry = self.conditioner.geometry(transform_points(crop_from_region, target - (ox, oy, 0.0)))
        sequence = SequenceState(self.n_frames, self.n_previous)
        if memory is not None and memory.follows(state.time, max_gap_s):
            sequence.restore(memory.conditioning, memory.outputs)
        window = sequence.push_conditioning(frame_channels(geometry, warped_crop))
        times.append(clock())
        output = self.infer(window[None], sequence.previous(self.layout.size)[None],
                            (warped_crop.transpose(2, 0, 1) * 2.0 - 1.0)[None], geometry.mask[None, None])[0]
        sequence.push_output(output)
        times.append(clock())
        correction = ((output.transpose(1, 2, 0) + 1.0) * 0.5 - warped_crop) * geometry.mask[..., None]
        result = self._paste(region, (ox, oy), warped, warp, correction, crop_from_region, target)
        times.append(clock())
        if stage_ms is not None:
            stage_ms.update({name: 1e3 * (end - start)
                             for name, start, end in zip(_STAGES, times, times[1:], strict=False)})
        conditioning, outputs = sequence.snapshot()
        return result, RendererMemory(time=state.time, conditioning=conditioning, outputs=outputs)

    def _paste(self, region: np.ndarray, origin: tuple[int, int], warped: np.ndarray, warp: PatchResult,
               correction: np.ndarray, crop_from_region: np.ndarray, target: np.ndarray) -> PatchResult:
        """Add the upsampled correction to the warped region and blend it in inside the face mask.

        Everything happens in the box the blend can reach around the face (a 4K region is mostly
        background); outside it the result is the warp renderer's patch.
        """
        ox, oy = origin
        local = target - (ox, oy, 0.0)
        iod = float(inter_ocular_distance(local))
        levels = blend_levels(iod)
        x0, y0, x1, y1 = _reach_box(local, blend_reach(levels) + 2, region.shape[:2])
        box = np.s_[y0:y1, x0:x1]
        crop_from_box = crop_from_region @ translation(x0, y0)
        correction_box = paste_crop(correction, crop_from_box, (y1 - y0, x1 - x0)) * _value_scale(region.dtype)
        rendered = warped[box][..., :3].astype(np.float32) + correction_box
        if region.dtype != np.float32:
            rendered = np.clip(np.rint(rendered), 0, np.iinfo(region.dtype).max)
        rendered = np.concatenate([rendered.astype(region.dtype), warped[box][..., 3:]], axis=2)
        soft = face_mask(local - (x0, y0, 0.0), (y1 - y0, x1 - x0), MASK_FEATHER)
        blended, support = blend(warped[box], rendered, soft, levels=levels)
        out = warped.copy()
        out[box] = blended
        alpha = np.zeros(region.shape[:2], np.float32)
        x, y, pw, ph = warp.placement
        alpha[y - oy:y - oy + ph, x - ox:x - ox + pw] = warp.alpha
        np.maximum(alpha[box], soft, out=alpha[box])
        alpha[box][support & (alpha[box] < 1.0 / 255.0)] = 1.0 / 255.0  # the blend may touch these: never 0
        rows, cols = np.flatnonzero(alpha.any(axis=1)), np.flatnonzero(alpha.any(axis=0))
        if len(rows) == 0:
            return warp
        r0, r1, c0, c1 = int(rows[0]), int(rows[-1]) + 1, int(cols[0]), int(cols[-1]) + 1
        return PatchResult(patch=out[r0:r1, c0:c1], alpha=alpha[r0:r1, c0:c1],
                           placement=(ox + c0, oy + r0, c1 - c0, r1 - r0))


def _reach_box(points: np.ndarray, reach: int, size_hw: tuple[int, int]) -> tuple[int, int, int, int]:
    """(x0, y0, x1, y1) region pixels around the face mask's outline grown by `reach`, clipped."""
    outline = mask_outline(points)
    x0, y0 = np.floor(outline.min(axis=0)).astype(int) - reach
    x1, y1 = np.ceil(outline.max(axis=0)).astype(int) + reach
    return max(x0, 0), max(y0, 0), min(x1, size_hw[1]), min(y1, size_hw[0])


def _value_scale(dtype: np.dtype) -> float:
    """Host values per unit of the network's 0..1 scale."""
    return float(np.iinfo(dtype).max) if np.issubdtype(dtype, np.integer) else 1.0


def _scaled_points(state: FrameFaceState, landmarks: np.ndarray, render_scale: float) -> np.ndarray:
    """(478, 3) frame pixels at render scale; depth from the tracked landmarks where none is given."""
    points = np.asarray(landmarks, dtype=np.float64)
    if points.ndim != 2 or points.shape[0] != LANDMARK_COUNT or points.shape[1] not in (2, 3):
        raise ValueError(f"landmarks must be ({LANDMARK_COUNT}, 2 or 3), got {points.shape}")
    if points.shape[1] == 2:
        points = np.column_stack([points, state.landmarks[:, 2]])
    return points * render_scale


def _check_region(region: np.ndarray) -> None:
    if not isinstance(region, np.ndarray) or region.ndim != 3 or region.shape[2] not in (3, 4):
        raise ValueError(f"region must be an (H, W, 3 or 4) array, got {getattr(region, 'shape', type(region))}")
    if region.dtype not in _DTYPES:
        raise ValueError(f"region dtype must be uint8, uint16 or float32, got {region.dtype}")

"""Render throughput in process: `ShotRenderer.render` per renderer, at each resolution.

This is the server's per-frame work without any transport: the analysed shot's face region is cut
from the RGBA frame (what the plugin sends once the shot is analysed) and rendered. The neural
renderer's network is timed by the reference stage (`bench.reference`), which files its row here.
"""

from __future__ import annotations

import logging
import time

import numpy as np

from bench.inputs import Clip, as_rgba
from bench.results import Measurement, StageResult, Timing
from ned_models.analysis.results import ShotAnalysis
from ned_models.edit import EditParams, Emotion, RendererKind
from ned_models.face_model.morphable import load_face_model
from ned_models.pipeline import FramePipeline, ShotRenderer

__all__ = ["run_render", "render_clip", "face_regions", "RENDERERS"]

logger = logging.getLogger(__name__)

RENDERERS = (RendererKind.WARP, RendererKind.PASSTHROUGH)
WARMUP_RENDERS = 3


def face_regions(analysis: ShotAnalysis, face_index: int = 0) -> list[tuple[int, tuple[int, int, int, int]]]:
    """(frame index, (x0, y0, x1, y1)) of every analysed frame where the face is present."""
    track = analysis.faces[face_index]
    return [(int(i), tuple(int(v) for v in track.render_region[i])) for i in np.flatnonzero(track.present)]


def render_clip(clip: Clip, analysis: ShotAnalysis, renderer: RendererKind, passes: int,
                max_frames: int) -> tuple[np.ndarray, int]:
    """(samples ms per frame, mean region pixels) of `passes` passes over up to `max_frames` frames."""
    shot = ShotRenderer(analysis, FramePipeline(load_face_model()))
    params = EditParams(emotion=Emotion.HAPPY, intensity=1.0, renderer=renderer)
    regions = face_regions(analysis)[:max_frames]
    if not regions:
        raise ValueError(f"{clip.resolution}: the analysis found no face to render")
    inputs = []
    for index, (x0, y0, x1, y1) in regions:
        region = np.ascontiguousarray(as_rgba(clip.frames[index][y0:y1, x0:x1]))  # what arrives on the wire
        inputs.append((float(analysis.times[index]), region, (x0, y0)))
    for t, region, origin in inputs[:WARMUP_RENDERS]:  # builds the shot's triangulation and baselines
        shot.render(t, region, origin, 1.0, params)
    samples = []
    for _ in range(passes):
        for t, region, origin in inputs:
            start = time.perf_counter()
            shot.render(t, region, origin, 1.0, params)
            samples.append((time.perf_counter() - start) * 1e3)
    pixels = int(np.mean([r.shape[0] * r.shape[1] for _, r, _ in inputs]))
    return np.asarray(samples), pixels


def run_render(clips: dict[str, Clip], analyses: dict[str, ShotAnalysis], passes: int, max_frames: int,
               result: StageResult) -> None:
    """Warp and passthrough render figures for every analysed clip."""
    for label, clip in clips.items():
        for renderer in RENDERERS:
            samples, pixels = render_clip(clip, analyses[label], renderer, passes, max_frames)
            side = int(np.sqrt(pixels))
            source = (f"{clip.source}; face region only (~{side}x{side} px), RGBA8, "
                      f"{len(samples) // passes} frames x {passes} passes")
            timing = Timing.of(samples)
            result.measurements.append(Measurement("render", renderer.value, clip.resolution, "frame", timing, source,
                                                   clip.synthetic, "rgba8", pixels * 4))
            logger.info("render %s %s: %.1f frames/s", clip.resolution, renderer.value, timing.fps)

"""Evaluate the emotion edit over many clips and emotions: the table behind issue #4's acceptance.

    python -m ned_models.eval.sweep ../shared/media/talking -o build/sweep [--emotions happy,sad]

Each clip is analysed once (full analysis, as the server does), then every emotion is rendered
with the same `ShotRenderer` the server uses and judged by `evaluate_edit` (dlib + the fer
classifier, independent of our tracker). Frames stream through, so long 1080p clips fit in memory.
Writes `sweep.json` (every number) and `sweep.md` (the per-clip tables and pass counts).
"""

from __future__ import annotations

import argparse
import json
import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ned_models.analysis.shot import analyse_shot
from ned_models.edit import EditParams, Emotion
from ned_models.eval.frame_pass import EvalModels
from ned_models.eval.report import EditReport, evaluate_edit
from ned_models.media import open_source
from ned_models.pipeline import FramePipeline, ShotRenderer

__all__ = ["SweepRow", "sweep_clip", "main"]

logger = logging.getLogger(__name__)
VIDEO_SUFFIXES = (".mp4", ".mov", ".mkv", ".avi")


@dataclass(frozen=True)
class SweepRow:
    """The headline numbers of one (clip, emotion) edit."""

    clip: str
    emotion: str
    target_gain: float
    source_p_target: float
    edit_p_target: float
    aperture_correlation: float
    aperture_abs_difference: float
    identity_distance: float
    flicker_ratio: float
    sharpness_ratio: float
    seconds: float


def _frames(path: Path, max_frames: int | None) -> Iterator[tuple[float, np.ndarray]]:
    with open_source(path) as source:
        for n, (_, time_s, image) in enumerate(source):
            if max_frames is not None and n >= max_frames:
                return
            yield time_s, image


def _edited(path: Path, renderer: ShotRenderer, params: EditParams, max_frames: int | None) -> Iterator[np.ndarray]:
    for time_s, image in _frames(path, max_frames):
        result = renderer.render(time_s, image, (0, 0), 1.0, params)
        if result is None:
            yield image
            continue
        out = image.copy()
        x, y, w, h = result.placement
        out[y:y + h, x:x + w] = result.patch
        yield out


def _row(clip: str, emotion: Emotion, report: EditReport, seconds: float) -> SweepRow:
    identity = report.identity.mean_embedding_distance if report.identity is not None else float("nan")
    return SweepRow(clip=clip, emotion=emotion.name.lower(), target_gain=report.emotion.target_gain,
                    source_p_target=float(report.emotion.source_mean[emotion]),
                    edit_p_target=float(report.emotion.edit_mean[emotion]),
                    aperture_correlation=report.speech.correlation,
                    aperture_abs_difference=report.speech.mean_abs_difference, identity_distance=identity,
                    flicker_ratio=report.flicker.ratio, sharpness_ratio=report.sharpness_ratio, seconds=seconds)


def sweep_clip(path: Path, emotions: list[Emotion], models: EvalModels, pipeline: FramePipeline, *,
               intensity: float = 1.0, mouth: float = 1.0, frames_step: int = 5,
               max_frames: int | None = None) -> list[SweepRow]:
    """Analyse one clip and evaluate its edit to each emotion."""
    analysis = analyse_shot(_frames(path, max_frames))
    renderer = ShotRenderer(analysis, pipeline)
    rows = []
    for emotion in emotions:
        started = time.monotonic()
        params = EditParams(emotion=emotion, intensity=intensity, mouth_preservation=mouth)
        report = evaluate_edit((img for _, img in _frames(path, max_frames)),
                               _edited(path, renderer, params, max_frames), emotion, frames_step=frames_step,
                               models=models)
        rows.append(_row(path.stem, emotion, report, time.monotonic() - started))
        logger.info("%s %s: gain %+.3f aperture r %.3f identity %.3f flicker %.2f sharpness %.2f", path.stem,
                    emotion.name.lower(), rows[-1].target_gain, rows[-1].aperture_correlation,
                    rows[-1].identity_distance, rows[-1].flicker_ratio, rows[-1].sharpness_ratio)
    return rows


def _markdown(rows: list[SweepRow]) -> str:
    emotions = list(dict.fromkeys(r.emotion for r in rows))
    clips = list(dict.fromkeys(r.clip for r in rows))
    by = {(r.clip, r.emotion): r for r in rows}
    lines = ["## P(target) gain (edit - source), fer classifier", "",
             "| clip | " + " | ".join(emotions) + " |", "|---|" + "---|" * len(emotions)]
    for clip in clips:
        lines.append(f"| {clip} | " + " | ".join(f"{by[clip, e].target_gain:+.3f}" for e in emotions) + " |")
    lines += ["", "## Speech, identity, flicker, sharpness (worst over emotions per clip)", "",
              "| clip | min aperture r | max aperture diff (IOD) | max identity dist | max flicker ratio | "
              "min sharpness ratio |", "|---|---|---|---|---|---|"]
    for clip in clips:
        rs = [by[clip, e] for e in emotions]
        lines.append(f"| {clip} | {min(r.aperture_correlation for r in rs):.3f} | "
                     f"{max(r.aperture_abs_difference for r in rs):.4f} | {max(r.identity_distance for r in rs):.3f} "
                     f"| {max(r.flicker_ratio for r in rs):.2f} | {min(r.sharpness_ratio for r in rs):.2f} |")
    return "\n".join(lines) + "\n"


def _inputs(paths: list[Path]) -> list[Path]:
    out = []
    for p in paths:
        out += sorted(q for q in p.iterdir() if q.suffix.lower() in VIDEO_SUFFIXES) if p.is_dir() else [p]
    return out


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m ned_models.eval.sweep", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("inputs", nargs="+", type=Path, help="clips or folders of clips")
    p.add_argument("-o", "--out", type=Path, required=True, help="folder for sweep.json and sweep.md")
    p.add_argument("--emotions", default=",".join(e.name.lower() for e in Emotion))
    p.add_argument("--intensity", type=float, default=1.0)
    p.add_argument("--mouth", type=float, default=1.0)
    p.add_argument("--frames-step", type=int, default=5)
    p.add_argument("--max-frames", type=int, default=None)
    a = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    emotions = [Emotion.parse(name) for name in a.emotions.split(",")]
    models, pipeline = EvalModels.load(), FramePipeline()
    a.out.mkdir(parents=True, exist_ok=True)
    rows: list[SweepRow] = []
    for clip in _inputs(a.inputs):
        rows += sweep_clip(clip, emotions, models, pipeline, intensity=a.intensity, mouth=a.mouth,
                           frames_step=a.frames_step, max_frames=a.max_frames)
        (a.out / "sweep.json").write_text(json.dumps([r.__dict__ for r in rows], indent=1))
        (a.out / "sweep.md").write_text(_markdown(rows))
    print((a.out / "sweep.md").read_text())


if __name__ == "__main__":
    main()

"""Command line: analyse a video, build its renderer training set, train, report held-out PSNR.

    python -m ned_models.neural.train_renderer VIDEO --out DIR [--minutes 15] [--device cpu] [--resume]
        [--sample-threads N]

For development and measurement (the product trains through the server's TrainRenderer job, on the
same functions). DIR receives `analysis.npz` (reused when it matches the video, unless --reanalyse),
`renderer_data/`, the checkpoint, `renderer_generator.pt` and `renderer.onnx`. Progress is logged
to stderr; the result is one JSON object on stdout.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from dataclasses import asdict, replace
from pathlib import Path

import numpy as np

from ned_models.analysis.results import ShotAnalysis
from ned_models.analysis.shot import analyse_shot
from ned_models.errors import AnalysisMissing, NedError
from ned_models.media import open_source
from ned_models.neural.renderer_data import DEFAULT_MAX_FRAMES, TrainingSet, TrainingSetWriter
from ned_models.neural.renderer_training import RendererTrainingConfig, TrainingProgress, train_renderer

__all__ = ["main", "build_training_set"]

logger = logging.getLogger("ned_models.neural.train_renderer")
_ANALYSIS = "analysis.npz"


def _analysis(video: Path, out: Path, reanalyse: bool) -> ShotAnalysis:
    path = out / _ANALYSIS
    if path.exists() and not reanalyse:
        try:
            with np.load(path) as arrays:
                analysis = ShotAnalysis.from_arrays(arrays)
        except AnalysisMissing as exc:
            logger.info("not reusing %s: %s", path, exc)
        else:
            with open_source(video) as source:
                if len(source) == len(analysis.times):
                    logger.info("reusing %s", path)
                    return analysis
    logger.info("analysing %s", video)
    with open_source(video) as source:
        analysis = analyse_shot((float(t), image) for _, t, image in source)
    np.savez(path, **analysis.to_arrays())
    return analysis


def build_training_set(video: Path, out: Path, analysis: ShotAnalysis, face_index: int, max_frames: int) -> Path:
    """Second pass over the video: keep the aligned crops (smoothed landmarks give steady crops)."""
    track = analysis.faces[face_index]
    with open_source(video) as source, TrainingSetWriter(out, max_frames=max_frames, expected_frames=len(source),
                                                         pixel_aspect=analysis.pixel_aspect) as writer:
        for index, time_s, image in source:
            landmarks = track.landmarks[index] if track.present[index] else None
            writer.add(index, float(time_s), image, landmarks)
    return out


def _report(progress: TrainingProgress) -> None:
    if progress.stage != "training":
        logger.info("%s (step %d)", progress.stage, progress.step)
    elif progress.step % 25 == 0 and progress.losses is not None:
        validation = progress.validation
        logger.info("step %d  %.0f%%  G %.3f (l1 %.4f ssim %.3f)  D %.3f  selection %s", progress.step,
                    100 * progress.fraction, progress.losses.g_total, progress.losses.g_l1,
                    progress.losses.g_structural, progress.losses.d_image,
                    f"{validation.neural_psnr:.2f} dB (warp {validation.warp_psnr:.2f})" if validation else "-")


def main(argv: list[str] | None = None) -> int:
    """CLI entry point; returns the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("video", type=Path, help="the shot (video file or image sequence)")
    parser.add_argument("--out", type=Path, required=True, help="output folder (the shot folder)")
    parser.add_argument("--minutes", type=float, default=None, help="training time budget (default: 15 CPU, 5 GPU)")
    parser.add_argument("--device", default="auto", help="auto, cpu, cuda or cuda:N")
    parser.add_argument("--resume", action="store_true", help="continue from the checkpoint in --out")
    parser.add_argument("--reanalyse", action="store_true", help="analyse again even if --out has an analysis")
    parser.add_argument("--face", type=int, default=0, help="face index to train on")
    parser.add_argument("--max-frames", type=int, default=DEFAULT_MAX_FRAMES, help="frames kept for training")
    parser.add_argument("--max-steps", type=int, default=None, help="stop after this many steps")
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: all cores)")
    parser.add_argument("--sample-threads", type=int, default=None,
                        help="threads building training samples ahead of the step (default: GPU one per "
                             "sequence of the batch, CPU 0)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s", stream=sys.stderr)
    for noisy in ("onnx_ir", "onnxscript", "torch.onnx"):  # the exporter's pass-by-pass chatter
        logging.getLogger(noisy).setLevel(logging.WARNING)
    args.out.mkdir(parents=True, exist_ok=True)
    try:
        analysis = _analysis(args.video, args.out, args.reanalyse)
        build_training_set(args.video, args.out, analysis, args.face, args.max_frames)
        config = RendererTrainingConfig(device=args.device, max_steps=args.max_steps, threads=args.threads,
                                        sample_threads=args.sample_threads)
        if args.minutes is not None:
            config = replace(config, time_budget_s=60.0 * args.minutes)
        result = train_renderer(TrainingSet.open(args.out), analysis, config, on_progress=_report,
                                resume=args.resume, face_index=args.face)
    except (NedError, ValueError) as exc:
        logger.error("%s", exc)
        return 1
    summary = {key: str(value) if isinstance(value, Path) else value for key, value in asdict(result).items()}
    sys.stdout.write(json.dumps(summary) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())

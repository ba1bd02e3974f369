"""ned-emotion: change the emotion an actor shows in a clip, outside any editing application.

    ned-emotion talk.mp4 -o talk_sad.mp4 --emotion sad --intensity 0.8
    ned-emotion talk.mp4 -o talk_sad.mp4 --emotion sad --keyframes "0:0,1.5s:1,4s:0.3" \\
        --preview talk_sad_preview.mp4 --report talk_sad.json

It talks to a running ned-server when given --server, otherwise starts a private one for the job
and stops it afterwards; either way the clip goes through the same gRPC calls as the OFX plugin.

Exit codes: 0 done; 2 bad input (arguments, unreadable or truncated media, no face, an output that
cannot be written, a request the server refuses); 3 ned-server unreachable or failing; 130
interrupted (Ctrl-C; 143 for SIGTERM); 1 an internal error (a bug: run with -v and report it).
Errors are one line on stderr; nothing is left at OUTPUT unless the job finished.
"""

from __future__ import annotations

import argparse
import logging
import re
import signal
import sys
import threading
from collections.abc import Callable, Sequence
from pathlib import Path

import grpc
import numpy as np

from ned_models.edit import EditParams, Emotion, RendererKind
from ned_models.errors import NedError
from ned_models.media import TruncatedMedia, check_writable
from ned_server import __version__
from ned_server.cli_job import (
    EXIT_BAD_INPUT,
    EXIT_SERVER,
    JobError,
    JobOptions,
    JobResult,
    private_server_log,
    run_job,
)
from ned_server.cli_outputs import report_sheet_path, write_report
from ned_server.cli_progress import format_duration
from ned_server.client import ServerError, ServerUnreachable
from ned_server.keyframes import INTENSITY_RANGE, Keyframe, parse_keyframes

__all__ = ["main", "build_parser"]

logger = logging.getLogger("ned_server.cli")

PROG = "ned-emotion"
EXIT_INTERNAL, EXIT_INTERRUPTED, EXIT_TERMINATED = 1, 130, 143
_USER_CODES = {grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.FAILED_PRECONDITION, grpc.StatusCode.NOT_FOUND}
_ADDRESS = re.compile(r"^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9_.-]+):(\d{1,5})$")
_CODECS = ("h264", "prores", "ffv1", "png")


class _Terminated(Exception):
    """SIGTERM arrived: unwind like Ctrl-C so the partial outputs are removed."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, not argparse's usage block
        self.exit(EXIT_BAD_INPUT, f"{PROG}: error: {message} (see {PROG} --help)\n")


def _ranged(name: str, low: float, high: float) -> Callable[[str], float]:
    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{name} {text!r} is not a number") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"{name} {value:g} out of range {low:g}..{high:g}")
        return value

    return parse


def _emotion(text: str) -> Emotion:
    try:
        return Emotion.parse(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _face(text: str) -> int:
    if not text.strip().isdigit():
        raise argparse.ArgumentTypeError(f"face {text!r} must be a whole number >= 0 (0 = the largest face)")
    return int(text)


def _keyframes(text: str) -> list[Keyframe]:
    try:
        return parse_keyframes(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _address(text: str) -> str:
    match = _ADDRESS.match(text.strip())
    if match is None or not 0 < int(match[2]) < 65536:
        raise argparse.ArgumentTypeError(f"server address {text!r} is not HOST:PORT (e.g. 127.0.0.1:50051)")
    return text.strip()


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog=PROG, description=__doc__.split("\n\n")[0], epilog=__doc__.split("\n\n", 1)[1],
                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("input", type=Path, metavar="INPUT", help="video file, image sequence (folder or pattern) or image")
    p.add_argument("-o", "--output", type=Path, required=True, metavar="OUTPUT",
                   help=".mp4/.mov/.mkv video, an existing folder or a frame_%%04d.png pattern (PNG images), "
                        "or an image")
    p.add_argument("--emotion", type=_emotion, required=True, metavar="{" + ",".join(e.name.lower() for e in Emotion)
                   + "}", help="the emotion to show")
    amount = p.add_mutually_exclusive_group()
    amount.add_argument("--intensity", type=_ranged("intensity", *INTENSITY_RANGE), default=1.0, metavar="X",
                        help="0 = the source, 1 = a clear but natural expression, about 1.33 = acted "
                             "(MEAD level 3), up to 1.5 (default 1)")
    amount.add_argument("--keyframes", type=_keyframes, metavar="KEYS",
                        help='keyed intensity, e.g. "0:0,1.5s:1,4s:0.3" (TIME in frames or seconds with s); '
                             "smooth, never overshooting, held before the first and after the last key")
    p.add_argument("--mouth", type=_ranged("mouth", 0.0, 1.0), default=1.0, metavar="M",
                   help="how closely the lips follow the source's speech, 0..1 (default 1)")
    p.add_argument("--renderer", choices=[r.value for r in RendererKind], default="warp",
                   help="warp (default), neural (trains the shot's renderer first if the server has none), "
                        "passthrough or debug")
    p.add_argument("--train-minutes", type=_ranged("train minutes", 0.0, 600.0), default=0.0, metavar="MIN",
                   help="neural renderer training budget (default: the server's, 15 on a CPU, 5 on a GPU)")
    p.add_argument("--face", type=_face, default=0, metavar="N", help="which face, 0 = the largest (default 0)")
    p.add_argument("--feather", type=_ranged("feather", 0.0, 1.0), default=0.3, metavar="F",
                   help="softness of the face mask's edge, 0..1 of the face size (default 0.3)")
    p.add_argument("--server", type=_address, metavar="ADDR",
                   help="HOST:PORT of a running ned-server (default: start a private one for this job)")
    p.add_argument("--report", type=Path, metavar="REPORT.json",
                   help="write the evaluation report here (and REPORT_sheet.png next to it)")
    p.add_argument("--preview", type=Path, metavar="PREVIEW.mp4", help="write a side-by-side source | edit clip")
    p.add_argument("--codec", choices=_CODECS,
                   help="output codec: h264 (default for video), prores (.mov), ffv1 (.mkv, lossless), "
                        "png (image sequence)")
    p.add_argument("--allow-truncated", action="store_true",
                   help="edit the frames that decode of a truncated or damaged video instead of refusing it")
    p.add_argument("--overwrite", action="store_true", help="replace existing output files")
    p.add_argument("--reanalyse", action="store_true",
                   help="analyse again even if --server already holds an analysis of this file")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress and no summary, only errors")
    p.add_argument("-v", "--verbose", action="store_true", help="log details and show tracebacks of errors")
    p.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    return p


def _job_options(args: argparse.Namespace, parser: argparse.ArgumentParser) -> JobOptions:
    try:
        params = EditParams(emotion=args.emotion, intensity=args.intensity, mouth_preservation=args.mouth,
                            face_index=args.face, renderer=RendererKind(args.renderer), feather=args.feather)
    except ValueError as exc:
        parser.error(str(exc))
    output = args.output
    is_pattern = "%" in output.name or "#" in output.name
    if args.codec == "png" and not output.suffix and not is_pattern:
        output = output / "frame_%06d.png"  # into an existing folder
    elif args.codec == "png" and output.suffix.lower() != ".png":
        parser.error(f"--codec png writes PNG images, not {output.name}: give OUTPUT as a folder or a pattern "
                     "like out/frame_%04d.png")
    for path, name in ((args.report, "--report"), (args.preview, "--preview")):
        if path is not None and path.expanduser().absolute() == output.expanduser().absolute():
            parser.error(f"{name} and OUTPUT are the same file: {output}")
    return JobOptions(input=args.input, output=output, params=params, keyframes=args.keyframes,
                      server=args.server, preview=args.preview, codec=None if args.codec == "png" else args.codec,
                      allow_truncated=args.allow_truncated, overwrite=args.overwrite, reanalyse=args.reanalyse,
                      quiet=args.quiet, train_minutes=args.train_minutes)


def _configure_logging(args: argparse.Namespace) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter(f"{PROG}: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.DEBUG if args.verbose else logging.ERROR if args.quiet else logging.WARNING)
    if not args.quiet:
        for name in ("ned_server.cli", "ned_server.cli_job", "ned_server.cli_outputs"):
            logging.getLogger(name).setLevel(logging.DEBUG if args.verbose else logging.INFO)


def _on_sigterm(signum, frame) -> None:
    raise _Terminated()


def main(argv: Sequence[str] | None = None) -> int:
    """Console entry point; returns the exit code (see the module doc)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    _configure_logging(args)
    options = _job_options(args, parser)
    cancel = threading.Event()
    written: list[Path] = []
    keep_log = False  # the private server's log is kept when it may explain a failure
    previous = signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        return _run(args, options, cancel, written)
    except (KeyboardInterrupt, _Terminated) as exc:
        done = f"{', '.join(map(str, written))} complete, the report was not written" if written else (
            "no output was written")
        newline = "\n" if sys.stderr.isatty() else ""  # past the terminal's ^C
        sys.stderr.write(f"{newline}{PROG}: interrupted; {done}\n")
        return EXIT_TERMINATED if isinstance(exc, _Terminated) else EXIT_INTERRUPTED
    except Exception as exc:  # noqa: BLE001 - every failure becomes one line and an exit code
        message, code = _describe(exc, options)
        if args.verbose:
            logger.exception("failed")
        sys.stderr.write(f"{PROG}: error: {message}\n")
        keep_log = code in (EXIT_SERVER, EXIT_INTERNAL)
        return code
    finally:
        signal.signal(signal.SIGTERM, previous)
        if not keep_log:
            private_server_log().unlink(missing_ok=True)


def _run(args: argparse.Namespace, options: JobOptions, cancel: threading.Event, written: list[Path]) -> int:
    """The job, then the report and the summary; `written` collects finished outputs."""
    if args.report is not None:
        check_writable(args.report, overwrite=args.overwrite)
        check_writable(report_sheet_path(args.report), overwrite=args.overwrite)
    result = run_job(options, cancel)
    written += [p for p in (result.output, result.preview) if p is not None]
    sheet = None
    if args.report is not None:
        if not args.quiet:
            logger.info("report: evaluating the edit ...")
        sheet = write_report(args.report, job_record(args, result), result.source, result.output,
                             options.params.emotion, result_placements(result), _lossless(options),
                             f"{options.codec or 'h264'} output", args.overwrite)
    if not args.quiet:
        sys.stdout.write(summary(args, result, sheet))
    _warn_missing_faces(result, options)
    return 0


def _describe(exc: Exception, options: JobOptions) -> tuple[str, int]:
    """The one-line message and exit code of a failure."""
    if isinstance(exc, JobError):
        return str(exc), exc.exit_code
    if isinstance(exc, TruncatedMedia):
        declared = f"of {exc.declared} " if exc.declared else ""
        return (f"{options.input}: only {exc.decodable} {declared}frames decode (the file is truncated or damaged); "
                f"pass --allow-truncated to edit those {exc.decodable} frames", EXIT_BAD_INPUT)
    log = "" if options.server else f" (server log: {private_server_log()})"
    if isinstance(exc, ServerUnreachable):
        return f"cannot reach ned-server at {exc.address}: {exc.detail or exc.code.name}{log}", EXIT_SERVER
    if isinstance(exc, ServerError):
        where = f"ned-server at {exc.address}" if options.server else "ned-server"
        if exc.code in _USER_CODES:  # the server refused this request: the detail says why
            return f"{where}: {exc.detail or exc.code.name}", EXIT_BAD_INPUT
        return f"{where} failed: {exc.code.name}: {exc.detail}{log}", EXIT_SERVER
    if isinstance(exc, (NedError, ValueError)):
        return str(exc), EXIT_BAD_INPUT
    if isinstance(exc, OSError):
        return (f"{exc.filename}: {exc.strerror or exc}" if exc.filename else str(exc)), EXIT_BAD_INPUT
    return f"internal error: {type(exc).__name__}: {exc} (run with -v for details)", EXIT_INTERNAL


def _lossless(options: JobOptions) -> bool:
    suffix = options.output.suffix.lower()
    return options.codec == "ffv1" or suffix in (".png", ".tif", ".tiff") or "%" in options.output.name


def result_placements(result: JobResult) -> list[dict]:
    """The pasted patches in the `ned-eval --placements` format."""
    return [{"frame": t, "x": x, "y": y, "width": w, "height": h} for t, x, y, w, h in result.placements]


def _number(value: float, digits: int = 4) -> float | None:
    return None if not np.isfinite(value) else round(float(value), digits)


def job_record(args: argparse.Namespace, result: JobResult) -> dict:
    """The report's record of the job: settings, source, timing and the per-frame values."""
    info, count = result.source.info, len(result.intensity)
    status = {1: "edited", 0: "no_face", -1: "unchanged"}
    return {
        "tool": f"{PROG} {__version__}",
        "input": str(info.path), "output": str(result.output),
        "server": result.server if args.server else "private (started for this job)",
        "preview": None if result.preview is None else str(result.preview),
        "source": {"frames": count, "frame_rate": _number(float(info.frame_rate)), "width": info.width,
                   "height": info.height, "variable_frame_rate": info.is_vfr, "audio": list(info.audio_codecs),
                   "truncated": info.truncated},
        "edit": {"emotion": args.emotion.name.lower(), "renderer": args.renderer, "mouth": args.mouth,
                 "face": args.face, "feather": args.feather,
                 "intensity": None if args.keyframes else args.intensity,
                 "keyframes": None if not args.keyframes else ",".join(k.text for k in args.keyframes)},
        "timing": {"analysis_s": _number(result.analysis_s, 3), "analysis_reused": result.analysis_reused,
                   "analysis_frames_per_s": _number(count / max(result.analysis_s, 1e-9), 2),
                   "render_s": _number(result.render_s, 3),
                   "render_frames_per_s": _number(count / max(result.render_s, 1e-9), 2)},
        "edit_magnitude_unit": "mean |edit - source| over the face mask, 8-bit levels",
        "per_frame": {"time_s": [_number(float(info.time_s(i) - info.start_s), 6) for i in range(count)],
                      "intensity": [_number(v) for v in result.intensity],
                      "status": [status[int(s)] for s in result.face_found],
                      "edit_magnitude": [_number(v) for v in result.magnitude]},
    }


def _tenths(values: np.ndarray) -> str:
    """Mean of each tenth of the clip (a ramp reads as rising numbers)."""
    chunks = [c for c in np.array_split(values, min(10, len(values))) if len(c)]
    return " ".join("-" if np.isnan(c).all() else f"{np.nanmean(c):.1f}" for c in chunks)


def summary(args: argparse.Namespace, result: JobResult, sheet: Path | None) -> str:
    info, count = result.source.info, len(result.intensity)
    edited = int((result.face_found == 1).sum())
    audio = f"audio {', '.join(info.audio_codecs)} copied" if info.audio_codecs else "no audio"
    if args.keyframes:
        amount = f"intensity {result.intensity.min():.2f}..{result.intensity.max():.2f} (keyframes)"
    else:
        amount = f"intensity {args.intensity:g}"
    analysis = "reused the server's analysis" if result.analysis_reused else (
        f"analysis {format_duration(result.analysis_s)} ({count / max(result.analysis_s, 1e-9):.1f} frames/s)")
    lines = [
        f"wrote {result.output}: {count} frames, {float(info.frame_rate):.3f} fps, {info.width}x{info.height}, {audio}",
        f"  {args.emotion.name.lower()}, {amount}, {args.renderer} renderer: face {args.face} edited in {edited} of "
        f"{count} frames",
        f"  {analysis}; render {format_duration(result.render_s)} ({count / max(result.render_s, 1e-9):.1f} frames/s)",
        f"  edit magnitude per tenth of the clip (mean |edit - source| in the face, 8-bit levels): "
        f"{_tenths(result.magnitude)}",
    ]
    if result.preview is not None:
        lines.append(f"  preview: {result.preview}")
    if args.report is not None:
        lines.append(f"  report: {args.report}" + (f" (contact sheet {sheet})" if sheet else ""))
    return "\n".join(lines) + "\n"


def _warn_missing_faces(result: JobResult, options: JobOptions) -> None:
    missing = np.flatnonzero(result.face_found == 0)
    if len(missing):
        frames = ", ".join(str(t) for t in missing[:10]) + (", ..." if len(missing) > 10 else "")
        sys.stderr.write(f"{PROG}: warning: face {options.params.face_index} was not found in {len(missing)} of "
                         f"{len(result.face_found)} frames ({frames}); those frames are the source, unedited\n")


if __name__ == "__main__":
    sys.exit(main())

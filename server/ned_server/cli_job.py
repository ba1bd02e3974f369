"""The `ned-emotion` job: analyse a clip on ned-server, render every frame, write the result.

It is the plugin's code path, over gRPC: the whole clip is streamed to AnalyzeShot once (a full
analysis, smoothed in both directions), then every frame goes to RenderFrame with that frame's
parameters and the returned patch is pasted onto the exact decoded frame. Frames for analysis are
decoded with the fast colour conversion (landmarks do not notice one code value); frames that are
edited and written are always decoded exactly.

Errors surface as `JobError` (one line for the user, an exit code); media and server errors keep
their own types until `cli.py` turns them into messages.
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass, field, replace
from pathlib import Path

import grpc
import numpy as np

from ned_models.edit import EditParams, RendererKind
from ned_models.media import MediaSink, MediaSource, SourceFrame, check_writable, open_sink, open_source
from ned_server._gen.ned.v1 import ned_pb2
from ned_server.cli_outputs import PreviewWriter, edit_magnitude
from ned_server.cli_progress import Progress
from ned_server.client import LocalServer, NedClient, RenderedPatch, ServerError
from ned_server.config import default_cache_dir
from ned_server.keyframes import IntensityCurve, Keyframe

__all__ = ["JobOptions", "JobResult", "JobError", "run_job", "shot_id_for", "EXIT_BAD_INPUT", "EXIT_SERVER",
           "private_server_log"]

logger = logging.getLogger(__name__)

EXIT_BAD_INPUT, EXIT_SERVER = 2, 3


def private_server_log() -> Path:
    """Where this process's private ned-server logs (kept only when the job fails on the server's side)."""
    return default_cache_dir().parent / "logs" / f"ned-emotion-server-{os.getpid()}.log"

_CONNECT_TIMEOUT_S = 5.0
_RENDER_THREADS = 2        # one request in the server while the next frame is decoded and sent
_RENDER_QUEUE = 4          # frames in flight: enough to hide the transport, few enough to stop quickly


class JobError(Exception):
    """A problem to report in one line, with the process exit code to use."""

    def __init__(self, message: str, exit_code: int = EXIT_BAD_INPUT):
        super().__init__(message)
        self.exit_code = exit_code


@dataclass(frozen=True)
class JobOptions:
    """What the user asked for (already validated by the argument parser).

    Attributes:
        input, output: the clip and where its edit goes.
        params: the edit; its intensity is used when `keyframes` is None.
        keyframes: a keyed intensity curve instead of a constant intensity.
        server: "host:port" of a running ned-server; None starts a private one.
        preview: side-by-side (source | edit) clip to write.
        codec: output codec (None: from the output's suffix).
        allow_truncated: edit the frames that decode of a truncated file.
        overwrite: replace existing outputs.
        reanalyse: analyse even when the server holds an analysis of this very file.
        quiet: no progress output.
        train_minutes: neural renderer training budget (used when the shot has none yet); 0 = the
            server's default for its device.
    """

    input: Path
    output: Path
    params: EditParams
    keyframes: list[Keyframe] | None = None
    server: str | None = None
    preview: Path | None = None
    codec: str | None = None
    allow_truncated: bool = False
    overwrite: bool = False
    reanalyse: bool = False
    quiet: bool = False
    train_minutes: float = 0.0


@dataclass
class JobResult:
    """What was done, for the summary and the report.

    Attributes:
        source: the source clip (closed).
        output, preview: the written files (or folders).
        intensity: (T,) intensity asked for at each frame.
        face_found: (T,) int8 1 = edited, 0 = no face in that frame (written unedited), -1 = not sent
            (intensity 0: the source frame is the edit).
        magnitude: (T,) mean |edit - source| over the face mask, 8-bit levels (NaN where no face).
        placements: [(frame, x, y, width, height)] of the pasted patches.
        analysis_s, render_s: wall time of the two passes; analysis_reused: the server had it.
        server: the address used (private server: its temporary address).
    """

    source: MediaSource
    output: Path
    preview: Path | None
    intensity: np.ndarray
    face_found: np.ndarray
    magnitude: np.ndarray
    placements: list[tuple[int, int, int, int, int]] = field(default_factory=list)
    analysis_s: float = 0.0
    render_s: float = 0.0
    analysis_reused: bool = False
    server: str = ""


def shot_id_for(source: MediaSource) -> str:
    """The server-side shot id of a source file: its path, size and modification time, hashed.

    The same unchanged file maps to the same shot (so a running server's analysis can be reused); an
    edited or replaced file gets a new one. Readable prefix, bounded length (the proto allows 512).
    """
    info = source.info
    path = Path(info.path)
    stat = path.stat() if path.exists() else None
    key = f"{path}|{stat.st_size if stat else 0}|{stat.st_mtime_ns if stat else 0}|{info.frame_count}"
    digest = hashlib.sha256(key.encode()).hexdigest()[:16]
    return f"cli:{path.name[:200]}:{digest}@{info.width}x{info.height}"


def frame_times_s(source: MediaSource) -> np.ndarray:
    """(T,) every frame's presentation time minus the first frame's, seconds."""
    info = source.info
    return np.array([float(info.time_s(i) - info.start_s) for i in range(info.frame_count)])


def intensities(options: JobOptions, source: MediaSource) -> np.ndarray:
    """(T,) the intensity of every frame: the keyframed curve, or the constant intensity."""
    count = source.info.frame_count
    if options.keyframes is None:
        return np.full(count, options.params.intensity)
    return IntensityCurve(options.keyframes, frame_times_s(source)).per_frame(count)


def run_job(options: JobOptions, cancel: threading.Event) -> JobResult:
    """Edit `options.input` into `options.output` (and the preview); see the module doc.

    Args:
        options: the job.
        cancel: set it from another thread to stop the job as Ctrl-C does (KeyboardInterrupt is raised
            and nothing is written).

    Raises:
        JobError, MediaError, ServerError, ValueError: see `cli.py` for how each is shown.
    """
    for path in (options.output, options.preview):
        if path is not None and path.suffix:  # folders and patterns are checked by the sink
            check_writable(path, overwrite=options.overwrite)
    source = open_source(options.input, allow_truncated=options.allow_truncated)
    per_frame = intensities(options, source)
    with ExitStack() as stack:
        sink = stack.enter_context(open_sink(options.output, source, codec=options.codec,
                                             overwrite=options.overwrite))
        preview = None
        if options.preview is not None:
            preview = stack.enter_context(PreviewWriter(options.preview, source, options.params,
                                                        overwrite=options.overwrite))
        client, address = _connect(options, stack)
        result = JobResult(source, sink.path, preview.path if preview else None, per_frame,
                           np.full(len(per_frame), -1, np.int8), np.zeros(len(per_frame)), server=address)
        shot_id = shot_id_for(source)
        started = time.monotonic()
        result.analysis_reused = _analyse(client, shot_id, source, options, cancel)
        if options.params.renderer is RendererKind.NEURAL:
            _train_if_needed(client, shot_id, options, cancel)
        result.analysis_s = time.monotonic() - started
        started = time.monotonic()
        regions = _face_regions(client, shot_id, options.params.face_index)
        _render(client, shot_id, source, options, (sink, preview), regions, result, cancel)
        result.render_s = time.monotonic() - started
    return result


def _connect(options: JobOptions, stack: ExitStack) -> tuple[NedClient, str]:
    """A client of the user's server (checked now), or of a private server started for this job."""
    if options.server is None:
        log = private_server_log()
        log.parent.mkdir(parents=True, exist_ok=True)
        log.unlink(missing_ok=True)
        server = LocalServer(log_path=log)
        try:
            server.__enter__()
        except BaseException:
            server.__exit__(None, None, None)  # a Ctrl-C while it starts must not leave it running
            raise
        stack.push(server.__exit__)
        address = server.address
    else:
        address = options.server
    client = stack.enter_context(NedClient(address))
    try:
        client.wait_ready(_CONNECT_TIMEOUT_S)  # the private server is ready already: one call
    except ServerError as exc:
        raise JobError(f"cannot reach ned-server at {address}: {exc.detail or exc.code.name}", EXIT_SERVER) from None
    return client, address


def _analyse(client: NedClient, shot_id: str, source: MediaSource, options: JobOptions,
             cancel: threading.Event) -> bool:
    """Full analysis of the clip on the server; True when the server already had it."""
    info = source.info
    neural = options.params.renderer is RendererKind.NEURAL
    known = None if options.reanalyse else client.get_shot(shot_id)
    if known is not None and known.mode == ned_pb2.ShotInfo.MODE_FULL and known.frames_analysed == len(source) \
            and (known.has_neural_renderer or not neural):
        _check_faces(known, options)
        logger.info("analysis: reusing ned-server's analysis of %s", info.path.name)
        return True
    progress = Progress("analysis", len(source), enabled=not options.quiet)
    frames = ((float(f.index), f.image) for f in source.frames(exact=False))
    try:
        shot = client.analyse_shot(shot_id, frames, total_frames=len(source), cancel=cancel,
                                   frame_rate=float(info.frame_rate), keep_training_frames=neural,
                                   on_progress=lambda p: progress.update(p.frames_done, p.stage))
    except ServerError as exc:
        progress.abandon()
        if exc.code == grpc.StatusCode.FAILED_PRECONDITION and "no face" in exc.detail.lower():
            raise JobError(f"no face found in {options.input} ({exc.detail})") from None
        raise
    except BaseException:
        progress.abandon()
        raise
    progress.finish()
    _check_faces(shot, options)
    return False


def _train_if_needed(client: NedClient, shot_id: str, options: JobOptions, cancel: threading.Event) -> None:
    """Train the shot's neural renderer on the server unless it has one (progress over the budget)."""
    if client.get_shot(shot_id).has_neural_renderer:
        logger.info("neural renderer: reusing the one ned-server trained for this file")
        return
    progress = Progress("training", 1000, enabled=not options.quiet)
    request = ned_pb2.TrainRendererRequest(shot_id=shot_id, time_budget_seconds=60.0 * options.train_minutes)
    try:
        for step in client.train_renderer(request):
            if cancel.is_set():
                raise KeyboardInterrupt
            progress.update(int(1000 * step.fraction), step.stage)
    except BaseException:
        progress.abandon()
        raise
    progress.finish()


def _check_faces(shot: ned_pb2.ShotInfo, options: JobOptions) -> None:
    if not shot.faces:
        raise JobError(f"no face found in {options.input}")
    if options.params.face_index >= len(shot.faces):
        raise JobError(f"--face {options.params.face_index}: {options.input} has {len(shot.faces)} tracked "
                       f"face(s) (0 = the largest)")


def _face_regions(client: NedClient, shot_id: str, face_index: int) -> dict[int, tuple[int, int, int, int]]:
    """Frame -> (x, y, w, h): the part of each frame a render of the face can touch (absent: no face)."""
    shot = client.get_shot(shot_id, include_regions=True)
    if shot is None:
        raise JobError(f"ned-server lost the analysis of shot {shot_id!r}", EXIT_SERVER)
    return {int(round(r.time)): (r.rect.x, r.rect.y, r.rect.width, r.rect.height)
            for r in shot.regions if r.face_index == face_index}


def _render(client: NedClient, shot_id: str, source: MediaSource, options: JobOptions,
            outputs: tuple[MediaSink, PreviewWriter | None], regions: dict[int, tuple[int, int, int, int]],
            result: JobResult, cancel: threading.Event) -> None:
    """Render every frame (a few in flight at once), paste, write in order.

    Only the face's region of each frame travels to the server (as the plugin does: a tenth of a
    720p frame); frames where the analysis found no face are not sent at all.
    """
    sink, preview = outputs
    progress = Progress("render", len(source), enabled=not options.quiet)
    rate = float(source.info.frame_rate)
    pool = ThreadPoolExecutor(_RENDER_THREADS, thread_name_prefix="render")
    pending: deque[tuple[SourceFrame, EditParams, Future | None]] = deque()

    def finish_oldest() -> None:
        frame, params, future = pending.popleft()
        edited = _paste(frame, future.result() if future else None, result)
        sink.write(frame.index, edited)
        if preview is not None:
            preview.write(frame.index, frame.image, edited, params.intensity)
        progress.update(frame.index + 1)

    try:
        for frame in source.frames():
            if cancel.is_set():
                raise KeyboardInterrupt
            params = replace(options.params, intensity=float(result.intensity[frame.index]))
            region = regions.get(frame.index)
            future = None
            if region is None:
                result.face_found[frame.index], result.magnitude[frame.index] = 0, np.nan
            elif not params.is_identity:
                future = pool.submit(_render_call(client, shot_id, frame, region, params, rate))
            pending.append((frame, params, future))
            if len(pending) >= _RENDER_QUEUE:
                finish_oldest()
        while pending:
            finish_oldest()
    except BaseException:
        progress.abandon()
        raise
    finally:
        pool.shutdown(wait=False, cancel_futures=True)
    progress.finish()


def _render_call(client: NedClient, shot_id: str, frame: SourceFrame, region: tuple[int, int, int, int],
                 params: EditParams, rate: float) -> Callable[[], RenderedPatch]:
    x, y, w, h = region
    image = frame.image
    return lambda: client.render_frame(shot_id, float(frame.index), image[y:y + h, x:x + w], params,
                                       region_xy=(x, y), frame_size_hw=image.shape[:2], want_alpha=True,
                                       frame_rate=rate)


def _paste(frame: SourceFrame, rendered: RenderedPatch | None, result: JobResult) -> np.ndarray:
    """The edited frame: the source with the server's patch pasted (the source itself when none)."""
    t, image = frame.index, frame.image
    if rendered is None:
        return image  # intensity 0, or no face in this frame: nothing to edit
    if rendered.patch is None:
        result.face_found[t], result.magnitude[t] = 0, np.nan
        return image
    x, y = rendered.placement_xy
    h, w = rendered.patch.shape[:2]
    height, width = image.shape[:2]
    if x < 0 or y < 0 or x + w > width or y + h > height or rendered.patch.dtype != image.dtype:
        raise JobError(f"ned-server returned a patch for frame {t} ({w}x{h} {rendered.patch.dtype} at {x},{y}) "
                       f"that does not fit the {width}x{height} {image.dtype} frame", EXIT_SERVER)
    patch = rendered.patch[..., :3]
    result.face_found[t] = 1
    result.magnitude[t] = edit_magnitude(image[y:y + h, x:x + w], patch, rendered.alpha)
    result.placements.append((t, x, y, w, h))
    edited = image.copy()
    edited[y:y + h, x:x + w] = patch
    return edited

"""End to end through the plugin: our ctypes OFX host renders frames via ned-server (a private one).

The host runs in a child process (`bench.plugin_worker`) so that its peak RSS is its own; the
plugin's NED_PLUGIN_TRACE lines give, per render, the gRPC round trip and the server's time. Per
frame, transport = round trip - server compute (the render stage when the trace reports it, else
the server's whole handler), and its share is that over the host's end-to-end render time.

The plugin sends pixels through shared memory to a server on this machine; a second, shorter run
with NED_SHARED_MEMORY=0 (rows marked "[inline bytes]") measures what that saves.
"""

from __future__ import annotations

import json
import logging
import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bench.memory import run_child
from bench.plugin_worker import PHASES, WARMUP_RENDERS
from bench.results import Figure, Measurement, PeakMemory, StageResult, Timing

__all__ = ["run_plugin_host", "parse_trace", "TraceLine"]

logger = logging.getLogger(__name__)

REPO_ROOT = Path(__file__).resolve().parents[1]
_TRACE = re.compile(r"^\[EmotionDirector\] (.*)$")
_FIELD = re.compile(r"(\w+)=(\S+)")
_PHASE = re.compile(r"^\[bench\] phase (.+)$")
_NAMES = {"online": "warp, online analysis (whole frame sent)", "warp": "warp, analysed (face region sent)",
          "passthrough": "passthrough, analysed", "floor": "intensity 0 (no server call)",
          "warp float": "warp, analysed (face region sent)", "analyze": "Analyze button"}


@dataclass(frozen=True)
class TraceLine:
    """One NED_PLUGIN_TRACE line: a render's timings as the plugin saw them.

    Attributes:
        phase: the worker phase it belongs to.
        rtt_ms: the RenderFrame round trip.
        server_ms: the server's handler time.
        render_ms: the server's render stage, when the plugin reports it.
        sent: (w, h) of the pixels sent.
        shared: True when the pixels went through shared memory.
    """

    phase: str
    rtt_ms: float
    server_ms: float
    render_ms: float | None
    sent: tuple[int, int]
    shared: bool


def parse_trace(stderr: str) -> list[TraceLine]:
    """The plugin's trace lines in `stderr`, attributed to the worker's phases."""
    phase, lines = "", []
    for raw in stderr.splitlines():
        if marker := _PHASE.match(raw):
            phase = marker.group(1)
            continue
        if match := _TRACE.match(raw):
            fields = dict(_FIELD.findall(match.group(1)))
            w, h = (int(v) for v in fields["sent"].split("+")[0].split("x"))
            render = float(fields.get("render_ms", -1.0))  # absent (older plugins) or -1: no render stage
            lines.append(TraceLine(phase, float(fields["rtt_ms"]), float(fields["server_ms"]),
                                   render if render >= 0 else None, (w, h), fields.get("shm", "0") == "1"))
    return lines


def _timed_lines(lines: list[TraceLine], phase: str, timed: int) -> list[TraceLine]:
    """The trace lines of the timed renders of a phase (its warm-up renders come first)."""
    of_phase = [line for line in lines if line.phase == phase]
    return of_phase[WARMUP_RENDERS:][:timed] if len(of_phase) >= timed + WARMUP_RENDERS else []


def _transport_figures(result: StageResult, name: str, e2e: list[float], lines: list[TraceLine],
                       resolution: str) -> None:
    if len(lines) != len(e2e):
        result.notes.append(f"plugin {name}: {len(lines)} trace lines for {len(e2e)} renders; no transport split")
        return
    rtt = np.array([t.rtt_ms for t in lines])
    compute = np.array([t.render_ms if t.render_ms is not None else t.server_ms for t in lines])
    measure = "server render stage" if lines[0].render_ms is not None else "server handler time"
    transport = rtt - compute
    fmt = "rgba32f" if "rgba32f" in name else "rgba8"
    result.measurements.append(Measurement("plugin", f"round trip, {name}", resolution, "frame", Timing.of(rtt),
                                           pixel_format=fmt))
    result.measurements.append(Measurement("plugin", f"server compute, {name}", resolution, "frame",
                                           Timing.of(compute), pixel_format=fmt))
    result.figures.append(Figure("plugin", f"transport share of end to end, {name}",
                                 float(np.median(100.0 * transport / np.asarray(e2e))), "%", resolution,
                                 f"median over frames of (round trip - {measure}) / host render time; "
                                 f"shared memory: {'yes' if lines[0].shared else 'no'}"))
    result.figures.append(Figure("plugin", f"transport ms, {name}", float(np.median(transport)), "ms", resolution,
                                 f"median of round trip - {measure}"))


def record_worker(result: StageResult, data: dict, lines: list[TraceLine], suffix: str = "") -> None:
    """Measurements and figures from the worker's JSON and the plugin's trace ("" or " [inline bytes]")."""
    res, source, synthetic = data["resolution"], data["source"], data["synthetic"]
    for phase, samples in data["ms"].items():
        fmt = "rgba32f" if phase.endswith("float") else "rgba8"
        if phase == "analyze":
            per_frame = [samples[0] / data["frames"]]
            result.measurements.append(Measurement("plugin", f"Analyze button (whole press / frames){suffix}", res,
                                                   "frame", Timing.of(per_frame), source, synthetic, fmt))
            continue
        result.measurements.append(Measurement("plugin", f"ctypes host e2e, {_NAMES[phase]}{suffix}", res, "frame",
                                               Timing.of(samples), source, synthetic, fmt))
        if phase != "floor":
            timed = _timed_lines(lines, phase, len(samples))
            _transport_figures(result, f"{_NAMES[phase]}, {fmt}{suffix}", samples, timed, res)


def run_plugin_host(bundle: Path, address: str, media: Path, frames: int, passes: int, online: int,
                    result: StageResult, inline: bool = False, resolution: str = "1080p",
                    timeout_s: float = 300.0) -> None:
    """Run the worker against the server at `address`; record its figures (and peak RSS) into `result`.

    `inline` runs the warp phases again with NED_SHARED_MEMORY=0 (pixels inside the messages).
    """
    phases = ("online", "analyze", "warp", "warp float") if inline else PHASES
    argv = [sys.executable, "-m", "bench.plugin_worker", "--bundle", str(bundle), "--server", address,
            "--resolution", resolution, "--media", str(media), "--frames", str(frames), "--passes", str(passes),
            "--online", str(online), "--phases", ",".join(phases)]
    env = dict(os.environ, NED_PLUGIN_TRACE="1", PYTHONPATH=os.pathsep.join(
        p for p in (str(REPO_ROOT), os.environ.get("PYTHONPATH", "")) if p))
    if inline:
        env["NED_SHARED_MEMORY"] = "0"
    child = run_child(argv, env=env, timeout_s=timeout_s, cwd=REPO_ROOT)
    if child.returncode != 0 or child.timed_out:
        raise RuntimeError(f"plugin worker failed (exit {child.returncode}, timed out: {child.timed_out}):\n"
                           f"{child.stderr[-4000:]}")
    data = json.loads(child.stdout.strip().splitlines()[-1])
    lines = parse_trace(child.stderr)
    shared = sum(line.shared for line in lines)
    result.notes.append(f"plugin{' (NED_SHARED_MEMORY=0)' if inline else ''}: {shared} of {len(lines)} renders "
                        "sent their pixels through shared memory")
    record_worker(result, data, lines, " [inline bytes]" if inline else "")
    if not inline:
        result.memory.append(PeakMemory("plugin host (ctypes host + plugin)", data["peak_rss_mib"],
                                        f"{data['resolution']} renders; {data['rss_before_plugin_mib']:.0f} MiB of it "
                                        f"before the plugin loaded (Python, numpy, {data['frames']} RGBA8 frames)"))
        warp = result.measurement(f"ctypes host e2e, {_NAMES['warp']}", data["resolution"], "rgba8")
        logger.info("plugin %s warp analysed: %.1f frames/s", data["resolution"], warp.timing.fps)

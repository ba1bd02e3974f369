"""End to end in a real OFX host: MLT `melt` decoding a clip, running our plugin, encoding raw RGBA.

Three ways over the same frames: no filter (decode + convert + write, the host's own cost), the
filter with online analysis (a new shot: every frame is sent whole and analysed as it arrives),
and the filter on a pre-analysed shot (analysed first through NedClient under the id the plugin
derives, `<shot>@<W>x<H>`, so each frame sends only the face region). Frames/s are frames over the
wall time of the whole melt process (start-up included), with output to /dev/null. melt exits 0
even when renders fail, so every filtered run must show one plugin trace line per frame.
"""

from __future__ import annotations

import logging
import os
import tempfile
import uuid
from pathlib import Path

import av
import numpy as np
from ned_server.client import NedClient

from bench.inputs import Clip
from bench.memory import run_child
from bench.plugin_host import parse_trace
from bench.results import Figure, Measurement, PeakMemory, StageResult, Timing

__all__ = ["run_melt", "SERVICE"]

logger = logging.getLogger(__name__)

SERVICE = "openfx.org.ned.EmotionDirector"
MELT_TIMEOUT_S = 300


def _profile(path: Path, width: int, height: int, fps: int) -> Path:
    path.write_text(f"description=bench {width}x{height}@{fps}\nframe_rate_num={fps}\nframe_rate_den=1\n"
                    f"width={width}\nheight={height}\nprogressive=1\nsample_aspect_num=1\nsample_aspect_den=1\n"
                    f"display_aspect_num={width}\ndisplay_aspect_den={height}\ncolorspace=709\n")
    return path


def _synthetic_video(clip: Clip, path: Path) -> Path:
    """Encode a synthetic clip so melt has a file to decode (media missing)."""
    with av.open(str(path), "w") as container:
        stream = container.add_stream("mpeg4", rate=int(clip.spec.frame_rate))
        stream.width, stream.height = clip.spec.size_wh
        stream.pix_fmt = "yuv420p"
        for frame in clip.frames:
            for packet in stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


class _MeltRunner:
    """melt with our bundle on OFX_PLUGIN_PATH, rendering `frames` frames of one clip to /dev/null."""

    def __init__(self, melt: Path, bundle: Path, clip_path: Path, profile: Path, frames: int):
        self.argv = [str(melt), "-silent", "-profile", str(profile), str(clip_path), "in=0", f"out={frames - 1}"]
        self.env = dict(os.environ, OFX_PLUGIN_PATH=str(bundle.parent), NED_PLUGIN_TRACE="1")
        self.frames = frames

    def run(self, params: dict[str, str] | None) -> tuple[float, float, list]:
        """(wall ms per frame, peak RSS MiB, trace lines) of one melt run."""
        argv = list(self.argv)
        if params is not None:
            argv += ["-filter", SERVICE, *[f"{k}={v}" for k, v in params.items()]]
        argv += ["-consumer", "avformat:/dev/null", "f=rawvideo", "pix_fmt=rgba", "real_time=0"]
        child = run_child(argv, env=self.env, timeout_s=MELT_TIMEOUT_S)
        if child.returncode != 0 or child.timed_out:
            raise RuntimeError(f"melt failed (exit {child.returncode}): {' '.join(argv)}\n{child.stderr[-3000:]}")
        trace = parse_trace(child.stderr)
        if params is not None and len(trace) != self.frames:
            raise RuntimeError(f"melt rendered {len(trace)} of {self.frames} frames through the plugin (a failed "
                               f"render passes the source through):\n{child.stderr[-3000:]}")
        return child.wall_s * 1e3 / self.frames, child.peak_rss_mib, trace


def run_melt(melt: Path, bundle: Path, address: str, clip: Clip, clip_path: Path | None, repeats: int,
             result: StageResult) -> None:
    """melt frames/s without the filter, with online analysis and with a pre-analysed shot."""
    width, height = clip.spec.size_wh
    fps = int(round(clip.spec.frame_rate))
    frames = len(clip.frames)
    base = {"server": address, "renderer": "warp", "emotion": "happy", "intensity": "1", "onError": "fail render"}
    with tempfile.TemporaryDirectory(prefix="ned-bench-melt-") as tmp:
        work = Path(tmp)
        if clip.synthetic or clip_path is None:
            clip_path = _synthetic_video(clip, work / "synthetic.mp4")
        runner = _MeltRunner(melt, bundle, clip_path, _profile(work / "bench.profile", width, height, fps), frames)
        analysed = f"bench-melt-{uuid.uuid4().hex[:8]}"
        with NedClient(address) as client:
            client.analyse_shot(f"{analysed}@{width}x{height}", [(float(i), f) for i, f in enumerate(clip.frames)],
                                total_frames=frames, frame_rate=clip.spec.frame_rate)
        runs = {"no filter (decode + write)": lambda: None,
                "filter, online analysis": lambda: {**base, "shot": f"bench-melt-online-{uuid.uuid4().hex[:8]}"},
                "filter, pre-analysed shot": lambda: {**base, "shot": analysed}}
        runner.run(None)  # warm the page cache and the dynamic loader
        medians = {}
        for name, params in runs.items():
            samples, peaks, traces = [], [], []
            for _ in range(repeats):
                ms, peak, trace = runner.run(params())
                samples.append(ms)
                peaks.append(peak)
                traces += trace
            medians[name] = _record(result, clip, clip_path, name, samples, max(peaks), traces)
    plain, _ = medians.pop("no filter (decode + write)")
    for name, (ms, rtt) in medians.items():
        result.figures.append(Figure("melt", f"filter cost per frame, {name}", ms - plain, "ms", clip.resolution,
                                     f"filtered - unfiltered run; the plugin's round trip is {rtt:.1f} ms of it, the "
                                     "rest is melt's per-frame instance set-up, the source copy and paste"))


def _record(result: StageResult, clip: Clip, clip_path: Path, name: str, samples: list[float], peak: float,
            trace: list) -> tuple[float, float]:
    """Record one way of running melt; returns (median ms per frame, median plugin round trip ms or 0)."""
    source = f"{clip_path.name}, {len(clip.frames)} frames, melt decodes it itself; output rawvideo RGBA to /dev/null"
    timing = Timing.of(samples)
    result.measurements.append(Measurement("melt", name, clip.resolution, "frame (whole run / frames)", timing,
                                           source, clip.synthetic, "rgba8"))
    result.memory.append(PeakMemory("melt", peak, name))
    rtt = float(np.median([t.rtt_ms for t in trace])) if trace else 0.0
    if trace:
        result.figures.append(Figure("melt", f"plugin round trip median, {name}", rtt, "ms", clip.resolution,
                                     f"from {len(trace)} NED_PLUGIN_TRACE lines"))
        w, h = trace[-1].sent
        result.figures.append(Figure("melt", f"pixels sent per frame (last frame), {name}", float(w * h), "px",
                                     clip.resolution, f"{w}x{h}"))
    logger.info("melt %s %s: %.1f frames/s", clip.resolution, name, timing.fps)
    return timing.median_ms, rtt

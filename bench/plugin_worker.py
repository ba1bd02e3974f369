"""The ctypes-host side of the plugin benchmark, run as its own process (so its peak RSS is its own).

    python -m bench.plugin_worker --bundle B --server ADDR --resolution 1080p --frames 50 --passes 3

Renders real frames through the EmotionDirector OFX plugin in phases, timing every `render` call
(the host's whole Render action: image setup, the plugin's copy, gRPC, paste):

    online       warp renderer, the shot not analysed: the plugin sends whole frames, analysed online
    analyze      the Analyze button over the frames (one timing: the whole press)
    warp         warp renderer after Analyze: the plugin sends the face region only
    passthrough  the identity path after Analyze
    floor        intensity 0: the plugin copies Source to Output and makes no call
    warp float   warp after Analyze on 32-bit float frames

Before each phase it writes `[bench] phase NAME` to stderr, so the plugin's NED_PLUGIN_TRACE lines
that follow can be attributed. The result is one JSON object on stdout. Never imports torch.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from bench.inputs import RESOLUTIONS, as_rgba, default_media_dir, load_clip
from bench.memory import peak_rss_mib, rss_mib
from tests.hosts.ofx_host import OfxHost
from tests.hosts.ofx_instance import EffectInstance

__all__ = ["main", "PHASES", "WARMUP_RENDERS"]

PLUGIN_ID = "org.ned.EmotionDirector"
PHASES = ("online", "analyze", "warp", "passthrough", "floor", "warp float")
WARMUP_RENDERS = 2  # per phase, untimed: the first call of a shot fetches its regions


def _phase(name: str) -> None:
    sys.stderr.write(f"[bench] phase {name}\n")
    sys.stderr.flush()


def _render_all(inst: EffectInstance, frames: Sequence[tuple[int, np.ndarray]], passes: int,
                convert: Callable[[np.ndarray], np.ndarray] = lambda frame: frame) -> list[float]:
    """Milliseconds per render over `passes` passes (after WARMUP_RENDERS untimed renders).

    `convert` makes each frame just before its render (untimed), so converted copies of a whole
    clip never sit in memory at once.
    """
    for index, frame in frames[:WARMUP_RENDERS]:
        _checked(inst.render(convert(frame), time=float(index)), index)
    samples = []
    for _ in range(passes):
        for index, stored in frames:
            frame = convert(stored)
            start = time.perf_counter()
            result = inst.render(frame, time=float(index))
            samples.append((time.perf_counter() - start) * 1e3)
            _checked(result, index)
    return samples


def _to_float(rgba8: np.ndarray) -> np.ndarray:
    return rgba8.astype(np.float32) / np.float32(255.0)


def _checked(result, index: int) -> None:
    if not result.ok:
        raise RuntimeError(f"render of frame {index} failed ({result.status}): {[m.text for m in result.messages]}")


def run(bundle: Path, server: str, resolution: str, media: Path, frames: int, passes: int, online: int,
        phases: Sequence[str] = PHASES) -> dict:
    clip = load_clip(resolution, media, frames)
    rgba = [(i, as_rgba(f)) for i, f in enumerate(clip.frames)]
    source, synthetic, size, frame_rate = clip.source, clip.synthetic, clip.resolution, clip.spec.frame_rate
    del clip  # only the RGBA frames stay in memory
    shot = f"bench-{os.getpid()}"
    base = {"server": server, "renderer": "warp", "emotion": "happy", "intensity": 1.0, "onError": "fail render"}
    out: dict[str, object] = {"resolution": size, "frames": len(rgba), "passes": passes, "source": source,
                              "synthetic": synthetic, "rss_before_plugin_mib": rss_mib()}
    times: dict[str, list[float]] = {}
    with OfxHost(bundle, PLUGIN_ID) as host:
        def instance(**params: object) -> EffectInstance:
            return host.create_instance(params={**base, **params}, frame_rate=frame_rate)

        steps = {"online": lambda: _render_all(instance(shot=f"{shot}-online"), rgba[:online + WARMUP_RENDERS], 1),
                 "analyze": lambda: _analyze(instance(shot=shot), rgba),
                 "warp": lambda: _render_all(instance(shot=shot), rgba, passes),
                 "passthrough": lambda: _render_all(instance(shot=shot, renderer="passthrough"), rgba, 1),
                 "floor": lambda: _render_all(instance(shot=shot, intensity=0.0), rgba, 1),
                 "warp float": lambda: _render_all(instance(shot=shot), rgba, 1, _to_float)}
        for phase in PHASES:  # in this order: the analysed phases need "analyze" first
            if phase in phases:
                _phase(phase)
                times[phase] = steps[phase]()
    out["ms"] = times
    out["peak_rss_mib"] = peak_rss_mib()
    return out


def _analyze(inst: EffectInstance, rgba: Sequence[tuple[int, np.ndarray]]) -> list[float]:
    """The Analyze button over all frames: one sample, the whole press in milliseconds."""
    start = time.perf_counter()
    pressed = inst.press("analyze", source=lambda t: rgba[int(t)][1], frame_range=(0, len(rgba) - 1))
    if not pressed.ok:
        raise RuntimeError(f"Analyze failed ({pressed.status}): {[m.text for m in pressed.messages]}")
    return [(time.perf_counter() - start) * 1e3]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bundle", type=Path, required=True)
    parser.add_argument("--server", required=True)
    parser.add_argument("--resolution", choices=RESOLUTIONS, default="1080p")
    parser.add_argument("--media", type=Path, default=default_media_dir())
    parser.add_argument("--frames", type=int, default=50)
    parser.add_argument("--passes", type=int, default=3)
    parser.add_argument("--online", type=int, default=12, help="frames rendered before the shot is analysed")
    parser.add_argument("--phases", default=",".join(PHASES), help=f"comma-separated subset of {PHASES}")
    args = parser.parse_args(argv)
    phases = [p for p in args.phases.split(",") if p]
    if unknown := set(phases) - set(PHASES):
        parser.error(f"unknown phases {sorted(unknown)}; choose from {PHASES}")
    result = run(args.bundle, args.server, args.resolution, args.media, args.frames, args.passes, args.online, phases)
    sys.stdout.write(json.dumps(result) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""`python -m ned_server.demo [--out DIR]`: the product end to end, with nothing from outside the repo.

1. Make a 4 s talking clip from scikit-image's astronaut portrait (`demo_clip.py`).
2. Edit it with `ned-emotion` (its own private server): sad, keyframed in from the source.
3. Edit it in a real OFX host, MLT `melt`, through the Emotion Director plugin, against a server
   this demo starts: the shot is analysed first (what a host's Analyze button does), then melt
   renders it surprised. melt exits 0 even when the plugin fails, so the demo compares the result
   with a passthrough render (same plugin and conversions, nothing edited) and fails loudly unless
   the face, and only the face, changed.
4. Put source | CLI edit | melt edit side by side (video and a still sheet) and print every path.

Needs `python3 build.py build` first (the plugin bundle and melt); `python3 build.py demo` does both.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from ned_models.edit import EditParams, Emotion
from ned_models.media import open_source
from ned_server.cli_outputs import PreviewWriter, side_by_side
from ned_server.client import LocalServer, NedClient
from ned_server.demo_clip import DemoClipSpec, make_demo_clip

__all__ = ["main", "run_demo", "DemoOutputs", "MeltHost", "face_change"]

SERVICE = "openfx.org.ned.EmotionDirector"
CLI_EMOTION, CLI_KEYS = "sad", "0:0,0.8s:0,2s:1"        # the source, then sad eases in over 1.2 s
MELT_EMOTION, MELT_KEYS = "surprised", "0=0;20=1"      # MLT keyframes: linear 0 -> 1 over frames 0-20
MELT_SHOT = "ned-demo-astronaut"
_MIN_FACE_CHANGE = 1.5        # mean 8-bit levels inside the face, frames at full intensity
_MAX_ENCODE_CHANGE = 3.0      # mean levels between melt's raw frames and its H.264 file


@dataclass(frozen=True)
class DemoOutputs:
    """Every file the demo leaves in its folder (printed at the end)."""

    clip: Path
    cli_edit: Path
    cli_preview: Path
    cli_report: Path
    melt_edit: Path
    comparison: Path
    stills: Path


class MeltHost:
    """The provisioned melt (`$NED_MLT_DIR/melt`) with our bundle (`$NED_PLUGIN_BUNDLE`) on its plugin path."""

    def __init__(self) -> None:
        cache = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "emotion-director"
        self.executable = Path(os.environ.get("NED_MLT_DIR", cache / "mlt-host")) / "melt"
        repo = Path(__file__).resolve().parents[2]
        self.bundle = Path(os.environ.get("NED_PLUGIN_BUNDLE", repo / "build/ofx/EmotionDirector.ofx.bundle"))
        for path, what in ((self.executable, "melt"), (self.bundle, "the plugin bundle")):
            if not path.exists():
                raise SystemExit(f"demo: {what} not found at {path}; run `python3 build.py build` first")
        self.env = dict(os.environ, OFX_PLUGIN_PATH=str(self.bundle.parent))

    def render(self, clip: Path, out: Path, size_wh: tuple[int, int], fps: int, filter_args: list[str],
               raw: bool = False) -> None:
        """Render `clip` at its own size and rate (no scaling) to an H.264/AAC file, or to raw RGBA frames."""
        profile = out.with_suffix(".profile")
        w, h = size_wh
        profile.write_text(f"description=demo {w}x{h}@{fps}\nframe_rate_num={fps}\nframe_rate_den=1\nwidth={w}\n"
                           f"height={h}\nprogressive=1\nsample_aspect_num=1\nsample_aspect_den=1\n"
                           f"display_aspect_num={w}\ndisplay_aspect_den={h}\ncolorspace=709\n")
        encode = ["f=rawvideo", "pix_fmt=rgba"] if raw else ["vcodec=libx264", "acodec=aac", "crf=16"]
        argv = [str(self.executable), "-silent", "-profile", str(profile), str(clip), *filter_args,
                "-consumer", f"avformat:{out}", *encode, "real_time=0"]
        try:
            result = subprocess.run(argv, env=self.env, capture_output=True, text=True, timeout=600)
        finally:
            profile.unlink(missing_ok=True)
        if result.returncode != 0 or not out.exists():
            raise SystemExit(f"demo: melt failed ({result.returncode}): {' '.join(argv)}\n{result.stderr[-2000:]}")


def _say(text: str) -> None:
    sys.stdout.write(f"[demo] {text}\n")
    sys.stdout.flush()


def _frames(path: Path) -> list[np.ndarray]:
    with open_source(path) as source:
        return [f.image for f in source.frames()]


def _raw_frames(path: Path, size_wh: tuple[int, int]) -> np.ndarray:
    """(N, H, W, 3) uint8 RGB from melt's raw RGBA output."""
    w, h = size_wh
    raw = np.fromfile(path, np.uint8)
    if raw.size == 0 or raw.size % (w * h * 4):
        raise SystemExit(f"demo: melt wrote {raw.size} bytes to {path}, not whole {w}x{h} RGBA frames")
    return raw.reshape(-1, h, w, 4)[..., :3]


def face_change(edit: np.ndarray, plain: np.ndarray, rect: tuple[int, int, int, int]) -> tuple[float, int]:
    """(mean |edit - plain| inside `rect` in 8-bit levels, pixels that differ outside it); rect = x, y, w, h."""
    diff = np.abs(edit.astype(np.int16) - plain.astype(np.int16)).max(axis=2)
    inside = np.zeros(diff.shape, bool)
    x, y, w, h = rect
    inside[y:y + h, x:x + w] = True
    return float(diff[inside].mean()), int(np.count_nonzero(diff[~inside]))


def _run_cli(clip: Path, out: DemoOutputs) -> None:
    argv = [sys.executable, "-m", "ned_server.cli", str(clip), "-o", str(out.cli_edit), "--emotion", CLI_EMOTION,
            "--keyframes", CLI_KEYS, "--preview", str(out.cli_preview), "--report", str(out.cli_report),
            "--overwrite"]
    _say("$ ned-emotion " + " ".join(argv[3:]))
    if subprocess.run(argv).returncode != 0:
        raise SystemExit("demo: ned-emotion failed (see above)")


def _plugin_filter(renderer: str, address: str) -> list[str]:
    """melt arguments that put the Emotion Director on the clip."""
    return ["-filter", SERVICE, f"emotion={MELT_EMOTION}", f"intensity={MELT_KEYS}", f"renderer={renderer}",
            f"server={address}", f"shot={MELT_SHOT}", "onError=fail render"]


def _run_melt(clip: Path, out: DemoOutputs, fps: int, size_wh: tuple[int, int]) -> None:
    """Analyse the shot, render it through the plugin in melt, check that the plugin edited the face.

    The check uses two more renders with lossless raw frames: the edit, and a passthrough (same plugin
    and colour conversions, the face cut out and returned unedited). They must differ inside the face
    and be identical outside it; the H.264 file must hold the same pictures up to its compression.
    """
    melt = MeltHost()
    shot_id = f"{MELT_SHOT}@{size_wh[0]}x{size_wh[1]}"  # what the plugin sends for shot=MELT_SHOT
    raw_edit, raw_plain = (out.melt_edit.with_name(f".{name}.rgba") for name in ("edit", "passthrough"))
    try:
        with LocalServer() as server, NedClient(server.address) as client:
            _say(f"analysing the shot on ned-server {server.address} (the host's Analyze step)")
            with open_source(clip) as source:
                client.analyse_shot(shot_id, ((float(f.index), f.image) for f in source.frames(exact=False)),
                                    total_frames=len(source), frame_rate=float(fps))
            regions = {round(r.time): r.rect for r in client.get_shot(shot_id, include_regions=True).regions}
            edit = _plugin_filter("warp", server.address)
            _say(f"$ melt {clip.name} {' '.join(edit)} -consumer avformat:{out.melt_edit.name} ...")
            started = time.monotonic()
            melt.render(clip, out.melt_edit, size_wh, fps, edit)
            _say(f"melt rendered {out.melt_edit.name} in {time.monotonic() - started:.1f} s")
            melt.render(clip, raw_edit, size_wh, fps, edit, raw=True)
            melt.render(clip, raw_plain, size_wh, fps, _plugin_filter("passthrough", server.address), raw=True)
        edited = _raw_frames(raw_edit, size_wh)
        _check_melt_edit(edited, _raw_frames(raw_plain, size_wh), regions)
        _check_encoded(edited, _frames(out.melt_edit))
    finally:
        raw_edit.unlink(missing_ok=True)
        raw_plain.unlink(missing_ok=True)


def _check_melt_edit(edited: np.ndarray, plain: np.ndarray, regions: dict) -> None:
    """Fail unless every fully keyed frame changed inside the face and nowhere else."""
    if len(edited) != len(plain):
        raise SystemExit(f"demo: melt wrote {len(edited)} frames with the edit and {len(plain)} with passthrough")
    full = int(MELT_KEYS.split(";")[-1].split("=")[0])
    failures, inside_levels = [], []
    for t in range(len(edited)):
        rect = regions.get(t)
        if rect is None:
            failures.append(f"frame {t}: the server has no face region")
            continue
        inside, outside = face_change(edited[t], plain[t], (rect.x, rect.y, rect.width, rect.height))
        if outside:
            failures.append(f"frame {t}: {outside} pixels changed outside the face")
        if t >= full:
            inside_levels.append(inside)
            if inside < _MIN_FACE_CHANGE:
                failures.append(f"frame {t}: the face changed by only {inside:.2f} levels")
    if failures:
        raise SystemExit("demo: the plugin did not edit melt's frames as it should: " + "; ".join(failures[:5]))
    _say(f"checked: the plugin changed the face by {np.mean(inside_levels):.1f} levels on average "
         f"(frames {full}-{len(edited) - 1}) and not one pixel outside it")


def _check_encoded(raw: np.ndarray, encoded: list[np.ndarray]) -> None:
    """melt's H.264 file must show the frames it rendered raw (same count, small codec error)."""
    error = np.mean([np.abs(a.astype(np.float32) - b).mean() for a, b in zip(raw, encoded, strict=False)])
    if len(raw) != len(encoded) or error > _MAX_ENCODE_CHANGE:
        raise SystemExit(f"demo: melt's H.264 output ({len(encoded)} frames) does not match its raw render "
                         f"({len(raw)} frames): mean difference {error:.2f} levels")


def _compare(out: DemoOutputs, clip: Path) -> None:
    """source | CLI edit | melt edit, as a video with the clip's sound and as a sheet of stills."""
    clips = [_frames(p) for p in (clip, out.cli_edit, out.melt_edit)]
    captions = ["source", f"ned-emotion: {CLI_EMOTION}", f"melt + plugin: {MELT_EMOTION}"]
    with open_source(clip) as source, PreviewWriter(out.comparison, source, EditParams(Emotion.NEUTRAL),
                                                    overwrite=True, panels=3) as writer:
        for t, panels in enumerate(zip(*clips, strict=True)):
            writer.write_panels(t, list(panels), captions)
    picks = np.linspace(0, len(clips[0]) - 1, 4).round().astype(int)
    rows = [side_by_side([c[t] for c in clips], [f"{caption} (frame {t})" for caption in captions],
                         clips[0][0].shape[:2]) for t in picks]
    cv2.imwrite(str(out.stills), cv2.cvtColor(np.concatenate(rows, axis=0), cv2.COLOR_RGB2BGR))


def run_demo(folder: Path) -> DemoOutputs:
    folder.mkdir(parents=True, exist_ok=True)
    out = DemoOutputs(clip=folder / "astronaut_talking.mp4", cli_edit=folder / f"astronaut_{CLI_EMOTION}_cli.mp4",
                      cli_preview=folder / f"astronaut_{CLI_EMOTION}_cli_preview.mp4",
                      cli_report=folder / f"astronaut_{CLI_EMOTION}_cli_report.json",
                      melt_edit=folder / f"astronaut_{MELT_EMOTION}_melt.mp4",
                      comparison=folder / "astronaut_comparison.mp4", stills=folder / "astronaut_comparison.png")
    for path in (out.clip, out.melt_edit, out.comparison, out.stills):
        path.unlink(missing_ok=True)
    spec = DemoClipSpec()
    _say(f"making a {spec.seconds:g} s talking clip from scikit-image's astronaut portrait")
    clip = make_demo_clip(out.clip, spec)
    _say(f"wrote {out.clip} ({clip.frame_count} frames, {spec.fps} fps, speech-like audio)")
    _run_cli(out.clip, out)
    with open_source(out.clip) as source:
        size_wh = (source.info.width, source.info.height)
    _run_melt(out.clip, out, spec.fps, size_wh)
    _compare(out, out.clip)
    return out


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ned_server.demo", description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=Path("build/demo"), help="output folder (default %(default)s)")
    args = parser.parse_args(argv)
    out = run_demo(args.out.absolute())
    width = max(len(k) for k in vars(out))
    sys.stdout.write("\nDemo outputs:\n" + "".join(f"  {k.replace('_', ' '):<{width}}  {v}\n"
                                                    for k, v in vars(out).items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Running the real OFX host, MLT `melt`, on a clip and reading its frames back.

melt exits 0 even when a module fails to load or a filter's render fails (it then passes the
source frame through), so callers must judge the frames and their own evidence, never the exit
code alone. Frames are written as raw RGBA8 through a profile equal to the clip's size, so
nothing is scaled.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

MELT_TIMEOUT_S = 600


@dataclass(frozen=True)
class MeltOutput:
    """Attributes:
        frames: (N, H, W, 4) uint8 RGBA, top-down, as melt wrote them.
        stderr: melt's log (its own messages and the plugin's).
    """

    frames: np.ndarray
    stderr: str


class Melt:
    """One provisioned `melt` with OFX_PLUGIN_PATH pointing at the directory holding our bundle."""

    def __init__(self, executable: Path, plugin_dir: Path):
        self.executable = executable
        self.env = dict(os.environ, OFX_PLUGIN_PATH=str(plugin_dir))

    def query_filters(self) -> str:
        result = subprocess.run([str(self.executable), "-query", "filters"], env=self.env, capture_output=True,
                                text=True, timeout=120)
        return result.stdout + result.stderr

    def render(self, clip: Path, out_path: Path, *, size: tuple[int, int], fps: int, first: int, last: int,
               service: str | None = None, params: Mapping[str, str] | None = None,
               timeout: float = MELT_TIMEOUT_S) -> MeltOutput:
        """Frames `first..last` of `clip`, through filter `service` with `params` when given."""
        width, height = size
        profile = out_path.with_suffix(".profile")
        profile.write_text(f"description=test {width}x{height}@{fps}\nframe_rate_num={fps}\nframe_rate_den=1\n"
                           f"width={width}\nheight={height}\nprogressive=1\nsample_aspect_num=1\n"
                           f"sample_aspect_den=1\ndisplay_aspect_num={width}\ndisplay_aspect_den={height}\n"
                           "colorspace=709\n")
        argv = [str(self.executable), "-silent", "-profile", str(profile), str(clip), f"in={first}", f"out={last}"]
        if service is not None:
            argv += ["-filter", service, *[f"{k}={v}" for k, v in (params or {}).items()]]
        argv += ["-consumer", f"avformat:{out_path}", "f=rawvideo", "pix_fmt=rgba", "real_time=0"]
        result = subprocess.run(argv, env=self.env, capture_output=True, text=True, timeout=timeout)
        if result.returncode == 0 and not (out_path.exists() and out_path.stat().st_size):
            # Seen once under heavy load: melt exited 0 having written nothing and said nothing (its
            # consumer never started). One more run tells that apart from a real failure.
            result = subprocess.run(argv, env=self.env, capture_output=True, text=True, timeout=timeout)
        if result.returncode != 0:
            raise RuntimeError(f"melt exited {result.returncode}: {' '.join(argv)}\n{result.stderr[-3000:]}")
        raw = np.fromfile(out_path, np.uint8) if out_path.exists() else np.zeros(0, np.uint8)
        frame_bytes = width * height * 4
        if raw.size == 0 or raw.size % frame_bytes:
            raise RuntimeError(f"melt wrote {raw.size} bytes to {out_path}, not whole {width}x{height} RGBA "
                               f"frames:\n{result.stderr[-3000:]}")
        return MeltOutput(raw.reshape(-1, height, width, 4), result.stderr)

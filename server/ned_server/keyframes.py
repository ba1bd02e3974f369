"""Keyframed intensity for the CLI: `"0:0,1.5s:1,4s:0.3"` -> one intensity per frame.

Syntax: comma-separated `TIME:VALUE` keys in increasing time. TIME is a frame number (`40`, `40f`)
or seconds from the first frame (`1.5s`); VALUE is an intensity in 0..1.5. melt's own spelling
(`0=0;40=1`) is accepted too, so a curve can be copied between the plugin and the CLI.

Interpolation: a monotone cubic Hermite curve (Fritsch-Carlson) with zero slope at the first and
last key. Why this one:
- no overshoot: between two keys the value stays between their values, so a ramp to 1.5 never
  asks for 1.6 and a ramp down to 0 never goes negative (a Catmull-Rom or natural spline would);
- smooth: the slope is continuous everywhere, including where the curve leaves the held values
  before the first and after the last key, so an edit eases in and out instead of starting with a
  jolt (a linear ramp has a visible kink there);
- no stops inside a run: at a key between a lower and a higher one the curve keeps moving (a
  smoothstep per segment would halt at every key); it halts only at local peaks and troughs.
With two keys the curve is exactly smoothstep (3u^2 - 2u^3).
"""

from __future__ import annotations

import itertools
import math
import re
from dataclasses import dataclass

import numpy as np

__all__ = ["Keyframe", "IntensityCurve", "parse_keyframes", "INTENSITY_RANGE"]

INTENSITY_RANGE = (0.0, 1.5)
_KEY = re.compile(r"^\s*(?P<time>[0-9]*\.?[0-9]+)\s*(?P<unit>[sf]?)\s*[:=]\s*(?P<value>[-+]?[0-9]*\.?[0-9]+)\s*$")


@dataclass(frozen=True)
class Keyframe:
    """One key as the user wrote it.

    Attributes:
        time: the key's time, in `unit`s from the first frame.
        in_seconds: True for `1.5s`, False for a frame number.
        value: the intensity at that time.
        text: the key as written (for error messages).
    """

    time: float
    in_seconds: bool
    value: float
    text: str

    def frame_position(self, frame_times_s: np.ndarray) -> float:
        """The key's position in (fractional) frames, given each frame's time from the first frame.

        Seconds are placed by the frames' real timestamps, so a key at `2s` lands on the frame shown at
        2 s in a variable-frame-rate clip too; past the last frame it extrapolates at the mean rate.
        """
        if not self.in_seconds:
            return self.time
        times = np.asarray(frame_times_s, dtype=np.float64)
        if len(times) < 2:
            return 0.0 if self.time <= 0 else math.inf
        if self.time <= times[-1]:
            return float(np.interp(self.time, times, np.arange(len(times))))
        mean_interval = (times[-1] - times[0]) / (len(times) - 1)
        return len(times) - 1 + (self.time - times[-1]) / mean_interval


def parse_keyframes(text: str) -> list[Keyframe]:
    """Parse `"0:0,1.5s:1,4s:0.3"` (or melt's `"0=0;40=1"`).

    Raises:
        ValueError: empty text, a malformed key, a value outside 0..1.5, or two keys of the same unit
            out of order (the message names the key).
    """
    if not text or not text.strip():
        raise ValueError("--keyframes is empty; expected TIME:VALUE pairs like 0:0,1.5s:1")
    keys = []
    for part in re.split(r"[,;]", text):
        match = _KEY.match(part)
        if match is None:
            raise ValueError(f"keyframe {part.strip()!r} is not TIME:VALUE (TIME a frame number like 40 or "
                             "seconds like 1.5s, VALUE an intensity like 0.8)")
        value = float(match["value"])
        low, high = INTENSITY_RANGE
        if not low <= value <= high:
            raise ValueError(f"keyframe {part.strip()!r}: intensity {value:g} out of range {low:g}..{high:g}")
        keys.append(Keyframe(float(match["time"]), match["unit"] == "s", value, part.strip()))
    for before, after in itertools.pairwise(keys):
        if before.in_seconds == after.in_seconds and after.time <= before.time:
            raise ValueError(f"keyframe times must increase: {after.text!r} comes after {before.text!r}")
    return keys


class IntensityCurve:
    """Per-frame intensity from keys placed on a clip's frames (see the module doc).

    Args:
        keys: the parsed keys.
        frame_times_s: (T,) each frame's presentation time minus the first frame's, seconds.

    Raises:
        ValueError: once placed on frames, two keys fall on the same frame or out of order (possible
            only when frame and seconds keys are mixed).
    """

    def __init__(self, keys: list[Keyframe], frame_times_s: np.ndarray):
        if not keys:
            raise ValueError("an intensity curve needs at least one key")
        positions = [k.frame_position(frame_times_s) for k in keys]
        for (p0, k0), (p1, k1) in itertools.pairwise(zip(positions, keys, strict=True)):
            if p1 <= p0:
                raise ValueError(f"keyframe {k1.text!r} (frame {p1:g}) does not come after {k0.text!r} "
                                 f"(frame {p0:g}) in this clip")
        self.positions = np.asarray(positions, dtype=np.float64)
        self.values = np.asarray([k.value for k in keys], dtype=np.float64)
        self._slopes = _monotone_slopes(self.positions, self.values)

    def __call__(self, frames: np.ndarray | float) -> np.ndarray:
        """Intensity at (fractional) frame positions; held constant before the first and after the last key."""
        x = np.asarray(frames, dtype=np.float64)
        xs, ys, ms = self.positions, self.values, self._slopes
        if len(xs) == 1:
            return np.full_like(x, ys[0])
        x = np.clip(x, xs[0], xs[-1])
        i = np.clip(np.searchsorted(xs, x, side="right") - 1, 0, len(xs) - 2)
        h = xs[i + 1] - xs[i]
        u = (x - xs[i]) / h
        # cubic Hermite basis on the segment [xs[i], xs[i + 1]]
        h00, h10 = 2 * u**3 - 3 * u**2 + 1, u**3 - 2 * u**2 + u
        h01, h11 = -2 * u**3 + 3 * u**2, u**3 - u**2
        y = h00 * ys[i] + h10 * h * ms[i] + h01 * ys[i + 1] + h11 * h * ms[i + 1]
        # rounding can leave the segment's range by an ulp; the range is a promise
        low, high = np.minimum(ys[i], ys[i + 1]), np.maximum(ys[i], ys[i + 1])
        return np.clip(y, low, high)

    def per_frame(self, frame_count: int) -> np.ndarray:
        """(frame_count,) float64 intensity of frames 0, 1, ..., frame_count - 1."""
        return self(np.arange(frame_count, dtype=np.float64))


def _monotone_slopes(xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
    """Fritsch-Carlson slopes: weighted harmonic mean of the neighbouring secants, zero at extrema and
    at both ends (the curve is held flat outside the keys)."""
    slopes = np.zeros_like(ys)
    if len(xs) < 3:
        return slopes
    h = np.diff(xs)
    delta = np.diff(ys) / h
    for k in range(1, len(xs) - 1):
        d0, d1 = delta[k - 1], delta[k]
        if d0 * d1 <= 0:
            continue  # a peak, a trough or a flat part: stop there, never overshoot
        w0, w1 = 2 * h[k] + h[k - 1], h[k] + 2 * h[k - 1]
        slopes[k] = (w0 + w1) / (w0 / d0 + w1 / d1)
    return slopes

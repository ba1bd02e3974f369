"""Progress reporting for the CLI: a redrawn bar on a terminal, plain lines in logs and pipes.

    progress = Progress("analysis", total=250)
    progress.update(10)            # frames done so far
    progress.finish()              # "analysis: 250 frames in 9.8 s (25.5 frames/s)"

On a terminal the bar is one line on stderr, redrawn at most 10 times a second, with frames/s and
ETA. Anywhere else (CI logs, `2> file`) a carriage-return bar would be garbage, so a plain line is
written every few seconds instead. Frames/s is measured over the recent past (a few seconds), so
the ETA follows a job whose speed changes (first frames are slower: models load).
"""

from __future__ import annotations

import collections
import math
import sys
import time
from typing import TextIO

__all__ = ["Progress", "format_duration"]

_REDRAW_S = 0.1
_PLAIN_EVERY_S = 5.0
_RATE_WINDOW_S = 3.0
_BAR_CELLS = 28


def format_duration(seconds: float) -> str:
    """`4.2 s`, `42 s`, `3:07`, `1:02:03`."""
    if not math.isfinite(seconds) or seconds < 0:
        return "?"
    if seconds < 10:
        return f"{seconds:.1f} s"
    if seconds < 60:
        return f"{seconds:.0f} s"
    minutes, secs = divmod(int(round(seconds)), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


class Progress:
    """One task's progress (frames of a known or unknown total).

    Args:
        label: what is being done ("analysis", "render").
        total: frames to do (0 = unknown: no bar, no ETA).
        stream: where to write (default stderr).
        enabled: False writes nothing (`--quiet`).
        tty: force terminal (True) or plain (False) output; default: `stream.isatty()`.
        clock: seconds clock (tests pass a fake one).
    """

    def __init__(self, label: str, total: int = 0, *, stream: TextIO | None = None, enabled: bool = True,
                 tty: bool | None = None, clock=time.monotonic):
        self.label = label
        self.total = max(int(total), 0)
        self.done = 0
        self.stage = ""
        self._stream = stream if stream is not None else sys.stderr
        self._enabled = enabled
        self._tty = self._stream.isatty() if tty is None else tty
        self._clock = clock
        self._started = clock()
        self._last_write = -math.inf
        self._samples: collections.deque[tuple[float, int]] = collections.deque([(self._started, 0)])
        self._drawn = False

    @property
    def elapsed(self) -> float:
        return self._clock() - self._started

    def rate(self) -> float:
        """Frames per second over the last few seconds (over the whole run until then)."""
        now, done = self._samples[-1]
        while len(self._samples) > 2 and now - self._samples[1][0] >= _RATE_WINDOW_S:
            self._samples.popleft()
        then, before = self._samples[0]
        return (done - before) / (now - then) if now > then else 0.0

    def eta(self) -> float:
        """Seconds left at the current rate (inf when unknown)."""
        rate = self.rate()
        if not self.total or rate <= 0:
            return math.inf
        return max(self.total - self.done, 0) / rate

    def update(self, done: int, stage: str = "") -> None:
        """Record that `done` frames are finished (monotone); redraw if it is time to."""
        now = self._clock()
        self.done = max(self.done, int(done))
        self.stage = stage or self.stage
        self._samples.append((now, self.done))
        if not self._enabled:
            return
        every = _REDRAW_S if self._tty else _PLAIN_EVERY_S
        if now - self._last_write >= every:
            self._last_write = now
            self._write(self.line())

    def line(self) -> str:
        """The progress as one line (no newline)."""
        stage = f" ({self.stage})" if self.stage else ""
        rate = self.rate()
        if not self.total:
            return f"{self.label}{stage}: {self.done} frames, {rate:.1f} frames/s"
        fraction = min(self.done / self.total, 1.0)
        counts = f"{self.done}/{self.total} {100 * fraction:3.0f}%"
        speed = f"{rate:5.1f} frames/s, ETA {format_duration(self.eta())}"
        if not self._tty:
            return f"{self.label}{stage}: {counts}, {speed}"
        filled = int(round(fraction * _BAR_CELLS))
        return f"{self.label:<9}[{'#' * filled}{'.' * (_BAR_CELLS - filled)}] {counts} {speed}{stage}"

    def finish(self, summary: str | None = None) -> None:
        """Close the bar with a final line (default: frames, time and mean frames/s)."""
        elapsed = self.elapsed
        if summary is None:
            mean = self.done / elapsed if elapsed > 0 else 0.0
            summary = f"{self.label}: {self.done} frames in {elapsed:.1f} s ({mean:.1f} frames/s)"
        if self._enabled:
            self._write(summary, final=True)

    def abandon(self) -> None:
        """End the bar's line without a summary (before an error message is printed)."""
        if self._enabled and self._tty and self._drawn:
            self._stream.write("\n")
            self._stream.flush()
            self._drawn = False

    def _write(self, text: str, final: bool = False) -> None:
        if self._tty:
            # \r back to the start, \x1b[K clears what a longer previous line left
            self._stream.write(f"\r{text}\x1b[K" + ("\n" if final else ""))
            self._drawn = not final
        else:
            self._stream.write(text + "\n")
        self._stream.flush()

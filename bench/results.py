"""Typed results of a benchmark run: timings, derived figures, memory, targets, machine facts.

Every figure is wall-clock time on this machine. A `Timing` is the median, min and max over
repeated, warmed-up runs; what one sample is (a frame, a call, a whole melt run) is in the
measurement's `per` field, so a reader never has to guess the unit.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

__all__ = ["Timing", "Measurement", "Figure", "PeakMemory", "StageResult", "TargetCheck", "MachineInfo", "BenchRun"]


@dataclass(frozen=True)
class Timing:
    """Milliseconds per unit over `repeats` samples taken after warm-up.

    Attributes:
        median_ms: median of the samples.
        min_ms: fastest sample.
        max_ms: slowest sample.
        repeats: number of samples.
    """

    median_ms: float
    min_ms: float
    max_ms: float
    repeats: int

    @classmethod
    def of(cls, samples_ms: Sequence[float] | np.ndarray) -> Timing:
        values = np.asarray(samples_ms, dtype=np.float64)
        if values.size == 0:
            raise ValueError("a timing needs at least one sample")
        if not np.all(np.isfinite(values)) or np.any(values < 0):
            raise ValueError(f"timing samples must be finite and >= 0, got {values}")
        return cls(float(np.median(values)), float(values.min()), float(values.max()), int(values.size))

    @property
    def fps(self) -> float:
        """Units per second at the median (frames/s when a unit is a frame)."""
        return 1000.0 / self.median_ms if self.median_ms > 0 else float("inf")

    def as_dict(self) -> dict[str, float | int]:
        """JSON form; frames/s at the median and at the extremes come along for readers of the file."""
        def per_s(ms: float) -> float | None:
            return round(1000.0 / ms, 3) if ms > 0 else None

        return {"median_ms": round(self.median_ms, 4), "min_ms": round(self.min_ms, 4),
                "max_ms": round(self.max_ms, 4), "repeats": self.repeats, "per_s_median": per_s(self.median_ms),
                "per_s_best": per_s(self.min_ms), "per_s_worst": per_s(self.max_ms)}


@dataclass(frozen=True)
class Measurement:
    """One timed thing.

    Attributes:
        stage: the table it belongs to ("analysis", "render", "transfer", "plugin", "melt", "reference").
        name: what was timed, e.g. "landmarks" or "passthrough, face region, shared memory".
        resolution: "WxH" of the input ("" when it has none).
        per: what one sample is: "frame", "call", "window", "run".
        timing: milliseconds per `per`.
        source: where the input came from (clip, frames, how it was scaled).
        synthetic: True when the input is a synthetic picture (test media missing).
        pixel_format: "rgba8", "rgba32f", "rgb8" ("" when not about pixels).
        bytes_sent: pixel bytes sent per sample, when it moved pixels.
    """

    stage: str
    name: str
    resolution: str
    per: str
    timing: Timing
    source: str = ""
    synthetic: bool = False
    pixel_format: str = ""
    bytes_sent: int | None = None

    def as_dict(self) -> dict[str, object]:
        return {"stage": self.stage, "name": self.name, "resolution": self.resolution, "per": self.per,
                "timing": self.timing.as_dict(), "source": self.source, "synthetic": self.synthetic,
                "pixel_format": self.pixel_format, "bytes_sent": self.bytes_sent}


@dataclass(frozen=True)
class Figure:
    """A number derived from measurements (a ratio, a share, a per-shot cost).

    Attributes:
        stage: as in Measurement.
        name: what it is, e.g. "transfer share of end to end".
        value: the number.
        unit: "%", "s", "ms", "MiB", ...
        resolution: "WxH" it applies to, if any.
        note: how it was computed.
    """

    stage: str
    name: str
    value: float
    unit: str
    resolution: str = ""
    note: str = ""

    def as_dict(self) -> dict[str, object]:
        return {"stage": self.stage, "name": self.name, "value": round(self.value, 4), "unit": self.unit,
                "resolution": self.resolution, "note": self.note}


@dataclass(frozen=True)
class PeakMemory:
    """Peak resident memory of one process (VmHWM / ru_maxrss), or GPU memory in use.

    Attributes:
        process: "ned-server", "plugin host (ctypes)", "melt", "gpu".
        peak_mib: mebibytes.
        during: what the process did while it peaked.
    """

    process: str
    peak_mib: float
    during: str

    def as_dict(self) -> dict[str, object]:
        return {"process": self.process, "peak_mib": round(self.peak_mib, 1), "during": self.during}


@dataclass
class StageResult:
    """Everything one stage measured; `error` is set (and the rest may be partial) when it failed."""

    name: str
    measurements: list[Measurement] = field(default_factory=list)
    figures: list[Figure] = field(default_factory=list)
    memory: list[PeakMemory] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    wall_s: float = 0.0
    load_average: tuple[float, float, float] = (0.0, 0.0, 0.0)
    error: str | None = None

    def figure(self, name: str, resolution: str = "") -> Figure | None:
        return next((f for f in self.figures if f.name == name and f.resolution == resolution), None)

    def measurement(self, name: str, resolution: str = "", pixel_format: str | None = None) -> Measurement | None:
        return next((m for m in self.measurements if m.name == name and m.resolution == resolution
                     and pixel_format in (None, m.pixel_format)), None)

    def as_dict(self) -> dict[str, object]:
        return {"name": self.name, "wall_s": round(self.wall_s, 2), "load_average_1_5_15": self.load_average,
                "error": self.error, "notes": self.notes,
                "measurements": [m.as_dict() for m in self.measurements],
                "figures": [f.as_dict() for f in self.figures], "memory": [m.as_dict() for m in self.memory]}


@dataclass(frozen=True)
class TargetCheck:
    """One acceptance target and how this run did against it.

    Attributes:
        name: the target as stated in the issue.
        measured: the measured value (None when the stage did not run or failed).
        threshold: the value to reach.
        unit: of both.
        higher_is_better: True for rates, False for shares and times.
        dominant: when missed (or close), the stage that takes most of the time, and why.
    """

    name: str
    measured: float | None
    threshold: float
    unit: str
    higher_is_better: bool
    dominant: str = ""

    @property
    def passed(self) -> bool | None:
        if self.measured is None:
            return None
        return self.measured >= self.threshold if self.higher_is_better else self.measured <= self.threshold

    def as_dict(self) -> dict[str, object]:
        return {"name": self.name, "measured": None if self.measured is None else round(self.measured, 3),
                "threshold": self.threshold, "unit": self.unit, "higher_is_better": self.higher_is_better,
                "passed": self.passed, "dominant": self.dominant}


@dataclass(frozen=True)
class MachineInfo:
    """What the figures were measured on, and how busy it was.

    `threads` holds the thread settings that change timings (BLAS, OpenMP, TFLite) as the
    environment gave them ("" where unset: the library's default, usually one thread per core).
    """

    machine: str
    hostname: str
    cpu_model: str
    cpu_count: int
    memory_gib: float
    gpu: str
    load_average_start: tuple[float, float, float]
    python: str
    versions: dict[str, str]
    threads: dict[str, str]
    git_commit: str
    started_at: str

    def as_dict(self) -> dict[str, object]:
        return dict(self.__dict__)


@dataclass
class BenchRun:
    """A whole run: the machine, every stage, the targets."""

    machine: MachineInfo
    quick: bool
    media_dir: str
    media_missing: bool
    stages: list[StageResult] = field(default_factory=list)
    targets: list[TargetCheck] = field(default_factory=list)
    wall_s: float = 0.0
    load_average_end: tuple[float, float, float] = (0.0, 0.0, 0.0)

    def stage(self, name: str) -> StageResult | None:
        return next((s for s in self.stages if s.name == name), None)

    def as_dict(self) -> dict[str, object]:
        return {"schema": "ned-bench/1", "machine": self.machine.as_dict(), "quick": self.quick,
                "media_dir": self.media_dir, "media_missing": self.media_missing, "wall_s": round(self.wall_s, 1),
                "load_average_end": self.load_average_end, "targets": [t.as_dict() for t in self.targets],
                "stages": [s.as_dict() for s in self.stages]}

"""Write a run as `<machine>-<date>.json` (everything) and `<machine>-<date>.md` (tables for people)."""

from __future__ import annotations

import json
from pathlib import Path

from bench.analysis import ANALYSIS_STAGES
from bench.results import BenchRun, Measurement, StageResult

__all__ = ["write_results", "markdown", "result_stem"]

_STAGE_TITLES = {
    "analysis": "Analysis (ms per frame of the shot; per-shot steps divided by its frames)",
    "render": "Render in process (server work per frame, no transport)",
    "transfer": "Transfer: RenderFrame round trip on the identity path vs memory copy (Python client)",
    "plugin": "End to end through the plugin (ctypes OFX host)",
    "melt": "End to end in MLT melt (decode + plugin + raw RGBA output)",
    "reference": "Reference: NED's own networks on this machine (random weights)",
}
_ORDER = tuple(_STAGE_TITLES)


def result_stem(run: BenchRun) -> str:
    """`<machine>-<YYYY-MM-DD>`, with `-quick` for CI-sized runs (so they never replace a full one)."""
    date = run.machine.started_at[:10]
    return f"{run.machine.machine}-{date}" + ("-quick" if run.quick else "")


def write_results(run: BenchRun, out_dir: Path) -> tuple[Path, Path]:
    """Write the JSON and Markdown files; returns their paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = result_stem(run)
    json_path, md_path = out_dir / f"{stem}.json", out_dir / f"{stem}.md"
    json_path.write_text(json.dumps(run.as_dict(), indent=1, allow_nan=False) + "\n")
    md_path.write_text(markdown(run))
    return json_path, md_path


def _cell(m: Measurement) -> str:
    t = m.timing
    return f"{t.median_ms:.2f} ({t.min_ms:.2f}-{t.max_ms:.2f})"


def _per_s(m: Measurement) -> str:
    return f"{m.timing.fps:.1f}"


def _header(run: BenchRun) -> list[str]:
    m = run.machine
    load = ", ".join(f"{v:.2f}" for v in m.load_average_start)
    end = ", ".join(f"{v:.2f}" for v in run.load_average_end)
    lines = [f"# Emotion Director benchmark: {m.machine}, {m.started_at[:10]}", "",
             f"- Machine: {m.cpu_model}, {m.cpu_count} CPUs, {m.memory_gib:.0f} GiB, GPU: {m.gpu}",
             f"- Load average (1, 5, 15 min): {load} at the start, {end} at the end. The machine is shared: "
             "figures move with that load.",
             f"- Commit {m.git_commit}; Python {m.python}; " + ", ".join(f"{k} {v}" for k, v in m.versions.items()),
             "- Thread settings: " + ", ".join(f"{k}={v or '(unset)'}" for k, v in m.threads.items()),
             f"- Mode: {'quick (CI-sized)' if run.quick else 'full'}; whole run {run.wall_s:.0f} s; "
             f"started {m.started_at}",
             f"- Media: {run.media_dir}" + (" **MISSING: figures marked synthetic are not footage**"
                                             if run.media_missing else ""),
             "- Times are wall clock: median (min-max) over repeated runs after warm-up; /s is per second at the "
             "median.", ""]
    return lines


def _targets(run: BenchRun) -> list[str]:
    lines = ["## Targets", "", "| target | measured | needed | result | where the time goes |", "|---|---|---|---|---|"]
    for t in run.targets:
        measured = "not run" if t.measured is None else f"{t.measured:.1f} {t.unit}"
        needed = f"{'>=' if t.higher_is_better else '<='} {t.threshold:g} {t.unit}"
        verdict = {True: "pass", False: "**MISS**", None: "-"}[t.passed]
        lines.append(f"| {t.name} | {measured} | {needed} | {verdict} | {t.dominant} |")
    return lines + [""]


def _analysis_table(stage: StageResult) -> list[str]:
    resolutions = list(dict.fromkeys(m.resolution for m in stage.measurements if m.stage == "analysis"))
    lines = ["| stage | " + " | ".join(f"{r} ms/frame" for r in resolutions) + " |",
             "|---|" + "---|" * len(resolutions)]
    for name in ANALYSIS_STAGES:
        cells = [stage.measurement(name, r) for r in resolutions]
        lines.append(f"| {name} | " + " | ".join(_cell(c) if c else "-" for c in cells) + " |")
    totals = [stage.measurement("total", r) for r in resolutions]
    lines.append("| **frames/s** | " + " | ".join(f"**{_per_s(t)}**" if t else "-" for t in totals) + " |")
    sources = {m.resolution: m.source for m in stage.measurements if m.name == "total"}
    return lines + [""] + [f"- {r}: {s}" for r, s in sources.items()] + [""]


def _measurement_table(measurements: list[Measurement]) -> list[str]:
    lines = ["| what | resolution | pixels | per | median ms (min-max) | /s | n |", "|---|---|---|---|---|---|---|"]
    for m in measurements:
        flag = " (synthetic)" if m.synthetic else ""
        lines.append(f"| {m.name}{flag} | {m.resolution} | {m.pixel_format} | {m.per} | {_cell(m)} | {_per_s(m)} | "
                     f"{m.timing.repeats} |")
    sources = list(dict.fromkeys(m.source for m in measurements if m.source))
    return lines + [""] + [f"- input: {s}" for s in sources] + [""]


def _stage_section(run: BenchRun, name: str) -> list[str]:
    measurements = [m for s in run.stages for m in s.measurements if m.stage == name]
    stage = run.stage(name)
    if stage is None and not measurements:
        return []
    lines = [f"## {_STAGE_TITLES[name]}", ""]
    if stage is not None and stage.error:
        lines += [f"**Stage failed:** `{stage.error.strip().splitlines()[-1]}` (full traceback in the JSON)", ""]
    if name == "analysis" and stage is not None and stage.measurements:
        lines += _analysis_table(stage)
    elif measurements:
        lines += _measurement_table(measurements)
    if stage is not None:
        if stage.figures:
            lines += ["| figure | resolution | value | how |", "|---|---|---|---|"]
            lines += [f"| {f.name} | {f.resolution} | {f.value:.4g} {f.unit} | {f.note} |" for f in stage.figures]
            lines.append("")
        lines += [f"- {note}" for note in stage.notes]
        lines += [f"- stage wall time {stage.wall_s:.0f} s, load average at its start "
                  f"{', '.join(f'{v:.2f}' for v in stage.load_average)}", ""]
    return lines


def _memory(run: BenchRun) -> list[str]:
    rows = [(s.name, m) for s in run.stages for m in s.memory]
    if not rows:
        return []
    lines = ["## Peak memory", "", "| process | stage | peak MiB | during |", "|---|---|---|---|"]
    lines += [f"| {m.process} | {stage} | {m.peak_mib:.0f} | {m.during} |" for stage, m in rows]
    return lines + [""]


def markdown(run: BenchRun) -> str:
    """The human summary: targets first, then one section per stage, then memory."""
    lines = _header(run) + _targets(run)
    for name in _ORDER:
        lines += _stage_section(run, name)
    lines += _memory(run)
    return "\n".join(lines).rstrip() + "\n"

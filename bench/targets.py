"""The issue's acceptance targets, checked against a run, with what dominates each figure.

    1. 1080p RGBA8 through the plugin (ctypes host) after Analyze, warp renderer: >= 25 frames/s
    2. transfer overhead <= 30% of the end-to-end time per frame (the same renders)
    3. analysis >= 60 frames/s at 720p

Every check names the largest share of its time (always, not only when missed), so a reader sees
where the next millisecond would come from.
"""

from __future__ import annotations

from bench.analysis import ANALYSIS_STAGES
from bench.results import BenchRun, StageResult, TargetCheck

__all__ = ["check_targets", "PLUGIN_WARP", "PLUGIN_RESOLUTION", "ANALYSIS_RESOLUTION"]

PLUGIN_RESOLUTION = "1920x1080"
ANALYSIS_RESOLUTION = "1280x720"
PLUGIN_WARP = "warp, analysed (face region sent)"


def _largest(parts: dict[str, float]) -> str:
    total = sum(v for v in parts.values() if v > 0)
    ordered = sorted(parts.items(), key=lambda kv: -kv[1])
    shown = ", ".join(f"{name} {ms:.1f} ms ({100 * ms / total:.0f}%)" for name, ms in ordered if ms > 0)
    return f"largest: {ordered[0][0]}; per frame: {shown}" if total > 0 else ""


def _plugin_parts(plugin: StageResult) -> dict[str, float]:
    """Where one 1080p RGBA8 warp render's time goes, from the host's and the plugin's figures."""
    res = PLUGIN_RESOLUTION
    e2e = plugin.measurement(f"ctypes host e2e, {PLUGIN_WARP}", res, "rgba8")
    rtt = plugin.measurement(f"round trip, {PLUGIN_WARP}, rgba8", res, "rgba8")
    compute = plugin.measurement(f"server compute, {PLUGIN_WARP}, rgba8", res, "rgba8")
    floor = plugin.measurement("ctypes host e2e, intensity 0 (no server call)", res, "rgba8")
    if None in (e2e, rtt, compute, floor):
        return {}
    server = compute.timing.median_ms
    transport = rtt.timing.median_ms - server
    host = floor.timing.median_ms
    return {"server render": server, "transport (gRPC, copies)": transport, "host image setup + source copy": host,
            "plugin pack/paste + rest": max(e2e.timing.median_ms - rtt.timing.median_ms - host, 0.0)}


def _plugin_checks(plugin: StageResult | None) -> list[TargetCheck]:
    fps = share = None
    parts: dict[str, float] = {}
    if plugin is not None:
        e2e = plugin.measurement(f"ctypes host e2e, {PLUGIN_WARP}", PLUGIN_RESOLUTION, "rgba8")
        fps = e2e.timing.fps if e2e else None
        figure = plugin.figure(f"transport share of end to end, {PLUGIN_WARP}, rgba8", PLUGIN_RESOLUTION)
        share = figure.value if figure else None
        parts = _plugin_parts(plugin)
    dominant = _largest(parts) if parts else ""
    return [TargetCheck("1080p RGBA8 through the plugin (ctypes host) after Analyze, warp renderer", fps, 25.0,
                        "frames/s", True, dominant),
            TargetCheck("transfer overhead per frame, 1080p RGBA8 warp through the plugin", share, 30.0,
                        "% of end to end", False, dominant)]


def _analysis_check(analysis: StageResult | None) -> TargetCheck:
    fps, dominant = None, ""
    if analysis is not None:
        total = analysis.measurement("total", ANALYSIS_RESOLUTION)
        fps = total.timing.fps if total else None
        parts = {}
        for name in ANALYSIS_STAGES[1:]:
            m = analysis.measurement(name, ANALYSIS_RESOLUTION)
            if m is not None:
                parts[name] = m.timing.median_ms
        dominant = _largest(parts) if parts else ""
    return TargetCheck("analysis at 720p (detection + landmarks + 3D fit + smoothing)", fps, 60.0, "frames/s",
                       True, dominant)


def check_targets(run: BenchRun) -> list[TargetCheck]:
    """The three targets against what `run` measured (measured=None where a stage did not run)."""
    def ok(name: str) -> StageResult | None:
        stage = run.stage(name)
        return stage if stage is not None and stage.error is None else None

    return [*_plugin_checks(ok("plugin")), _analysis_check(ok("analysis"))]

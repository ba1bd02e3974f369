"""The benchmark's own logic on small inputs: statistics, trace parsing, targets, timers, helpers."""

from __future__ import annotations

import math
import sys
import types
from pathlib import Path

import numpy as np
import pytest

from bench.clock import StageClock, swapped
from bench.memory import run_child
from bench.plugin_host import parse_trace
from bench.report import markdown, result_stem
from bench.results import BenchRun, Figure, MachineInfo, Measurement, StageResult, TargetCheck, Timing
from bench.shared_buffer import SharedSegment
from bench.targets import PLUGIN_RESOLUTION, PLUGIN_WARP, check_targets


# ----------------------------------------------------------------------------------- Timing
def test_timing_is_median_min_max_of_the_samples():
    t = Timing.of([4.0, 1.0, 10.0, 2.0, 3.0])
    assert (t.median_ms, t.min_ms, t.max_ms, t.repeats) == (3.0, 1.0, 10.0, 5)
    assert t.fps == pytest.approx(1000 / 3)
    d = t.as_dict()
    assert d["per_s_best"] == pytest.approx(1000.0) and d["per_s_worst"] == pytest.approx(100.0)


@pytest.mark.parametrize("samples", [[], [1.0, -2.0], [1.0, math.nan]])
def test_timing_rejects_empty_or_impossible_samples(samples):
    with pytest.raises(ValueError):
        Timing.of(samples)


# ----------------------------------------------------------------------------------- trace
TRACE = """\
[bench] phase warp
[EmotionDirector] t=0 frame=1920x1080 sent=701x784+615+199 face=1 rtt_ms=20.82 server_ms=13.85 render_ms=12.50 shm=1
some other log line
[EmotionDirector] t=1 frame=1920x1080 sent=700x780+615+198 face=1 rtt_ms=18.72 server_ms=15.21
[bench] phase online
[EmotionDirector] t=2 frame=1920x1080 sent=1920x1080+0+0 face=1 rtt_ms=60.00 server_ms=50.00 render_ms=-1.00 shm=0
"""


def test_trace_lines_are_attributed_to_phases_and_tolerate_older_plugins():
    first, second, third = parse_trace(TRACE)
    assert (first.phase, first.rtt_ms, first.server_ms, first.render_ms, first.sent, first.shared) == (
        "warp", 20.82, 13.85, 12.5, (701, 784), True)
    assert second.render_ms is None and not second.shared, "a line without render_ms / shm (older plugin)"
    assert third.phase == "online" and third.render_ms is None, "render_ms -1: the server had no render stage"


# ----------------------------------------------------------------------------------- targets
def _machine() -> MachineInfo:
    return MachineInfo("box-2cpu", "box", "cpu", 2, 8.0, "none", (1.0, 1.0, 1.0), "3.11", {}, {}, "abc",
                       "2026-01-02T03:04:05+00:00")


def _plugin_stage(e2e_ms: float, rtt_ms: float, compute_ms: float, share: float) -> StageResult:
    stage = StageResult("plugin")
    for name, ms in ((f"ctypes host e2e, {PLUGIN_WARP}", e2e_ms), (f"round trip, {PLUGIN_WARP}, rgba8", rtt_ms),
                     (f"server compute, {PLUGIN_WARP}, rgba8", compute_ms),
                     ("ctypes host e2e, intensity 0 (no server call)", 3.0)):
        stage.measurements.append(Measurement("plugin", name, PLUGIN_RESOLUTION, "frame", Timing.of([ms]),
                                              pixel_format="rgba8"))
    stage.figures.append(Figure("plugin", f"transport share of end to end, {PLUGIN_WARP}, rgba8", share, "%",
                                PLUGIN_RESOLUTION))
    return stage


def test_targets_pass_miss_and_name_the_dominant_part():
    run = BenchRun(_machine(), quick=False, media_dir="/m", media_missing=False)
    run.stages.append(_plugin_stage(e2e_ms=50.0, rtt_ms=45.0, compute_ms=10.0, share=70.0))
    fps, share, analysis = check_targets(run)
    assert fps.measured == pytest.approx(20.0) and fps.passed is False
    assert share.measured == 70.0 and share.passed is False
    assert fps.dominant.startswith("largest: transport"), fps.dominant
    assert analysis.measured is None and analysis.passed is None, "a stage that did not run is not judged"

    run.stages[0] = _plugin_stage(e2e_ms=20.0, rtt_ms=15.0, compute_ms=12.0, share=15.0)
    fps, share, _ = check_targets(run)
    assert fps.passed and share.passed and fps.dominant.startswith("largest: server render")


def test_failed_stage_is_not_judged_and_is_reported():
    run = BenchRun(_machine(), quick=True, media_dir="/m", media_missing=True)
    failed = _plugin_stage(20.0, 15.0, 12.0, 15.0)
    failed.error = "Traceback ...\nRuntimeError: server died"
    run.stages.append(failed)
    run.targets = check_targets(run)
    assert all(t.measured is None for t in run.targets)
    text = markdown(run)
    assert "RuntimeError: server died" in text and "MISSING" in text
    assert result_stem(run) == "box-2cpu-2026-01-02-quick"


def test_target_direction():
    assert TargetCheck("rate", 30.0, 25.0, "frames/s", True).passed
    assert not TargetCheck("share", 31.0, 30.0, "%", False).passed


# ----------------------------------------------------------------------------------- timers
def test_stage_clock_times_methods_and_module_functions_then_restores_them():
    module = types.ModuleType("fake")
    module.work = lambda n: sum(range(n))
    original = module.work

    class Model:
        def run(self, n: int) -> int:
            return n * 2

    clock = StageClock()
    model = Model()
    clock.time_method("model", model, "run")
    with clock.timing_functions(module, {"work": "work", "absent": "gone"}) as missing:
        assert module.work(1000) == sum(range(1000)) and module.work is not original
        assert model.run(3) == 6
    assert missing == ["absent"]
    assert module.work is original, "the module function must be restored after the block"
    assert clock.calls["work"] == 1 and clock.calls["model"] == 1 and clock.seconds["work"] > 0


def test_swapped_restores_even_when_the_block_raises():
    holder = types.SimpleNamespace(value=1)
    with pytest.raises(RuntimeError), swapped(holder, {"value": 2}):
        assert holder.value == 2
        raise RuntimeError("boom")
    assert holder.value == 1


# ----------------------------------------------------------------------------------- helpers
def test_shared_segment_is_private_writable_and_unlinked():
    with SharedSegment(4096) as segment:
        path = Path("/dev/shm") / segment.name.lstrip("/")
        assert segment.name.startswith("/ned-") and path.exists()
        assert path.stat().st_mode & 0o077 == 0
        view = segment.array((32, 32, 4), np.uint8)
        view[:] = 7
        assert segment.buffer(100).size == 100 and segment.buffer().size == 4096
        del view
    assert not path.exists()


def test_run_child_reports_output_exit_code_and_its_own_peak_memory():
    code = ("import sys, time; b = bytearray(200 * 2**20); b[::4096] = b'x' * len(b[::4096]); time.sleep(0.3); "
            "print('ok'); sys.exit(3)")
    child = run_child([sys.executable, "-c", code], timeout_s=60)
    assert child.returncode == 3 and child.stdout.strip() == "ok" and not child.timed_out
    assert 190 <= child.peak_rss_mib < 400, f"a child that touched 200 MiB reported {child.peak_rss_mib:.0f} MiB"


def test_run_child_kills_a_child_that_runs_too_long():
    child = run_child([sys.executable, "-c", "import time; time.sleep(30)"], timeout_s=0.5)
    assert child.timed_out and child.returncode != 0 and child.wall_s < 20

"""The benchmark end to end in --quick mode: real ned-server, real plugin, real melt; no timing asserts.

Checks that `python -m bench` runs its stages, writes the JSON and Markdown it promises, and that
every figure is a real, positive measurement of the thing it names (the plugin's renders went
through shared memory, the inline rerun did not, the servers' memory was read, ...).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.slow]

REPO_ROOT = Path(__file__).resolve().parents[2]
BENCH_TIMEOUT_S = 300
TRANSFER_VARIANTS = ("whole frame, inline", "whole frame, shared memory", "whole frame, memcpy floor",
                     "face region, inline", "face region, shared memory", "face region, memcpy floor")


def run_bench(out: Path, *args: str, env: dict[str, str] | None = None) -> tuple[dict, str]:
    """Run `python -m bench --quick` into `out`; the JSON result and the Markdown text."""
    argv = [sys.executable, "-m", "bench", "--quick", "--out", str(out), *args]
    done = subprocess.run(argv, cwd=REPO_ROOT, capture_output=True, text=True, timeout=BENCH_TIMEOUT_S,
                          env=dict(os.environ, PYTHONPATH=str(REPO_ROOT), **(env or {})))
    assert done.returncode == 0, f"bench failed ({done.returncode}):\n{done.stdout}\n{done.stderr[-5000:]}"
    (json_path,) = out.glob("*-quick.json")
    md_path = json_path.with_suffix(".md")
    assert md_path.is_file(), f"no Markdown summary next to {json_path}"
    assert str(json_path) in done.stdout, "the bench must say where it wrote its results"
    return json.loads(json_path.read_text()), md_path.read_text()


def assert_sound_timings(result: dict) -> None:
    for stage in result["stages"]:
        assert stage["error"] is None, f"stage {stage['name']} failed:\n{stage['error']}"
        assert stage["measurements"], f"stage {stage['name']} measured nothing"
        for m in stage["measurements"]:
            t = m["timing"]
            assert 0 < t["min_ms"] <= t["median_ms"] <= t["max_ms"], f"{stage['name']} / {m['name']}: {t}"
            assert t["repeats"] >= 1 and t["per_s_median"] > 0, m


def by_name(stage: dict, kind: str = "measurements") -> dict[tuple[str, str], dict]:
    return {(m["name"], m.get("pixel_format", "")): m for m in stage[kind]}


def test_quick_bench_through_server_plugin_and_melt(tmp_path, media_dir, plugin_bundle, melt_host):
    result, md = run_bench(tmp_path, "--only", "transfer", "plugin", "melt", "--media", str(media_dir),
                           env={"NED_PLUGIN_BUNDLE": str(plugin_bundle), "NED_MLT_DIR": str(melt_host.parent)})
    assert [s["name"] for s in result["stages"]] == ["transfer", "plugin", "melt"]
    assert result["quick"] is True and result["media_missing"] is False
    assert len(result["machine"]["load_average_start"]) == 3 and result["machine"]["cpu_count"] > 0
    assert_sound_timings(result)
    transfer, plugin, melt = result["stages"]

    names = by_name(transfer)
    for fmt in ("rgba8", "rgba32f"):
        for variant in TRANSFER_VARIANTS:
            assert (variant, fmt) in names, f"transfer lacks {variant} {fmt}"
    shares = [f["value"] for f in transfer["figures"] if f["name"].startswith("transport share")]
    assert len(shares) == 8 and all(0 < v < 100 for v in shares), shares

    names = by_name(plugin)
    for name in ("ctypes host e2e, warp, analysed (face region sent)", "ctypes host e2e, intensity 0 (no server call)",
                 "ctypes host e2e, warp, analysed (face region sent) [inline bytes]"):
        assert (name, "rgba8") in names, f"plugin lacks {name}"
    shared_note, inline_note = [n for n in plugin["notes"] if "renders sent" in n]
    used, total = (int(v) for v in shared_note.split(": ")[1].split(" renders")[0].split(" of "))
    assert used == total > 0, f"the plugin must send through shared memory to a local server: {shared_note}"
    assert inline_note.split(": ")[1].startswith("0 of "), f"NED_SHARED_MEMORY=0 must send inline: {inline_note}"

    assert {m[0] for m in by_name(melt)} == {"no filter (decode + write)", "filter, online analysis",
                                              "filter, pre-analysed shot"}
    processes = {m["process"] for s in result["stages"] for m in s["memory"] if m["peak_mib"] > 0}
    assert {"ned-server", "plugin host (ctypes host + plugin)", "melt"} <= processes, processes

    targets = {t["name"]: t for t in result["targets"]}
    assert len(targets) == 3
    measured = [t for t in targets.values() if t["measured"] is not None]
    assert len(measured) == 2 and all(t["passed"] in (True, False) and t["dominant"] for t in measured), measured
    for heading in ("## Targets", "## Transfer", "## End to end through the plugin", "## End to end in MLT melt",
                    "## Peak memory"):
        assert heading in md, f"the summary lacks {heading!r}"


def test_quick_bench_without_media_runs_on_synthetic_frames(tmp_path):
    empty = tmp_path / "no-media"
    empty.mkdir()
    result, md = run_bench(tmp_path / "out", "--only", "analysis", "render", "--media", str(empty))
    assert result["media_missing"] is True and "MISSING" in md
    assert_sound_timings(result)
    measurements = [m for s in result["stages"] for m in s["measurements"]]
    assert measurements and all(m["synthetic"] for m in measurements), "figures from synthetic frames must say so"
    analysis = by_name(result["stages"][0])
    assert ("total", "rgb8") in analysis and ("landmarks", "rgb8") in analysis
    assert "SYNTHETIC" in analysis[("total", "rgb8")]["source"]

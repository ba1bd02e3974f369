"""Emotion Director benchmarks: `python -m bench` (or `python3 build.py bench`).

    python -m bench                       # everything, writes bench/results/<machine>-<date>.{json,md}
    python -m bench --quick               # CI-sized: 1080p only, few repeats (file name ends in -quick)
    python -m bench --only transfer plugin --out /tmp/bench

Stages: analysis, render, transfer, plugin, melt, reference. Servers it starts are private (a
free loopback port, a temporary cache) and always stopped. A stage that fails is reported (its
traceback in the JSON) and the others still run; the exit status is then 1.
"""

from __future__ import annotations

import os

# The analysis and render stages run in this process: give them the BLAS thread setting ned-server
# runs them with (server/ned_server/__main__.py), or they would measure a different program. Must
# precede numpy's import; an explicit setting in the environment wins (and is in the results).
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse  # noqa: E402
import logging  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import traceback  # noqa: E402
from collections.abc import Iterator  # noqa: E402
from contextlib import contextmanager  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from pathlib import Path  # noqa: E402

from ned_server.client import LocalServer  # noqa: E402

from bench.analysis import run_analysis  # noqa: E402
from bench.inputs import RESOLUTIONS, Clip, default_media_dir, load_clip, media_available  # noqa: E402
from bench.machine import describe_machine  # noqa: E402
from bench.melt import run_melt  # noqa: E402
from bench.memory import load_average, peak_rss_mib  # noqa: E402
from bench.plugin_host import run_plugin_host  # noqa: E402
from bench.reference import run_reference  # noqa: E402
from bench.render import run_render  # noqa: E402
from bench.report import write_results  # noqa: E402
from bench.results import BenchRun, PeakMemory, StageResult  # noqa: E402
from bench.targets import check_targets  # noqa: E402
from bench.transfer import run_transfer  # noqa: E402
from ned_models.analysis.results import ShotAnalysis  # noqa: E402
from ned_models.analysis.shot import analyse_shot  # noqa: E402

logger = logging.getLogger("bench")

REPO_ROOT = Path(__file__).resolve().parents[1]
CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "emotion-director"
STAGES = ("analysis", "render", "transfer", "plugin", "melt", "reference")


@dataclass(frozen=True)
class BenchConfig:
    """Sizes of a run (repeats are chosen so a full run stays well under 10 minutes on 2 cores)."""

    resolutions: tuple[str, ...]
    analysis_repeats: int
    render_passes: int
    render_max_frames: int
    transfer_repeats: dict[str, int]
    plugin_frames: int
    plugin_passes: int
    plugin_online: int
    melt_frames: int
    melt_repeats: int
    reference_size: int
    reference_repeats: int
    reference_warmup: int
    threads: int = 2


FULL = BenchConfig(resolutions=RESOLUTIONS, analysis_repeats=3, render_passes=3, render_max_frames=40,
                   transfer_repeats={"720p": 15, "1080p": 15, "2160p": 6}, plugin_frames=50, plugin_passes=3,
                   plugin_online=12, melt_frames=60, melt_repeats=3, reference_size=256, reference_repeats=5,
                   reference_warmup=1)
QUICK = BenchConfig(resolutions=("1080p",), analysis_repeats=1, render_passes=1, render_max_frames=10,
                    transfer_repeats={"1080p": 3}, plugin_frames=8, plugin_passes=1, plugin_online=3, melt_frames=8,
                    melt_repeats=1, reference_size=64, reference_repeats=2, reference_warmup=1)


class _Bench:
    """Runs stages, sharing decoded clips and analyses between them."""

    def __init__(self, config: BenchConfig, media: Path, quick: bool, out_dir: Path) -> None:
        self.config, self.media, self.quick = config, media, quick
        self.bundle = Path(os.environ.get("NED_PLUGIN_BUNDLE", REPO_ROOT / "build/ofx/EmotionDirector.ofx.bundle"))
        self.melt = Path(os.environ.get("NED_MLT_DIR", CACHE / "mlt-host")) / "melt"
        self.logs = out_dir / "tmp"
        self._clips: dict[str, Clip] = {}
        self._analyses: dict[str, ShotAnalysis] = {}

    def clips(self) -> dict[str, Clip]:
        for label in self.config.resolutions:
            if label not in self._clips:
                self._clips[label] = load_clip(label, self.media, quick=self.quick)
        return dict(self._clips)

    def analyses(self) -> dict[str, ShotAnalysis]:
        """Each clip's analysis: from the analysis stage, or made now (untimed) when it did not run."""
        for label, clip in self.clips().items():
            if label not in self._analyses:
                self._analyses[label] = analyse_shot(clip.timed())
        return dict(self._analyses)

    @contextmanager
    def server(self, result: StageResult, during: str) -> Iterator[LocalServer]:
        self.logs.mkdir(parents=True, exist_ok=True)
        with LocalServer(log_path=self.logs / f"ned-server-{result.name}.log") as server:
            try:
                yield server
            finally:
                result.memory.append(PeakMemory("ned-server", peak_rss_mib(server.process.pid), during))

    def run_stage(self, name: str) -> StageResult:
        result = StageResult(name, load_average=load_average())
        logger.info("stage %s", name)
        start = time.perf_counter()
        try:
            getattr(self, f"_{name}")(result)
        except Exception:  # noqa: BLE001 - reported in the results; the other stages still run
            result.error = traceback.format_exc()
            logger.error("stage %s failed:\n%s", name, result.error)
        result.wall_s = time.perf_counter() - start
        return result

    # ------------------------------------------------------------------------------------ stages
    def _analysis(self, result: StageResult) -> None:
        self._analyses.update(run_analysis(self.clips(), self.config.analysis_repeats, result))

    def _render(self, result: StageResult) -> None:
        run_render(self.clips(), self.analyses(), self.config.render_passes, self.config.render_max_frames, result)

    def _transfer(self, result: StageResult) -> None:
        clips = self.clips()
        with self.server(result, f"transfer round trips at {', '.join(c.resolution for c in clips.values())}") as s:
            run_transfer(s.address, clips, self.config.transfer_repeats, result)
        self._clips.clear()  # the stages after this one decode what they need themselves
        self._analyses.clear()

    def _plugin(self, result: StageResult) -> None:
        c = self.config
        with self.server(result, f"1080p Analyze of {c.plugin_frames} frames and renders through the plugin") as s:
            for inline in (False, True):
                run_plugin_host(self.bundle, s.address, self.media, c.plugin_frames, c.plugin_passes,
                                c.plugin_online, result, inline=inline)

    def _melt(self, result: StageResult) -> None:
        if not self.melt.is_file():
            raise FileNotFoundError(f"MLT host missing: {self.melt}; run `python3 build.py build`")
        clip = load_clip("1080p", self.media, self.config.melt_frames)
        path = None if clip.synthetic else self.media / clip.spec.path
        with self.server(result, f"melt runs on {clip.resolution}, online and pre-analysed") as s:
            run_melt(self.melt, self.bundle, s.address, clip, path, self.config.melt_repeats, result)

    def _reference(self, result: StageResult) -> None:
        c = self.config
        run_reference(c.reference_repeats, c.reference_warmup, c.threads, result, c.reference_size)


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="CI-sized run (1080p only, few repeats)")
    parser.add_argument("--only", nargs="+", choices=STAGES, metavar="STAGE", help=f"run only these: {STAGES}")
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "bench" / "results", help="where results go")
    parser.add_argument("--media", type=Path, default=default_media_dir(), help="the test media folder")
    parser.add_argument("--machine", help="name in the result file (default <hostname>-<N>cpu)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = _parse(argv)
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s: %(message)s", datefmt="%H:%M:%S")
    logger.setLevel(logging.INFO)  # progress of the bench itself; libraries only warn
    missing = not media_available(args.media)
    if missing:
        logger.warning("TEST MEDIA MISSING at %s: figures below come from SYNTHETIC frames and are marked so",
                       args.media)
    run = BenchRun(describe_machine(args.machine), args.quick, str(args.media), missing)
    bench = _Bench(QUICK if args.quick else FULL, args.media, args.quick, args.out)
    start = time.perf_counter()
    for name in STAGES:
        if args.only is None or name in args.only:
            run.stages.append(bench.run_stage(name))
    run.wall_s = time.perf_counter() - start
    run.load_average_end = load_average()
    run.targets = check_targets(run)
    json_path, md_path = write_results(run, args.out)
    for target in run.targets:
        verdict = {True: "pass", False: "MISS", None: "not run"}[target.passed]
        measured = "-" if target.measured is None else f"{target.measured:.1f}"
        sys.stdout.write(f"{verdict:7s} {target.name}: {measured} {target.unit} (needs {target.threshold:g})\n")
    failed = [s.name for s in run.stages if s.error]
    sys.stdout.write(f"results: {json_path}\n         {md_path}\nwall time {run.wall_s:.0f} s"
                     + (f"; FAILED stages: {', '.join(failed)}" if failed else "") + "\n")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

"""Peak memory of the processes a benchmark runs (VmHWM from /proc), GPU memory, load average.

Child processes are run with `run_child`, which samples their own peak resident set while they
run and never leaves one running.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

__all__ = ["ChildRun", "peak_rss_mib", "rss_mib", "run_child", "gpu_memory_used_mib", "load_average"]


def peak_rss_mib(pid: int | str = "self") -> float:
    """Peak resident set size (VmHWM) of a live process, in MiB."""
    return _status_mib(pid, "VmHWM")


def rss_mib(pid: int | str = "self") -> float:
    """Resident set size now (VmRSS) of a live process, in MiB."""
    return _status_mib(pid, "VmRSS")


def _status_mib(pid: int | str, key: str) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1]) / 1024.0
    raise RuntimeError(f"/proc/{pid}/status has no {key} line")


def load_average() -> tuple[float, float, float]:
    """1, 5 and 15 minute load averages (the machine is shared; timings depend on them)."""
    one, five, fifteen = os.getloadavg()
    return round(one, 2), round(five, 2), round(fifteen, 2)


@dataclass(frozen=True)
class ChildRun:
    """Attributes:
        returncode: exit status (negative: killed by that signal).
        stdout, stderr: everything the child wrote.
        peak_rss_mib: the child's own peak resident set (VmHWM, sampled while it ran).
        wall_s: seconds from start to exit.
        timed_out: True when it was killed for running past its time.
    """

    returncode: int
    stdout: str
    stderr: str
    peak_rss_mib: float
    wall_s: float
    timed_out: bool


def run_child(argv: Sequence[str], env: Mapping[str, str] | None = None, timeout_s: float = 600.0,
              cwd: Path | None = None, sample_every_s: float = 0.05) -> ChildRun:
    """Run `argv` to completion, collecting its output and its peak RSS; kill it past `timeout_s`.

    The peak is VmHWM read from /proc every `sample_every_s` (it only grows, so the last read before
    the exit is the peak, short of growth in the last interval). Not ru_maxrss: Linux carries the
    parent's high-water mark into a forked child across exec, so a child of a big benchmark process
    would report the parent's size.
    """
    start = time.perf_counter()
    process = subprocess.Popen(list(argv), stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=dict(env or os.environ),
                               cwd=cwd, text=True, errors="replace")
    peak = [0.0]
    done = threading.Event()

    def watch() -> None:
        while not done.wait(sample_every_s):
            try:
                peak[0] = max(peak[0], peak_rss_mib(process.pid))
            except (OSError, RuntimeError):
                pass  # exiting: a zombie has no memory lines

    watcher = threading.Thread(target=watch, daemon=True, name=f"rss {process.pid}")
    watcher.start()
    timed_out = False
    try:
        stdout, stderr = process.communicate(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        timed_out = True
        process.kill()
        stdout, stderr = process.communicate()
    finally:
        done.set()
        watcher.join()
    return ChildRun(process.returncode, stdout, stderr, peak[0], time.perf_counter() - start, timed_out)


def gpu_memory_used_mib() -> dict[str, float] | None:
    """{GPU name: MiB in use} from nvidia-smi, or None on a machine without an NVIDIA GPU."""
    smi = shutil.which("nvidia-smi")
    if smi is None:
        return None
    try:
        out = subprocess.run([smi, "--query-gpu=index,name,memory.used", "--format=csv,noheader,nounits"],
                             capture_output=True, text=True, timeout=30, check=True).stdout
    except (subprocess.SubprocessError, OSError):
        return None
    used = {}
    for line in out.strip().splitlines():
        index, name, mib = (part.strip() for part in line.split(","))
        used[f"{index}: {name}"] = float(mib)
    return used or None

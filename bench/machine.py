"""What machine a run is on: CPU, memory, GPU, library versions, the commit, how busy it is."""

from __future__ import annotations

import os
import platform
import re
import shutil
import socket
import subprocess
from datetime import datetime
from importlib import metadata
from pathlib import Path

from bench.memory import load_average
from bench.results import MachineInfo

__all__ = ["describe_machine", "default_machine_name"]

REPO_ROOT = Path(__file__).resolve().parents[1]
_PACKAGES = ("numpy", "opencv-python-headless", "onnxruntime", "torch", "grpcio", "ai-edge-litert", "av")
_THREAD_SETTINGS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "NED_TFLITE_THREADS")


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _memory_gib() -> float:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            return int(line.split()[1]) / 2**20
    return 0.0


def _gpu() -> str:
    smi = shutil.which("nvidia-smi")
    if smi is None:
        return "none"
    try:
        out = subprocess.run([smi, "-L"], capture_output=True, text=True, timeout=30, check=True).stdout.strip()
    except (subprocess.SubprocessError, OSError):
        return "nvidia-smi failed"
    return "; ".join(out.splitlines()) or "none"


def _git_commit() -> str:
    try:
        head = subprocess.run(["git", "rev-parse", "--short=12", "HEAD"], cwd=REPO_ROOT, capture_output=True,
                              text=True, timeout=30, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=REPO_ROOT,
                               capture_output=True, text=True, timeout=30, check=True).stdout.strip()
    except (subprocess.SubprocessError, OSError):
        return "unknown"
    return head + (" (with uncommitted changes)" if dirty else "")


def _versions() -> dict[str, str]:
    found = {}
    for name in _PACKAGES:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return found


def default_machine_name() -> str:
    """`<hostname>-<N>cpu` plus `-gpu` where a GPU is present: names the kind of box, file-name safe."""
    host = re.sub(r"[^A-Za-z0-9_.-]+", "-", socket.gethostname()) or "machine"
    return f"{host}-{os.cpu_count()}cpu" + ("-gpu" if _gpu() not in ("none", "nvidia-smi failed") else "")


def describe_machine(name: str | None = None) -> MachineInfo:
    """This machine, now (its load average is read at this moment)."""
    return MachineInfo(machine=name or default_machine_name(), hostname=socket.gethostname(), cpu_model=_cpu_model(),
                       cpu_count=os.cpu_count() or 0, memory_gib=round(_memory_gib(), 1), gpu=_gpu(),
                       load_average_start=load_average(), python=platform.python_version(), versions=_versions(),
                       threads={key: os.environ.get(key, "") for key in _THREAD_SETTINGS},
                       git_commit=_git_commit(), started_at=datetime.now().astimezone().isoformat(timespec="seconds"))

#!/usr/bin/env python3
"""One entry point for Emotion Director: set up, build, test, demo, bench.

    python3 build.py setup     # Debian build packages (as root), .venv, the Python package
    python3 build.py build     # setup + gRPC stubs, the OFX plugin bundle, model assets, MLT host
    python3 build.py test      # build + pytest (extra arguments go to pytest)
    python3 build.py demo      # build + the demo job (CLI and melt), prints where the outputs are
    python3 build.py bench     # build + benchmarks -> bench/results/
    python3 build.py lint      # ruff

Every step is idempotent, prints what it does, and stops at the first failure. Runs on the system
Python (standard library only); everything else happens inside .venv.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
VPY = VENV / "bin" / "python"
BUILD = ROOT / "build"
GEN_DIR = ROOT / "server" / "ned_server" / "_gen"
BUNDLE = BUILD / "ofx" / "EmotionDirector.ofx.bundle"
PLUGIN_BINARY = BUNDLE / "Contents" / "Linux-x86-64" / "EmotionDirector.ofx"
CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "emotion-director"
ASSET_DIR = Path(os.environ.get("NED_ASSET_DIR", CACHE / "assets"))
MLT_DIR = Path(os.environ.get("NED_MLT_DIR", CACHE / "mlt-host"))

APT_PACKAGES = ["g++", "cmake", "pkg-config", "libgrpc++-dev", "libprotobuf-dev", "protobuf-compiler",
                "protobuf-compiler-grpc"]
TORCH_CPU = "torch==2.13.0"  # a local CPU wheel on our machines; a plain "torch" pulls CUDA

MEDIAPIPE_WHEEL = "mediapipe==0.10.14"  # the Apache-2.0 face models ship inside it (not installed)


def model_assets():
    """The model registry of ned_models (names, wheel paths, sha256): one source of truth.

    Loaded by file path with the standard library only, so it works before .venv exists.
    """
    sys.path.insert(0, str(ROOT))
    try:
        from ned_models.assets import MODEL_ASSETS
    finally:
        sys.path.pop(0)
    return MODEL_ASSETS


def log(msg: str) -> None:
    print(f"[build] {msg}", flush=True)


def run(argv: list[str | os.PathLike], **kw) -> None:
    """Run a command, echoing it; raise on failure."""
    log("$ " + " ".join(str(a) for a in argv))
    subprocess.run([str(a) for a in argv], check=True, **kw)


def is_root() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0


def has_gpu() -> bool:
    return shutil.which("nvidia-smi") is not None and subprocess.run(
        ["nvidia-smi", "-L"], capture_output=True).returncode == 0


# ----------------------------------------------------------------------------------------- setup
def apt_missing(packages: list[str]) -> list[str]:
    missing = []
    for p in packages:
        r = subprocess.run(["dpkg-query", "-W", "-f=${Status}", p], capture_output=True, text=True)
        if "install ok installed" not in r.stdout:
            missing.append(p)
    return missing


def setup_system() -> None:
    missing = apt_missing(APT_PACKAGES)
    if not missing:
        log("system packages: present")
        return
    if not is_root():
        sys.exit(f"[build] missing Debian packages {missing}; run as root or install them: "
                 f"apt-get install {' '.join(missing)}")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    try:
        run(["apt-get", "install", "-y", "-q", "--no-install-recommends", *missing], env=env)
    except subprocess.CalledProcessError:
        run(["apt-get", "update", "-q"], env=env)
        run(["apt-get", "install", "-y", "-q", "--no-install-recommends", *missing], env=env)


def setup_python() -> None:
    if not VPY.exists():
        run([sys.executable, "-m", "venv", VENV])
    stamp = VENV / ".ned-installed"
    want = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if stamp.exists() and stamp.read_text() == want:
        log("python environment: up to date")
        return
    pip = [VPY, "-m", "pip", "install", "-q"]
    gpu = has_gpu()
    if subprocess.run([VPY, "-c", "import torch"], capture_output=True).returncode != 0:
        run(pip + (["torch>=2.3,<3"] if gpu else [TORCH_CPU]))
    run(pip + ["-e", f"{ROOT}[eval,dev]"])
    if gpu:
        # onnxruntime-gpu ships the same `onnxruntime` module (CPU provider included); the two
        # wheels overwrite each other's files, so only the GPU one may stay.
        run([VPY, "-m", "pip", "uninstall", "-y", "-q", "onnxruntime"])
        run(pip + ["--force-reinstall", "--no-deps", "onnxruntime-gpu>=1.18,<2"])
    stamp.write_text(want)


def cmd_setup(_: argparse.Namespace) -> None:
    setup_system()
    setup_python()


# ----------------------------------------------------------------------------------------- build
def newer(outputs: list[Path], inputs: list[Path]) -> bool:
    """True when every output exists and is newer than every input."""
    if not all(o.exists() for o in outputs):
        return False
    return min(o.stat().st_mtime for o in outputs) >= max(i.stat().st_mtime for i in inputs)


def build_stubs() -> None:
    protos = sorted((ROOT / "proto").rglob("*.proto"))
    out = [GEN_DIR / "ned" / "v1" / "ned_pb2.py", GEN_DIR / "ned" / "v1" / "ned_pb2_grpc.py"]
    if newer(out, protos + [Path(__file__)]):
        log("python stubs: up to date")
        return
    shutil.rmtree(GEN_DIR, ignore_errors=True)
    GEN_DIR.mkdir(parents=True)
    run([VPY, "-m", "grpc_tools.protoc", "-I", ROOT / "proto", f"--python_out={GEN_DIR}",
         f"--pyi_out={GEN_DIR}", f"--grpc_python_out={GEN_DIR}", *protos])
    # protoc writes absolute imports ("from ned.v1 import ned_pb2"); make them package-relative
    for d in [GEN_DIR, *[p for p in GEN_DIR.rglob("*") if p.is_dir()]]:
        (d / "__init__.py").touch()
    for f in GEN_DIR.rglob("*_grpc.py"):
        f.write_text(f.read_text().replace("from ned.v1 import", "from . import"))


def build_plugin() -> None:
    cmake_build = BUILD / "plugin"
    run(["cmake", "-S", ROOT / "plugin", "-B", cmake_build, "-DCMAKE_BUILD_TYPE=Release",
         f"-DNED_PROTO_DIR={ROOT / 'proto'}", f"-DNED_BUNDLE_DIR={BUNDLE}"])
    run(["cmake", "--build", cmake_build, "-j", str(os.cpu_count() or 2)])
    if not PLUGIN_BINARY.exists():
        sys.exit(f"[build] plugin build did not produce {PLUGIN_BINARY}")
    log(f"plugin bundle: {BUNDLE}")


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def build_assets() -> None:
    """Fetch the face models from the mediapipe wheel (no install), check them, cache them."""
    ASSET_DIR.mkdir(parents=True, exist_ok=True)
    targets = {ASSET_DIR / a.file_name: (a.wheel_member, a.sha256) for a in model_assets()}
    if all(p.exists() and sha256(p) == d for p, (_, d) in targets.items()):
        log(f"model assets: present in {ASSET_DIR}")
        return
    wheel_dir = CACHE / "wheels"
    wheels = sorted(wheel_dir.glob("mediapipe-0.10.14-*.whl"))
    if not wheels:
        run([VPY, "-m", "pip", "download", "-q", "--no-deps", "--only-binary=:all:",
             "--python-version", "3.11", "--platform", "manylinux_2_17_x86_64", MEDIAPIPE_WHEEL,
             "-d", wheel_dir])
        wheels = sorted(wheel_dir.glob("mediapipe-0.10.14-*.whl"))
    with zipfile.ZipFile(wheels[0]) as z:
        for path, (member, digest) in targets.items():
            tmp = path.with_suffix(".part")
            tmp.write_bytes(z.read(member))
            got = sha256(tmp)
            if got != digest:
                tmp.unlink()
                sys.exit(f"[build] {member} from {wheels[0].name}: sha256 {got}, expected {digest}")
            tmp.replace(path)
            log(f"model asset: {path}")


def build_mlt_host() -> None:
    run([VPY, "-m", "tests.hosts.mlt_provision", "--dest", MLT_DIR], cwd=ROOT)


def cmd_build(args: argparse.Namespace) -> None:
    cmd_setup(args)
    build_stubs()
    build_assets()
    build_plugin()
    build_mlt_host()


# ----------------------------------------------------------------------------- test, demo, bench
def project_env() -> dict[str, str]:
    env = dict(os.environ)
    env.update(NED_ASSET_DIR=str(ASSET_DIR), NED_PLUGIN_BUNDLE=str(BUNDLE), NED_MLT_DIR=str(MLT_DIR),
               PYTHONPATH=str(ROOT))
    return env


def cmd_test(args: argparse.Namespace) -> None:
    cmd_build(args)
    run([VPY, "-m", "pytest", *args.rest], cwd=ROOT, env=project_env())


def cmd_demo(args: argparse.Namespace) -> None:
    cmd_build(args)
    run([VPY, "-m", "ned_server.demo", *args.rest], cwd=ROOT, env=project_env())


def cmd_bench(args: argparse.Namespace) -> None:
    cmd_build(args)
    run([VPY, "-m", "bench", *args.rest], cwd=ROOT, env=project_env())


def cmd_lint(args: argparse.Namespace) -> None:
    cmd_setup(args)
    run([VPY, "-m", "ruff", "check", ROOT, *args.rest])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    for name, fn in [("setup", cmd_setup), ("build", cmd_build), ("test", cmd_test), ("demo", cmd_demo),
                     ("bench", cmd_bench), ("lint", cmd_lint)]:
        p = sub.add_parser(name, help=fn.__doc__)
        p.add_argument("rest", nargs=argparse.REMAINDER, help="passed through to the underlying tool")
        p.set_defaults(fn=fn)
    args = parser.parse_args()
    try:
        args.fn(args)
    except subprocess.CalledProcessError as e:
        sys.exit(f"[build] failed ({e.returncode}): {' '.join(map(str, e.cmd))}")


if __name__ == "__main__":
    main()

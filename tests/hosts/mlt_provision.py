"""Provision a private MLT >= 7.38 `melt` (the first release with the `openfx` module) for tests.

Debian 12 ships MLT 7.12 and no OpenFX support, and MLT's sources are not served by the mirror,
so the real OFX host comes from Debian testing (forky, sid as fallback) as binary packages,
unpacked privately and started through their own glibc loader. Nothing is installed and the
system apt configuration is never touched: apt reads a private config and an empty dpkg status
under DEST/apt, so dependency resolution yields every library the host needs.

    python -m tests.hosts.mlt_provision --dest ~/.cache/emotion-director/mlt-host

Result: DEST/melt (a wrapper script), DEST/root (the unpacked packages), DEST/modules (only the
core, openfx and avformat MLT modules), DEST/debs (the downloaded .debs, reused on a re-run).
Needs apt-get and dpkg-deb (any Debian) and the Debian mirror this machine's apt already uses.
"""

from __future__ import annotations

import argparse
import os
import re
import shlex
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

MIN_VERSION = (7, 38)
SUITES = ("forky", "sid")
ARCH_LIB = "usr/lib/x86_64-linux-gnu"
KEYRING = Path("/usr/share/keyrings/debian-archive-keyring.gpg")
MLT_PACKAGES = ("melt", "libmlt7", "libmlt++7", "libmlt-data")
# The runtime libraries of melt-7 and the core/openfx/avformat modules. melt and libmlt7 are
# fetched without their own dependencies (Qt 6, OpenCV, ... for modules we never load); these
# are resolved against an empty dpkg status so their whole closure (glibc included) comes along.
RUNTIME_LIBRARIES = ("libc6", "libgcc-s1", "libstdc++6", "libgomp1", "libglib2.0-0t64", "libsdl2-2.0-0",
                     "libavformat63", "libavcodec63", "libavfilter12", "libavdevice63", "libswscale10",
                     "libswresample7", "libavutil61")
MODULES = ("core", "openfx", "avformat")
SOURCE_FILES = (Path("/etc/apt/sources.list"), Path("/etc/apt/sources.list.d"))
COMMAND_TIMEOUT_S = 1800


class ProvisionError(RuntimeError):
    """The MLT host could not be provisioned; the message says which step and why."""


def step(message: str) -> None:
    print(f"[mlt-host] {message}", flush=True)


def parse_version(text: str) -> tuple[int, int, int] | None:
    """First `X.Y.Z` in `text` (e.g. `melt-7 7.42.0`), or None."""
    match = re.search(r"(\d+)\.(\d+)\.(\d+)", text)
    return tuple(int(g) for g in match.groups()) if match else None  # type: ignore[return-value]


def find_mirror(paths: tuple[Path, ...] = SOURCE_FILES) -> str:
    """The first Debian archive URI (ending in /debian) of the machine's apt sources.

    Reads both the one-line (`deb URI suite ...`) and the deb822 (`URIs: ...`) formats.
    """
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files += sorted(p for p in path.iterdir() if p.suffix in (".list", ".sources"))
        elif path.is_file():
            files.append(path)
    for file in files:
        for line in file.read_text(errors="replace").splitlines():
            if line.lstrip().startswith("#"):
                continue
            for uri in re.findall(r"https?://\S+", line):
                if uri.rstrip("/").endswith("/debian"):
                    return uri.rstrip("/")
    raise ProvisionError(f"no Debian mirror (a URI ending in /debian) in {', '.join(map(str, paths))}; "
                         "pass --mirror")


@dataclass(frozen=True)
class PrivateApt:
    """apt-get/apt-cache pointed at a private config and state under `root` (never the system's)."""

    root: Path

    def options(self) -> list[str]:
        a = self.root
        settings = {
            "Dir::Etc::sourcelist": a / "sources.list", "Dir::Etc::sourceparts": a / "parts",
            "Dir::Etc::preferencesparts": a / "prefs", "Dir::State::Lists": a / "lists",
            "Dir::State::status": a / "status", "Dir::Cache": a / "cache",
            "Acquire::IndexTargets::deb::Contents-deb::DefaultEnabled": "false",
            # downloads land in a root-owned cache dir that the _apt sandbox user cannot write
            "APT::Sandbox::User": "root",
        }
        return [arg for key, value in settings.items() for arg in ("-o", f"{key}={value}")]

    def prepare(self, mirror: str, suite: str) -> None:
        for sub in ("lists/partial", "cache/archives/partial", "parts", "prefs"):
            (self.root / sub).mkdir(parents=True, exist_ok=True)
        (self.root / "sources.list").write_text(f"deb [signed-by={KEYRING}] {mirror} {suite} main\n")
        (self.root / "status").write_text("")  # empty dpkg status: nothing counts as installed

    def run(self, tool: str, *args: str, cwd: Path | None = None) -> str:
        argv = [tool, *self.options(), *args]
        result = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, timeout=COMMAND_TIMEOUT_S)
        if result.returncode != 0:
            raise ProvisionError(f"`{tool} {' '.join(args[:4])} ...` failed ({result.returncode}):\n"
                                 f"{result.stderr.strip()[-2000:]}")
        return result.stdout


def candidate_version(apt: PrivateApt, package: str) -> tuple[int, int, int] | None:
    out = apt.run("apt-cache", "show", "--no-all-versions", package)
    version = re.search(r"^Version: (\S+)", out, re.MULTILINE)
    return parse_version(version.group(1)) if version else None


def resolve_packages(apt: PrivateApt) -> list[str]:
    """MLT's packages plus the full closure of the runtime libraries, as package names."""
    out = apt.run("apt-get", "-s", "install", "--no-install-recommends", *RUNTIME_LIBRARIES)
    closure = [line.split()[1] for line in out.splitlines() if line.startswith("Inst ")]
    if not closure:
        raise ProvisionError("dependency resolution of the runtime libraries returned no packages")
    return [*MLT_PACKAGES, *dict.fromkeys(p for p in closure if p not in MLT_PACKAGES)]


def download(apt: PrivateApt, packages: list[str], debs: Path) -> list[Path]:
    """Fetch the .debs into `debs`, skipping files already there with the right size."""
    debs.mkdir(parents=True, exist_ok=True)
    wanted: dict[str, Path] = {}
    # run outside `debs`: apt-get leaves out the packages whose file is already in its cwd
    for line in apt.run("apt-get", "--print-uris", "download", *packages, cwd=apt.root).splitlines():
        fields = line.split()
        if len(fields) >= 3 and fields[0].startswith("'"):
            wanted[fields[1]] = debs / fields[1]
            size = int(fields[2])
            if wanted[fields[1]].exists() and wanted[fields[1]].stat().st_size != size:
                wanted[fields[1]].unlink()  # a partial file from an interrupted run
    missing = [name.split("_")[0] for name, path in wanted.items() if not path.exists()]
    step(f"{len(wanted)} packages, {len(wanted) - len(missing)} already in {debs}, {len(missing)} to download")
    if missing:
        apt.run("apt-get", "-q", "download", *missing, cwd=debs)
    absent = [str(p) for p in wanted.values() if not p.exists()]
    if absent:
        raise ProvisionError(f"apt-get download did not produce: {', '.join(absent[:5])}")
    return sorted(wanted.values())


def unpack(debs: list[Path], root: Path) -> None:
    root.mkdir(parents=True, exist_ok=True)
    for deb in debs:
        subprocess.run(["dpkg-deb", "-x", str(deb), str(root)], check=True, timeout=COMMAND_TIMEOUT_S)


def write_launcher(dest: Path) -> Path:
    """DEST/modules with only the modules we use, and the DEST/melt wrapper script."""
    lib = dest / "root" / ARCH_LIB
    modules = dest / "modules"
    modules.mkdir(exist_ok=True)
    for name in MODULES:
        link, target = modules / f"libmlt{name}.so", lib / "mlt-7" / f"libmlt{name}.so"
        if link.is_symlink() or link.exists():
            link.unlink()
        link.symlink_to(target)
    melt = dest / "melt"
    q = shlex.quote
    # libpulse's RUNPATH names the system's pulseaudio dir, so the private one must be on the path;
    # melt-7 links SDL2 even when headless and exits without it.
    melt.write_text("#!/bin/sh\n"
                    f"export MLT_REPOSITORY={q(str(modules))} MLT_DATA={q(str(dest / 'root/usr/share/mlt-7'))}\n"
                    f"exec {q(str(lib / 'ld-linux-x86-64.so.2'))} --library-path {q(f'{lib}:{lib}/pulseaudio')} "
                    f"{q(str(dest / 'root/usr/bin/melt-7'))} \"$@\"\n")
    melt.chmod(0o755)
    return melt


def check_host(dest: Path) -> str:
    """Raise ProvisionError unless DEST/melt runs, is >= 7.38 and has the openfx module."""
    melt = dest / "melt"
    if not melt.exists():
        raise ProvisionError(f"{melt} does not exist")
    try:
        result = subprocess.run([str(melt), "--version"], capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired) as e:
        raise ProvisionError(f"{melt} --version could not run: {e}") from e
    first_line = (result.stdout.strip().splitlines() or [""])[0]
    version = parse_version(first_line)
    if result.returncode != 0 or version is None:
        raise ProvisionError(f"{melt} --version failed ({result.returncode}): "
                             f"{(result.stdout + result.stderr).strip()[-1000:]}")
    if version[:2] < MIN_VERSION:
        raise ProvisionError(f"{melt} is {first_line}; MLT >= {'.'.join(map(str, MIN_VERSION))} is needed "
                             "for the openfx module")
    openfx = dest / "modules" / "libmltopenfx.so"
    if not openfx.resolve().is_file():
        raise ProvisionError(f"{first_line} found, but the openfx module {openfx} is missing")
    return first_line


def provision(dest: Path, mirror: str) -> str:
    """Fetch and unpack MLT from the first suite that has >= 7.38; returns `melt --version`."""
    if not KEYRING.exists():
        raise ProvisionError(f"{KEYRING} is missing (apt-get install debian-archive-keyring)")
    apt = PrivateApt(dest / "apt")
    failures = []
    for suite in SUITES:
        try:
            step(f"apt-get update: {mirror} {suite} main (private state in {apt.root})")
            apt.prepare(mirror, suite)
            apt.run("apt-get", "-q", "update")
            version = candidate_version(apt, "libmlt7")
            if version is None or version[:2] < MIN_VERSION:
                raise ProvisionError(f"{suite} has libmlt7 {version}, older than {MIN_VERSION}")
            step(f"{suite}: libmlt7 {'.'.join(map(str, version))}; resolving runtime libraries")
            packages = resolve_packages(apt)
            debs = download(apt, packages, dest / "debs")
            break
        except ProvisionError as e:
            failures.append(f"{suite}: {e}")
            step(f"{suite} unusable: {e}")
    else:
        raise ProvisionError("no usable Debian suite:\n" + "\n".join(failures))
    step(f"unpacking {len(debs)} packages into {dest / 'root'}")
    unpack(debs, dest / "root")
    step(f"writing {write_launcher(dest)}")
    return check_host(dest)


def main(argv: list[str] | None = None) -> int:
    cache = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
    default_dest = Path(os.environ.get("NED_MLT_DIR", cache / "emotion-director" / "mlt-host"))
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dest", type=Path, default=default_dest, help=f"target directory ({default_dest})")
    parser.add_argument("--mirror", help="Debian mirror URI (default: the one in this machine's apt sources)")
    args = parser.parse_args(argv)
    dest = args.dest.expanduser().resolve()
    try:
        step(f"present: {check_host(dest)} at {dest / 'melt'}")
        return 0
    except ProvisionError as e:
        step(f"provisioning {dest} ({e})")
    try:
        version = provision(dest, args.mirror or find_mirror())
    except (ProvisionError, subprocess.SubprocessError, OSError) as e:
        print(f"[mlt-host] FAILED: {e}", file=sys.stderr, flush=True)
        return 1
    step(f"ready: {version} at {dest / 'melt'} (debs cached in {dest / 'debs'})")
    return 0


if __name__ == "__main__":
    sys.exit(main())

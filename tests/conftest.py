"""Fixtures shared by the whole test suite: test media, the built plugin, the MLT host, ned-server.

Anything a test needs from outside the repository fails loudly when missing (never a skip): a
green run must mean the feature was exercised.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:  # imported lazily below: it needs grpc and the generated stubs
    from tests.hosts.server_process import NedServerProcess

REPO_ROOT = Path(__file__).resolve().parents[1]
CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "emotion-director"


@pytest.fixture(scope="session")
def media_dir() -> Path:
    """`../shared/media` next to the repository (real footage, read-only)."""
    path = (REPO_ROOT.parent / "shared" / "media").resolve()
    if not (path / "manifest.json").is_file():
        pytest.fail(f"test media missing: expected {path} (../shared/media from the repository root) "
                    "with manifest.json")
    return path


@pytest.fixture(scope="session")
def plugin_bundle() -> Path:
    """The built EmotionDirector.ofx.bundle (env NED_PLUGIN_BUNDLE overrides the build dir)."""
    bundle = Path(os.environ.get("NED_PLUGIN_BUNDLE", REPO_ROOT / "build/ofx/EmotionDirector.ofx.bundle"))
    binary = bundle / "Contents" / "Linux-x86-64" / "EmotionDirector.ofx"
    if not binary.is_file():
        pytest.fail(f"OFX plugin not built: {binary} is missing; run `python3 build.py build`")
    return bundle


@pytest.fixture(scope="session")
def melt_host() -> Path:
    """The provisioned MLT `melt` wrapper (env NED_MLT_DIR, default ~/.cache/emotion-director/mlt-host)."""
    melt = Path(os.environ.get("NED_MLT_DIR", CACHE / "mlt-host")) / "melt"
    if not melt.is_file():
        pytest.fail(f"MLT host missing: {melt}; run `python3 build.py build` "
                    "(or `python -m tests.hosts.mlt_provision --dest DIR`)")
    return melt


@pytest.fixture
def ned_server_factory(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[..., NedServerProcess]]:
    """`make(start=True, extra_args=())` -> a ned-server on a free loopback port with its own cache.

    Every server made is killed at teardown. `start=False` gives an address where nothing listens
    yet (call `.start()` later: same port, same cache).
    """
    from tests.hosts.server_process import NedServerProcess

    made: list[NedServerProcess] = []

    def make(start: bool = True, extra_args: tuple[str, ...] = ()) -> NedServerProcess:
        root = tmp_path_factory.mktemp("ned-server")
        server = NedServerProcess(root / "cache", root / "ned-server.log", extra_args=extra_args)
        made.append(server)
        return server.start() if start else server

    yield make
    for server in made:
        server.kill()


@pytest.fixture
def ned_server(ned_server_factory: Callable[..., NedServerProcess]) -> NedServerProcess:
    """A running ned-server: `.address`, `.cache_dir`, `.process`, `.stop()`, `.kill()`, `.start()`."""
    return ned_server_factory()

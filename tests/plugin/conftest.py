"""Fixtures shared by the plugin tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.hosts.server_process import NedServerProcess


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NedServerProcess]:
    """One ned-server per test module, for the tests that do not stop it (starting one takes seconds)."""
    root = tmp_path_factory.mktemp("module-server")
    process = NedServerProcess(root / "cache", root / "ned-server.log").start()
    yield process
    process.kill()

"""The MLT host provisioning: mirror discovery, version checks, and the provisioned host itself."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.hosts.mlt_provision import ProvisionError, check_host, find_mirror, main, parse_version


def test_parse_version_reads_melt_banner():
    assert parse_version("melt-7 7.42.0") == (7, 42, 0)
    assert parse_version("melt 7.12.0-1+deb12u1") == (7, 12, 0)
    assert parse_version("no version here") is None


def test_find_mirror_reads_deb822_and_one_line_sources(tmp_path):
    parts = tmp_path / "sources.list.d"
    parts.mkdir()
    (parts / "debian.sources").write_text("Types: deb\n# URIs: http://old.example/debian\n"
                                          "URIs: http://mirror.example/debian/\nSuites: bookworm\n")
    (tmp_path / "sources.list").write_text("deb http://other.example/debian bookworm main\n")
    assert find_mirror((tmp_path / "sources.list.d",)) == "http://mirror.example/debian"
    assert find_mirror((tmp_path / "sources.list",)) == "http://other.example/debian"


def test_find_mirror_without_debian_sources_says_so(tmp_path):
    (tmp_path / "sources.list").write_text("deb http://security.example/debian-security bookworm main\n")
    with pytest.raises(ProvisionError, match="no Debian mirror"):
        find_mirror((tmp_path / "sources.list",))


def _fake_melt(dest: Path, banner: str) -> None:
    dest.mkdir(parents=True, exist_ok=True)
    melt = dest / "melt"
    melt.write_text(f"#!/bin/sh\necho '{banner}'\n")
    melt.chmod(0o755)


def test_check_host_rejects_a_melt_without_openfx(tmp_path):
    _fake_melt(tmp_path / "old", "melt 7.30.0")
    with pytest.raises(ProvisionError, match="7.38 is needed"):
        check_host(tmp_path / "old")
    _fake_melt(tmp_path / "new", "melt-7 7.42.0")
    with pytest.raises(ProvisionError, match="openfx module .* is missing"):
        check_host(tmp_path / "new")


@pytest.mark.melt
def test_provisioned_host_is_accepted_as_is(melt_host, capsys):
    assert main(["--dest", str(melt_host.parent)]) == 0
    assert "present: melt" in capsys.readouterr().out
    version = parse_version(check_host(melt_host.parent))
    assert version is not None and version[:2] >= (7, 38)

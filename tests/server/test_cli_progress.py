"""The CLI's progress output: a redrawn bar on a terminal, periodic plain lines elsewhere."""

from __future__ import annotations

import io

import pytest
from ned_server.cli_progress import Progress, format_duration


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_terminal_bar_redraws_one_line_with_rate_and_eta():
    out, clock = io.StringIO(), FakeClock()
    progress = Progress("render", 100, stream=out, tty=True, clock=clock)
    for done in range(1, 51):
        clock.now += 0.5  # 2 frames/s
        progress.update(done)
    text = out.getvalue()
    assert "\n" not in text, "a terminal bar must stay on one line until it finishes"
    last = text.split("\r")[-1]
    assert "50/100" in last and "2.0 frames/s" in last and "ETA 25 s" in last and "[" + "#" * 14 in last
    progress.finish()
    final = out.getvalue().split("\r")[-1]
    assert final.startswith("render: 50 frames in 25.0 s (2.0 frames/s)") and final.endswith("\n")


def test_terminal_redraws_at_most_ten_times_a_second():
    out, clock = io.StringIO(), FakeClock()
    progress = Progress("analysis", 1000, stream=out, tty=True, clock=clock)
    for done in range(1, 1001):
        clock.now += 0.001  # 1000 updates in one second
        progress.update(done)
    assert 9 <= out.getvalue().count("\r") <= 11


def test_plain_output_writes_a_line_every_few_seconds():
    out, clock = io.StringIO(), FakeClock()
    progress = Progress("analysis", 200, stream=out, tty=False, clock=clock)
    for done in range(1, 201):
        clock.now += 0.1
        progress.update(done, stage="tracking")
    lines = out.getvalue().splitlines()
    assert "\r" not in out.getvalue() and "\x1b" not in out.getvalue()
    assert 4 <= len(lines) <= 6  # 20 s of work, a line every 5 s (and the first at once)
    assert lines[-1].startswith("analysis (tracking): ") and "frames/s" in lines[-1] and "ETA" in lines[-1]


def test_rate_follows_the_recent_speed():
    clock = FakeClock()
    progress = Progress("render", 1000, stream=io.StringIO(), enabled=False, clock=clock)
    for done in range(1, 101):  # slow start: 2 frames/s
        clock.now += 0.5
        progress.update(done)
    for done in range(101, 301):  # then 20 frames/s
        clock.now += 0.05
        progress.update(done)
    assert progress.rate() == pytest.approx(20.0, rel=0.05)
    assert progress.eta() == pytest.approx(700 / 20.0, rel=0.05)


def test_unknown_total_has_no_eta_and_disabled_writes_nothing():
    out, clock = io.StringIO(), FakeClock()
    progress = Progress("analysis", 0, stream=out, tty=False, clock=clock)
    clock.now += 1
    progress.update(5)
    assert out.getvalue() == "analysis: 5 frames, 5.0 frames/s\n"
    quiet = io.StringIO()
    silent = Progress("render", 10, stream=quiet, enabled=False, clock=clock)
    silent.update(3)
    silent.finish()
    assert quiet.getvalue() == ""


def test_abandon_ends_a_drawn_bar_line():
    out, clock = io.StringIO(), FakeClock()
    progress = Progress("render", 10, stream=out, tty=True, clock=clock)
    progress.update(1)
    progress.abandon()
    assert out.getvalue().endswith("\n")


@pytest.mark.parametrize(("seconds", "text"), [(4.24, "4.2 s"), (42, "42 s"), (187, "3:07"), (3723, "1:02:03"),
                                               (float("inf"), "?")])
def test_format_duration(seconds, text):
    assert format_duration(seconds) == text

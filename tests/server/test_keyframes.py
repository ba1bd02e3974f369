"""Keyframed intensity: parsing, errors, and the interpolation's promises (holds, no overshoot, smooth)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from ned_server.keyframes import IntensityCurve, parse_keyframes


def frames_at(fps: float, count: int) -> np.ndarray:
    return np.arange(count) / fps


def curve(text: str, fps: float = 25.0, count: int = 200) -> IntensityCurve:
    return IntensityCurve(parse_keyframes(text), frames_at(fps, count))


# ------------------------------------------------------------------------------------------- parsing
def test_parse_reads_frames_seconds_and_values():
    keys = parse_keyframes("0:0, 1.5s:1 ,40f:0.25,4s:1.5")
    assert [(k.time, k.in_seconds, k.value) for k in keys] == [(0, False, 0), (1.5, True, 1), (40, False, 0.25),
                                                               (4, True, 1.5)]
    assert keys[1].text == "1.5s:1"


def test_parse_accepts_melts_spelling():
    keys = parse_keyframes("0=0;40=1")
    assert [(k.time, k.value) for k in keys] == [(0, 0), (40, 1)]


@pytest.mark.parametrize(("text", "message"), [
    ("", "empty"),
    ("   ", "empty"),
    ("0:0,x:1", "'x:1' is not TIME:VALUE"),
    ("0:0,,10:1", "'' is not TIME:VALUE"),
    ("10", "'10' is not TIME:VALUE"),
    ("-5:1", "'-5:1' is not TIME:VALUE"),
    ("0:0,10:1.6", "intensity 1.6 out of range 0..1.5"),
    ("0:-0.1", "intensity -0.1 out of range"),
    ("0:0,20:1,10:0.5", "must increase: '10:0.5' comes after '20:1'"),
    ("1s:0,1s:1", "must increase"),
])
def test_parse_rejects_malformed_keys_naming_them(text, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(".", r"\.")):
        parse_keyframes(text)


def test_mixed_units_out_of_order_in_this_clip_are_rejected():
    # 1 s is frame 25 at 25 fps: "40" then "1s" goes backwards only once placed on the clip
    with pytest.raises(ValueError, match=r"'1s:0' \(frame 25\) does not come after '40:1'"):
        curve("40:1,1s:0")


# ------------------------------------------------------------------------------------------- values
def test_values_at_the_keys_and_holds_outside_them():
    c = curve("10:0.2,30:1")
    values = c.per_frame(60)
    assert np.all(values[:11] == pytest.approx(0.2))
    assert np.all(values[30:] == pytest.approx(1.0))
    assert c(np.array([10.0, 30.0])) == pytest.approx([0.2, 1.0])


def test_single_key_is_a_constant():
    assert np.all(curve("12:0.7").per_frame(30) == 0.7)


def test_two_keys_give_smoothstep():
    c = curve("0:0,20:1")
    u = np.linspace(0, 1, 21)
    assert c(u * 20) == pytest.approx(3 * u**2 - 2 * u**3, abs=1e-12)


def test_seconds_are_placed_by_the_frame_rate():
    at_30 = curve("0:0,1s:1", fps=30.0)
    at_25 = curve("0:0,1s:1", fps=25.0)
    assert at_30.positions[1] == pytest.approx(30.0)
    assert at_25.positions[1] == pytest.approx(25.0)


def test_seconds_follow_real_timestamps_of_variable_rate_clips():
    # frames 0-9 every 0.1 s, then every 0.02 s: 1.0 s is frame 10, 1.1 s is frame 15
    times = np.concatenate([np.arange(10) * 0.1, 1.0 + np.arange(40) * 0.02])
    c = IntensityCurve(parse_keyframes("1s:0,1.1s:1"), times)
    assert c.positions == pytest.approx([10.0, 15.0])


def test_no_overshoot_between_keys():
    c = curve("0:0,10:1.5,14:0,40:1,41:0.2,80:1.5")
    x = np.linspace(0, 80, 8001)
    y = c(x)
    assert y.min() >= 0.0 and y.max() <= 1.5
    for (x0, y0), (x1, y1) in itertools.pairwise(zip(c.positions, c.values, strict=True)):
        seg = y[(x >= x0) & (x <= x1)]
        assert seg.min() >= min(y0, y1) - 1e-12 and seg.max() <= max(y0, y1) + 1e-12


def test_monotone_keys_give_a_monotone_curve_that_keeps_moving_through_inner_keys():
    c = curve("0:0,10:0.3,12:0.35,40:1")
    y = c(np.linspace(0, 40, 4001))
    assert np.all(np.diff(y) >= -1e-12)
    slope_at_inner_key = (c(np.array([10.01])) - c(np.array([9.99])))[0] / 0.02
    assert slope_at_inner_key > 0.01  # a per-segment smoothstep would stop here


def test_curve_is_smooth_everywhere():
    """C1: no kink at the keys, nor where the holds begin and end."""
    c = curve("5:0,20:1,30:0.4,50:1.2")
    x = np.linspace(0, 60, 60001)
    slope = np.gradient(c(x), x)
    assert np.max(np.abs(np.diff(slope))) < 1e-3


def test_peak_keys_are_flat():
    c = curve("0:0,20:1,40:0")
    assert (c(np.array([20.001])) - c(np.array([19.999])))[0] == pytest.approx(0.0, abs=1e-6)

"""The ctypes OFX host itself, checked with a small C probe plugin built from tests/hosts/probe/.

The probe calls the suites from C, so variadic arguments, printf formatting, rowBytes signs and
threads go through the real SysV calling convention, not through Python.
"""

from __future__ import annotations

import ctypes as C
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from tests.hosts.ofx_abi import Status
from tests.hosts.ofx_host import OfxHost
from tests.hosts.ofx_images import RowLayout
from tests.hosts.ofx_instance import EffectInstance
from tests.hosts.ofx_params import Param, ParamSet
from tests.hosts.ofx_printf import format_varargs
from tests.hosts.ofx_props import HandleRegistry, Kind, PropertySet
from tests.hosts.ofx_runtime import runtime

PROBE_SOURCE = Path(__file__).parent / "probe" / "probe_plugin.c"
PROBE_ID = "org.ned.tests.HostProbe"


@pytest.fixture(scope="module")
def probe_bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    compiler = shutil.which("cc") or shutil.which("gcc")
    if compiler is None:
        pytest.fail("no C compiler (cc/gcc) to build the probe plugin; apt-get install gcc")
    bundle = tmp_path_factory.mktemp("probe") / "Probe.ofx.bundle"
    binary = bundle / "Contents" / "Linux-x86-64" / "Probe.ofx"
    binary.parent.mkdir(parents=True)
    subprocess.run([compiler, "-std=c11", "-O1", "-Wall", "-Wextra", "-Werror", "-shared", "-fPIC",
                    "-fvisibility=hidden", "-pthread", "-o", str(binary), str(PROBE_SOURCE)], check=True, timeout=120)
    return bundle


@pytest.fixture
def host(probe_bundle: Path) -> Iterator[OfxHost]:
    with OfxHost(probe_bundle, PROBE_ID) as h:
        yield h


def report(inst: EffectInstance) -> dict[str, str]:
    """The probe's `report` string param, `k=v k=v ...`, as a dict."""
    return dict(item.split("=", 1) for item in inst.value("report").split())


def noise(depth: type, height: int = 18, width: int = 32) -> np.ndarray:
    rng = np.random.default_rng(7)
    if depth is np.float32:
        return (rng.standard_normal((height, width, 4)) * 3).astype(np.float32)
    return rng.integers(0, np.iinfo(depth).max, (height, width, 4), dtype=depth, endpoint=True)


# --------------------------------------------------------------------------------------- actions
def test_actions_follow_a_real_host_order(probe_bundle):
    with OfxHost(probe_bundle, PROBE_ID) as host:
        inst = host.create_instance()
        assert inst.render(noise(np.uint8), time=2).ok
    assert [a for a, _, _ in host.actions] == [
        "OfxActionLoad", "OfxActionDescribe", "OfxImageEffectActionDescribeInContext", "OfxActionCreateInstance",
        "OfxImageEffectActionGetClipPreferences", "OfxImageEffectActionBeginSequenceRender",
        "OfxImageEffectActionGetRegionOfDefinition", "OfxImageEffectActionGetRegionsOfInterest",
        "OfxImageEffectActionRender", "OfxImageEffectActionEndSequenceRender", "OfxActionDestroyInstance",
        "OfxActionUnload"]


@pytest.mark.parametrize("padding", [0, 20])
@pytest.mark.parametrize("layout", list(RowLayout))
@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.float32])
def test_images_round_trip_in_every_depth_and_layout(host, dtype, layout, padding):
    frame = noise(dtype)
    inst = host.create_instance()
    result = inst.render(frame, time=0, layout=layout, row_padding=padding)
    assert result.ok
    assert result.output.dtype == frame.dtype and np.array_equal(result.output, frame)
    row_bytes = int(report(inst)["rb"])
    assert abs(row_bytes) == 32 * 4 * frame.itemsize + padding
    assert (row_bytes < 0) == (layout is RowLayout.NEGATIVE)
    assert report(inst)["rows"] == "18", "every row was copied exactly once across the worker threads"
    assert inst.leaked_images == []


def test_render_window_limits_what_the_plugin_writes(host):
    frame = noise(np.uint8)
    result = host.create_instance().render(frame, render_window=(4, 2, 20, 10))
    # OFX rows count upwards: window rows 2..9 are picture rows H-10..H-3 (top-down)
    assert np.array_equal(result.output[8:16, 4:20], frame[8:16, 4:20])
    assert (result.output[:8].view(np.uint8) == 0xA5).all(), "pixels outside the window stay unwritten"


# --------------------------------------------------------------------------------------- params
def test_variadic_param_values_reach_the_plugin(host):
    inst = host.create_instance(params={"count": 7, "flag": True, "mode": "c", "label": "wörld", "size2": (3, 4.5)})
    inst.render(noise(np.float32), time=0)
    got = report(inst)
    assert (got["count"], got["flag"], got["mode"], got["label"], got["size"]) == ("7", "1", "2", "wörld", "3,4.5")


def test_defaults_come_from_the_descriptor(host):
    inst = host.create_instance()
    assert (inst.value("gain"), inst.value("count"), inst.value("mode"), inst.value("label")) == (1.0, 3, 1, "hello")
    assert inst.value("size2") == (1.5, 2.5)


def test_value_at_time_follows_keyframes(host):
    inst = host.create_instance(keys={"gain": {0: 0.0, 10: 1.0, 20: 0.5}})
    frame = noise(np.uint8)
    for t, gain in [(0, 0.0), (3, 0.3), (10, 1.0), (15, 0.75), (25, 0.5)]:
        inst.render(frame, time=t)
        assert float(report(inst)["gain"]) == pytest.approx(gain)


def test_value_set_by_the_plugin_is_readable(host):
    inst = host.create_instance()
    inst.render(noise(np.uint8), time=4)
    assert report(inst)["t"] == "4"
    assert inst.param("report").plugin_writes[-1][1] == inst.value("report")


def test_choice_labels_are_validated(host):
    with pytest.raises(ValueError, match="not one of"):
        host.create_instance(params={"mode": "z"})


def test_interpolation_rounds_integers_and_steps_strings():
    registry = HandleRegistry()
    owner = ParamSet(registry, "t", lambda: 0.0)
    count = Param(registry, owner, "OfxParamTypeInteger", "n")
    count.set_keys({0: 0, 10: 5})
    assert [count.value_at(t)[0] for t in (0, 1, 3, 9, 11)] == [0, 1, 2, 5, 5]
    text = Param(registry, owner, "OfxParamTypeString", "s")
    text.set_keys({0: "a", 10: "b"})
    assert [text.value_at(t)[0] for t in (-1, 5, 10)] == ["a", "a", "b"]


# --------------------------------------------------------------------------------------- suites
def test_messages_are_printf_formatted(host):
    inst = host.create_instance(params={"gain": 0.25})
    result = inst.render(noise(np.uint8), time=3)
    texts = {m.id: m.text for m in result.messages}
    assert texts["probe.render"] == "render ok t=3 gain=0.250 n=42"
    assert texts["probe.many"] == "1 2 3 4 five|1.5 2.5 3.5 4.5 5.5 6.5 7.5 8.5 9.5 10.5|1234567890123 z"


def test_temporal_clip_access_uses_the_source_callback(host):
    frame = noise(np.uint16)
    inst = host.create_instance()
    inst.render(frame, time=5)
    assert report(inst)["prev"] == "0", "no source callback: other times cannot be fetched"
    inst.render(frame, time=5, source=lambda t: frame)
    assert report(inst)["prev"] == "1"
    assert inst.effect.clips["Source"].fetches[-2:] == [5.0, 4.0]


def test_progress_is_recorded_and_cancel_stops_the_plugin(host):
    frame = noise(np.uint8)
    inst = host.create_instance()
    assert inst.press("walk", source=lambda t: frame, frame_range=(0, 9)).ok
    assert report(inst) == {"walked": "10", "cancelled": "0"}
    assert [e.kind for e in inst.progress] == ["start"] + ["update"] * 10 + ["end"]
    assert inst.progress[-2].fraction == pytest.approx(1.0)
    inst.cancel_progress_after(3)
    result = inst.press("walk", source=lambda t: frame, frame_range=(0, 9))
    assert report(inst) == {"walked": "4", "cancelled": "1"}, "the 4th update answered kOfxStatReplyNo"
    assert inst.journal.persistent is not None and inst.journal.persistent.text == "cancelled after 4"
    assert result.messages[-1].type == "OfxMessageWarning"


def test_property_suite_status_codes():
    rt = runtime()
    table = rt.properties.suite.table
    set_int = C.CFUNCTYPE(C.c_int, C.c_void_p, C.c_char_p, C.c_int, C.c_int)(table[3])
    get_int = C.CFUNCTYPE(C.c_int, C.c_void_p, C.c_char_p, C.c_int, C.POINTER(C.c_int))(table[11])
    get_string = C.CFUNCTYPE(C.c_int, C.c_void_p, C.c_char_p, C.c_int, C.POINTER(C.c_char_p))(table[9])
    get_dim = C.CFUNCTYPE(C.c_int, C.c_void_p, C.c_char_p, C.POINTER(C.c_int))(table[17])
    reset = C.CFUNCTYPE(C.c_int, C.c_void_p, C.c_char_p)(table[16])
    props = PropertySet(rt.registry, "test")
    props.declare("fixed", Kind.INT, [1, 2])
    props.declare("name", Kind.STRING, "abc")
    value, text, dim = C.c_int(), C.c_char_p(), C.c_int()
    assert get_int(props.handle, b"fixed", 1, C.byref(value)) == Status.OK and value.value == 2
    assert get_int(props.handle, b"fixed", 2, C.byref(value)) == Status.ERR_BAD_INDEX
    assert get_int(props.handle, b"missing", 0, C.byref(value)) == Status.ERR_UNKNOWN
    assert get_int(props.handle, b"name", 0, C.byref(value)) == Status.ERR_VALUE
    assert get_int(12345, b"fixed", 0, C.byref(value)) == Status.ERR_BAD_HANDLE
    assert get_string(props.handle, b"name", 0, C.byref(text)) == Status.OK and text.value == b"abc"
    assert set_int(props.handle, b"fixed", 5, 9) == Status.ERR_BAD_INDEX
    assert set_int(props.handle, b"fixed", 0, 9) == Status.OK and props.values("fixed") == [9, 2]
    assert set_int(props.handle, b"invented", 2, 4) == Status.OK and props.values("invented") == [0, 0, 4]
    assert get_dim(props.handle, b"invented", C.byref(dim)) == Status.OK and dim.value == 3
    assert reset(props.handle, b"fixed") == Status.OK and props.values("fixed") == [1, 2]


@pytest.mark.parametrize(("fmt", "ints", "doubles", "stack", "expected"), [
    ("%s: %d%%", [0, -7], [], [], "(null): -7%"),
    ("%5.2f|%-4d|%x", [255, 2**32 - 1], [3.14159], [], " 3.14|255 |ffffffff"),
    ("%u|%d", [-1, 2**32 + 5], [], [], "4294967295|5"),
    ("%d %d %d %g %g", [1, 2], [0.5, 1.5], [3], "1 2 3 0.5 1.5"),
    ("%hhd %lld %c", [300, 2**40], [], [ord("k")], "44 1099511627776 k"),
])
def test_printf_formatting_follows_sysv_argument_classes(fmt, ints, doubles, stack, expected):
    assert format_varargs(fmt, ints, doubles, stack) == expected


def test_printf_with_missing_arguments_keeps_the_format():
    text = format_varargs("%d %d %d", [1, 2], [], [])
    assert text == "%d %d %d <unformatted: more variadic arguments than this host reads>"

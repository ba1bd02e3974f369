"""End to end through our ctypes OFX host: plugin -> gRPC on loopback -> the real ned-server.

Acceptance tests of "End to end through a real host". With renderer=passthrough the server tracks
the face, cuts the patch and returns it unedited, so the output must equal the input bit for bit
in every pixel depth and row layout; and because hosts pass the source through when a render
fails, every such test also proves from the wire (the recording proxy) that the server answered
with a face patch.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import cv2
import numpy as np
import pytest
from ned_server._gen.ned.v1 import ned_pb2

from tests.hosts.ofx_abi import Status
from tests.hosts.ofx_host import OfxHost
from tests.hosts.ofx_images import RowLayout
from tests.hosts.ofx_instance import EffectInstance
from tests.hosts.server_process import NedServerProcess
from tests.plugin.frames import as_depth, beyond_unit_range, differing_pixels, on_canvas, read_rgba_frames
from tests.plugin.grpc_spy import Exchange, GrpcSpy

pytestmark = [pytest.mark.plugin, pytest.mark.media]

PLUGIN_ID = "org.ned.EmotionDirector"
TALKING = "talking/retalking_4.mp4"  # 700x700, one woman facing the camera
HD_CLIP = "mead/crop_M030_sad_3_001.mp4"  # 1920x1080
PASSTHROUGH = {"renderer": "passthrough", "emotion": "sad", "intensity": 1.0, "onError": "fail render"}
FORMATS = {"byte": ned_pb2.PIXEL_FORMAT_RGBA8, "short": ned_pb2.PIXEL_FORMAT_RGBA16,
           "float": ned_pb2.PIXEL_FORMAT_RGBA32F}
ANALYZE_FRAMES = 24
REPO_ROOT = Path(__file__).resolve().parents[2]
WORKER_TIMEOUT_S = 240


# ----------------------------------------------------------------------------------- fixtures
@pytest.fixture(scope="module")
def talking(media_dir: Path) -> list[np.ndarray]:
    return read_rgba_frames(media_dir / TALKING, 60)


@pytest.fixture(scope="module")
def host(plugin_bundle: Path) -> Iterator[OfxHost]:
    with OfxHost(plugin_bundle, PLUGIN_ID) as h:
        yield h


@pytest.fixture
def spy(server: NedServerProcess) -> Iterator[GrpcSpy]:
    with GrpcSpy(server.address) as s:
        yield s


@pytest.fixture
def make_instance(host: OfxHost) -> Iterator[Callable[..., EffectInstance]]:
    """`make(server_address, **params)`: a passthrough instance on its own shot; destroyed after."""
    made: list[EffectInstance] = []

    def make(address: str, keys: dict | None = None, **params: object) -> EffectInstance:
        shot = f"test-{uuid.uuid4().hex[:10]}"
        inst = host.create_instance(params={**PASSTHROUGH, "server": address, "shot": shot, **params}, keys=keys,
                                    frame_rate=30.0)
        made.append(inst)
        return inst

    yield make
    for inst in made:
        inst.destroy()


# ----------------------------------------------------------------------------------- helpers
def plugin_shot_id(inst: EffectInstance, width: int, height: int) -> str:
    """The plugin names a shot `<shot param or instanceId>@<full width>x<full height>`
    (plugin/src/ned_effect.cpp, NedEffect::shotId); test_passthrough_* pins this from the wire."""
    return f"{inst.value('shot') or inst.value('instanceId')}@{width}x{height}"


def single_render(spy: GrpcSpy) -> Exchange:
    renders = spy.renders()
    assert len(renders) == 1, f"expected one RenderFrame call, the server saw {len(renders)}"
    return renders[0]


def assert_face_patch_returned(exchange: Exchange, width: int, height: int) -> tuple[int, int, int, int]:
    """The server answered OK with a non-empty face patch inside the frame; returns its placement."""
    assert exchange.code.name == "OK", f"RenderFrame failed: {exchange.code.name} {exchange.details}"
    reply = exchange.replies[0]
    assert reply.diagnostics.face_found, f"the server found no face: {reply.diagnostics}"
    p = reply.placement
    assert p.width > 0 and p.height > 0, f"face found but the patch is empty: {reply.placement}"
    assert (reply.patch.width, reply.patch.height) == (p.width, p.height)
    assert 0 <= p.x and 0 <= p.y and p.x + p.width <= width and p.y + p.height <= height, f"{p} outside the frame"
    return p.x, p.y, p.width, p.height


def assert_identical(output: np.ndarray, expected: np.ndarray, patch: tuple[int, int, int, int] | None) -> None:
    outside, inside = differing_pixels(output, expected, patch)
    assert (outside, inside) == (0, 0), (f"{outside} pixels differ outside the patch {patch} and {inside} inside "
                                         "it; passthrough must return the frame bit for bit")


def assert_errors_name(messages: list, kind: str, address: str) -> None:
    texts = [m.text for m in messages if m.type == kind]
    assert texts, f"no {kind} message; got {[(m.type, m.text) for m in messages]}"
    assert any(address in t for t in texts), f"{kind} messages do not name {address}: {texts}"


def passthrough_render(inst: EffectInstance, spy: GrpcSpy, frame: np.ndarray, **render_args: object) -> None:
    """Render once and check the whole contract: OK, the server edited a face, output == input."""
    result = inst.render(frame, time=0, **render_args)
    assert result.ok, f"render returned {result.status}: {[m.text for m in result.messages]}"
    h, w = frame.shape[:2]
    patch = assert_face_patch_returned(single_render(spy), w, h)
    assert_identical(result.output, frame, patch)


# ----------------------------------------------------------------------------------- bit exactness
@pytest.mark.parametrize("layout", list(RowLayout), ids=lambda layout: f"rowbytes-{layout.value}")
@pytest.mark.parametrize("depth", ["byte", "short", "float"])
def test_passthrough_round_trip_is_bit_exact(make_instance, spy, server, talking, depth, layout):
    frame = as_depth(talking[0], depth)
    inst = make_instance(spy.address)
    passthrough_render(inst, spy, frame, layout=layout)
    request = single_render(spy).requests[0]
    assert request.frame.image.format == FORMATS[depth]
    assert (request.frame.frame_width, request.frame.frame_height) == (700, 700)
    assert request.params.renderer == ned_pb2.RENDERER_PASSTHROUGH
    assert request.shot_id == plugin_shot_id(inst, 700, 700)
    shot = server.get_shot(request.shot_id)
    assert shot is not None and shot.frames_analysed >= 1, f"the server kept no analysis of {request.shot_id}"


def test_padded_rows_round_trip_is_bit_exact(make_instance, spy, talking):
    """rowBytes larger than width * bytes per pixel (a legal OFX stride) is honoured."""
    passthrough_render(make_instance(spy.address), spy, as_depth(talking[1], "short"), row_padding=24)


def test_float_values_outside_unit_range_survive(make_instance, spy, talking):
    frame = beyond_unit_range(as_depth(talking[2], "float"))
    assert frame.min() < 0 and frame.max() > 1
    passthrough_render(make_instance(spy.address), spy, frame, layout=RowLayout.NEGATIVE)


def test_uhd_float_frame_renders_without_size_error(make_instance, spy, talking):
    frame = on_canvas(as_depth(talking[3], "float"), 3840, 2160)
    passthrough_render(make_instance(spy.address), spy, frame)


def test_half_render_scale(make_instance, spy, talking):
    half = cv2.resize(talking[4], (350, 350), interpolation=cv2.INTER_AREA)
    inst = make_instance(spy.address)
    passthrough_render(inst, spy, half, render_scale=0.5)
    request = single_render(spy).requests[0]
    assert request.frame.render_scale == pytest.approx(0.5)
    assert (request.frame.frame_width, request.frame.frame_height) == (350, 350)
    assert request.shot_id == plugin_shot_id(inst, 700, 700), "a shot is named by its full-resolution size"


def test_keyframed_intensity_reaches_the_server_per_frame(make_instance, spy, talking):
    inst = make_instance(spy.address, keys={"intensity": {0.0: 0.0, 40.0: 1.0}})
    times = [0, 10, 20, 30, 40, 50]
    results = inst.render_sequence([(float(t), talking[t]) for t in times])
    assert all(r.ok for r in results), [(r.time, r.status, [m.text for m in r.messages]) for r in results]
    requests = [r.requests[0] for r in spy.renders()]
    assert [q.time for q in requests] == times
    assert [q.params.intensity for q in requests] == pytest.approx([min(t / 40.0, 1.0) for t in times]), (
        "intensity must be interpolated per frame and sent with that frame")


# ----------------------------------------------------------------------------------- faults
def test_unreachable_server_fails_the_render_and_names_the_address(make_instance, ned_server_factory, talking):
    down = ned_server_factory(start=False)
    result = make_instance(down.address).render(talking[0], time=0)
    assert result.status == Status.FAILED
    assert_errors_name(result.messages, "OfxMessageError", down.address)


def test_unreachable_server_with_pass_through_warns_and_keeps_the_source(make_instance, ned_server_factory,
                                                                         talking):
    down = ned_server_factory(start=False)
    inst = make_instance(down.address, onError="pass through with a warning")
    result = inst.render(talking[0], time=0)
    assert result.ok
    assert_errors_name(result.messages, "OfxMessageWarning", down.address)
    assert_identical(result.output, talking[0], None)


def test_server_that_comes_back_serves_the_next_render(make_instance, ned_server_factory, talking):
    server = ned_server_factory(start=False)
    inst = make_instance(server.address)
    assert inst.render(talking[0], time=0).status == Status.FAILED
    server.start()
    result = inst.render(talking[1], time=1)
    assert result.ok, [m.text for m in result.messages]
    assert_identical(result.output, talking[1], None)
    shot = server.get_shot(plugin_shot_id(inst, 700, 700))
    assert shot is not None and shot.frames_analysed >= 1, "the restarted server never saw the render"


def test_server_killed_mid_render_never_crashes_the_host(plugin_bundle, ned_server_factory, media_dir, tmp_path):
    server = ned_server_factory()
    argv = [sys.executable, "-m", "tests.plugin.render_worker", "--bundle", str(plugin_bundle),
            "--server", server.address, "--media", str(media_dir / HD_CLIP), "--renders", "40"]
    log = tmp_path / "worker.stderr"
    lines: list[dict] = []
    with open(log, "w") as err:
        worker = subprocess.Popen(argv, cwd=REPO_ROOT, stdout=subprocess.PIPE, stderr=err, text=True,
                                  env=dict(os.environ, PYTHONPATH=str(REPO_ROOT)))
        watchdog = threading.Timer(WORKER_TIMEOUT_S, worker.kill)  # a hung host must not hang the test
        watchdog.start()
        try:
            for raw in worker.stdout:
                lines.append(json.loads(raw))
                if len(lines) == 3:
                    time.sleep(0.01)  # into the next round trip
                    server.kill()
            worker.wait(timeout=WORKER_TIMEOUT_S)
        finally:
            watchdog.cancel()
            if worker.poll() is None:
                worker.kill()
    stderr = log.read_text(errors="replace")
    assert worker.returncode == 0, f"host process died with {worker.returncode}:\n{stderr[-3000:]}"
    assert len(lines) == 40, f"only {len(lines)} renders finished:\n{stderr[-3000:]}"
    assert all(line["status"] == Status.OK for line in lines[:3]), f"renders before the kill failed: {lines[:3]}"
    assert all(line["status"] == Status.FAILED for line in lines[5:]), "renders against a dead server must fail"
    assert any(server.address in text for line in lines for text in line["errors"])


# ----------------------------------------------------------------------------------- analyze button
def test_analyze_button_analyses_the_shot(make_instance, server, talking):
    frames = talking[:ANALYZE_FRAMES]
    inst = make_instance(server.address)
    result = inst.press("analyze", source=lambda t: frames[int(t)], frame_range=(0, ANALYZE_FRAMES - 1))
    assert result.ok, [m.text for m in result.messages]
    kinds = [e.kind for e in inst.progress]
    assert kinds[0] == "start" and kinds[-1] == "end" and kinds.count("update") >= 2, kinds
    assert sorted(set(inst.effect.clips["Source"].fetches)) == list(range(ANALYZE_FRAMES))
    shot = server.get_shot(plugin_shot_id(inst, 700, 700))
    assert shot is not None, "Analyze finished but the server has no analysis"
    assert shot.mode == ned_pb2.ShotInfo.MODE_FULL
    assert (shot.frames_analysed, shot.first_time, shot.last_time) == (ANALYZE_FRAMES, 0, ANALYZE_FRAMES - 1)
    assert len(shot.faces) >= 1
    fractions = [e.fraction for e in inst.progress if e.kind == "update"]
    assert fractions == sorted(fractions) and 0 <= fractions[0] <= fractions[-1] <= 1, (
        f"a progress bar must only move forward, within 0..1: {fractions}")


def test_cancelled_analyze_stops_and_leaves_no_partial_analysis(make_instance, server, talking):
    frames = talking[:ANALYZE_FRAMES]
    inst = make_instance(server.address)
    inst.cancel_progress_after(3)
    result = inst.press("analyze", source=lambda t: frames[int(t)], frame_range=(0, ANALYZE_FRAMES - 1))
    fetched = set(inst.effect.clips["Source"].fetches)
    assert len(fetched) < ANALYZE_FRAMES / 2, f"the plugin kept reading frames after the cancel: {sorted(fetched)}"
    assert any("cancel" in m.text.lower() for m in result.messages), [m.text for m in result.messages]
    assert inst.progress[-1].kind == "end"
    shot_id = plugin_shot_id(inst, 700, 700)
    for _ in range(10):  # the server may notice the cancel a moment later; it must never keep the shot
        assert server.get_shot(shot_id) is None, "a cancelled analysis was kept"
        time.sleep(0.1)


# ----------------------------------------------------------------------------------- figure
@pytest.mark.slow
def test_median_round_trip_of_an_hd_rgba8_frame(make_instance, server, media_dir):
    """Prints the median wall time of one 1920x1080 RGBA8 passthrough render (for the closing note)."""
    frame = read_rgba_frames(media_dir / HD_CLIP, 1)[0]
    assert frame.shape == (1080, 1920, 4)
    inst = make_instance(server.address)
    for t in range(3):  # connection, first online analysis
        assert inst.render(frame, time=float(t)).ok
    timings = []
    for t in range(3, 53):
        started = time.perf_counter()
        result = inst.render(frame, time=float(t))
        timings.append((time.perf_counter() - started) * 1e3)
        assert result.ok
    assert_identical(result.output, frame, None)
    print(f"\n[figure] 1920x1080 RGBA8 passthrough through the plugin: median {statistics.median(timings):.1f} ms "
          f"over {len(timings)} renders (min {min(timings):.1f}, max {max(timings):.1f}); "
          f"plugin status: {inst.value('status')}")

"""The neural renderer path end to end, through the plugin, against the real ned-server.

In our ctypes host: Analyze shot with Renderer = neural (the server keeps face crops), Train neural
renderer (progress, cancel, errors), then renders with the trained renderer. In MLT's melt, which
has no buttons: the same shot, trained outside melt and found by its id `<Shot>@<W>x<H>`, renders
through the neural renderer. Every claim is also checked on the wire (the recording proxy), because
hosts pass the source frame through when a render fails.

One shot is analysed and trained once for the whole module (training takes tens of seconds).
"""

from __future__ import annotations

import re
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from ned_server._gen.ned.v1 import ned_pb2

from tests.hosts.melt_runner import Melt
from tests.hosts.ofx_abi import Status
from tests.hosts.ofx_host import OfxHost
from tests.hosts.ofx_instance import ActionResult, EffectInstance
from tests.hosts.ofx_services import ProgressEvent
from tests.hosts.server_process import NedServerProcess
from tests.plugin.frames import as_depth, difference_box, differing_pixels, read_rgba_frames
from tests.plugin.grpc_spy import Exchange, GrpcSpy

pytestmark = [pytest.mark.plugin, pytest.mark.media]

PLUGIN_ID = "org.ned.EmotionDirector"
SERVICE = "openfx.org.ned.EmotionDirector"
CLIP = "talking/retalking_4.mp4"  # 700x700, 30 fps, one woman facing the camera
SIZE, FPS = (700, 700), 30
TRAIN_FRAMES = 100  # training needs about 80 (validation holds out 10-frame blocks, one in 8)
TRAIN_MINUTES = 0.3  # 18 s: a rough but working renderer
CANCELLED_MINUTES = 5.0  # long enough to be surely cancelled mid-training, whatever the machine's load
NEURAL = {"renderer": "neural", "emotion": "surprised", "intensity": 1.0, "onError": "fail render"}
TRAINED = re.compile(r"neural renderer trained: (\d+) steps, held-out PSNR ([\d.]+) dB")
BUSY_RETRY_S = 60  # a cancelled training frees the server within about a training step
RENDER_TIMES = (12, 47, 93)
MELT_LAST = 59


@dataclass(frozen=True)
class Press:
    """One button press: what the plugin returned and showed, and the call it made on the wire."""

    result: ActionResult
    progress: list[ProgressEvent]
    status: str
    seconds: float
    call: Exchange | None


# ----------------------------------------------------------------------------------- fixtures
@pytest.fixture(scope="module")
def frames(media_dir: Path) -> list[np.ndarray]:
    return read_rgba_frames(media_dir / CLIP, TRAIN_FRAMES)


@pytest.fixture(scope="module")
def spy(server: NedServerProcess) -> Iterator[GrpcSpy]:
    with GrpcSpy(server.address) as s:
        yield s


@pytest.fixture(scope="module")
def host(plugin_bundle: Path) -> Iterator[OfxHost]:
    with OfxHost(plugin_bundle, PLUGIN_ID) as h:
        yield h


@pytest.fixture(scope="module")
def make_instance(host: OfxHost) -> Iterator[Callable[..., EffectInstance]]:
    """`make(address, **params)`: a neural instance on a shot of its own; destroyed at module end."""
    made: list[EffectInstance] = []

    def make(address: str, **params: object) -> EffectInstance:
        inst = host.create_instance(params={**NEURAL, "server": address, "shot": f"neural-{uuid.uuid4().hex[:8]}",
                                            **params}, frame_rate=float(FPS))
        made.append(inst)
        return inst

    yield make
    for inst in made:
        inst.destroy()


@pytest.fixture(scope="module")
def neural(make_instance, spy) -> EffectInstance:
    """The module's instance: renderer neural, its shot analysed and trained by the fixtures below."""
    return make_instance(spy.address)


@pytest.fixture(scope="module")
def analysed(neural, spy, frames) -> Press:
    return press(neural, spy, "analyze", frames)


@pytest.fixture(scope="module")
def cancelled_training(neural, analysed, spy, frames) -> Press:
    """Train pressed, and Cancel answered once the server reports the stage "training"."""
    assert analysed.result.ok, [m.text for m in analysed.result.messages]
    neural.set_param("trainMinutes", CANCELLED_MINUTES)
    calls_before = len(spy.calls("TrainRenderer"))
    stop = threading.Event()

    def cancel_when_training() -> None:
        while not stop.wait(0.05):
            calls = spy.calls("TrainRenderer")[calls_before:]
            if calls and any(r.stage == "training" for r in list(calls[0].replies)):
                neural.cancel_progress_after(0)  # the next progressUpdate answers kOfxStatReplyNo
                return

    watcher = threading.Thread(target=cancel_when_training, daemon=True)
    watcher.start()
    try:
        return press(neural, spy, "train", frames)
    finally:
        stop.set()
        watcher.join()
        neural.cancel_progress_after(None)


@pytest.fixture(scope="module")
def trained(neural, cancelled_training, spy, frames) -> Press:
    """Train pressed again (after the cancelled run) and left to finish."""
    neural.set_param("trainMinutes", TRAIN_MINUTES)
    deadline = time.monotonic() + BUSY_RETRY_S
    while True:
        done = press(neural, spy, "train", frames)
        if "busy" not in done.status or time.monotonic() > deadline:
            return done
        time.sleep(1.0)


# ----------------------------------------------------------------------------------- helpers
def press(inst: EffectInstance, spy: GrpcSpy, button: str, frames: list[np.ndarray]) -> Press:
    """Press `button` with Source backed by `frames`; returns what happened and the call it made."""
    method = {"analyze": "AnalyzeShot", "train": "TrainRenderer"}[button]
    progress_before, calls_before = len(inst.progress), len(spy.calls(method))
    started = time.monotonic()
    result = inst.press(button, source=lambda t: frames[int(t)], frame_range=(0, len(frames) - 1))
    seconds = time.monotonic() - started
    calls = spy.calls(method)[calls_before:]
    assert len(calls) <= 1, f"one press made {len(calls)} {method} calls"
    return Press(result, inst.progress[progress_before:], inst.value("status"), seconds, calls[0] if calls else None)


def shot_id(inst: EffectInstance) -> str:
    """The plugin's shot id: the Shot parameter plus the full frame size (pinned by test_ctypes_host)."""
    return f"{inst.value('shot')}@{SIZE[0]}x{SIZE[1]}"


def texts(pressed: Press) -> list[str]:
    return [f"{m.type}: {m.text}" for m in pressed.result.messages]


def assert_progress_bar(events: list[ProgressEvent]) -> list[float]:
    """One bar: start, updates moving only forward within 0..1, end; returns the fractions."""
    kinds = [e.kind for e in events]
    assert kinds and kinds[0] == "start" and kinds[-1] == "end" and kinds.count("start") == 1, kinds
    fractions = [e.fraction for e in events if e.kind == "update"]
    assert fractions, "no progress update"
    assert fractions == sorted(fractions) and 0.0 <= fractions[0] and fractions[-1] <= 1.0, fractions
    return fractions


# ----------------------------------------------------------------------------------- ctypes host
def test_analyze_with_neural_renderer_keeps_training_frames(neural, analysed, server):
    assert analysed.result.ok, texts(analysed)
    first = analysed.call.requests[0]
    assert first.shot_id == shot_id(neural)
    assert first.keep_training_frames, "Analyze with Renderer = neural must ask the server to keep face crops"
    assert not any(r.keep_training_frames for r in analysed.call.requests[1:]), "only the first message carries it"
    shot = server.get_shot(shot_id(neural))
    assert shot is not None and shot.mode == ned_pb2.ShotInfo.MODE_FULL
    assert shot.frames_analysed == TRAIN_FRAMES and not shot.has_neural_renderer
    assert "Train neural renderer can run now" in analysed.status


def test_cancelled_training_stops_and_exports_nothing(neural, cancelled_training, server):
    pressed = cancelled_training
    assert pressed.result.status == Status.OK, texts(pressed)
    assert any("training cancelled" in m.text for m in pressed.result.messages), texts(pressed)
    assert pressed.status.startswith("training cancelled; the last checkpoint is kept"), pressed.status
    assert_progress_bar(pressed.progress)
    stages = [r.stage for r in pressed.call.replies]
    assert "training" in stages and "done" not in stages and "exporting" not in stages, stages
    assert pressed.call.ended.wait(10), "the cancelled call never ended on the wire"
    assert pressed.call.code.name == "CANCELLED", (pressed.call.code, pressed.call.details)
    assert pressed.seconds < CANCELLED_MINUTES * 60 / 2, f"the press returned only after {pressed.seconds:.0f} s"
    shot = server.get_shot(shot_id(neural))
    assert shot is not None and not shot.has_neural_renderer, "a cancelled first training exported a renderer"


def test_train_button_trains_the_neural_renderer(neural, trained, server):
    assert trained.result.status == Status.OK, texts(trained)
    request = trained.call.requests[0]
    assert request.shot_id == shot_id(neural)
    assert request.time_budget_seconds == pytest.approx(TRAIN_MINUTES * 60)
    assert request.resume, "a second press continues from the checkpoint the first one kept"
    fractions = assert_progress_bar(trained.progress)
    assert fractions[-1] == pytest.approx(1.0), "the bar ends full when the budget was used"
    stages = [r.stage for r in trained.call.replies]
    assert stages[0] == "preparing" and "training" in stages and stages[-1] == "done", stages
    assert trained.call.code.name == "OK"
    match = TRAINED.fullmatch(trained.status)
    assert match, f"status after training: {trained.status!r}"
    steps, psnr = int(match[1]), float(match[2])
    assert steps == max(r.step for r in trained.call.replies) and steps > 0
    assert psnr == pytest.approx(trained.call.replies[-1].validation_psnr, abs=0.05) and psnr > 10.0
    shot = server.get_shot(shot_id(neural))
    assert shot is not None and shot.has_neural_renderer


@pytest.mark.parametrize("depth", ["byte", "float"])
def test_neural_render_edits_the_face_and_nothing_else(neural, trained, spy, frames, depth):
    assert trained.result.status == Status.OK, texts(trained)
    renders_before = len(spy.renders(shot_id(neural)))
    sources = [(float(t), as_depth(frames[t], depth)) for t in RENDER_TIMES]
    results = neural.render_sequence(sources)
    exchanges = spy.renders(shot_id(neural))[renders_before:]
    assert [e.requests[0].time for e in exchanges] == list(RENDER_TIMES)
    for (t, source), result, exchange in zip(sources, results, exchanges, strict=True):
        assert result.ok, f"frame {t}: {result.status} {[m.text for m in result.messages]}"
        request, reply = exchange.requests[0], exchange.replies[0]
        assert request.params.renderer == ned_pb2.RENDERER_NEURAL
        assert request.params.emotion == ned_pb2.EMOTION_SURPRISED
        assert exchange.code.name == "OK" and reply.diagnostics.face_found, (exchange.code, exchange.details)
        p = reply.placement
        assert 0 < p.width * p.height < SIZE[0] * SIZE[1] / 2, f"frame {t}: face patch {p}"
        outside, inside = differing_pixels(result.output, source, (p.x, p.y, p.width, p.height))
        assert outside == 0, f"frame {t}: {outside} pixels changed outside the face patch {p}"
        assert inside > 0.05 * p.width * p.height, f"frame {t}: only {inside} pixels edited in the patch {p}"
    assert "edited" in neural.value("status")


def test_train_without_training_frames_says_what_to_do(make_instance, spy, frames):
    inst = make_instance(spy.address, renderer="warp")
    analysed = press(inst, spy, "analyze", frames[:24])
    assert analysed.result.ok, texts(analysed)
    assert not analysed.call.requests[0].keep_training_frames, "crops cost disk: kept only for the neural renderer"
    inst.set_param("trainMinutes", TRAIN_MINUTES)
    pressed = press(inst, spy, "train", frames[:24])
    assert pressed.result.status == Status.FAILED
    assert pressed.call.code.name == "FAILED_PRECONDITION", (pressed.call.code, pressed.call.details)
    errors = [m.text for m in pressed.result.messages if m.type == "OfxMessageError"]
    assert errors and "set Renderer to neural and press Analyze shot" in errors[0], texts(pressed)
    assert shot_id(inst) in errors[0]
    assert pressed.progress[-1].kind == "end", "the progress bar must be closed after a failure"


def test_train_against_an_unreachable_server_names_it(make_instance, ned_server_factory, frames):
    down = ned_server_factory(start=False)
    inst = make_instance(down.address)
    result = inst.press("train", source=lambda t: frames[int(t)], frame_range=(0, 9))
    assert result.status == Status.FAILED
    errors = [m.text for m in result.messages if m.type == "OfxMessageError"]
    assert errors and down.address in errors[0] and "unreachable" in errors[0], errors


# ----------------------------------------------------------------------------------- melt
@pytest.mark.melt
def test_melt_renders_a_shot_trained_outside_melt(neural, trained, spy, melt_host, plugin_bundle, media_dir,
                                                  tmp_path):
    """melt has no buttons: the shot the ctypes host trained is found by its id and rendered neurally."""
    assert trained.result.status == Status.OK, texts(trained)
    melt = Melt(melt_host, plugin_bundle.parent)
    clip = media_dir / CLIP
    plain = melt.render(clip, tmp_path / "plain.rgba", size=SIZE, fps=FPS, first=0, last=MELT_LAST).frames
    renders_before = len(spy.renders(shot_id(neural)))
    params = {**NEURAL, "intensity": 1, "shot": neural.value("shot"), "server": spy.address}
    out = melt.render(clip, tmp_path / "neural.rgba", size=SIZE, fps=FPS, first=0, last=MELT_LAST, service=SERVICE,
                      params=params)
    assert out.frames.shape == plain.shape == (MELT_LAST + 1, SIZE[1], SIZE[0], 4), out.stderr[-2000:]
    by_time = {e.requests[0].time: e for e in spy.renders(shot_id(neural))[renders_before:]}
    assert sorted(by_time) == [float(t) for t in range(MELT_LAST + 1)], f"the server saw frames {sorted(by_time)}"
    for t in range(MELT_LAST + 1):
        exchange = by_time[float(t)]
        assert exchange.code.name == "OK", f"frame {t}: {exchange.code.name} {exchange.details}"
        assert exchange.requests[0].params.renderer == ned_pb2.RENDERER_NEURAL
        p = exchange.replies[0].placement
        assert exchange.replies[0].diagnostics.face_found and 0 < p.width * p.height < SIZE[0] * SIZE[1] / 2
        box = difference_box(out.frames[t], plain[t])
        assert box is not None, f"frame {t} (neural, surprised, intensity 1) is identical to the source"
        x, y, w, h = box
        assert p.x <= x and p.y <= y and x + w <= p.x + p.width and y + h <= p.y + p.height, (
            f"frame {t}: pixels changed in {box}, outside the face patch {p}")

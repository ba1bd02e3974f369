"""ned-server over real gRPC on real footage: contract, errors, exactness, restarts, shutdown.

These run the `ned-server` console script on a free loopback port (tests/conftest.py) and talk
to it with the project's Python client, the same path the CLI uses.
"""

from __future__ import annotations

import json
import os
import signal

import av
import grpc
import numpy as np
import pytest
from ned_server._gen.ned.v1 import ned_pb2, ned_pb2_grpc
from ned_server.client import NedClient, ServerError

from ned_models.edit import EditParams, Emotion, RendererKind

pytestmark = pytest.mark.media

CLIP_FRAMES = 40
TRAINING_FRAMES = 100  # renderer training holds out blocks of 10 frames, one block in 8


def _decode(path, count):
    frames = []
    with av.open(str(path)) as container:
        for frame in container.decode(video=0):
            rgb = frame.to_ndarray(format="rgb24")
            frames.append(np.dstack([rgb, np.full(rgb.shape[:2], 255, np.uint8)]))
            if len(frames) == count:
                break
    return frames


@pytest.fixture(scope="module")
def clip(media_dir):
    """The first frames of a real talking clip (700x700, 30 fps), RGBA uint8."""
    return _decode(media_dir / "talking" / "retalking_4.mp4", CLIP_FRAMES)


def _analyse(client: NedClient, shot: str, frames) -> ned_pb2.ShotInfo:
    return client.analyse_shot(shot, ((float(i), f) for i, f in enumerate(frames)), total_frames=len(frames),
                               frame_rate=30.0)


def _as_float(frame: np.ndarray) -> np.ndarray:
    out = frame.astype(np.float32) / 255.0
    out[::7, ::5, :3] = np.float32(-0.25)  # a grade below black and above white, as float pipelines have
    out[3::7, 2::5, :3] = np.float32(1.75)
    return out


def test_server_info_describes_the_server(ned_server):
    with NedClient(ned_server.address) as client:
        info = client.server_info()
    assert info.version and info.devices[0].name == "cpu"
    assert info.max_message_bytes >= 3840 * 2160 * 16 and info.shared_memory
    assert set(info.renderers) >= {ned_pb2.RENDERER_WARP, ned_pb2.RENDERER_PASSTHROUGH}


def test_unknown_shot_is_not_found(ned_server):
    with NedClient(ned_server.address) as client:
        assert client.get_shot("nobody@10x10") is None
        assert client.delete_shot("nobody@10x10") is False


@pytest.mark.parametrize("mutate,detail", [
    (lambda r: setattr(r.frame.image, "format", ned_pb2.PIXEL_FORMAT_UNSPECIFIED), "unsupported pixel format"),
    (lambda r: setattr(r.frame.image, "data", r.frame.image.data[:-10]), "bytes of pixels, expected"),
    (lambda r: setattr(r.params, "intensity", 2.0), "intensity 2 out of range"),
    (lambda r: setattr(r, "shot_id", ""), "shot_id"),
])
def test_malformed_render_requests_are_invalid_argument(ned_server, clip, mutate, detail):
    frame = clip[0]
    request = ned_pb2.RenderFrameRequest(shot_id="s@700x700", time=0.0, params=ned_pb2.EffectParams(intensity=1.0),
                                         frame=ned_pb2.FrameRegion(image=ned_pb2.Image(
                                             width=700, height=700, format=ned_pb2.PIXEL_FORMAT_RGBA8,
                                             row_order=ned_pb2.ROW_ORDER_TOP_DOWN, row_bytes=700 * 4,
                                             data=frame.tobytes())))
    mutate(request)
    with grpc.insecure_channel(ned_server.address) as channel:
        with pytest.raises(grpc.RpcError) as err:
            ned_pb2_grpc.EmotionDirectorStub(channel).RenderFrame(request, timeout=60)
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert detail in err.value.details()


def test_analysis_then_edit_changes_only_the_patch_in_8_bit_and_float(ned_server, clip):
    with NedClient(ned_server.address) as client:
        info = _analyse(client, "edit@700x700", clip)
        assert info.frames_analysed == CLIP_FRAMES and info.faces[0].frames_tracked == CLIP_FRAMES
        regions = client.get_shot("edit@700x700", include_regions=True).regions
        assert len(regions) == CLIP_FRAMES and all(r.rect.width > 100 for r in regions)
        params = EditParams(emotion=Emotion.HAPPY, intensity=1.0)
        for frame in (clip[10], _as_float(clip[10])):
            rendered = client.render_frame("edit@700x700", 10.0, frame, params, frame_rate=30.0, want_alpha=True)
            assert rendered.diagnostics.face_found and not rendered.diagnostics.analysed_online
            out = rendered.apply(frame)
            x, y = rendered.placement_xy
            h, w = rendered.patch.shape[:2]
            outside = np.ones(frame.shape[:2], bool)
            outside[y:y + h, x:x + w] = False
            assert np.array_equal(out[outside], frame[outside])  # bit for bit, floats out of 0..1 included
            assert np.abs(out.astype(np.float64) - frame).max() > 0  # and the face really changed
            assert (rendered.alpha == 0).any() and (rendered.alpha == 255).any()
            untouched = rendered.alpha == 0
            assert np.array_equal(rendered.patch[untouched], frame[y:y + h, x:x + w][untouched])


def test_a_restart_gives_identical_renders(ned_server, clip):
    params = EditParams(emotion=Emotion.SAD, intensity=1.0)
    with NedClient(ned_server.address) as client:
        _analyse(client, "restart@700x700", clip)
        before = [client.render_frame("restart@700x700", float(t), clip[t], params, frame_rate=30.0) for t in (5, 30)]
    ned_server.stop()
    ned_server.start()
    with NedClient(ned_server.address) as client:
        info = client.get_shot("restart@700x700")
        assert info is not None and info.mode == ned_pb2.ShotInfo.MODE_FULL
        after = [client.render_frame("restart@700x700", float(t), clip[t], params, frame_rate=30.0) for t in (5, 30)]
    for a, b in zip(before, after, strict=True):
        assert a.placement_xy == b.placement_xy and np.array_equal(a.patch, b.patch)


def test_online_analysis_is_saved_at_shutdown_and_sigterm_exits_cleanly(ned_server, clip):
    with NedClient(ned_server.address) as client:
        for t in range(3):
            r = client.render_frame("online@700x700", float(t), clip[t],
                                    EditParams(renderer=RendererKind.PASSTHROUGH), frame_rate=30.0)
            assert r.diagnostics.analysed_online and r.diagnostics.face_found
    ned_server.process.send_signal(signal.SIGTERM)
    assert ned_server.process.wait(timeout=30) == 0
    ned_server.start()
    with NedClient(ned_server.address) as client:
        info = client.get_shot("online@700x700")
    assert info is not None and info.mode == ned_pb2.ShotInfo.MODE_ONLINE and info.frames_analysed == 3


def test_a_corrupt_store_file_is_set_aside_and_the_shot_analysed_again(ned_server, clip):
    with NedClient(ned_server.address) as client:
        _analyse(client, "corrupt@700x700", clip[:10])
    ned_server.stop()
    shots = ned_server.cache_dir / "shots"
    (stored,) = [p for p in shots.iterdir() if (p / "shot.npz").exists()]
    (stored / "shot.npz").write_bytes(b"PK\x03\x04 not really a zip")
    ned_server.start()
    with NedClient(ned_server.address) as client:
        assert client.get_shot("corrupt@700x700") is None  # reported as missing, not garbage
        r = client.render_frame("corrupt@700x700", 0.0, clip[0], EditParams(renderer=RendererKind.PASSTHROUGH))
        assert r.diagnostics.analysed_online and r.patch is not None
    assert any(p.name.endswith(".corrupt") for p in shots.iterdir())
    assert "corrupt" in ned_server.log_path.read_text()


def test_a_face_index_the_shot_does_not_have_is_refused(ned_server, clip):
    with NedClient(ned_server.address) as client:
        _analyse(client, "faces@700x700", clip[:10])
        with pytest.raises(ServerError) as err:
            client.render_frame("faces@700x700", 2.0, clip[2], EditParams(face_index=3), frame_rate=30.0)
    assert err.value.code == grpc.StatusCode.FAILED_PRECONDITION and "face 3 does not exist" in err.value.detail


def test_a_4k_float_frame_goes_through(ned_server):
    frame = np.zeros((2160, 3840, 4), np.float32)
    with NedClient(ned_server.address) as client:
        r = client.render_frame("black4k@3840x2160", 0.0, frame, EditParams(renderer=RendererKind.PASSTHROUGH))
    assert r.patch is None and not r.diagnostics.face_found  # no face in a black frame, and no size error


def test_neural_without_a_trained_renderer_says_what_to_do(ned_server, clip):
    with NedClient(ned_server.address) as client:
        _analyse(client, "neural@700x700", clip[:10])
        with pytest.raises(ServerError) as err:
            client.render_frame("neural@700x700", 1.0, clip[1], EditParams(renderer=RendererKind.NEURAL))
    assert err.value.code == grpc.StatusCode.FAILED_PRECONDITION and "train" in err.value.detail.lower()


def test_logs_are_structured_json_when_asked(ned_server_factory):
    server = ned_server_factory(extra_args=("--log-format", "json"))
    with NedClient(server.address) as client:
        client.server_info()
    server.stop()
    lines = [json.loads(line) for line in server.log_path.read_text().splitlines() if line.startswith("{")]
    assert any(entry["msg"] == "ned-server listening" and "address" in entry for entry in lines)
    assert os.path.getsize(server.log_path) > 0


def test_neural_renderer_trains_and_renders_through_the_server(ned_server, media_dir):
    shot = "neural-trained@700x700"
    clip = _decode(media_dir / "talking" / "retalking_4.mp4", TRAINING_FRAMES)
    with NedClient(ned_server.address, timeout=600) as client:
        client.analyse_shot(shot, ((float(i), f) for i, f in enumerate(clip)), total_frames=len(clip),
                            frame_rate=30.0, keep_training_frames=True)
        stages = [p.stage for p in client.train_renderer(ned_pb2.TrainRendererRequest(
            shot_id=shot, time_budget_seconds=20, device="cpu"))]
        assert stages[0] == "preparing" and "training" in stages and stages[-1] == "done"
        assert client.get_shot(shot).has_neural_renderer
        params = EditParams(emotion=Emotion.SURPRISED, intensity=1.0, renderer=RendererKind.NEURAL)
        frame = _as_float(clip[20])
        rendered = client.render_frame(shot, 20.0, frame, params, frame_rate=30.0, want_alpha=True)
    assert rendered.diagnostics.face_found and rendered.patch is not None
    x, y = rendered.placement_xy
    h, w = rendered.patch.shape[:2]
    outside = np.ones(frame.shape[:2], bool)
    outside[y:y + h, x:x + w] = False
    out = rendered.apply(frame)
    assert np.array_equal(out[outside], frame[outside])
    untouched = rendered.alpha == 0
    assert np.array_equal(rendered.patch[untouched], frame[y:y + h, x:x + w][untouched])
    assert np.abs(out - frame).max() > 0.01


def test_training_needs_the_analysis_to_have_kept_frames(ned_server, clip):
    with NedClient(ned_server.address) as client:
        _analyse(client, "no-frames@700x700", clip[:10])
        with pytest.raises(ServerError) as err:
            list(client.train_renderer(ned_pb2.TrainRendererRequest(shot_id="no-frames@700x700",
                                                                    time_budget_seconds=5)))
    assert err.value.code == grpc.StatusCode.FAILED_PRECONDITION and "keep_training_frames" in err.value.detail

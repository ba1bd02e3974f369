"""The plugin's same-host transport: pixels in POSIX shared memory instead of inside the messages.

With a server on a loopback address that says `shared_memory`, the plugin packs the frame region
into a segment of its own and asks for the patch in another; the bytes must still come back bit
for bit. A server that cannot map the segments (another /dev/shm) gets inline bytes after one
refused call, NED_SHARED_MEMORY=0 turns the feature off, and no segment outlives the host process.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import grpc
import numpy as np
import pytest
from ned_server._gen.ned.v1 import ned_pb2

from tests.hosts.ofx_host import OfxHost
from tests.plugin.frames import as_depth, differing_pixels, read_rgba_frames
from tests.plugin.grpc_spy import GrpcSpy

pytestmark = [pytest.mark.plugin, pytest.mark.media]

PLUGIN_ID = "org.ned.EmotionDirector"
TALKING = "talking/retalking_4.mp4"
HD_CLIP = "mead/crop_M030_sad_3_001.mp4"
PASSTHROUGH = {"renderer": "passthrough", "emotion": "sad", "intensity": 1.0, "onError": "fail render"}
REPO_ROOT = Path(__file__).resolve().parents[2]
WORKER_TIMEOUT_S = 240


class RefusingSpy(GrpcSpy):
    """A spy in front of a server that cannot map the client's segments (its /dev/shm is another)."""

    def __init__(self, upstream: str):
        super().__init__(upstream)
        self.refused: list[ned_pb2.RenderFrameRequest] = []

    def forward(self, method, request, context):
        if method.name == "RenderFrame":
            message = ned_pb2.RenderFrameRequest.FromString(request)
            if message.frame.image.WhichOneof("storage") == "shared" or message.HasField("reply_buffer"):
                self.refused.append(message)
                context.abort(grpc.StatusCode.INVALID_ARGUMENT,
                              f"shared buffer {message.frame.image.shared.name!r} does not exist on the server's host")
        return super().forward(method, request, context)


@pytest.fixture(scope="module")
def talking(media_dir: Path) -> list[np.ndarray]:
    return read_rgba_frames(media_dir / TALKING, 3)


@pytest.fixture(scope="module")
def host(plugin_bundle: Path) -> Iterator[OfxHost]:
    with OfxHost(plugin_bundle, PLUGIN_ID) as h:
        yield h


def _instance(host: OfxHost, address: str):
    return host.create_instance(params={**PASSTHROUGH, "server": address, "shot": f"shm-{uuid.uuid4().hex[:8]}"},
                                frame_rate=30.0)


def _storage(image: ned_pb2.Image) -> str | None:
    return image.WhichOneof("storage")


@pytest.mark.parametrize("depth", ["byte", "short", "float"])
def test_local_server_gets_the_pixels_in_shared_memory_bit_exact(host, server, talking, depth):
    frame = as_depth(talking[0], depth)
    with GrpcSpy(server.address) as spy:
        inst = _instance(host, spy.address)
        result = inst.render(frame, time=0)
        inst.destroy()
    assert result.ok, [m.text for m in result.messages]
    (exchange,) = spy.renders()
    request, reply = exchange.requests[0], exchange.replies[0]
    own = f"/ned-{os.getpid()}-"
    assert _storage(request.frame.image) == "shared" and request.frame.image.shared.name.startswith(own)
    assert request.reply_buffer.name.startswith(own) and request.reply_buffer.name != request.frame.image.shared.name
    assert reply.diagnostics.face_found, "the server must have found the face (else nothing was proven)"
    assert _storage(reply.patch) == "shared" and reply.patch.shared.name == request.reply_buffer.name
    p = reply.placement
    assert differing_pixels(result.output, frame, (p.x, p.y, p.width, p.height)) == (0, 0)


def test_server_that_cannot_map_segments_gets_inline_bytes(host, server, talking):
    with RefusingSpy(server.address) as spy:
        inst = _instance(host, spy.address)
        results = [inst.render(frame, time=float(t)) for t, frame in enumerate(talking)]
        inst.destroy()
    assert all(r.ok for r in results), [[m.text for m in r.messages] for r in results]
    assert all(differing_pixels(r.output, f) == (0, 0) for r, f in zip(results, talking, strict=True))
    assert len(spy.refused) == 1, "after one refused call the plugin must stop offering shared memory"
    forwarded = spy.renders()
    assert [r.requests[0].time for r in forwarded] == [0.0, 1.0, 2.0], "the refused frame is sent again inline"
    assert all(_storage(r.requests[0].frame.image) == "data" and not r.requests[0].HasField("reply_buffer")
               for r in forwarded)


def _worker(plugin_bundle: Path, address: str, media_dir: Path, env: dict[str, str]) -> list[dict]:
    """Three passthrough renders of a 1080p frame in a host process of their own; its JSON lines."""
    argv = [sys.executable, "-m", "tests.plugin.render_worker", "--bundle", str(plugin_bundle), "--server", address,
            "--media", str(media_dir / HD_CLIP), "--renders", "3", "--shot", f"shm-worker-{uuid.uuid4().hex[:8]}"]
    worker = subprocess.run(argv, cwd=REPO_ROOT, capture_output=True, text=True, timeout=WORKER_TIMEOUT_S,
                            env=dict(os.environ, PYTHONPATH=str(REPO_ROOT), **env))
    assert worker.returncode == 0, worker.stderr[-3000:]
    return [json.loads(line) for line in worker.stdout.splitlines()]


@pytest.mark.parametrize("shared", [True, False], ids=["shared-memory", "NED_SHARED_MEMORY=0"])
def test_host_process_transport_and_cleanup(plugin_bundle, server, media_dir, shared):
    with GrpcSpy(server.address) as spy:
        lines = _worker(plugin_bundle, spy.address, media_dir, {} if shared else {"NED_SHARED_MEMORY": "0"})
    assert [line["status"] for line in lines] == [0, 0, 0] and all(line["identical"] for line in lines), lines
    requests = [r.requests[0] for r in spy.renders()]
    assert {_storage(q.frame.image) for q in requests} == ({"shared"} if shared else {"data"})
    names = ({q.frame.image.shared.name for q in requests} | {q.reply_buffer.name for q in requests}) - {""}
    assert len(names) == (2 if shared else 0), f"one request and one reply segment per render thread: {names}"
    left = [name for name in names if Path("/dev/shm", name.lstrip("/")).exists()]
    assert not left, f"segments left behind by the exited host process: {left}"

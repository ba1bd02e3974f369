"""Python client of ned-server, and a way to run a private server for one job.

The CLI, the benchmarks and the tests use this; the OFX plugin has its own C++ client. Errors come
back as `ServerError` (with the gRPC code and the server's detail) or `ServerUnreachable`.
"""

from __future__ import annotations

import logging
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import grpc
import numpy as np

from ned_models.edit import EditParams, RendererKind
from ned_server._gen.ned.v1 import ned_pb2, ned_pb2_grpc
from ned_server.config import MAX_MESSAGE_BYTES
from ned_server.convert import array_to_image, image_to_array

__all__ = ["NedClient", "RenderedPatch", "ServerError", "ServerUnreachable", "LocalServer", "params_to_proto"]

logger = logging.getLogger(__name__)

_RENDERER = {RendererKind.WARP: ned_pb2.RENDERER_WARP, RendererKind.NEURAL: ned_pb2.RENDERER_NEURAL,
             RendererKind.PASSTHROUGH: ned_pb2.RENDERER_PASSTHROUGH, RendererKind.DEBUG: ned_pb2.RENDERER_DEBUG}


class ServerError(RuntimeError):
    """The server answered with an error status."""

    def __init__(self, address: str, code: grpc.StatusCode, detail: str):
        super().__init__(f"ned-server {address}: {code.name}: {detail}")
        self.code, self.detail, self.address = code, detail, address


class ServerUnreachable(ServerError):
    """Nothing answers at the address (not started, wrong port, or it died)."""


@dataclass(frozen=True)
class RenderedPatch:
    """Attributes:
        patch: (h, w, 4) top-down pixels, same dtype as the frame sent; None when no face was found.
        placement_xy: top-left of the patch in the full frame.
        alpha: (h, w) uint8 blend mask, if asked for.
        diagnostics: the server's Diagnostics message.
    """

    patch: np.ndarray | None
    placement_xy: tuple[int, int]
    alpha: np.ndarray | None
    diagnostics: ned_pb2.Diagnostics

    def apply(self, frame: np.ndarray) -> np.ndarray:
        """Paste onto a copy of the full frame (what the plugin does); RGB frames take the patch's RGB."""
        out = frame.copy()
        if self.patch is not None:
            x, y = self.placement_xy
            h, w = self.patch.shape[:2]
            out[y:y + h, x:x + w] = self.patch[..., :out.shape[2]]
        return out


def params_to_proto(params: EditParams) -> ned_pb2.EffectParams:
    return ned_pb2.EffectParams(emotion=int(params.emotion), intensity=params.intensity,
                                mouth_preservation=params.mouth_preservation, face_index=params.face_index,
                                renderer=_RENDERER[params.renderer], feather=params.feather)


def _rgba(frame: np.ndarray) -> np.ndarray:
    """The wire carries RGBA; add an opaque alpha to RGB frames."""
    if frame.ndim != 3 or frame.shape[2] not in (3, 4):
        raise ValueError(f"expected an (H, W, 3|4) frame, got {frame.shape}")
    if frame.shape[2] == 4:
        return frame
    opaque = {np.uint8: 255, np.uint16: 65535}.get(frame.dtype.type, 1.0)
    return np.concatenate([frame, np.full(frame.shape[:2] + (1,), opaque, frame.dtype)], axis=2)


def _frame_region(frame: np.ndarray, region_xy: tuple[int, int] = (0, 0),
                  frame_size_hw: tuple[int, int] | None = None, render_scale: float = 1.0) -> ned_pb2.FrameRegion:
    rgba = _rgba(frame)
    h, w = rgba.shape[:2]
    fh, fw = frame_size_hw or (h, w)
    return ned_pb2.FrameRegion(image=array_to_image(rgba), region=ned_pb2.Rect(x=region_xy[0], y=region_xy[1],
                               width=w, height=h), frame_width=fw, frame_height=fh, render_scale=render_scale,
                               pixel_aspect=1.0)


class NedClient:
    """A connection to one ned-server.

    Args:
        address: "host:port".
        timeout: default deadline of unary calls, seconds (renders may analyse online first).
    """

    def __init__(self, address: str, timeout: float = 120.0):
        self.address = address
        self.timeout = timeout
        options = [("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
                   ("grpc.max_send_message_length", MAX_MESSAGE_BYTES)]
        self._channel = grpc.insecure_channel(address, options=options)
        self._stub = ned_pb2_grpc.EmotionDirectorStub(self._channel)

    def close(self) -> None:
        self._channel.close()

    def __enter__(self) -> NedClient:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _error(self, exc: grpc.RpcError) -> ServerError:
        code, detail = exc.code(), exc.details() or ""
        kind = ServerUnreachable if code == grpc.StatusCode.UNAVAILABLE else ServerError
        return kind(self.address, code, detail)

    def _call(self, method: Callable, request, timeout: float | None = None):
        try:
            return method(request, timeout=timeout or self.timeout)
        except grpc.RpcError as exc:
            raise self._error(exc) from None

    # ------------------------------------------------------------------------------------ calls
    def server_info(self, timeout: float | None = None) -> ned_pb2.ServerInfo:
        return self._call(self._stub.GetServerInfo, ned_pb2.GetServerInfoRequest(), timeout)

    def wait_ready(self, timeout: float = 30.0) -> ned_pb2.ServerInfo:
        """Retry GetServerInfo until the server answers or `timeout` passes."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                return self.server_info(timeout=2.0)
            except ServerUnreachable:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)

    def get_shot(self, shot_id: str, include_regions: bool = False) -> ned_pb2.ShotInfo | None:
        try:
            return self._stub.GetShot(ned_pb2.GetShotRequest(shot_id=shot_id, include_regions=include_regions),
                                      timeout=self.timeout)
        except grpc.RpcError as exc:
            if exc.code() == grpc.StatusCode.NOT_FOUND:
                return None
            raise self._error(exc) from None

    def delete_shot(self, shot_id: str) -> bool:
        return self._call(self._stub.DeleteShot, ned_pb2.DeleteShotRequest(shot_id=shot_id)).existed

    def analyse_shot(self, shot_id: str, frames: Iterable[tuple[float, np.ndarray]], total_frames: int = 0,
                     on_progress: Callable[[ned_pb2.AnalyzeShotProgress], None] | None = None,
                     cancel: threading.Event | None = None, frame_rate: float = 0.0,
                     keep_training_frames: bool = False) -> ned_pb2.ShotInfo:
        """Stream a shot's frames for a full analysis; returns the stored ShotInfo.

        Args:
            frames: (time, (H, W, 3|4) frame) in increasing time; times are frame numbers.
            on_progress: called with every progress message.
            cancel: set it (from another thread) to stop; raises ServerError(CANCELLED).
            frame_rate: frames per second that map the times to seconds (0 = the server's default, 25).
            keep_training_frames: keep face crops so the shot's neural renderer can be trained.
        """

        def requests() -> Iterator[ned_pb2.AnalyzeShotRequest]:
            for i, (t, frame) in enumerate(frames):
                if cancel is not None and cancel.is_set():
                    return
                yield ned_pb2.AnalyzeShotRequest(shot_id=shot_id if i == 0 else "", time=t,
                                                 frame=_frame_region(frame), total_frames=total_frames,
                                                 replace=i == 0, frame_rate=frame_rate if i == 0 else 0.0,
                                                 keep_training_frames=keep_training_frames and i == 0)

        call = self._stub.AnalyzeShot(requests())
        finished = threading.Event()
        if cancel is not None:
            def watch() -> None:  # turn the caller's event into a gRPC cancellation
                while not finished.wait(0.05):
                    if cancel.is_set():
                        call.cancel()
                        return

            threading.Thread(target=watch, daemon=True, name="analyse-cancel").start()
        final = None
        try:
            for progress in call:
                if on_progress:
                    on_progress(progress)
                if progress.HasField("shot"):
                    final = progress.shot
        except grpc.RpcError as exc:
            raise self._error(exc) from None
        finally:
            finished.set()
        if final is None:
            raise ServerError(self.address, grpc.StatusCode.CANCELLED, "analysis ended without a result")
        return final

    def render_frame(self, shot_id: str, time_: float, frame: np.ndarray, params: EditParams, *,
                     region_xy: tuple[int, int] = (0, 0), frame_size_hw: tuple[int, int] | None = None,
                     render_scale: float = 1.0, want_alpha: bool = False, frame_rate: float = 0.0) -> RenderedPatch:
        """Render one frame (or the region of it given by `region_xy` / `frame_size_hw`).

        `time_` is a frame number; `frame_rate` maps it to seconds (0 = the rate the shot was analysed at).
        """
        request = ned_pb2.RenderFrameRequest(shot_id=shot_id, time=time_, params=params_to_proto(params),
                                             want_alpha=want_alpha, frame_rate=frame_rate,
                                             frame=_frame_region(frame, region_xy, frame_size_hw, render_scale))
        reply = self._call(self._stub.RenderFrame, request)
        if not reply.HasField("patch") or reply.patch.width == 0:
            return RenderedPatch(None, (0, 0), None, reply.diagnostics)
        patch = image_to_array(reply.patch, "patch")
        alpha = None
        if reply.alpha:
            alpha = np.frombuffer(reply.alpha, np.uint8).reshape(patch.shape[:2])
        return RenderedPatch(patch, (reply.placement.x, reply.placement.y), alpha, reply.diagnostics)

    def train_renderer(self, request: ned_pb2.TrainRendererRequest) -> Iterator[ned_pb2.TrainProgress]:
        try:
            yield from self._stub.TrainRenderer(request)
        except grpc.RpcError as exc:
            raise self._error(exc) from None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LocalServer:
    """Start a private `ned-server` on a free loopback port for the duration of a `with` block.

    Args:
        cache_dir: shot cache; a temporary directory (deleted afterwards) when None.
        log_path: where the server's log goes (default: a file in the cache dir).
    """

    def __init__(self, cache_dir: Path | None = None, log_path: Path | None = None, ready_timeout: float = 60.0):
        self._tmp = tempfile.TemporaryDirectory(prefix="ned-server-") if cache_dir is None else None
        self.cache_dir = Path(cache_dir or self._tmp.name)
        self.address = f"127.0.0.1:{free_port()}"
        self.log_path = log_path or self.cache_dir / "ned-server.log"
        self._ready_timeout = ready_timeout
        self.process: subprocess.Popen | None = None

    def __enter__(self) -> LocalServer:
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        log = open(self.log_path, "ab")  # noqa: SIM115 - owned by the child process
        self.process = subprocess.Popen([sys.executable, "-m", "ned_server", "--listen", self.address,
                                         "--cache-dir", str(self.cache_dir)], stdout=log, stderr=log,
                                        env=dict(os.environ))
        log.close()
        try:
            with NedClient(self.address) as client:
                client.wait_ready(self._ready_timeout)
        except ServerError:
            self.__exit__()
            raise ServerUnreachable(self.address, grpc.StatusCode.UNAVAILABLE,
                                    f"the private server did not start; see {self.log_path}") from None
        return self

    def __exit__(self, *exc) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self._tmp is not None:
            self._tmp.cleanup()

"""The real `ned-server` console script as a child process for end-to-end tests.

Tests talk to it over gRPC on loopback, exactly like the plugin does, and can stop it, kill it
(SIGKILL) and start it again on the same port and cache directory.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import grpc
from ned_server._gen.ned.v1 import ned_pb2, ned_pb2_grpc

MAX_MESSAGE_BYTES = 1 << 30  # 4K float frames are ~133 MB
READY_TIMEOUT_S = 120.0


def free_loopback_port() -> int:
    """A TCP port nothing listens on right now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def ned_server_executable() -> Path:
    """`ned-server` from the virtual environment running the tests."""
    return Path(sys.executable).parent / "ned-server"


def channel(address: str) -> grpc.Channel:
    options = [("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
               ("grpc.max_send_message_length", MAX_MESSAGE_BYTES)]
    return grpc.insecure_channel(address, options=options)


class NedServerProcess:
    """One `ned-server --listen 127.0.0.1:PORT --cache-dir DIR`, restartable on the same port."""

    def __init__(self, cache_dir: Path, log_path: Path, port: int | None = None,
                 extra_args: tuple[str, ...] = ()):
        self.port = port or free_loopback_port()
        self.cache_dir = cache_dir
        self.log_path = log_path
        self.extra_args = extra_args
        self.process: subprocess.Popen[bytes] | None = None
        self._channel: grpc.Channel | None = None

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def start(self, timeout: float = READY_TIMEOUT_S) -> NedServerProcess:
        """Start the server and wait until GetServerInfo answers; raise with its log if it cannot."""
        if self.running:
            raise RuntimeError(f"ned-server on {self.address} is already running")
        executable = ned_server_executable()
        if not executable.exists():
            raise FileNotFoundError(f"{executable} is missing; run `python3 build.py setup`")
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        argv = [str(executable), "--listen", self.address, "--cache-dir", str(self.cache_dir), *self.extra_args]
        with open(self.log_path, "ab") as log:
            log.write(f"\n===== {' '.join(argv)}\n".encode())
            log.flush()
            self.process = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT,
                                            env=dict(os.environ, PYTHONUNBUFFERED="1"))
        self._wait_ready(timeout)
        return self

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.running:
                code = self.process.returncode if self.process else None
                raise RuntimeError(f"ned-server exited ({code}) before answering on {self.address}:\n"
                                   f"{self.log_tail()}")
            try:
                self.server_info(timeout=1.0)
                return
            except grpc.RpcError:
                time.sleep(0.1)
        self.kill()
        raise TimeoutError(f"ned-server did not answer on {self.address} within {timeout:.0f} s:\n"
                           f"{self.log_tail()}")

    def stop(self, timeout: float = 20.0) -> None:
        """SIGTERM (graceful), then SIGKILL if it does not exit in time."""
        if self.running:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.kill()
        self._close_channel()

    def kill(self) -> None:
        """SIGKILL: the server dies at once, mid-call if a call is in flight."""
        if self.running:
            self.process.kill()
            self.process.wait(10)
        self._close_channel()

    def _close_channel(self) -> None:
        if self._channel is not None:
            self._channel.close()
            self._channel = None

    # ------------------------------------------------------------------------ gRPC
    @property
    def stub(self) -> ned_pb2_grpc.EmotionDirectorStub:
        if self._channel is None:
            self._channel = channel(self.address)
        return ned_pb2_grpc.EmotionDirectorStub(self._channel)

    def server_info(self, timeout: float = 10.0) -> ned_pb2.ServerInfo:
        return self.stub.GetServerInfo(ned_pb2.GetServerInfoRequest(), timeout=timeout)

    def get_shot(self, shot_id: str, include_regions: bool = False, timeout: float = 30.0) -> ned_pb2.ShotInfo | None:
        """The server's ShotInfo, or None when it knows nothing of the shot (NOT_FOUND)."""
        try:
            return self.stub.GetShot(ned_pb2.GetShotRequest(shot_id=shot_id, include_regions=include_regions),
                                     timeout=timeout)
        except grpc.RpcError as e:
            if e.code() == grpc.StatusCode.NOT_FOUND:
                return None
            raise

    def log_tail(self, chars: int = 4000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except FileNotFoundError:
            return "(no log)"

"""The server's runtime configuration, built once at start-up from the command line."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

__all__ = ["ServerConfig", "MAX_MESSAGE_BYTES", "default_cache_dir"]

# A 3840x2160 RGBA float frame is 133 MB; leave room for 8K-wide plates and the message fields.
MAX_MESSAGE_BYTES = 1 << 30


def default_cache_dir() -> Path:
    base = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
    return base / "emotion-director" / "shots"


@dataclass(frozen=True)
class ServerConfig:
    """Attributes:
        listen: gRPC address to bind; loopback by default (the bridge is for this machine).
        cache_dir: where shot analyses and trained renderers persist across restarts.
        workers: RPCs served concurrently.
        memory_budget_bytes: shot analyses kept in memory (least recently used are dropped first).
        device: "auto", "cpu" or "cuda" for the neural renderer.
        log_format: "text" or "json" (one JSON object per line).
    """

    listen: str = "127.0.0.1:50051"
    cache_dir: Path = default_cache_dir()
    workers: int = 4
    memory_budget_bytes: int = 2 << 30
    device: str = "auto"
    log_format: str = "text"

"""`ned-server`: the local gRPC server behind the Emotion Director OFX plugin and CLI."""

from __future__ import annotations

import os

# One BLAS thread per RPC worker: the server runs many small solves concurrently, and a multi-threaded
# BLAS on a busy machine turned a 0.16 s decomposition into 5.9 s. Must precede numpy's import.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse  # noqa: E402
import logging  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

from ned_server import __version__  # noqa: E402
from ned_server.config import ServerConfig, default_cache_dir  # noqa: E402
from ned_server.logs import configure_logging  # noqa: E402

__all__ = ["main", "parse_args"]


def parse_args(argv: list[str] | None = None) -> ServerConfig:
    defaults = ServerConfig()
    p = argparse.ArgumentParser(prog="ned-server", description=__doc__)
    p.add_argument("--listen", default=defaults.listen,
                   help="host:port to serve on (default %(default)s; loopback only unless you say otherwise)")
    p.add_argument("--cache-dir", type=Path, default=default_cache_dir(),
                   help="where shot analyses and trained renderers are kept (default %(default)s)")
    p.add_argument("--workers", type=int, default=defaults.workers, help="concurrent RPCs (default %(default)s)")
    p.add_argument("--memory-budget-mb", type=int, default=defaults.memory_budget_bytes >> 20,
                   help="shot analyses kept in memory, MiB (default %(default)s)")
    p.add_argument("--device", choices=["auto", "cpu", "cuda"], default=defaults.device,
                   help="device for the neural renderer (default %(default)s)")
    p.add_argument("--log-format", choices=["text", "json"], default=defaults.log_format)
    p.add_argument("--log-level", default="INFO")
    p.add_argument("--version", action="version", version=f"ned-server {__version__}")
    a = p.parse_args(argv)
    if a.workers < 1:
        p.error("--workers must be at least 1")
    configure_logging(a.log_format, a.log_level)
    return ServerConfig(listen=a.listen, cache_dir=a.cache_dir, workers=a.workers,
                        memory_budget_bytes=a.memory_budget_mb << 20, device=a.device, log_format=a.log_format)


def main(argv: list[str] | None = None) -> None:
    config = parse_args(argv)
    from ned_server.app import serve  # after logging is configured: importing loads gRPC and the models

    try:
        config.cache_dir.mkdir(parents=True, exist_ok=True)
        serve(config)
    except OSError as exc:
        logging.getLogger("ned_server").error("%s", exc)
        sys.exit(2)


if __name__ == "__main__":
    main()

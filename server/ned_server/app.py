"""Server lifecycle: create, serve, health, clean shutdown on SIGTERM/SIGINT."""

from __future__ import annotations

import logging
import signal
import threading
from concurrent import futures

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc

from ned_server._gen.ned.v1 import ned_pb2, ned_pb2_grpc
from ned_server.config import MAX_MESSAGE_BYTES, ServerConfig
from ned_server.servicer import EmotionDirectorServicer

__all__ = ["create_server", "serve", "SERVICE_NAME"]

logger = logging.getLogger(__name__)
SERVICE_NAME = ned_pb2.DESCRIPTOR.services_by_name["EmotionDirector"].full_name
SHUTDOWN_GRACE_S = 5.0


def create_server(config: ServerConfig) -> tuple[grpc.Server, int, EmotionDirectorServicer, health.HealthServicer]:
    """Build (but do not start) the gRPC server; returns it with the bound port.

    Raises:
        OSError: the address cannot be bound.
    """
    options = [("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
               ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
               ("grpc.so_reuseport", 0)]
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=config.workers, thread_name_prefix="rpc"),
                         options=options)
    servicer = EmotionDirectorServicer(config)
    ned_pb2_grpc.add_EmotionDirectorServicer_to_server(servicer, server)
    health_servicer = health.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    port = server.add_insecure_port(config.listen)
    if port == 0:
        raise OSError(f"cannot listen on {config.listen} (address in use or not local)")
    return server, port, servicer, health_servicer


def serve(config: ServerConfig) -> None:
    """Run until SIGTERM/SIGINT, then finish RPCs in flight (grace period) and save state."""
    server, port, servicer, health_servicer = create_server(config)
    host = config.listen.rsplit(":", 1)[0]
    if host not in ("127.0.0.1", "localhost", "[::1]", "::1"):
        logger.warning("listening on %s: other machines can reach this server; it has no authentication",
                       config.listen)
    server.start()
    for name in ("", SERVICE_NAME):
        health_servicer.set(name, health_pb2.HealthCheckResponse.SERVING)
    logger.info("ned-server listening", extra={"address": f"{host}:{port}", "cache_dir": str(config.cache_dir)})

    stopping = threading.Event()

    def on_signal(signum: int, _frame) -> None:
        if stopping.is_set():
            return
        stopping.set()
        logger.info("shutting down", extra={"signal": signal.Signals(signum).name})
        health_servicer.enter_graceful_shutdown()
        threading.Thread(target=lambda: server.stop(SHUTDOWN_GRACE_S), name="stop").start()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    server.wait_for_termination()
    servicer.close()
    logger.info("ned-server stopped")

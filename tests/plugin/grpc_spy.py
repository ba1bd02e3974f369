"""A recording gRPC proxy between the plugin and the real ned-server.

Hosts pass the source frame through when a render fails, so an unchanged output proves nothing by
itself. The spy forwards every call byte for byte to the real server and records what crossed the
wire (requests and replies, pixels left out), so a test can assert that the server was asked, with
which parameters at which time, and what it answered.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent import futures
from dataclasses import dataclass, field
from typing import Any

import grpc
from ned_server._gen.ned.v1 import ned_pb2

from tests.hosts.server_process import MAX_MESSAGE_BYTES, channel

_SERVICE = ned_pb2.DESCRIPTOR.services_by_name["EmotionDirector"]


@dataclass
class Exchange:
    """One call: method name, requests and replies without pixel bytes, the final status code."""

    method: str
    requests: list[Any] = field(default_factory=list)
    replies: list[Any] = field(default_factory=list)
    code: grpc.StatusCode = grpc.StatusCode.OK
    details: str = ""
    ended: threading.Event = field(default_factory=threading.Event)  # set once code and details are final


def _light(message_class: type, raw: bytes) -> Any:
    """Decode `raw`, then drop the pixel payloads (frames are megabytes each)."""
    message = message_class.FromString(raw)
    for holder in ("frame", "patch"):
        if message.DESCRIPTOR.fields_by_name.get(holder) is None or not message.HasField(holder):
            continue
        image = message.frame.image if holder == "frame" else message.patch
        if image.WhichOneof("storage") == "data":
            image.data = b""
    return message


class GrpcSpy:
    """Listens on a free loopback port and forwards every EmotionDirector call to `upstream`."""

    def __init__(self, upstream: str):
        self.upstream = upstream
        self.exchanges: list[Exchange] = []
        self._lock = threading.Lock()
        self._channel = channel(upstream)
        options = [("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
                   ("grpc.max_send_message_length", MAX_MESSAGE_BYTES)]
        self._server = grpc.server(futures.ThreadPoolExecutor(max_workers=8), options=options)
        self._server.add_generic_rpc_handlers([_Handler(self)])
        self.port = self._server.add_insecure_port("127.0.0.1:0")
        self._server.start()

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def close(self) -> None:
        self._server.stop(grace=None)
        self._channel.close()

    def __enter__(self) -> GrpcSpy:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def calls(self, method: str) -> list[Exchange]:
        with self._lock:
            return [e for e in self.exchanges if e.method == method]

    def renders(self, shot_id: str | None = None) -> list[Exchange]:
        """RenderFrame exchanges (optionally of one shot), in arrival order."""
        return [e for e in self.calls("RenderFrame") if shot_id is None or e.requests[0].shot_id == shot_id]

    def _record(self, exchange: Exchange) -> Exchange:
        with self._lock:
            self.exchanges.append(exchange)
        return exchange

    # ------------------------------------------------------------------------ forwarding
    def forward(self, method: Any, request: Any, context: grpc.ServicerContext) -> Any:
        exchange = self._record(Exchange(method.name))
        path = f"/{_SERVICE.full_name}/{method.name}"
        in_cls = ned_pb2.__dict__[method.input_type.name]
        out_cls = ned_pb2.__dict__[method.output_type.name]
        requests = self._tee(request, in_cls, exchange) if method.client_streaming else request
        if not method.client_streaming:
            exchange.requests.append(_light(in_cls, request))
        kind = {(False, False): "unary_unary", (False, True): "unary_stream",
                (True, False): "stream_unary", (True, True): "stream_stream"}
        call_factory = getattr(self._channel, kind[(method.client_streaming, method.server_streaming)])(path)
        timeout = context.time_remaining()
        if method.server_streaming:
            return self._relay_stream(call_factory(requests, timeout=timeout), out_cls, exchange, context)
        try:
            reply = call_factory(requests, timeout=timeout)
            exchange.replies.append(_light(out_cls, reply))
            return reply
        except grpc.RpcError as e:
            exchange.code, exchange.details = e.code(), e.details() or ""
            context.abort(e.code(), e.details() or "")
        finally:
            exchange.ended.set()

    @staticmethod
    def _tee(stream: Iterator[bytes], in_cls: type, exchange: Exchange) -> Iterator[bytes]:
        for raw in stream:
            exchange.requests.append(_light(in_cls, raw))
            yield raw

    @staticmethod
    def _relay_stream(call: Any, out_cls: type, exchange: Exchange, context: grpc.ServicerContext) -> Iterator[bytes]:
        context.add_callback(call.cancel)  # the client gave up: cancel upstream as well
        try:
            for raw in call:
                exchange.replies.append(_light(out_cls, raw))
                yield raw
        except grpc.RpcError as e:
            exchange.code, exchange.details = e.code(), e.details() or ""
            if e.code() != grpc.StatusCode.CANCELLED:
                context.abort(e.code(), e.details() or "")
        finally:
            exchange.ended.set()


class _Handler(grpc.GenericRpcHandler):
    def __init__(self, spy: GrpcSpy):
        self.spy = spy

    def service(self, details: grpc.HandlerCallDetails) -> grpc.RpcMethodHandler | None:
        service, _, name = details.method.lstrip("/").partition("/")
        method = _SERVICE.methods_by_name.get(name) if service == _SERVICE.full_name else None
        if method is None:
            return None
        make = {(False, False): grpc.unary_unary_rpc_method_handler,
                (False, True): grpc.unary_stream_rpc_method_handler,
                (True, False): grpc.stream_unary_rpc_method_handler,
                (True, True): grpc.stream_stream_rpc_method_handler}[(method.client_streaming,
                                                                      method.server_streaming)]
        return make(lambda request, context: self.spy.forward(method, request, context))

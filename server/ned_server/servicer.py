"""The gRPC service: validate, delegate to the shot service and the frame pipeline, map errors.

Every RPC turns failures into a status code with a detail the plugin shows to the user verbatim:
INVALID_ARGUMENT for malformed requests, NOT_FOUND for unknown shots, FAILED_PRECONDITION for
missing models/analysis/renderers, CANCELLED when the client gave up, INTERNAL for our own bugs
(logged with a traceback). Nothing here does image or model math.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import ExitStack

import grpc

from ned_models.errors import AnalysisMissing, ModelLoadError, NedError, NoFaceFound
from ned_server import __version__, shm
from ned_server._gen.ned.v1 import ned_pb2, ned_pb2_grpc
from ned_server.config import MAX_MESSAGE_BYTES, ServerConfig
from ned_server.convert import InvalidRequest, array_to_image, frame_from_proto, params_from_proto, rect_to_proto
from ned_server.devices import available_renderers, describe_backends, describe_devices
from ned_server.shots import AnalysisCancelled, ShotService
from ned_server.training import TrainingBusy

__all__ = ["EmotionDirectorServicer"]

logger = logging.getLogger(__name__)

_STATUS_OF = [  # most specific first
    (InvalidRequest, grpc.StatusCode.INVALID_ARGUMENT),
    (ValueError, grpc.StatusCode.INVALID_ARGUMENT),
    (AnalysisCancelled, grpc.StatusCode.CANCELLED),
    (TrainingBusy, grpc.StatusCode.RESOURCE_EXHAUSTED),
    (AnalysisMissing, grpc.StatusCode.FAILED_PRECONDITION),
    (ModelLoadError, grpc.StatusCode.FAILED_PRECONDITION),
    (NoFaceFound, grpc.StatusCode.FAILED_PRECONDITION),
    (NedError, grpc.StatusCode.FAILED_PRECONDITION),
]


def _abort(context: grpc.ServicerContext, exc: BaseException, rpc: str) -> None:
    for kind, code in _STATUS_OF:
        if isinstance(exc, kind):
            logger.info("%s rejected: %s", rpc, exc, extra={"code": code.name})
            context.abort(code, str(exc))
    logger.exception("%s failed", rpc)
    context.abort(grpc.StatusCode.INTERNAL, f"internal error in {rpc}: {type(exc).__name__}: {exc}")


class EmotionDirectorServicer(ned_pb2_grpc.EmotionDirectorServicer):
    """Implements ned.v1.EmotionDirector; one instance serves all RPCs (thread-safe)."""

    def __init__(self, config: ServerConfig):
        self._config = config
        self._shots = ShotService(config)

    def close(self) -> None:
        """Persist what is only in memory (online analyses); called once at shutdown."""
        self._shots.close()

    # ---------------------------------------------------------------------------------- info
    def GetServerInfo(self, request, context):
        return ned_pb2.ServerInfo(version=__version__, devices=describe_devices(), backends=describe_backends(),
                                  renderers=available_renderers(), max_message_bytes=MAX_MESSAGE_BYTES,
                                  shared_memory=shm.available(), schema_version=self._shots.schema_version)

    def GetShot(self, request, context):
        try:
            info = self._shots.info(_shot_id(request.shot_id), include_regions=request.include_regions)
        except Exception as exc:  # noqa: BLE001 - mapped to a status
            _abort(context, exc, "GetShot")
        if info is None:
            context.abort(grpc.StatusCode.NOT_FOUND, f"shot {request.shot_id!r} has not been analysed")
        return info

    def DeleteShot(self, request, context):
        try:
            return ned_pb2.DeleteShotResponse(existed=self._shots.delete(_shot_id(request.shot_id)))
        except Exception as exc:  # noqa: BLE001
            _abort(context, exc, "DeleteShot")

    # ---------------------------------------------------------------------------------- analysis
    def AnalyzeShot(self, request_iterator, context) -> Iterator[ned_pb2.AnalyzeShotProgress]:
        try:
            yield from self._shots.analyse_stream(request_iterator, is_cancelled=lambda: not context.is_active())
        except Exception as exc:  # noqa: BLE001
            if not context.is_active():
                logger.info("AnalyzeShot cancelled by the client; partial analysis discarded")
                return
            _abort(context, exc, "AnalyzeShot")

    # ---------------------------------------------------------------------------------- render
    def RenderFrame(self, request, context):
        started = time.perf_counter()
        try:
            with ExitStack() as stack:
                frame = frame_from_proto(request.frame, _shared_input(request, context, stack))
                params = params_from_proto(request.params)
                result = self._shots.render(_shot_id(request.shot_id), request.time, frame, params,
                                            request.frame_rate)
                response = ned_pb2.RenderFrameResponse(diagnostics=result.diagnostics)
                if result.patch is not None:
                    x, y = result.placement_xy
                    h, w = result.patch.shape[:2]
                    response.placement.CopyFrom(rect_to_proto(x, y, w, h))
                    response.patch.CopyFrom(_reply_image(request, context, stack, result.patch))
                    if request.want_alpha:
                        response.alpha = result.alpha_u8.tobytes()
        except Exception as exc:  # noqa: BLE001
            _abort(context, exc, "RenderFrame")
        response.diagnostics.server_ms = (time.perf_counter() - started) * 1e3
        return response

    # ---------------------------------------------------------------------------------- training
    def TrainRenderer(self, request, context):
        try:
            yield from self._shots.train_renderer(request, is_cancelled=lambda: not context.is_active())
        except Exception as exc:  # noqa: BLE001
            if not context.is_active():
                logger.info("TrainRenderer cancelled by the client; last checkpoint kept")
                return
            _abort(context, exc, "TrainRenderer")


def _shot_id(shot_id: str) -> str:
    if not shot_id or len(shot_id) > 512:
        raise InvalidRequest("shot_id must be 1..512 characters")
    return shot_id


def _shared_input(request, context, stack: ExitStack):
    """Map the request's shared-memory pixels, if it used them (same-host clients only)."""
    image = request.frame.image
    if image.WhichOneof("storage") != "shared":
        return None
    if not shm.is_local_peer(context.peer()):
        raise InvalidRequest(f"shared memory is only accepted from this machine, not from {context.peer()}")
    buf = image.shared
    return stack.enter_context(shm.mapped(buf.name, buf.offset, buf.size, writable=False))


def _reply_image(request, context, stack: ExitStack, patch) -> ned_pb2.Image:
    """The patch as an Image: inline, or written into the client's reply buffer."""
    if not request.HasField("reply_buffer"):
        return array_to_image(patch)
    if not shm.is_local_peer(context.peer()):
        raise InvalidRequest(f"shared memory is only accepted from this machine, not from {context.peer()}")
    buf = request.reply_buffer
    nbytes = patch.nbytes
    if nbytes > buf.size:
        raise InvalidRequest(f"reply buffer {buf.name!r} holds {buf.size} bytes; the patch needs {nbytes}")
    view = stack.enter_context(shm.mapped(buf.name, buf.offset, nbytes, writable=True))
    view[:] = memoryview(patch.reshape(-1).view("u1"))
    image = array_to_image(patch[:0])  # header only; the pixels went to shared memory
    h, w = patch.shape[:2]
    image.height, image.width = h, w
    image.ClearField("data")
    image.shared.CopyFrom(ned_pb2.SharedBuffer(name=buf.name, offset=buf.offset, size=nbytes))
    return image

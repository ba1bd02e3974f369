"""Transfer cost: RenderFrame round trips on the identity path against a plain memory copy.

RENDERER_PASSTHROUGH returns the face patch unedited, so a round trip is transport plus the
server's (small) passthrough render. For each resolution and pixel format the same analysed frame
is sent four ways (the whole frame or the face region only; pixels inline in the message or in a
shared-memory segment with the reply written to another), from Python, the way a client does it:
pack the pixels, call, unpack the patch and paste it into the output frame. The floor is
`np.copyto` of the bytes sent plus the patch bytes returned, in this process.

Transport per call = round trip - the server's render stage (`Diagnostics.stage_ms["render"]`);
its share is that over the round trip.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

import grpc
import numpy as np
from ned_server._gen.ned.v1 import ned_pb2, ned_pb2_grpc
from ned_server.client import NedClient, params_to_proto
from ned_server.config import MAX_MESSAGE_BYTES
from ned_server.convert import array_to_image, image_to_array

from bench.inputs import Clip, as_rgba
from bench.results import Figure, Measurement, StageResult, Timing
from bench.shared_buffer import SharedSegment
from ned_models.edit import EditParams, RendererKind

__all__ = ["run_transfer", "analyse_for_regions", "PIXEL_FORMATS"]

logger = logging.getLogger(__name__)

PIXEL_FORMATS = {"rgba8": np.uint8, "rgba32f": np.float32}
ANALYSED_FRAMES = 6  # the shot must be analysed for region-only sends; a few frames suffice
_PARAMS = params_to_proto(EditParams(renderer=RendererKind.PASSTHROUGH))
_BYTES_PER_PIXEL = {ned_pb2.PIXEL_FORMAT_RGBA8: 4, ned_pb2.PIXEL_FORMAT_RGBA16: 8, ned_pb2.PIXEL_FORMAT_RGBA32F: 16}


@dataclass(frozen=True)
class _Target:
    """One frame to send: the shot, the full frame and the part of it sent."""

    shot_id: str
    frame_rate: float
    frame: np.ndarray  # (H, W, 4) full RGBA frame
    rect: tuple[int, int, int, int]  # x, y, w, h of what is sent

    @property
    def pixels(self) -> np.ndarray:
        x, y, w, h = self.rect
        return np.ascontiguousarray(self.frame[y:y + h, x:x + w])


@dataclass
class _Calls:
    """Per-call samples of one variant."""

    rtt_ms: list[float]
    render_ms: list[float]
    server_ms: list[float]
    patch_bytes: int = 0


def analyse_for_regions(client: NedClient, clip: Clip, shot_id: str, frames: int = ANALYSED_FRAMES
                        ) -> tuple[int, int, int, int]:
    """Analyse the first `frames` frames of `clip` on the server; the face region (x, y, w, h) at frame 0."""
    timed = [(float(i), frame) for i, frame in enumerate(clip.frames[:frames])]
    client.analyse_shot(shot_id, timed, total_frames=len(timed), frame_rate=clip.spec.frame_rate)
    info = client.get_shot(shot_id, include_regions=True)
    for region in info.regions if info else ():
        if region.time == 0.0 and region.face_index == 0:
            r = region.rect
            return r.x, r.y, r.width, r.height
    raise RuntimeError(f"{clip.resolution}: the server found no face in frame 0 of {shot_id}")


def _request(target: _Target, image: ned_pb2.Image) -> ned_pb2.RenderFrameRequest:
    x, y, w, h = target.rect
    frame_h, frame_w = target.frame.shape[:2]
    region = ned_pb2.FrameRegion(image=image, region=ned_pb2.Rect(x=x, y=y, width=w, height=h), frame_width=frame_w,
                                 frame_height=frame_h, render_scale=1.0, pixel_aspect=1.0)
    return ned_pb2.RenderFrameRequest(shot_id=target.shot_id, time=0.0, frame=region, params=_PARAMS,
                                      frame_rate=target.frame_rate)


def _paste(out: np.ndarray, reply: ned_pb2.RenderFrameResponse, patch: np.ndarray) -> None:
    p = reply.placement
    out[p.y:p.y + p.height, p.x:p.x + p.width] = patch


def _inline_call(stub, target: _Target, out: np.ndarray) -> Callable[[], ned_pb2.RenderFrameResponse]:
    pixels = target.pixels

    def call() -> ned_pb2.RenderFrameResponse:
        reply = stub.RenderFrame(_request(target, array_to_image(pixels)), timeout=120)
        _paste(out, reply, image_to_array(reply.patch, "patch"))
        return reply

    return call


def _shared_call(stub, target: _Target, out: np.ndarray, into: SharedSegment,
                 back: SharedSegment) -> Callable[[], ned_pb2.RenderFrameResponse]:
    pixels = target.pixels
    staged = into.array(pixels.shape, pixels.dtype)
    header = array_to_image(pixels[:0])  # format, row order; the pixels travel in the segment
    header.width, header.height = pixels.shape[1], pixels.shape[0]
    header.ClearField("data")
    header.shared.CopyFrom(into.buffer(pixels.nbytes))

    def call() -> ned_pb2.RenderFrameResponse:
        np.copyto(staged, pixels)
        request = _request(target, header)
        request.reply_buffer.CopyFrom(back.buffer())
        reply = stub.RenderFrame(request, timeout=120)
        shape = (reply.patch.height, reply.patch.width, 4)
        _paste(out, reply, back.array(shape, pixels.dtype))
        return reply

    return call


def _sample(call: Callable[[], ned_pb2.RenderFrameResponse], repeats: int, warmup: int) -> _Calls:
    for _ in range(warmup):
        call()
    calls = _Calls([], [], [])
    for _ in range(repeats):
        start = time.perf_counter()
        reply = call()
        calls.rtt_ms.append((time.perf_counter() - start) * 1e3)
        if not reply.diagnostics.face_found:
            raise RuntimeError("passthrough round trip found no face: the transfer figures would be meaningless")
        calls.render_ms.append(reply.diagnostics.stage_ms["render"])
        calls.server_ms.append(reply.diagnostics.server_ms)
        calls.patch_bytes = reply.placement.width * reply.placement.height * _BYTES_PER_PIXEL[reply.patch.format]
    return calls


def _floor_ms(pixels: np.ndarray, patch_bytes: int, repeats: int) -> np.ndarray:
    """In-process copies of the same bytes: the request pixels out, the patch back."""
    sent, back = np.empty_like(pixels), np.empty(patch_bytes, np.uint8)
    patch = np.ascontiguousarray(pixels.reshape(-1).view(np.uint8)[:patch_bytes])
    samples = []
    for index in range(repeats + 2):
        start = time.perf_counter()
        np.copyto(sent, pixels)
        np.copyto(back, patch)
        if index >= 2:
            samples.append((time.perf_counter() - start) * 1e3)
    return np.asarray(samples)


def _record(result: StageResult, clip: Clip, fmt: str, name: str, calls: _Calls, sent: int) -> None:
    res = clip.resolution
    result.measurements.append(Measurement("transfer", name, res, "call", Timing.of(calls.rtt_ms), clip.source,
                                           clip.synthetic, fmt, sent))
    transport = np.asarray(calls.rtt_ms) - np.asarray(calls.render_ms)
    share = 100.0 * transport / np.asarray(calls.rtt_ms)
    result.figures.append(Figure("transfer", f"transport ms, {name}, {fmt}", float(np.median(transport)), "ms", res,
                                 "median of round trip - server render stage"))
    result.figures.append(Figure("transfer", f"transport share, {name}, {fmt}", float(np.median(share)), "%", res,
                                 "median of (round trip - server render stage) / round trip"))
    result.figures.append(Figure("transfer", f"server render stage, {name}, {fmt}", float(np.median(calls.render_ms)),
                                 "ms", res, "Diagnostics.stage_ms['render']"))


def transfer_clip(stub, client: NedClient, clip: Clip, repeats: int, result: StageResult) -> None:
    """All variants for one resolution: both pixel formats, whole frame and face region, inline and shm."""
    shot_id = f"bench-transfer-{clip.spec.label}"
    face_rect = analyse_for_regions(client, clip, shot_id)
    height, width = clip.frames[0].shape[:2]
    warmup = 2
    for fmt, dtype in PIXEL_FORMATS.items():
        frame = as_rgba(clip.frames[0], dtype)
        out = frame.copy()
        for payload, rect in (("whole frame", (0, 0, width, height)), ("face region", face_rect)):
            target = _Target(shot_id, clip.spec.frame_rate, frame, rect)
            sent = target.pixels.nbytes
            inline = _sample(_inline_call(stub, target, out), repeats, warmup)
            _record(result, clip, fmt, f"{payload}, inline", inline, sent)
            with SharedSegment(sent) as into, SharedSegment(sent) as back:
                shared = _sample(_shared_call(stub, target, out, into, back), repeats, warmup)
            _record(result, clip, fmt, f"{payload}, shared memory", shared, sent)
            floor = _floor_ms(target.pixels, shared.patch_bytes, repeats)
            result.measurements.append(Measurement("transfer", f"{payload}, memcpy floor", clip.resolution, "call",
                                                   Timing.of(floor), clip.source, clip.synthetic, fmt, sent))
            logger.info("transfer %s %s %s: inline %.1f ms, shm %.1f ms, memcpy %.2f ms", clip.resolution, fmt,
                        payload, np.median(inline.rtt_ms), np.median(shared.rtt_ms), np.median(floor))


def run_transfer(address: str, clips: dict[str, Clip], repeats: dict[str, int], result: StageResult) -> None:
    """Transfer figures for every clip against the server at `address` (loopback)."""
    options = [("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
               ("grpc.max_send_message_length", MAX_MESSAGE_BYTES)]
    with grpc.insecure_channel(address, options=options) as channel, NedClient(address) as client:
        info = client.server_info()
        if not info.shared_memory:
            raise RuntimeError(f"the server at {address} does not accept shared memory")
        stub = ned_pb2_grpc.EmotionDirectorStub(channel)
        for label, clip in clips.items():
            transfer_clip(stub, client, clip, repeats[label], result)

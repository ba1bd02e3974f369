"""Reading video files frame-accurately: exact timestamps up front, decoding checked frame by frame.

Opening a video reads its packets once (no decoding) to list every frame's timestamp, and decodes the
first frame to learn the pixel format, colour tags and rotation. A file that holds fewer frames than
its container declares is truncated or corrupt: refused by default (TruncatedMedia, with both counts),
or, with `allow_truncated`, limited to the frames that decode. While iterating, a frame that does not
decode raises CorruptMedia naming it; nothing is skipped silently.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from ned_models.media.color import ColorTags, component_bits, frame_to_rgb, is_rgb_format, rule_for_source
from ned_models.media.containers import ffmpeg_reason, first_video_stream, tagged_end_s
from ned_models.media.errors import CorruptMedia, EmptyMedia, TruncatedMedia, UnsupportedMedia
from ned_models.media.source import MediaSource, SourceFrame, SourceInfo, SourceKind

__all__ = ["VideoSource", "open_video"]

logger = logging.getLogger(__name__)


@dataclass
class _PacketScan:
    """What the demuxer says, without decoding: one entry per presentable frame."""

    pts: list[int]
    last_duration: int  # ticks the last frame (in presentation order) is shown; 0 if unknown
    timeless: bool  # the packets carry no timestamps (raw streams): pts were counted out at the frame rate
    damaged: str | None  # why reading stopped early, when it did


@dataclass
class _FirstFrame:
    pix_fmt: str
    color: ColorTags
    rotation: int


def _scan_packets(container: av.container.InputContainer, stream: av.video.stream.VideoStream) -> _PacketScan:
    pts: list[int | None] = []
    durations: list[int] = []
    damaged = None
    try:
        for packet in container.demux(stream):
            # size 0 is the demuxer's end marker; discard packets are cut by an edit list and never shown
            if packet.size == 0 or packet.is_discard:
                continue
            pts.append(packet.pts)
            durations.append(packet.duration or 0)
    except av.FFmpegError as exc:
        damaged = ffmpeg_reason(exc)
    if pts and all(p is not None for p in pts):
        order = sorted(range(len(pts)), key=lambda i: pts[i])
        return _PacketScan([pts[i] for i in order], durations[order[-1]], False, damaged)
    step = max(durations) if durations and max(durations) > 0 else _ticks_per_frame(stream)
    return _PacketScan([i * step for i in range(len(pts))], step, True, damaged)


def _ticks_per_frame(stream: av.video.stream.VideoStream) -> int:
    rate = stream.average_rate or stream.guessed_rate or Fraction(25)
    return max(1, round(1 / (rate * stream.time_base)))


def _declared_frames(container: av.container.InputContainer, stream: av.video.stream.VideoStream) -> int | None:
    """The frame count of the container's sample table, where it has one that lists every frame."""
    name = container.format.name
    if not (name.startswith("mov") or name == "avi") or stream.frames <= 0:
        return None
    declared = stream.frames
    entries = stream.index_entries
    if entries is not None and len(entries) == declared:
        declared -= sum(1 for entry in entries if entry.is_discard)
    return declared


def _decodable_pts(path: Path, stream_index: int) -> list[int | None]:
    """Timestamps of the frames that decode, from the start until decoding fails (on one thread, as
    `VideoSource` decodes truncated files, so both see the same frames)."""
    pts: list[int | None] = []
    with av.open(str(path)) as container:
        stream = container.streams[stream_index]
        stream.codec_context.thread_count = 1
        try:
            for frame in container.decode(stream):
                if frame.is_corrupt:
                    break
                pts.append(frame.pts)
        except av.FFmpegError:
            pass
    return pts


def _first_frame(path: Path, stream_index: int) -> _FirstFrame:
    with av.open(str(path)) as container:
        try:
            frame = next(container.decode(container.streams[stream_index]), None)
        except av.FFmpegError as exc:
            raise CorruptMedia(f"{path}: the first frame does not decode ({ffmpeg_reason(exc)})") from exc
        if frame is None:
            raise CorruptMedia(f"{path}: no frame decodes")
        return _FirstFrame(frame.format.name, ColorTags.of_frame(frame), int(frame.rotation) % 360)


def _end_pts(stream: av.video.stream.VideoStream, scan_pts: list[int], last_duration: int) -> int:
    """Where the last frame ends: the stream's stated end when it is plausible (MP4 duration or
    Matroska DURATION tag), else the last packet's duration, else one typical frame interval."""
    last = scan_pts[-1]
    step = int(np.median(np.diff(scan_pts))) if len(scan_pts) > 1 else 0
    limit = last + 2 * max(step, last_duration, 1)
    stated = None
    if stream.duration and stream.start_time is not None:
        stated = stream.start_time + stream.duration
    elif (tagged := tagged_end_s(stream)) is not None:
        stated = round(tagged / stream.time_base)
    if stated is not None and last < stated <= limit:
        return stated
    if last_duration > 0:
        return last + last_duration
    return last + max(step, 1)


def _refuse_or_trim(path: Path, stream_index: int, scan: _PacketScan, declared: int | None,
                    allow_truncated: bool) -> tuple[list[int], bool]:
    """The frame table of a damaged file and whether frames are missing: refused, or cut to the
    frames that decode."""
    decoded = _decodable_pts(path, stream_index)
    n = len(decoded)
    if n == 0:
        raise CorruptMedia(f"{path}: no frame decodes")
    if declared is not None and n >= declared:
        logger.warning("%s: damaged after its last frame (%s); all %d frames decode", path, scan.damaged, n)
        return scan.pts, False
    if declared is not None:
        what = f"only {n} of {declared} frames decode"
    else:
        what = f"only {n} frames decode before the data breaks off ({scan.damaged})"
    if not allow_truncated:
        raise TruncatedMedia(
            f"{path}: {what} (truncated or corrupt from frame {n}); allow truncated input to use them",
            decodable=n, declared=declared)
    logger.warning("%s: %s; using those %d frames as the clip", path, what, n)
    if scan.timeless or any(p is None for p in decoded):
        return scan.pts[:n], True
    return sorted(p for p in decoded if p is not None), True


def _check_pixel_format(path: Path, pix_fmt: str) -> int:
    if "f16" in pix_fmt or "f32" in pix_fmt:
        raise UnsupportedMedia(f"{path}: floating-point pixels ({pix_fmt}) are not supported")
    bits = component_bits(pix_fmt)
    if bits > 16:
        raise UnsupportedMedia(f"{path}: {bits}-bit pixels ({pix_fmt}) are not supported")
    return bits


def open_video(path: Path, container: av.container.InputContainer, *, allow_truncated: bool) -> VideoSource:
    """Describe the video in the (just opened) `container` at `path`; takes over and closes `container`.

    Raises:
        UnsupportedMedia: no video stream, or a pixel format we do not read.
        EmptyMedia: the video stream holds no frames.
        TruncatedMedia: fewer frames decode than declared (unless `allow_truncated`).
        CorruptMedia: the first frame does not decode, or timestamps repeat.
    """
    with container:
        stream = first_video_stream(container, path)
        index = stream.index  # PyAV objects are invalid once the container closes: copy what we need
        scan = _scan_packets(container, stream)
        if not scan.pts:
            raise EmptyMedia(f"{path}: the video stream holds no frames")
        first = _first_frame(path, index)
        declared = _declared_frames(container, stream)
        pts, truncated = scan.pts, False
        if scan.damaged is not None or (declared is not None and len(pts) < declared):
            pts, truncated = _refuse_or_trim(path, index, scan, declared, allow_truncated)
        if len(set(pts)) != len(pts):
            raise CorruptMedia(f"{path}: frames repeat a timestamp; the timing cannot be kept")
        last_duration = scan.last_duration if len(pts) == len(scan.pts) else 0
        end_pts = _end_pts(stream, pts, last_duration)
        info = _video_info(path, container, stream, first, pts, end_pts, declared, truncated)
    return VideoSource(info, index, timeless=scan.timeless)


def _video_info(path: Path, container: av.container.InputContainer, stream: av.video.stream.VideoStream,
                first: _FirstFrame, pts: list[int], end_pts: int, declared: int | None,
                truncated: bool) -> SourceInfo:
    cc = stream.codec_context
    time_base = Fraction(stream.time_base)
    deltas = np.diff(pts)
    return SourceInfo(
        path=path, kind=SourceKind.VIDEO, container=container.format.name, codec=cc.name,
        pix_fmt=first.pix_fmt, width=cc.width, height=cc.height,
        sample_aspect=Fraction(stream.sample_aspect_ratio or 1),  # the container's, else the codec's
        bit_depth=_check_pixel_format(path, first.pix_fmt), time_base=time_base, pts=tuple(pts),
        end_pts=end_pts,
        frame_rate=Fraction(stream.average_rate or len(pts) / ((end_pts - pts[0]) * time_base)),
        is_vfr=deltas.size > 0 and int(deltas.max() - deltas.min()) > 1, rotation=first.rotation,
        has_alpha=any(c.is_alpha for c in av.VideoFormat(first.pix_fmt).components),
        audio_codecs=tuple(s.codec_context.name for s in container.streams.audio),
        declared_frames=declared, truncated=truncated, frame_numbers=None, color=first.color,
        yuv_rule=None if is_rgb_format(first.pix_fmt)
        else rule_for_source(first.color, first.pix_fmt, cc.width, cc.height))


class VideoSource(MediaSource):
    """A video file's frames; each pass opens the file anew, so passes are independent."""

    def __init__(self, info: SourceInfo, stream_index: int, *, timeless: bool) -> None:
        super().__init__(info)
        self._stream_index = stream_index
        self._timeless = timeless
        self._index_by_pts = {p: i for i, p in enumerate(info.pts)}

    def _frames(self, start: int, stop: int, exact: bool) -> Iterator[SourceFrame]:
        return self._decode_range(start, stop, exact, seek=start > 0 and not self._timeless)

    def _decode_range(self, start: int, stop: int, exact: bool, *, seek: bool) -> Iterator[SourceFrame]:
        info = self.info
        if start == stop:
            return
        with av.open(str(info.path)) as container:
            stream = container.streams[self._stream_index]
            if self.info.truncated:
                stream.codec_context.thread_count = 1  # decode exactly as the frames were counted
            else:
                stream.thread_type = "AUTO"
            if seek:
                container.seek(info.pts[start], stream=stream, backward=True)
            index = start if seek else 0
            try:
                for frame in _decode_packets(container, stream):
                    pts = info.pts[index] if (self._timeless or frame.pts is None) else frame.pts
                    if seek and index == start and pts < info.pts[start]:
                        continue  # pre-roll from the keyframe before `start`
                    if seek and index == start and pts > info.pts[start]:
                        break  # the seek overshot: decode from the beginning instead
                    if pts != info.pts[index] or frame.is_corrupt:
                        raise self._corrupt(index, "it is missing or damaged in the decoded stream")
                    if index >= start:
                        yield SourceFrame(index, float(info.time_s(index)), _to_rgb(frame, info, exact))
                    index += 1
                    if index == stop:
                        return
            except _DecodeFailure as failure:
                raise self._locate_failure(index, failure) from failure
        if seek and index == start:
            yield from self._decode_range(start, stop, exact, seek=False)
            return
        raise self._corrupt(index, "decoding ended early")

    def _locate_failure(self, waiting_for: int, failure: _DecodeFailure) -> CorruptMedia:
        """Name the frame whose data fails. Threaded decoders report a failure a few packets late,
        so the file is decoded again on one thread up to the first failing packet."""
        with av.open(str(self.info.path)) as container:
            stream = container.streams[self._stream_index]
            stream.codec_context.thread_count = 1
            try:
                for _ in _decode_packets(container, stream):
                    pass
            except _DecodeFailure as serial:
                failure = serial
        if failure.pts is None or self._timeless or failure.pts not in self._index_by_pts:
            return self._corrupt(waiting_for, failure.reason)
        return self._corrupt(self._index_by_pts[failure.pts], failure.reason)

    def _corrupt(self, index: int, reason: str) -> CorruptMedia:
        return CorruptMedia(f"{self.info.path}: frame {index} of {len(self)} "
                            f"(t={float(self.info.time_s(index)):.3f} s) does not decode ({reason})")


class _DecodeFailure(Exception):
    """A packet failed to demux or decode; `pts` is its timestamp when known."""

    def __init__(self, pts: int | None, reason: str) -> None:
        super().__init__(reason)
        self.pts = pts
        self.reason = reason


def _decode_packets(container: av.container.InputContainer,
                    stream: av.video.stream.VideoStream) -> Iterator[av.VideoFrame]:
    """Decoded frames in presentation order; a failing packet raises _DecodeFailure naming it."""
    packets = container.demux(stream)
    while True:
        try:
            packet = next(packets, None)
        except av.FFmpegError as exc:
            raise _DecodeFailure(None, ffmpeg_reason(exc)) from exc
        if packet is None:
            return
        try:
            frames = packet.decode()
        except av.FFmpegError as exc:
            raise _DecodeFailure(packet.pts, ffmpeg_reason(exc)) from exc
        yield from frames


def _to_rgb(frame: av.VideoFrame, info: SourceInfo, exact: bool) -> np.ndarray:
    if frame.width != info.width or frame.height != info.height:
        raise CorruptMedia(f"{info.path}: frame size changes mid-stream "
                           f"({info.width}x{info.height} -> {frame.width}x{frame.height})")
    return frame_to_rgb(frame, info.yuv_rule, info.dtype, exact=exact)

"""A frame-accurate report on a media file, for tests and evaluation: what really decodes, and when.

`probe` decodes every frame with PyAV directly (not through `open_source`), so comparing the probes of
an input and an output checks the reader and the writer against an independent path. Audio streams
are summarised packet by packet with a digest of their bytes and timestamps: two streams with the same
digest carry the same packets.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av

from ned_models.media.containers import ffmpeg_reason, first_video_stream, open_input, tagged_end_s

__all__ = ["MediaInfo", "AudioSummary", "probe"]


@dataclass(frozen=True)
class AudioSummary:
    """One audio stream, packet by packet.

    Attributes:
        codec: codec name (`aac`, `pcm_s16le`, ...).
        sample_rate: samples per second.
        channels: channel count.
        packets: number of packets.
        size_bytes: total payload bytes.
        start_s, end_s: first packet's pts and last packet's pts + duration, in seconds.
        digest: sha256 over every packet's (pts in seconds, payload), in stream order.
        data_digest: sha256 over the payloads alone (for containers that round timestamps).
    """

    codec: str
    sample_rate: int
    channels: int
    packets: int
    size_bytes: int
    start_s: Fraction | None
    end_s: Fraction | None
    digest: str
    data_digest: str


@dataclass(frozen=True)
class MediaInfo:
    """What decoding a file shows.

    Attributes:
        path: the file.
        container: FFmpeg's demuxer name.
        codec, pix_fmt: video codec and decoded pixel format.
        width, height: frame size in pixels.
        sample_aspect: pixel aspect ratio (1 when square or unknown).
        rotation: display rotation in degrees.
        declared_frames: the stream's declared frame count (0 when it declares none).
        decoded_frames: frames that decode (or packets, when probed with `decode=False`).
        pts_s: presentation time of every decoded frame, in seconds, in order.
        end_s: end of the video stream according to the container: the stream's start + duration,
            else (Matroska) its DURATION tag, if known.
        frame_rate: the stream's average frame rate.
        decode_error: FFmpeg's message when decoding stopped early, else None.
        audio: one summary per audio stream.
    """

    path: Path
    container: str
    codec: str
    pix_fmt: str | None
    width: int
    height: int
    sample_aspect: Fraction
    rotation: int
    declared_frames: int
    decoded_frames: int
    pts_s: tuple[Fraction, ...]
    end_s: Fraction | None
    frame_rate: Fraction | None
    decode_error: str | None
    audio: tuple[AudioSummary, ...]

    @property
    def duration_s(self) -> Fraction | None:
        """From the first frame's start to the stream's end, in seconds."""
        if self.end_s is None or not self.pts_s:
            return None
        return self.end_s - self.pts_s[0]


def _video_pass(path: Path, decode: bool) -> tuple[list[Fraction], str | None, str | None, int]:
    """(frame times, pixel format, error, rotation) from a decoding (or packet-counting) pass."""
    times: list[Fraction] = []
    pix_fmt, error, rotation = None, None, 0
    with open_input(path) as container:
        stream = first_video_stream(container, path)
        tb = stream.time_base
        try:
            if decode:
                for frame in container.decode(stream):
                    pix_fmt, rotation = frame.format.name, int(frame.rotation) % 360
                    times.append(frame.pts * tb if frame.pts is not None else None)
            else:
                times = [p.pts * tb for p in container.demux(stream) if p.size and not p.is_discard]
        except av.FFmpegError as exc:
            error = ffmpeg_reason(exc)
    return sorted(t for t in times if t is not None), pix_fmt, error, rotation


def _audio_summary(path: Path, index: int) -> AudioSummary:
    digest, data_digest = hashlib.sha256(), hashlib.sha256()
    count = size = 0
    start = end = None
    with av.open(str(path)) as container:
        stream = container.streams[index]
        cc = stream.codec_context
        for packet in container.demux(stream):
            if packet.size == 0:
                continue
            t = packet.pts * packet.time_base if packet.pts is not None else None
            payload = bytes(packet)
            digest.update(repr(t).encode())
            digest.update(payload)
            data_digest.update(payload)
            count, size = count + 1, size + packet.size
            start = t if start is None else start
            end = t + (packet.duration or 0) * packet.time_base if t is not None else end
        return AudioSummary(cc.name, cc.sample_rate, cc.channels, count, size, start, end, digest.hexdigest(),
                            data_digest.hexdigest())


def probe(path: str | os.PathLike[str], *, decode: bool = True) -> MediaInfo:
    """Decode every video frame of `path` and summarise its audio streams.

    Args:
        path: a video or image file.
        decode: decode the frames (exact, slower); False counts the packets instead.

    Raises:
        MediaNotFound, UnsupportedMedia: as `open_source`. A file that stops decoding part-way is
        reported (`decode_error`, `decoded_frames`), not raised.
    """
    path = Path(path)
    times, pix_fmt, error, rotation = _video_pass(path, decode)
    with open_input(path) as container:
        stream = first_video_stream(container, path)
        cc = stream.codec_context
        tb = Fraction(stream.time_base)
        end = None
        if stream.duration and stream.start_time is not None:
            end = (stream.start_time + stream.duration) * tb
        else:
            end = tagged_end_s(stream)
        audio = tuple(_audio_summary(path, s.index) for s in container.streams.audio)
        return MediaInfo(
            path=path, container=container.format.name, codec=cc.name, pix_fmt=pix_fmt or cc.pix_fmt,
            width=cc.width, height=cc.height,
            sample_aspect=Fraction(stream.sample_aspect_ratio or 1), rotation=rotation,
            declared_frames=stream.frames, decoded_frames=len(times), pts_s=tuple(times), end_s=end,
            frame_rate=Fraction(stream.average_rate) if stream.average_rate else None,
            decode_error=error, audio=audio)

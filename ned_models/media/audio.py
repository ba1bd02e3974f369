"""Carrying a source's audio into an output: its packets copied unchanged, interleaved with the video.

Copying (the default) keeps every audio packet byte for byte with its timestamp, so the sound is the
source's, sample for sample. When the output container cannot hold the source's audio codec we refuse
with a message that names both; re-encoding to AAC happens only when asked for (`audio="aac"`).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path
from typing import Literal

import av
import av.container

from ned_models.media.containers import ffmpeg_reason
from ned_models.media.errors import AudioCopyError, CorruptMedia

__all__ = ["AudioMode", "AudioTracks"]

logger = logging.getLogger(__name__)

AudioMode = Literal["copy", "aac", "none"]
_AAC_BITRATE_PER_CHANNEL = 128_000


class _Copy:
    """One audio stream remuxed packet by packet."""

    def __init__(self, source: av.audio.stream.AudioStream, output: av.container.OutputContainer) -> None:
        self._output = output
        self._stream = output.add_stream_from_template(source)

    def send(self, packet: av.Packet) -> None:
        packet.stream = self._stream
        self._output.mux(packet)

    def flush(self) -> None:
        """Nothing is buffered when copying."""


class _ReencodeAac:
    """One audio stream decoded and encoded to AAC (only on request)."""

    def __init__(self, source: av.audio.stream.AudioStream, output: av.container.OutputContainer) -> None:
        cc = source.codec_context
        self._output = output
        self._stream = output.add_stream("aac", rate=cc.sample_rate, layout=cc.layout.name)
        self._stream.bit_rate = _AAC_BITRATE_PER_CHANNEL * cc.channels

    def send(self, packet: av.Packet) -> None:
        for frame in packet.decode():
            for out in self._stream.encode(frame):
                self._output.mux(out)

    def flush(self) -> None:
        for out in self._stream.encode(None):
            self._output.mux(out)


class AudioTracks:
    """Every audio stream of `source_path`, fed into `output` up to a given time as the video advances.

    Args:
        source_path: the file whose audio streams are carried over.
        output: the output container; the audio streams are added to it now, before any writing.
        mode: "copy" the packets unchanged, or re-encode them to "aac".

    Raises:
        AudioCopyError: `mode` is "copy" and the container cannot hold an audio codec of the source.
    """

    def __init__(self, source_path: Path, output: av.container.OutputContainer, mode: AudioMode) -> None:
        if mode not in ("copy", "aac"):
            raise ValueError(f"audio mode {mode!r}: expected 'copy' or 'aac'")
        self._path = source_path
        self._input = av.open(str(source_path))
        try:
            streams = list(self._input.streams.audio)
            self._routes = {s.index: self._route(s, output, mode) for s in streams}
            self._packets: Iterator[av.Packet] = self._input.demux(*streams)
        except BaseException:
            self._input.close()
            raise
        self._held: av.Packet | None = None

    def _route(self, stream: av.audio.stream.AudioStream, output: av.container.OutputContainer,
               mode: AudioMode) -> _Copy | _ReencodeAac:
        if mode == "aac":
            return _ReencodeAac(stream, output)
        codec = stream.codec_context.name
        if codec not in output.supported_codecs:
            raise AudioCopyError(
                f"{self._path}: its {codec} audio cannot be copied unchanged into a {output.format.name} "
                "file; write another container (.mov or .mkv), or re-encode the audio to AAC")
        try:
            return _Copy(stream, output)
        except (ValueError, av.FFmpegError) as exc:
            raise AudioCopyError(f"{self._path}: its {codec} audio cannot be copied into a "
                                 f"{output.format.name} file ({ffmpeg_reason(exc)})") from exc

    def feed_until(self, seconds: Fraction | None) -> None:
        """Mux the audio packets that start at or before `seconds` (all remaining ones for None)."""
        while True:
            packet = self._held if self._held is not None else self._next_packet()
            self._held = None
            if packet is None:
                return
            if packet.size == 0:
                continue  # the demuxer's end-of-stream marker
            stamp = packet.dts if packet.dts is not None else packet.pts
            if seconds is not None and stamp is not None and stamp * packet.time_base > seconds:
                self._held = packet
                return
            try:
                self._routes[packet.stream_index].send(packet)
            except av.FFmpegError as exc:
                raise CorruptMedia(f"{self._path}: audio packet at {float(stamp * packet.time_base):.3f} s "
                                   f"cannot be carried over ({ffmpeg_reason(exc)})") from exc

    def _next_packet(self) -> av.Packet | None:
        try:
            return next(self._packets, None)
        except av.FFmpegError as exc:  # damaged tail: keep what was read, as the video does
            logger.warning("%s: audio stops early (%s)", self._path, ffmpeg_reason(exc))
            return None

    def finish(self) -> None:
        """Mux everything that is left and flush encoders."""
        self.feed_until(None)
        for route in self._routes.values():
            route.flush()
        self.close()

    def close(self) -> None:
        """Release the source file (idempotent)."""
        self._input.close()

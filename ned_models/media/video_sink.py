"""Writing video files that keep the source's timing, size, pixel aspect, rotation and audio.

Every frame is encoded with the source frame's own timestamp in the source's time base (so variable
frame rate survives), and every packet carries that frame's display duration (so the stream ends
where the source's did). MP4/MOV tracks get the source's time base as their timescale; Matroska
stores milliseconds, so timestamps that are not whole milliseconds get rounded there (logged).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import av
import av.container
import numpy as np

from ned_models.media.atomic import AtomicFile
from ned_models.media.audio import AudioMode, AudioTracks
from ned_models.media.color import output_tags, rgb_to_frame, rule_for_output
from ned_models.media.errors import OutputError
from ned_models.media.sink import MediaSink
from ned_models.media.source import SourceInfo

__all__ = ["VideoSink", "VideoSettings", "VideoCodec", "VIDEO_CODECS", "CONTAINER_FORMATS"]

logger = logging.getLogger(__name__)

# output file suffix -> FFmpeg muxer
CONTAINER_FORMATS = {".mp4": "mp4", ".m4v": "mp4", ".mov": "mov", ".mkv": "matroska"}


@dataclass(frozen=True)
class VideoCodec:
    """How one of our codec choices maps onto an FFmpeg encoder."""

    encoder: str
    pix_fmt: tuple[str, str]  # (for 8-bit sources, for deeper ones)
    suffixes: frozenset[str]  # the containers it may go into
    options: dict[str, str] = field(default_factory=dict)


VIDEO_CODECS = {
    # widely playable: 8-bit 4:2:0; CRF 16 is visually transparent for most footage. No B-frames: with
    # them the decode-order durations MP4 stores cannot add up to the presentation times of a
    # variable-rate or odd-length clip, and the stream would end a frame early or late
    "h264": VideoCodec("libx264", ("yuv420p", "yuv420p"), frozenset({".mp4", ".m4v", ".mov", ".mkv"}),
                       {"crf": "16", "preset": "medium", "bf": "0"}),
    # ProRes 422 HQ, 10-bit: the editing intermediate hosts expect
    "prores": VideoCodec("prores_ks", ("yuv422p10le", "yuv422p10le"), frozenset({".mov", ".mkv"}),
                         {"profile": "3", "vendor": "apl0"}),
    # lossless RGB: pixel-exact round trips (tests, archiving)
    "ffv1": VideoCodec("ffv1", ("bgr0", "rgb48le"), frozenset({".mkv"}),
                       {"level": "3", "slicecrc": "1"}),
}
_MATROSKA_TICK = Fraction(1, 1000)
_MAX_TIMESCALE = 2**31 - 1  # MP4 timescales are 32-bit


@dataclass(frozen=True)
class VideoSettings:
    """What `VideoSink` writes: codec name (a VIDEO_CODECS key), audio handling, and H.264 overrides
    (CRF quality, x264 speed preset)."""

    codec: str = "h264"
    audio: AudioMode = "copy"
    crf: int | None = None
    preset: str | None = None


def _container_options(suffix: str, like: SourceInfo) -> dict[str, str]:
    if CONTAINER_FORMATS[suffix] in ("mp4", "mov"):
        # faststart puts the index first so players and browsers can start before the whole file has
        # arrived; the source's time base as the track (and edit list) timescale keeps every timestamp
        # and the duration exact
        options = {"movflags": "+faststart"}
        if like.time_base.denominator <= _MAX_TIMESCALE:
            timescale = str(like.time_base.denominator)
            options.update(video_track_timescale=timescale, movie_timescale=timescale)
        else:
            logger.warning("time base %s is too fine for MP4; timestamps will be rounded", like.time_base)
        return options
    off = sum(1 for p in like.pts if (p * like.time_base) % _MATROSKA_TICK)
    if off:
        logger.warning("%d of %d timestamps are not whole milliseconds; Matroska rounds them (write .mov or "
                       ".mp4 to keep them exact)", off, len(like.pts))
    # FFmpeg would otherwise shift every stream so that audio priming packets (negative times) start at
    # zero, moving the video too; Matroska can store the negative times as they are
    return {"avoid_negative_ts": "disabled"}


def _chroma_needs_full_size(pix_fmt: str, width: int, height: int) -> bool:
    return ("420" in pix_fmt and (width % 2 or height % 2)) or ("422" in pix_fmt and width % 2 == 1)


def _add_video_stream(output: av.container.OutputContainer, like: SourceInfo,
                      settings: VideoSettings) -> tuple[av.video.stream.VideoStream, str]:
    codec = VIDEO_CODECS[settings.codec]
    pix_fmt = codec.pix_fmt[0] if like.bit_depth <= 8 else codec.pix_fmt[1]
    options = dict(codec.options)
    if _chroma_needs_full_size(pix_fmt, like.width, like.height):
        # subsampled chroma needs even sides; never crop or pad the user's picture
        logger.warning("%dx%d has an odd side: writing 4:4:4 chroma (fewer players show 4:4:4 H.264)",
                       like.width, like.height)
        pix_fmt = pix_fmt.replace("420", "444").replace("422", "444")
        if settings.codec == "prores":
            options["profile"] = "4"  # ProRes 4444
    if settings.codec == "h264" and settings.crf is not None:
        options["crf"] = str(settings.crf)
    if settings.codec == "h264" and settings.preset is not None:
        options["preset"] = settings.preset
    stream = output.add_stream(codec.encoder, rate=like.frame_rate.limit_denominator(1_000_000),
                               options=options)
    stream.width, stream.height, stream.pix_fmt = like.width, like.height, pix_fmt
    stream.time_base = like.time_base
    cc = stream.codec_context
    cc.time_base = like.time_base
    if like.sample_aspect != 1:
        cc.sample_aspect_ratio = like.sample_aspect
    if like.rotation:
        stream.set_display_rotation(like.rotation)
    if pix_fmt.startswith("yuv"):
        tags = output_tags(like.color, like.yuv_rule is not None)
        cc.colorspace, cc.color_range = tags.matrix, tags.range
        cc.color_primaries, cc.color_trc = tags.primaries, tags.transfer
    return stream, pix_fmt


class VideoSink(MediaSink):
    """A video file written atomically, `like` a source (timing, size, aspect, rotation, audio)."""

    def __init__(self, path: Path, like: SourceInfo, settings: VideoSettings, *, overwrite: bool) -> None:
        suffix = path.suffix.lower()
        if settings.codec not in VIDEO_CODECS:
            raise ValueError(f"unknown video codec {settings.codec!r}; expected one of {sorted(VIDEO_CODECS)}")
        if suffix not in VIDEO_CODECS[settings.codec].suffixes:
            allowed = ", ".join(sorted(VIDEO_CODECS[settings.codec].suffixes))
            raise ValueError(f"{path}: {settings.codec} goes into {allowed} files, not {suffix or 'no suffix'}")
        if CONTAINER_FORMATS[suffix] == "matroska" and like.sample_aspect != 1:
            # Matroska keeps the aspect at the stream level, which PyAV cannot set: refuse, never squash
            raise ValueError(f"{path}: Matroska output would lose the source's {like.sample_aspect} pixel "
                             "aspect; write .mov (ProRes or H.264) or .mp4")
        if settings.audio not in ("copy", "aac", "none"):
            raise ValueError(f"audio mode {settings.audio!r}: expected 'copy', 'aac' or 'none'")
        encoder = VIDEO_CODECS[settings.codec].encoder
        if encoder not in av.codecs_available:
            raise OutputError(f"{path}: this FFmpeg build has no {encoder} encoder (needed for {settings.codec})")
        self._target = AtomicFile(path, overwrite=overwrite)
        super().__init__(self._target.final, like)
        self._audio: AudioTracks | None = None
        try:
            self._output = av.open(str(self._target.partial), "w", format=CONTAINER_FORMATS[suffix],
                                   container_options=_container_options(suffix, like))
            self._stream, self._pix_fmt = _add_video_stream(self._output, like, settings)
            if like.has_audio and settings.audio != "none":
                self._audio = AudioTracks(like.path, self._output, settings.audio)
        except BaseException:
            self._discard()
            raise
        self._rule = rule_for_output(like.yuv_rule)
        self._durations = {p: like.frame_duration(i) for i, p in enumerate(like.pts)}

    def _write(self, index: int, image: np.ndarray) -> None:
        frame = rgb_to_frame(image, self._rule, self._pix_fmt)
        frame.pts = self.like.pts[index]
        frame.time_base = self.like.time_base
        self._mux(self._stream.encode(frame))

    def _mux(self, packets: list[av.Packet]) -> None:
        for packet in packets:
            # encoders do not carry frame durations through; the muxer needs them to end the stream
            # (and each variable-rate frame) where the source did
            packet.duration = self._durations.get(packet.pts, packet.duration)
            if self._audio is not None and packet.dts is not None:
                self._audio.feed_until(packet.dts * self.like.time_base)
            self._output.mux(packet)

    def _finish(self) -> None:
        self._mux(self._stream.encode(None))
        if self._audio is not None:
            self._audio.finish()
        self._output.close()
        self._target.commit()

    def _discard(self) -> None:
        if self._audio is not None:
            self._audio.close()
        output = getattr(self, "_output", None)
        if output is not None:
            try:
                output.close()
            except (av.FFmpegError, OSError, ValueError) as exc:
                logger.debug("closing an aborted output: %s", exc)
        self._target.discard()


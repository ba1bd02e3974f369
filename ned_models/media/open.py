"""The two entry points: `open_source` reads any video, image sequence or image; `open_sink` writes one.

What a path means is decided here, once: an existing file is opened by its content (a video, or a still
image); a folder or a name with a number placeholder (`frame_%04d.png`, `frame_####.png`) is an image
sequence. Outputs are chosen by suffix: .mp4/.m4v/.mov/.mkv are video files, .png/.tif single
images, a pattern or an existing folder an image sequence.
"""

from __future__ import annotations

import os
from fractions import Fraction
from pathlib import Path

from ned_models.media.audio import AudioMode
from ned_models.media.containers import is_image_demuxer, open_input
from ned_models.media.image_sink import STILL_CODECS, ImageSequenceSink, ImageSink
from ned_models.media.image_source import open_image, open_image_sequence
from ned_models.media.sequences import is_sequence_pattern
from ned_models.media.sink import MediaSink
from ned_models.media.source import MediaSource
from ned_models.media.video_sink import CONTAINER_FORMATS, VideoSettings, VideoSink
from ned_models.media.video_source import open_video

__all__ = ["open_source", "open_sink", "DEFAULT_SEQUENCE_NAME"]

DEFAULT_SEQUENCE_NAME = "frame_%06d.png"  # used when the output is an existing folder


def _as_rate(fps: float | Fraction) -> Fraction:
    rate = Fraction(fps).limit_denominator(1_000_000) if isinstance(fps, float) else Fraction(fps)
    if rate <= 0:
        raise ValueError(f"frame rate must be positive, got {fps}")
    return rate


def open_source(path: str | os.PathLike[str], *, allow_truncated: bool = False,
                fps: float | Fraction = 25) -> MediaSource:
    """Open a video file, an image sequence (folder or pattern) or a single image for reading.

    Args:
        path: a file, a folder of numbered images, or a pattern like `shot/frame_%04d.png`.
        allow_truncated: accept a video that holds fewer frames than it declares, reading the
            frames that decode (logged); by default such a file raises TruncatedMedia.
        fps: the frame rate of image sequences and single images (videos carry their own).

    Returns:
        A MediaSource; `source.info` describes it, iterating yields `(index, time_s, image)`.

    Raises:
        MediaNotFound: nothing at `path` (or no file matches the pattern).
        UnsupportedMedia: not a video or image, no video stream, or an unsupported pixel format.
        EmptyMedia: no frames.
        TruncatedMedia: fewer frames decode than declared, e.g. "only 110 of 157 frames decode".
        CorruptMedia: the first frame does not decode.
    """
    source = Path(path).expanduser().absolute()  # readers reopen it per pass, whatever the cwd is then
    rate = _as_rate(fps)
    if source.is_dir() or (not source.exists() and is_sequence_pattern(source.name)):
        return open_image_sequence(source, fps=rate)
    container = open_input(source)
    if is_image_demuxer(container):
        return open_image(source, container, fps=rate)
    return open_video(source, container, allow_truncated=allow_truncated)


def open_sink(path: str | os.PathLike[str], like: MediaSource, *, codec: str | None = None,
              audio: AudioMode = "copy", overwrite: bool = False, crf: int | None = None,
              preset: str | None = None, start_number: int | None = None) -> MediaSink:
    """Open an output that keeps `like`'s timing, size, pixel aspect, rotation and audio.

    The output is written under a hidden temporary name next to `path` and renamed into place by
    `close()`; an error, `abort()` or Ctrl-C inside a `with` block leaves nothing behind. Problems with
    the destination (missing or read-only folder, existing file) raise here, before any frame is made.

    Args:
        path: .mp4/.m4v/.mov/.mkv for video; .png/.tif/.tiff for a single image; a pattern
            (`out/frame_%04d.png`) or an existing folder for an image sequence.
        like: the source whose frames will be written (all of them, in order).
        codec: video codec "h264" (default), "prores" (.mov/.mkv) or "ffv1" (.mkv, lossless);
            "png"/"tiff" for images (by default taken from the suffix).
        audio: "copy" the source's audio packets unchanged (default), re-encode them to "aac", or
            "none" to leave audio out.
        overwrite: replace an existing output.
        crf: H.264 quality override (default 16; lower is better and larger).
        preset: x264 speed preset override (default "medium"; "veryfast" for previews, "slow" for
            delivery).
        start_number: first file number of an image sequence (default: the source sequence's own
            numbers, else 1).

    Raises:
        OutputError: the destination cannot be written, or exists and `overwrite` is False.
        AudioCopyError: the container cannot hold the source's audio codec unchanged.
        ValueError: a codec that does not fit the path, or a single image for a multi-frame source.
    """
    target = Path(path).expanduser()
    if target.is_dir():
        target = target / DEFAULT_SEQUENCE_NAME
    suffix = target.suffix.lower()
    if is_sequence_pattern(target.name) or suffix in STILL_CODECS:
        _check_still_codec(codec, suffix)
        if is_sequence_pattern(target.name):
            return ImageSequenceSink(target, like.info, overwrite=overwrite, start_number=start_number)
        return ImageSink(target, like.info, overwrite=overwrite)
    if suffix not in CONTAINER_FORMATS:
        raise ValueError(f"{target}: unknown output type {suffix or '(no suffix)'}; use .mp4, .mov, .mkv, "
                         ".png, .tif or a frame_%04d.png pattern")
    settings = VideoSettings(codec=codec or "h264", audio=audio, crf=crf, preset=preset)
    return VideoSink(target, like.info, settings, overwrite=overwrite)


def _check_still_codec(codec: str | None, suffix: str) -> None:
    expected = STILL_CODECS[suffix][0] if suffix in STILL_CODECS else None
    if expected is None:
        raise ValueError(f"image sequences are written as .png or .tif files, not {suffix or '(no suffix)'}")
    if codec is not None and codec != expected:
        raise ValueError(f"{suffix} files are written with {expected}, not {codec}")

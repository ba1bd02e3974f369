"""Opening files with FFmpeg (through PyAV) and turning its failures into one-line media errors."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import av.container

from ned_models.media.errors import MediaNotFound, UnsupportedMedia

__all__ = ["open_input", "ffmpeg_reason", "is_image_demuxer", "first_video_stream", "tagged_end_s"]

# ISO base media files (MP4/MOV) start with a box whose type sits at bytes 4..8.
_ISO_BOX_TYPES = (b"ftyp", b"moov", b"mdat", b"free", b"wide", b"skip")


def ffmpeg_reason(exc: Exception) -> str:
    """FFmpeg's own short description of a failure ("Invalid data found when processing input")."""
    return getattr(exc, "strerror", None) or str(exc)


def _looks_like_iso_media(path: Path) -> bool:
    with path.open("rb") as f:
        head = f.read(8)
    return len(head) == 8 and head[4:8] in _ISO_BOX_TYPES


def open_input(path: Path) -> av.container.InputContainer:
    """Open `path` for reading, or raise a media error that says why it cannot be read.

    Raises:
        MediaNotFound: nothing exists at `path`.
        UnsupportedMedia: `path` is a folder, empty, unreadable, or not media FFmpeg understands.
    """
    if not path.exists():
        raise MediaNotFound(f"{path}: no such file")
    if path.is_dir():
        raise UnsupportedMedia(f"{path}: is a folder, not a video or image file")
    if path.stat().st_size == 0:
        raise UnsupportedMedia(f"{path}: file is empty (0 bytes)")
    try:
        return av.open(str(path), "r")
    except PermissionError as exc:
        raise UnsupportedMedia(f"{path}: cannot be read (permission denied)") from exc
    except av.FFmpegError as exc:
        if _looks_like_iso_media(path):
            raise UnsupportedMedia(
                f"{path}: MP4/MOV file is damaged or truncated (its header cannot be read: "
                f"{ffmpeg_reason(exc)})") from exc
        raise UnsupportedMedia(
            f"{path}: not a video or image file FFmpeg can read ({ffmpeg_reason(exc)})") from exc


def is_image_demuxer(container: av.container.InputContainer) -> bool:
    """True when FFmpeg opened the file as a still image (png_pipe, image2, ...), not a video."""
    name = container.format.name
    return name == "image2" or name.endswith("_pipe")


def first_video_stream(container: av.container.InputContainer, path: Path) -> av.video.stream.VideoStream:
    """The first real video stream (cover art is skipped), or UnsupportedMedia naming what was found."""
    for stream in container.streams.video:
        if not stream.disposition & av.stream.Disposition.attached_pic:
            return stream
    kinds = ", ".join(s.type for s in container.streams) or "no streams"
    raise UnsupportedMedia(f"{path}: has no video stream ({kinds})")


def tagged_end_s(stream: av.stream.Stream) -> Fraction | None:
    """The end time a Matroska track states in its DURATION tag ("HH:MM:SS.nnnnnnnnn"), if any.

    Matroska keeps no per-stream duration field; FFmpeg's muxer writes each track's end as this tag.
    """
    value = stream.metadata.get("DURATION")
    if value is None:
        return None
    try:
        hours, minutes, seconds = value.split(":")
        return int(hours) * 3600 + int(minutes) * 60 + Fraction(seconds)
    except ValueError:
        return None

"""Reading single images and image sequences (a folder, or a pattern like `frame_%04d.png`).

A sequence's timing comes from its file numbers at the given frame rate: frame number n shows at
(n - first) / fps, so a gap in the numbering stays a gap in time (and is logged), never a silent shift.
Every file must have the first file's size and bit depth; a file that differs raises CorruptMedia.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from ned_models.media.color import ColorTags, component_bits, frame_to_rgb, is_rgb_format, rule_for_source
from ned_models.media.containers import ffmpeg_reason, first_video_stream, open_input
from ned_models.media.errors import CorruptMedia, EmptyMedia, MediaNotFound, UnsupportedMedia
from ned_models.media.sequences import sequence_regex
from ned_models.media.source import MediaSource, SourceFrame, SourceInfo, SourceKind

__all__ = ["ImageSource", "open_image", "open_image_sequence", "IMAGE_EXTENSIONS"]

logger = logging.getLogger(__name__)

IMAGE_EXTENSIONS = frozenset({".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp", ".webp", ".dpx", ".exr"})
_TRAILING_NUMBER = re.compile(r"^(.*?)(\d+)$")


def _decode_still(path: Path) -> tuple[av.VideoFrame, str, Fraction]:
    """The image in `path`, its codec name and its pixel aspect (PNG pHYs, TIFF resolution, ...)."""
    try:
        with open_input(path) as container:
            stream = first_video_stream(container, path)
            codec = stream.codec_context.name
            frame = next(container.decode(stream), None)
            aspect = Fraction(stream.sample_aspect_ratio or 1)
    except av.FFmpegError as exc:
        raise CorruptMedia(f"{path}: image does not decode ({ffmpeg_reason(exc)})") from exc
    if frame is None:
        raise CorruptMedia(f"{path}: image does not decode")
    return frame, codec, aspect


def _check_pixel_format(path: Path, pix_fmt: str) -> int:
    if "f16" in pix_fmt or "f32" in pix_fmt or component_bits(pix_fmt) > 16:
        raise UnsupportedMedia(f"{path}: pixel format {pix_fmt} is not supported (8 to 16-bit only)")
    return component_bits(pix_fmt)


def _image_info(path: Path, kind: SourceKind, files: list[Path], numbers: list[int] | None,
                fps: Fraction, container_name: str) -> SourceInfo:
    first, codec, aspect = _decode_still(files[0])
    pix_fmt = first.format.name
    color = ColorTags.of_frame(first)
    pts = [n - numbers[0] for n in numbers] if numbers else list(range(len(files)))
    return SourceInfo(
        path=path, kind=kind, container=container_name, codec=codec, pix_fmt=pix_fmt,
        width=first.width, height=first.height, sample_aspect=aspect,
        bit_depth=_check_pixel_format(files[0], pix_fmt), time_base=1 / fps, pts=tuple(pts),
        end_pts=pts[-1] + 1, frame_rate=fps, is_vfr=pts[-1] + 1 != len(pts), rotation=0,
        has_alpha=any(c.is_alpha for c in first.format.components), audio_codecs=(),
        declared_frames=len(files), truncated=False, frame_numbers=tuple(numbers) if numbers else None,
        color=color,
        yuv_rule=None if is_rgb_format(pix_fmt) else rule_for_source(color, pix_fmt, first.width,
                                                                     first.height))


def open_image(path: Path, container: av.container.InputContainer, *, fps: Fraction) -> ImageSource:
    """A one-frame source for the still image FFmpeg opened at `path` (takes over `container`)."""
    with container:
        name = container.format.name
    return ImageSource(_image_info(path, SourceKind.IMAGE, [path], None, fps, name), [path])


def _pattern_files(pattern: Path) -> tuple[list[Path], list[int]]:
    regex = sequence_regex(pattern.name)
    if regex is None:
        raise ValueError(f"{pattern}: not a sequence pattern (use one %04d or #### for the number)")
    folder = pattern.parent
    if not folder.is_dir():
        raise MediaNotFound(f"{pattern}: folder {folder} does not exist")
    found = sorted((int(m.group(1)), folder / m.group(0))
                   for m in (regex.match(p.name) for p in folder.iterdir()) if m)
    if not found:
        raise MediaNotFound(f"{pattern}: no files match the pattern")
    return [f for _, f in found], [n for n, _ in found]


def _folder_files(folder: Path) -> tuple[list[Path], list[int] | None]:
    images = [p for p in folder.iterdir() if p.suffix.lower() in IMAGE_EXTENSIONS and p.is_file()]
    if not images:
        raise EmptyMedia(f"{folder}: folder holds no image files")
    suffixes = sorted({p.suffix.lower() for p in images})
    if len(suffixes) > 1:
        raise UnsupportedMedia(f"{folder}: folder mixes image types ({', '.join(suffixes)}); use a pattern")
    parts = [_TRAILING_NUMBER.match(p.stem) for p in images]
    if all(parts) and len({m.group(1) for m in parts}) == 1:
        found = sorted((int(m.group(2)), p) for m, p in zip(parts, images, strict=True))
        return [p for _, p in found], [n for n, _ in found]
    return sorted(images), None


def open_image_sequence(spec: Path, *, fps: Fraction) -> ImageSource:
    """A source for a folder of images or a numbered pattern, timed at `fps` by file number."""
    files, numbers = _folder_files(spec) if spec.is_dir() else _pattern_files(spec)
    if numbers is not None and len(set(numbers)) != len(numbers):
        raise UnsupportedMedia(f"{spec}: two files carry the same frame number")
    if numbers is not None and numbers[-1] - numbers[0] + 1 != len(numbers):
        logger.warning("%s: frame numbers %d..%d have gaps (%d files); the gaps stay gaps in time",
                       spec, numbers[0], numbers[-1], len(numbers))
    info = _image_info(spec, SourceKind.IMAGE_SEQUENCE, files, numbers, fps, "image2")
    return ImageSource(info, files)


class ImageSource(MediaSource):
    """Frames from image files, one file per frame."""

    def __init__(self, info: SourceInfo, files: list[Path]) -> None:
        super().__init__(info)
        self.files = tuple(files)

    def _frames(self, start: int, stop: int, exact: bool) -> Iterator[SourceFrame]:
        info = self.info
        for index in range(start, stop):
            path = self.files[index]
            frame, _, _ = _decode_still(path)
            if (frame.width, frame.height) != (info.width, info.height):
                raise CorruptMedia(f"{path}: is {frame.width}x{frame.height}, the sequence is "
                                   f"{info.width}x{info.height}")
            if _check_pixel_format(path, frame.format.name) > 8 and info.dtype == np.uint8:
                raise CorruptMedia(f"{path}: is deeper than 8 bits, the sequence starts 8-bit")
            image = frame_to_rgb(frame, info.yuv_rule, info.dtype, exact=exact)
            yield SourceFrame(index, float(info.time_s(index)), image)

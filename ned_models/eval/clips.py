"""Reading the clips an evaluation compares: videos (PyAV), folders of images, NumPy arrays.

Frames come out as ned_models frames: (H, W, 3) RGB, top-down, uint8 for 8-bit material and
uint16 for deeper material, so a lossless source can be compared bit for bit. Whether a clip is
lossless matters for one metric only (pixels outside the patch must be untouched): lossy codecs
change pixels everywhere, so that check is then reported as not checkable.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import av
import cv2
import numpy as np

__all__ = ["Clip", "open_clip", "IMAGE_SUFFIXES", "LOSSLESS_VIDEO_CODECS"]

IMAGE_SUFFIXES = (".png", ".tif", ".tiff", ".jpg", ".jpeg", ".bmp")
_LOSSLESS_IMAGE_SUFFIXES = (".png", ".tif", ".tiff", ".bmp")
# Codecs that store every pixel exactly. H.264/HEVC may be lossless too (qp 0) but nothing in the
# stream says so cheaply, so they count as lossy.
LOSSLESS_VIDEO_CODECS = frozenset({"ffv1", "rawvideo", "png", "huffyuv", "ffvhuff", "utvideo", "qtrle", "tiff"})
_SUBSAMPLED_CHROMA = re.compile(r"4[12][012]")   # yuv420p, yuv422p10le, yuv411p, ...


@dataclass(frozen=True)
class Clip:
    """A clip to evaluate; `frames()` decodes it afresh each call (nothing is held in memory).

    Attributes:
        path: the file or folder (or a label for in-memory arrays).
        kind: "video", "images" or "array".
        lossless: True when decoded pixels equal the pixels that were stored (see module doc).
        frame_count: the number of frames announced by the container or folder (None if unknown).
        description: codec / pixel format / file type, for the report.
    """

    path: str
    kind: str
    lossless: bool
    frame_count: int | None
    description: str

    def frames(self) -> Iterator[np.ndarray]:
        """Yield (H, W, 3) RGB frames (uint8, or uint16 for deeper sources) in order."""
        if self.kind == "video":
            yield from _video_frames(Path(self.path))
        elif self.kind == "images":
            for file in _image_files(Path(self.path)):
                yield _read_image(file)
        else:
            array = np.load(self.path, mmap_mode="r")
            for frame in array:
                yield _rgb_only(np.asarray(frame), self.path)


def open_clip(path: str | Path) -> Clip:
    """Describe the clip at `path`: a video file, a folder of images, one image, or a .npy array.

    A .npy file holds (N, H, W, 3|4) frames (uint8, uint16 or float32); image folders are read in
    natural filename order (frame_2 before frame_10).

    Raises:
        FileNotFoundError: nothing at `path`.
        ValueError: a folder without images, an unreadable video or a malformed array.
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"clip not found: {path}")
    if path.is_dir() or path.suffix.lower() in IMAGE_SUFFIXES:
        files = _image_files(path)
        suffixes = sorted({f.suffix.lower() for f in files})
        lossless = all(s in _LOSSLESS_IMAGE_SUFFIXES for s in suffixes)
        return Clip(str(path), "images", lossless, len(files), f"{len(files)} image(s) ({', '.join(suffixes)})")
    if path.suffix.lower() == ".npy":
        array = np.load(path, mmap_mode="r")
        if array.ndim != 4 or array.shape[3] not in (3, 4):
            raise ValueError(f"{path}: expected an (N, H, W, 3|4) array, got shape {array.shape}")
        return Clip(str(path), "array", True, int(array.shape[0]), f"array {array.dtype} {array.shape}")
    return _video_clip(path)


def _video_clip(path: Path) -> Clip:
    try:
        with av.open(str(path)) as container:
            if not container.streams.video:
                raise ValueError(f"{path} has no video stream")
            stream = container.streams.video[0]
            codec, pix_fmt = stream.codec_context.name, stream.codec_context.pix_fmt or "?"
            count = int(stream.frames) or None
    except av.error.FFmpegError as exc:
        raise ValueError(f"cannot read video {path}: {exc}") from exc
    lossless = codec in LOSSLESS_VIDEO_CODECS and not _SUBSAMPLED_CHROMA.search(pix_fmt)
    return Clip(str(path), "video", lossless, count, f"{codec} {pix_fmt}")


def _video_frames(path: Path) -> Iterator[np.ndarray]:
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        deep = max(c.bits for c in stream.codec_context.format.components) > 8
        for frame in container.decode(stream):
            yield frame.to_ndarray(format="rgb48le" if deep else "rgb24")


def _natural_key(path: Path) -> list[object]:
    return [int(part) if part.isdigit() else part.lower() for part in re.split(r"(\d+)", path.name)]


def _image_files(path: Path) -> list[Path]:
    """The image itself, or a folder's images in natural order."""
    if path.is_file():
        return [path]
    files = sorted((p for p in path.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file()),
                   key=_natural_key)
    if not files:
        raise ValueError(f"no images ({', '.join(IMAGE_SUFFIXES)}) in folder {path}")
    return files


def _read_image(path: Path) -> np.ndarray:
    image = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    if image is None:
        raise ValueError(f"cannot read image {path}")
    if image.ndim == 2:
        image = cv2.cvtColor(image, cv2.COLOR_GRAY2RGB)
    elif image.shape[2] == 4:
        image = cv2.cvtColor(image, cv2.COLOR_BGRA2RGB)
    else:
        image = cv2.cvtColor(image, cv2.COLOR_BGR2RGB)
    return image


def _rgb_only(frame: np.ndarray, source: str) -> np.ndarray:
    if frame.dtype not in (np.uint8, np.uint16, np.float32):
        raise ValueError(f"{source}: unsupported frame dtype {frame.dtype}; expected uint8, uint16 or float32")
    return np.ascontiguousarray(frame[:, :, :3])

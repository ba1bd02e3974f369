"""The footage the benchmarks run on: real clips from ../shared/media at 720p, 1080p and 2160p.

    720p   wide/source_s18.mp4            1280x720 as shot (a small face, ~150 px)
    1080p  mead/crop_M030_sad_3_001.mp4   1920x1080 as shot (a frontal close-up)
    2160p  the 1080p clip upscaled 2x with cv2 INTER_LINEAR to 3840x2160 (no 4K talking clip exists)

When the media folder is missing, each resolution falls back to a synthetic shot (scikit-image's
astronaut portrait on a grey canvas, drifting a few pixels per frame) and every figure made from
it is marked synthetic: the bench still runs, but those numbers are not footage numbers.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from ned_models.media import open_source

__all__ = ["ClipSpec", "Clip", "CLIP_SPECS", "RESOLUTIONS", "default_media_dir", "media_available", "load_clip",
           "as_rgba"]

logger = logging.getLogger(__name__)

REPO_ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class ClipSpec:
    """Where a resolution's footage comes from.

    Attributes:
        label: "720p", "1080p", "2160p".
        path: clip path inside the media folder.
        size_wh: the benchmark's frame size (after any upscale).
        frame_rate: the clip's frames per second.
        frames: frames used by a full run (the whole clip where memory allows).
        quick_frames: frames used by `--quick`.
    """

    label: str
    path: str
    size_wh: tuple[int, int]
    frame_rate: float
    frames: int
    quick_frames: int

    @property
    def resolution(self) -> str:
        return f"{self.size_wh[0]}x{self.size_wh[1]}"


CLIP_SPECS = {
    "720p": ClipSpec("720p", "wide/source_s18.mp4", (1280, 720), 30.0, frames=282, quick_frames=20),
    "1080p": ClipSpec("1080p", "mead/crop_M030_sad_3_001.mp4", (1920, 1080), 30.0, frames=112, quick_frames=20),
    # 60 frames of 4K RGB are 1.5 GB in memory; more would crowd the shared machine.
    "2160p": ClipSpec("2160p", "mead/crop_M030_sad_3_001.mp4", (3840, 2160), 30.0, frames=60, quick_frames=10),
}
RESOLUTIONS = tuple(CLIP_SPECS)


@dataclass(frozen=True)
class Clip:
    """Decoded frames of one benchmark input.

    Attributes:
        spec: what it is.
        frames: (H, W, 3) uint8 RGB frames, top-down.
        source: how they were made, for the report.
        synthetic: True when they are not footage.
    """

    spec: ClipSpec
    frames: tuple[np.ndarray, ...]
    source: str
    synthetic: bool

    @property
    def resolution(self) -> str:
        return self.spec.resolution

    def timed(self) -> list[tuple[float, np.ndarray]]:
        """(seconds, frame) pairs at the clip's frame rate, as analyse_shot takes them."""
        return [(i / self.spec.frame_rate, frame) for i, frame in enumerate(self.frames)]


def default_media_dir() -> Path:
    """`../shared/media` next to the repository."""
    return (REPO_ROOT.parent / "shared" / "media").resolve()


def media_available(media_dir: Path) -> bool:
    return (media_dir / "manifest.json").is_file()


def as_rgba(frame: np.ndarray, dtype: type = np.uint8) -> np.ndarray:
    """(H, W, 4) RGBA with opaque alpha, as hosts hand frames to an OFX effect; float is 0..1."""
    alpha = np.full(frame.shape[:2] + (1,), 255, np.uint8)
    rgba = np.concatenate([frame, alpha], axis=2)
    if dtype is np.uint8:
        return rgba
    if dtype is np.float32:
        return rgba.astype(np.float32) / np.float32(255.0)
    raise ValueError(f"unsupported benchmark pixel type {dtype}")


def load_clip(label: str, media_dir: Path, count: int | None = None, quick: bool = False) -> Clip:
    """The frames of resolution `label` ("720p", "1080p", "2160p").

    Args:
        media_dir: the test media folder; when it lacks manifest.json a synthetic shot is made.
        count: frames wanted (default: the spec's full or quick count).

    Raises:
        ValueError: an unknown label, or a clip shorter than `count`.
    """
    if label not in CLIP_SPECS:
        raise ValueError(f"unknown resolution {label!r}; choose one of {', '.join(RESOLUTIONS)}")
    spec = CLIP_SPECS[label]
    count = count or (spec.quick_frames if quick else spec.frames)
    if not media_available(media_dir):
        return _synthetic_clip(spec, count)
    path = media_dir / spec.path
    width, height = spec.size_wh
    frames = []
    with open_source(path) as source:
        native = (source.info.width, source.info.height)
        if len(source) < count:
            raise ValueError(f"{path} has {len(source)} frames, the benchmark needs {count}")
        for _, _, image in source.frames(0, count, exact=False):
            if image.dtype != np.uint8:
                raise ValueError(f"{path}: expected 8-bit frames, got {image.dtype}")
            if (image.shape[1], image.shape[0]) != (width, height):
                image = cv2.resize(image, (width, height), interpolation=cv2.INTER_LINEAR)
            frames.append(image)
    how = f"{native[0]}x{native[1]} upscaled with cv2 INTER_LINEAR" if native != spec.size_wh else "as shot"
    return Clip(spec, tuple(frames), f"{spec.path}, frames 0-{count - 1}, {how}", synthetic=False)


def _synthetic_clip(spec: ClipSpec, count: int) -> Clip:
    """A portrait on a grey canvas, moving 1 px per frame (so tracking follows a moving face)."""
    from skimage.data import astronaut  # bundled with scikit-image; no download

    width, height = spec.size_wh
    face = astronaut()
    side = int(0.8 * height)
    face = cv2.resize(face, (side, side), interpolation=cv2.INTER_AREA)
    frames = []
    for i in range(count):
        canvas = np.full((height, width, 3), 118, np.uint8)
        x = (width - side) // 2 + (i % 16) - 8
        y = (height - side) // 2
        canvas[y:y + side, x:x + side] = face
        frames.append(canvas)
    logger.warning("media missing: %s uses a SYNTHETIC shot (skimage astronaut), not footage", spec.label)
    return Clip(spec, tuple(frames), f"SYNTHETIC: skimage astronaut on a {spec.resolution} canvas, {count} frames",
                synthetic=True)

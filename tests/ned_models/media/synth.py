"""Synthetic media for the media tests, written with PyAV directly (not with the code under test).

Frames are smooth gradients with a moving square, so codecs behave as on real footage and every frame
differs from its neighbours (a dropped or repeated frame would show).
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import numpy as np


def gradient_frames(count: int, height: int, width: int, dtype: type = np.uint8) -> list[np.ndarray]:
    """`count` distinct (H, W, 3) RGB frames in `dtype` (uint8 or uint16, full range)."""
    top = 255 if dtype == np.uint8 else 65535
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float64)
    frames = []
    for i in range(count):
        r = xs / max(width - 1, 1)
        g = ys / max(height - 1, 1)
        b = 0.5 + 0.5 * np.sin((xs + ys) / 7.0 + i)
        image = np.stack([r, g, b], axis=-1)
        y0, x0 = (3 * i) % max(height - 8, 1), (5 * i) % max(width - 8, 1)
        image[y0:y0 + 8, x0:x0 + 8] = (1.0, 0.2, 0.1)
        frames.append(np.rint(image * top).astype(dtype))
    return frames


def _add_audio(output: av.container.OutputContainer, codec: str, seconds: float) -> list[av.AudioFrame]:
    rate = 8000 if codec in ("pcm_mulaw", "pcm_alaw") else 44100
    stream = output.add_stream(codec, rate=rate, layout="mono")
    samples = int(seconds * rate)
    t = np.arange(samples) / rate
    wave = (0.3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
    frames = []
    for start in range(0, samples, 1024):
        chunk = wave[start:start + 1024]
        frame = av.AudioFrame.from_ndarray(chunk[None, :], format="flt", layout="mono")
        frame.sample_rate, frame.pts, frame.time_base = rate, start, Fraction(1, rate)
        frames.append(frame)
    return stream, frames


def write_clip(path: Path, frames: list[np.ndarray], *, pts: list[int] | None = None,
               time_base: Fraction = Fraction(1, 25), codec: str = "libx264", pix_fmt: str = "yuv420p",
               audio: str | None = None, rotation: int = 0, sample_aspect: Fraction | None = None,
               options: dict[str, str] | None = None) -> None:
    """Encode `frames` (RGB) at `pts` (ticks of `time_base`; default 0, 1, 2, ...) into `path`.

    Each frame lasts until the next one (the last one as long as the one before it). `audio` names an
    audio codec to add a 440 Hz tone as long as the video; `rotation` sets the display matrix and
    `sample_aspect` the pixel aspect ratio.
    """
    pts = list(range(len(frames))) if pts is None else pts
    ends = [*pts[1:], pts[-1] + (pts[-1] - pts[-2] if len(pts) > 1 else 1)]
    durations = {p: e - p for p, e in zip(pts, ends, strict=True)}
    output = av.open(str(path), "w")
    stream = output.add_stream(codec, rate=Fraction(1, 1) / time_base, options=options or {})
    stream.width, stream.height, stream.pix_fmt = frames[0].shape[1], frames[0].shape[0], pix_fmt
    stream.time_base = time_base
    stream.codec_context.time_base = time_base
    if rotation:
        stream.set_display_rotation(rotation)
    if sample_aspect is not None:
        stream.codec_context.sample_aspect_ratio = sample_aspect
    audio_stream, audio_frames = (None, [])
    if audio is not None:
        audio_stream, audio_frames = _add_audio(output, audio, float(ends[-1] * time_base))
    source_format = "rgb24" if frames[0].dtype == np.uint8 else "rgb48le"
    for image, stamp in zip(frames, pts, strict=True):
        frame = av.VideoFrame.from_ndarray(image, format=source_format).reformat(format=pix_fmt)
        frame.pts, frame.time_base = stamp, time_base
        for packet in stream.encode(frame):
            packet.duration = durations[packet.pts]
            output.mux(packet)
    for packet in stream.encode(None):
        packet.duration = durations[packet.pts]
        output.mux(packet)
    for frame in audio_frames:
        for packet in audio_stream.encode(frame):
            output.mux(packet)
    if audio_stream is not None:
        for packet in audio_stream.encode(None):
            output.mux(packet)
    output.close()


def write_still(path: Path, image: np.ndarray) -> None:
    """Write an (H, W, 3) uint8 or uint16 RGB image as PNG (by PyAV's encoder, not the code under test)."""
    pix_fmt = "rgb24" if image.dtype == np.uint8 else "rgb48be"
    cc = av.CodecContext.create("png", "w")
    cc.width, cc.height, cc.pix_fmt, cc.time_base = image.shape[1], image.shape[0], pix_fmt, Fraction(1, 25)
    source_format = "rgb24" if image.dtype == np.uint8 else "rgb48le"
    frame = av.VideoFrame.from_ndarray(image, format=source_format).reformat(format=pix_fmt)
    path.write_bytes(b"".join(bytes(p) for p in cc.encode(frame)) + b"".join(bytes(p) for p in cc.encode(None)))


def decode_rgb(path: Path, dtype: type = np.uint8) -> list[np.ndarray]:
    """Every frame of `path` as RGB, decoded by PyAV alone (for checking what a sink wrote)."""
    target = "rgb24" if dtype == np.uint8 else "rgb48le"
    with av.open(str(path)) as container:
        return [f.to_ndarray(format=target) for f in container.decode(video=0)]


def psnr(a: np.ndarray, b: np.ndarray, peak: float = 255.0) -> float:
    """Peak signal-to-noise ratio in dB between two images of the same shape."""
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    return float("inf") if mse == 0 else 10.0 * np.log10(peak * peak / mse)

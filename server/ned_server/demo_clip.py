"""A short talking clip made from a still that ships inside scikit-image, for the demo and tests.

The still is `skimage.data.astronaut()` (a public-domain NASA portrait, 512x512). It is animated
with the product's own parts, so the clip needs no file from outside the repository:
- mouth: the face model's speech units (lips part, jaw drop) follow a syllable-like openness track,
  rendered onto the still with the warp renderer (the still is analysed once for its face state);
- head: a slow, smooth similarity (small rotation, translation and scale) of the whole picture;
- sound: a voiced buzz whose loudness and first formant follow the same openness track (open
  mouth = louder, brighter vowel), written as AAC so that audio copying can be checked.

Nothing here is random at run time: a seeded generator picks the syllables, so every run writes
the same frames.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np
from av.video.reformatter import Colorspace

from ned_models.analysis.results import FrameFaceState
from ned_models.analysis.shot import analyse_shot
from ned_models.face_model.action_units import ActionUnit
from ned_models.media.color import YuvRule, rgb_to_frame
from ned_models.pipeline import shot_topology
from ned_models.render import render_patch

__all__ = ["DemoClipSpec", "DemoClip", "make_demo_clip", "syllables", "openness", "head_transform", "speech_audio"]

_BT709 = 1
_CLOSED_LIPS = 0.05          # LIPS_PART at rest: lips together (the still smiles with parted lips)
_OPEN_LIPS_EXTRA = 0.25      # LIPS_PART above the still's own at full openness
_OPEN_JAW = 0.7              # JAW_DROP at full openness (1 = chin down 0.3 IOD)
_BASE_ZOOM = 1.4             # head-and-shoulders framing ...
_FRAMED_X, _FRAMED_Y = 0.5, 0.29  # ... with the face here; the sway never shows the still's border


@dataclass(frozen=True)
class DemoClipSpec:
    """Attributes:
        seconds: clip length.
        fps: frames per second.
        sample_rate: audio samples per second.
        seed: picks the syllables (same seed, same clip).
    """

    seconds: float = 4.0
    fps: int = 25
    sample_rate: int = 48_000
    seed: int = 2022


@dataclass(frozen=True)
class DemoClip:
    """Attributes:
        path: the written clip (H.264 + AAC in MP4).
        frame_count: frames written.
        openness: (T,) mouth openness per frame, 0 = lips closed, 1 = wide open.
        head_from_still: (T, 3, 3) the similarity applied to the still at each frame.
    """

    path: Path
    frame_count: int
    openness: np.ndarray
    head_from_still: np.ndarray


def syllables(seconds: float, seed: int) -> np.ndarray:
    """(S, 3) syllables as (centre s, half width s, peak openness), in two phrases with a pause between.

    Speech runs at about 4-5 syllables a second; each phrase starts and ends with a breath of silence.
    """
    rng = np.random.default_rng(seed)
    out = []
    for start, end in ((0.25, 0.46 * seconds), (0.58 * seconds, seconds - 0.3)):
        t = start
        while True:
            half = rng.uniform(0.08, 0.14)
            if t + 2 * half > end:
                break
            out.append((t + half, half, rng.uniform(0.45, 1.0)))
            t += 2 * half + rng.uniform(0.0, 0.05)
    return np.array(out, dtype=np.float64).reshape(-1, 3)


def openness(times: np.ndarray, syllable_table: np.ndarray) -> np.ndarray:
    """(N,) mouth openness at `times` (seconds): each syllable a raised-cosine bump, the largest wins."""
    t = np.asarray(times, dtype=np.float64)[:, None]
    centre, half, peak = syllable_table.T
    u = np.clip((t - centre) / half, -1.0, 1.0)
    return (peak * 0.5 * (1.0 + np.cos(np.pi * u))).max(axis=1, initial=0.0)


def head_transform(t: float, centre_xy: tuple[float, float], framed_xy: tuple[float, float]) -> np.ndarray:
    """(3, 3) frame_from_still similarity at time `t`: a slow sway about the face centre.

    The face centre `centre_xy` of the still lands near `framed_xy` of the frame (head-and-shoulders
    framing), moved by a few pixels, turned by up to 2 degrees and zoomed by up to 3 %.
    """
    angle = np.deg2rad(2.0 * np.sin(2 * np.pi * t / 3.1))
    scale = _BASE_ZOOM + 0.03 * np.sin(2 * np.pi * t / 3.7 + 0.5)
    tx = framed_xy[0] + 6.0 * np.sin(2 * np.pi * t / 4.0 + 0.7)
    ty = framed_xy[1] + 4.0 * np.sin(2 * np.pi * t / 2.3 + 1.3)
    c, s = scale * np.cos(angle), scale * np.sin(angle)
    frame_from_face = np.array([[c, -s, tx], [s, c, ty], [0, 0, 1]])
    face_from_still = np.array([[1, 0, -centre_xy[0]], [0, 1, -centre_xy[1]], [0, 0, 1]])
    return frame_from_face @ face_from_still


def speech_audio(seconds: float, sample_rate: int, syllable_table: np.ndarray) -> np.ndarray:
    """(N,) float32 mono in [-1, 1]: a voiced buzz shaped by the openness track (see the module doc)."""
    n = int(round(seconds * sample_rate))
    t = np.arange(n) / sample_rate
    envelope = openness(t, syllable_table)
    f0 = 165.0 + 25.0 * np.sin(2 * np.pi * t / 1.7)           # intonation
    phase = 2 * np.pi * np.cumsum(f0) / sample_rate
    formant1 = 350.0 + 450.0 * envelope                        # an open jaw raises F1
    signal = np.zeros(n)
    for k in range(1, 25):
        harmonic = k * f0
        gain = (np.exp(-0.5 * ((harmonic - formant1) / 160.0) ** 2)
                + 0.5 * np.exp(-0.5 * ((harmonic - 1500.0) / 260.0) ** 2) + 0.03) / k
        signal += gain * np.sin(k * phase)
    signal *= np.minimum(envelope * 1.6, 1.0)
    peak = np.abs(signal).max()
    return (0.6 * signal / peak if peak > 0 else signal).astype(np.float32)


def _still_face(still: np.ndarray) -> FrameFaceState:
    shot = analyse_shot([(0.0, still)])
    return shot.state(0, 0.0)


def _mouth_frame(still: np.ndarray, state: FrameFaceState, topology, amount: float) -> np.ndarray:
    """The still with its mouth opened by `amount` (0 = lips closed) through the warp renderer."""
    expression = state.expression.copy()
    parted = expression[ActionUnit.LIPS_PART]
    expression[ActionUnit.LIPS_PART] = _CLOSED_LIPS + amount * (parted + _OPEN_LIPS_EXTRA - _CLOSED_LIPS)
    expression[ActionUnit.JAW_DROP] += _OPEN_JAW * amount
    target = state.edited_landmarks(expression)[:, :2]
    result = render_patch(still, (0, 0), state.landmarks[:, :2], target, topology=topology)
    x, y, w, h = result.placement
    frame = still.copy()
    frame[y:y + h, x:x + w] = result.patch[..., :3]
    return frame


def _write(path: Path, frames, fps: int, audio: np.ndarray, sample_rate: int, size_hw: tuple[int, int]) -> int:
    """Mux H.264 video (BT.709, limited range, tagged) and AAC audio into an MP4; returns frames written."""
    rule = YuvRule(Colorspace.ITU709, full_range=False)
    count = 0
    with av.open(str(path), "w", format="mp4") as container:
        video = container.add_stream("libx264", rate=fps, options={"crf": "15", "preset": "medium", "bf": "0"})
        video.height, video.width = size_hw
        video.pix_fmt = "yuv420p"
        cc = video.codec_context
        cc.colorspace = cc.color_primaries = cc.color_trc = _BT709
        cc.color_range = 1
        sound = container.add_stream("aac", rate=sample_rate, layout="mono")
        for index, image in enumerate(frames):
            frame = rgb_to_frame(image, rule, "yuv420p")
            frame.pts, frame.time_base = index, Fraction(1, fps)
            container.mux(video.encode(frame))
            count += 1
        container.mux(video.encode(None))
        chunk = sound.codec_context.frame_size or 1024
        for start in range(0, len(audio), chunk):
            block = audio[start:start + chunk][None]
            frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(block), format="flt", layout="mono")
            frame.sample_rate, frame.pts = sample_rate, start
            container.mux(sound.encode(frame))
        container.mux(sound.encode(None))
    return count


def make_demo_clip(path: str | Path, spec: DemoClipSpec = DemoClipSpec(), still: np.ndarray | None = None) -> DemoClip:
    """Write the talking clip to `path` (MP4) and describe it.

    Args:
        path: the output file (.mp4).
        spec: length, rate and seed.
        still: (H, W, 3) uint8 RGB portrait to animate (default: scikit-image's astronaut).

    Raises:
        NoFaceFound: the still shows no face.
    """
    if still is None:
        import skimage.data

        still = skimage.data.astronaut()
    state = _still_face(still)
    topology = shot_topology(state.identity)
    table = syllables(spec.seconds, spec.seed)
    count = int(round(spec.seconds * spec.fps))
    times = np.arange(count) / spec.fps
    amounts = openness(times, table)
    x0, y0, x1, y1 = (float(v) for v in state.render_region)
    centre = ((x0 + x1) / 2, (y0 + y1) / 2)
    h, w = still.shape[:2]
    transforms = np.stack([head_transform(t, centre, (w * _FRAMED_X, h * _FRAMED_Y)) for t in times])

    def frames():
        for amount, transform in zip(amounts, transforms, strict=True):
            mouth = _mouth_frame(still, state, topology, float(amount))
            yield cv2.warpAffine(mouth, transform[:2], (w, h), flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REFLECT101)

    written = _write(Path(path), frames(), spec.fps, speech_audio(spec.seconds, spec.sample_rate, table),
                     spec.sample_rate, (h, w))
    return DemoClip(Path(path), written, amounts, transforms)

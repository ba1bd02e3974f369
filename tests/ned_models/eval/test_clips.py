"""Reading clips: videos (lossless or not), image folders in natural order, arrays, bit depths."""

from __future__ import annotations

import av
import cv2
import numpy as np
import pytest

from ned_models.eval.clips import open_clip


def write_video(path, frames: list[np.ndarray], codec: str, pix_fmt: str) -> None:
    """Encode (H, W, 3) uint8 RGB frames with PyAV."""
    with av.open(str(path), "w") as container:
        stream = container.add_stream(codec, rate=25)
        stream.height, stream.width = frames[0].shape[:2]
        stream.pix_fmt = pix_fmt
        for frame in frames:
            for packet in stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)


def _frames(count: int = 5, size_hw: tuple[int, int] = (48, 64)) -> list[np.ndarray]:
    rng = np.random.default_rng(6)
    return [rng.integers(0, 256, (*size_hw, 3), dtype=np.uint8) for _ in range(count)]


class TestVideo:
    def test_ffv1_rgb_is_lossless_and_exact(self, tmp_path):
        frames = _frames()
        path = tmp_path / "clip.mkv"
        write_video(path, frames, "ffv1", "bgr0")
        clip = open_clip(path)
        assert clip.kind == "video" and clip.lossless and "ffv1" in clip.description
        decoded = list(clip.frames())
        assert len(decoded) == len(frames)
        for a, b in zip(frames, decoded, strict=True):
            np.testing.assert_array_equal(a, b)

    def test_subsampled_or_h264_is_lossy(self, tmp_path):
        frames = _frames()
        write_video(tmp_path / "a.mp4", frames, "libx264", "yuv420p")
        write_video(tmp_path / "b.mkv", frames, "ffv1", "yuv420p")
        assert not open_clip(tmp_path / "a.mp4").lossless
        assert not open_clip(tmp_path / "b.mkv").lossless

    def test_not_a_video(self, tmp_path):
        path = tmp_path / "junk.mp4"
        path.write_bytes(b"not a video at all" * 10)
        with pytest.raises(ValueError, match="cannot read video"):
            open_clip(path)


class TestImages:
    def test_natural_order_and_depths(self, tmp_path):
        for index in (10, 2, 1):
            image = np.full((4, 6, 3), index * 1000, np.uint16)
            image[0, 0] = (1, 2, 3)                          # RGB; the file stores BGR
            cv2.imwrite(str(tmp_path / f"frame_{index}.png"), image[:, :, ::-1])
        clip = open_clip(tmp_path)
        assert clip.kind == "images" and clip.lossless and clip.frame_count == 3
        frames = list(clip.frames())
        assert [int(f[1, 1, 0]) for f in frames] == [1000, 2000, 10000]
        assert frames[0].dtype == np.uint16 and tuple(frames[0][0, 0]) == (1, 2, 3)

    def test_jpeg_is_lossy_and_single_image(self, tmp_path):
        cv2.imwrite(str(tmp_path / "one.jpg"), np.zeros((8, 8, 3), np.uint8))
        clip = open_clip(tmp_path / "one.jpg")
        assert not clip.lossless and clip.frame_count == 1
        assert next(clip.frames()).shape == (8, 8, 3)

    def test_empty_folder(self, tmp_path):
        with pytest.raises(ValueError, match="no images"):
            open_clip(tmp_path)

    def test_missing(self, tmp_path):
        with pytest.raises(FileNotFoundError):
            open_clip(tmp_path / "nothing.mp4")


class TestArray:
    def test_rgba_float_array(self, tmp_path):
        frames = np.random.default_rng(7).uniform(-0.5, 1.5, (3, 4, 5, 4)).astype(np.float32)
        np.save(tmp_path / "clip.npy", frames)
        clip = open_clip(tmp_path / "clip.npy")
        assert clip.lossless and clip.frame_count == 3
        decoded = list(clip.frames())
        np.testing.assert_array_equal(decoded[2], frames[2, :, :, :3])

    def test_bad_shape(self, tmp_path):
        np.save(tmp_path / "bad.npy", np.zeros((4, 5, 3)))
        with pytest.raises(ValueError, match="N, H, W"):
            open_clip(tmp_path / "bad.npy")

"""Outside-patch exactness: placements parsing and bitwise pixel counting in every depth."""

from __future__ import annotations

import json

import numpy as np
import pytest

from ned_models.eval.exactness import PatchRect, load_placements, parse_placements, pixels_changed_outside


class TestPlacements:
    def test_grouped_by_frame(self, tmp_path):
        path = tmp_path / "placements.json"
        path.write_text(json.dumps([
            {"frame": 0, "x": 1, "y": 2, "width": 3, "height": 4},
            {"frame": 2, "x": 0, "y": 0, "width": 5, "height": 5},
            {"frame": 2, "x": 9, "y": 9, "width": 1, "height": 1},
        ]))
        placements = load_placements(path)
        assert placements == {0: [PatchRect(1, 2, 3, 4)], 2: [PatchRect(0, 0, 5, 5), PatchRect(9, 9, 1, 1)]}

    @pytest.mark.parametrize(("entries", "message"), [
        ({"frame": 0}, "JSON list"),
        ([{"frame": 0, "x": 1, "y": 2, "width": 3}], "lacks 'height'"),
        ([{"frame": 0, "x": 1.5, "y": 2, "width": 3, "height": 4}], "integers"),
        ([{"frame": 0, "x": 1, "y": 2, "width": -3, "height": 4}], "negative"),
        ([7], "not an object"),
    ])
    def test_malformed(self, entries, message):
        with pytest.raises(ValueError, match=message):
            parse_placements(entries)

    def test_bad_json(self, tmp_path):
        path = tmp_path / "p.json"
        path.write_text("[{")
        with pytest.raises(ValueError, match="not valid JSON"):
            load_placements(path)


class TestPixelsChangedOutside:
    @pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.float32])
    def test_counts_pixels_not_channels(self, dtype):
        source = np.zeros((10, 12, 3), dtype)
        edit = source.copy()
        edit[2:4, 3:6] = 1                      # 6 pixels changed inside the patch
        edit[8, 0, 1] = 1                       # one pixel, one channel, outside
        edit[9, 11, :] = 1                      # one pixel, all channels, outside
        assert pixels_changed_outside(source, edit, [PatchRect(3, 2, 3, 2)]) == 2
        assert pixels_changed_outside(source, edit, []) == 8

    def test_float_bits_matter(self):
        source = np.array([[[0.0, 2.5, np.nan]]], np.float32)
        edit = source.copy()
        assert pixels_changed_outside(source, edit, []) == 0     # the same NaN bits are equal
        edit[0, 0, 0] = -0.0
        assert pixels_changed_outside(source, edit, []) == 1     # -0.0 is not a copy of 0.0
        out_of_range = np.array([[[-0.25, 1.75, 3.0]]], np.float32)
        assert pixels_changed_outside(out_of_range, out_of_range.copy(), []) == 0

    def test_rects_past_the_border(self):
        source = np.zeros((4, 4, 4), np.uint8)
        edit = np.ones_like(source)
        assert pixels_changed_outside(source, edit, [PatchRect(-2, -2, 4, 4), PatchRect(3, 3, 10, 10)]) == 16 - 4 - 1

    def test_mismatch(self):
        with pytest.raises(ValueError, match="differ"):
            pixels_changed_outside(np.zeros((2, 2, 3), np.uint8), np.zeros((2, 2, 3), np.uint16), [])

"""Outside-patch exactness: every pixel outside the face patch must be the source, bit for bit.

The renderer (or the CLI that drove it) writes where it pasted each frame's patch as a JSON list of
`{"frame": i, "x": .., "y": .., "width": .., "height": ..}` in full-frame pixels, top-left origin
(the proto's `Rect`); a frame may have several entries or none (= nothing may differ). This check
needs lossless frames on both sides: after a lossy codec every pixel differs a little.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

__all__ = ["PatchRect", "load_placements", "parse_placements", "pixels_changed_outside"]


@dataclass(frozen=True)
class PatchRect:
    """A pixel rectangle in full-frame coordinates: columns [x, x + width), rows [y, y + height)."""

    x: int
    y: int
    width: int
    height: int


def parse_placements(entries: object) -> dict[int, list[PatchRect]]:
    """Group placement entries (the JSON list described in the module doc) by frame index.

    Raises:
        ValueError: not a list of objects with integer frame/x/y/width/height (width, height >= 0).
    """
    if not isinstance(entries, list):
        raise ValueError(f"placements must be a JSON list, got {type(entries).__name__}")
    by_frame: dict[int, list[PatchRect]] = {}
    for position, entry in enumerate(entries):
        if not isinstance(entry, Mapping):
            raise ValueError(f"placement #{position} is not an object: {entry!r}")
        try:
            frame = entry["frame"]
            values = [entry[key] for key in ("x", "y", "width", "height")]
        except KeyError as exc:
            raise ValueError(f"placement #{position} lacks {exc.args[0]!r}: {entry!r}") from None
        if not all(isinstance(v, int) and not isinstance(v, bool) for v in [frame, *values]):
            raise ValueError(f"placement #{position} must hold integers: {entry!r}")
        if frame < 0 or values[2] < 0 or values[3] < 0:
            raise ValueError(f"placement #{position} has a negative frame or size: {entry!r}")
        by_frame.setdefault(frame, []).append(PatchRect(*values))
    return by_frame


def load_placements(path: str | Path) -> dict[int, list[PatchRect]]:
    """Read a placements JSON file (see `parse_placements`)."""
    path = Path(path)
    try:
        entries = json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path} is not valid JSON: {exc}") from exc
    return parse_placements(entries)


def pixels_changed_outside(source: np.ndarray, edit: np.ndarray, rects: list[PatchRect]) -> int:
    """Count the pixels outside every rect where any channel of `edit` differs from `source`.

    Differences are bitwise (float NaN payloads and -0.0 count as changes), in every dtype.

    Raises:
        ValueError: the frames differ in shape or dtype.
    """
    if source.shape != edit.shape or source.dtype != edit.dtype:
        raise ValueError(f"source {source.shape} {source.dtype} and edit {edit.shape} {edit.dtype} frames differ")
    h, w = source.shape[:2]
    a = np.ascontiguousarray(source).reshape(h, w, -1)
    b = np.ascontiguousarray(edit).reshape(h, w, -1)
    unsigned = np.dtype(f"u{a.dtype.itemsize}")
    changed = (a.view(unsigned) != b.view(unsigned)).any(axis=2)
    for rect in rects:
        changed[max(0, rect.y):max(0, rect.y + rect.height), max(0, rect.x):max(0, rect.x + rect.width)] = False
    return int(np.count_nonzero(changed))

"""Numbered file names: `frame_%04d.png` (FFmpeg's printf style) or `frame_####.png` (Nuke's style)."""

from __future__ import annotations

import re

__all__ = ["sequence_regex", "sequence_name", "is_sequence_pattern"]

_PRINTF = re.compile(r"%(0?)(\d*)d")
_HASHES = re.compile(r"#+")


def _placeholder(name: str) -> tuple[re.Match[str], int] | None:
    """The one number placeholder in `name` and its zero-padded width, or None."""
    for marker in (_PRINTF, _HASHES):
        found = list(marker.finditer(name))
        if len(found) == 1:
            m = found[0]
            width = len(m.group(0)) if marker is _HASHES else int(m.group(2) or 1)
            return m, width
    return None


def is_sequence_pattern(name: str) -> bool:
    """True when `name` holds exactly one number placeholder."""
    return _placeholder(name) is not None


def sequence_regex(name: str) -> re.Pattern[str] | None:
    """A regex for the file names a pattern names, with the frame number as group 1; None if no pattern.

    `%04d` and `####` match at least four digits (padding grows past 9999, as FFmpeg and Nuke do);
    `%d` matches any digits.
    """
    found = _placeholder(name)
    if found is None:
        return None
    m, width = found
    return re.compile(re.escape(name[: m.start()]) + rf"(\d{{{width},}})" + re.escape(name[m.end():]) + "$")


def sequence_name(pattern: str, number: int) -> str:
    """The file name of frame `number` under `pattern`."""
    found = _placeholder(pattern)
    if found is None:
        raise ValueError(f"{pattern}: not a sequence pattern (use one %04d or #### for the number)")
    m, width = found
    return pattern[: m.start()] + str(number).zfill(width) + pattern[m.end():]

"""A contact sheet of an edit: source | edit face views for a few frames spread over the clip.

Each row shows one scored frame with the classifier's P(target) on the source and on the edit, so
a reviewer sees at a glance whether the face moved toward the asked emotion and what it cost.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from ned_models.eval.frame_pass import THUMBNAIL_PX, Thumbnail
from ned_models.eval.report import EditReport

__all__ = ["pick_sheet_frames", "render_contact_sheet", "write_contact_sheet"]

_CAPTION_PX = 22
_GAP_PX = 4
_HEADER_PX = 26
_FONT = cv2.FONT_HERSHEY_SIMPLEX
_TEXT_RGB = (255, 255, 255)
_BACKGROUND_RGB = (32, 32, 32)


def pick_sheet_frames(thumbnails: tuple[Thumbnail, ...], count: int = 6) -> list[Thumbnail]:
    """`count` thumbnails spread evenly from the first scored frame to the last (all if fewer)."""
    if count < 1:
        raise ValueError(f"a contact sheet needs at least one frame, got count={count}")
    if len(thumbnails) <= count:
        return list(thumbnails)
    picks = np.rint(np.linspace(0, len(thumbnails) - 1, count)).astype(int)
    return [thumbnails[i] for i in picks]


def _format_p(value: float) -> str:
    return "n/a" if not np.isfinite(value) else f"{value:.2f}"


def _put_text(canvas: np.ndarray, text: str, origin_xy: tuple[int, int]) -> None:
    cv2.putText(canvas, text, origin_xy, _FONT, 0.45, _TEXT_RGB, 1, cv2.LINE_AA)


def render_contact_sheet(report: EditReport, count: int = 6) -> np.ndarray:
    """(H, W, 3) uint8 RGB sheet: a header, then one row per picked frame (source | edit)."""
    rows = pick_sheet_frames(report.thumbnails, count)
    if not rows:
        raise ValueError("the report has no thumbnails (no scored frames)")
    target = report.target.name.lower()
    width = 2 * THUMBNAIL_PX + 3 * _GAP_PX
    row_height = _CAPTION_PX + THUMBNAIL_PX + _GAP_PX
    canvas = np.empty((_HEADER_PX + len(rows) * row_height, width, 3), np.uint8)
    canvas[:] = _BACKGROUND_RGB
    _put_text(canvas, f"source | edit   target: {target}   gain {_format_p(report.emotion.target_gain)}",
              (_GAP_PX, _HEADER_PX - 8))
    for k, thumb in enumerate(rows):
        top = _HEADER_PX + k * row_height
        _put_text(canvas, f"#{thumb.frame}  P({target}) {_format_p(thumb.source_p_target)}", (_GAP_PX, top + 16))
        _put_text(canvas, f"P({target}) {_format_p(thumb.edit_p_target)}", (2 * _GAP_PX + THUMBNAIL_PX, top + 16))
        image_top = top + _CAPTION_PX
        canvas[image_top:image_top + THUMBNAIL_PX, _GAP_PX:_GAP_PX + THUMBNAIL_PX] = thumb.source
        left = 2 * _GAP_PX + THUMBNAIL_PX
        canvas[image_top:image_top + THUMBNAIL_PX, left:left + THUMBNAIL_PX] = thumb.edit
    return canvas


def write_contact_sheet(report: EditReport, path: str | Path, count: int = 6) -> None:
    """Render the sheet and save it as PNG."""
    sheet = render_contact_sheet(report, count)
    if not cv2.imwrite(str(path), cv2.cvtColor(sheet, cv2.COLOR_RGB2BGR)):
        raise ValueError(f"cannot write the contact sheet to {path}")

"""The CLI's side outputs: the side-by-side preview, the per-frame edit magnitude, the report.

The preview is `source | edit` in one H.264 file with the source's timing and audio, each half
captioned (the edit's caption shows the intensity of that frame, so a keyframed ramp can be read
off the picture). The report is one JSON file: what was asked and done per frame (intensity, face
found, edit magnitude, patch placement), plus, when the evaluation models are installed, the
independent evaluation of `ned_models.eval` and its contact sheet next to the JSON.
"""

from __future__ import annotations

import json
import logging
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

import cv2
import numpy as np

from ned_models.edit import EditParams, Emotion
from ned_models.errors import NedError
from ned_models.eval.exactness import PatchRect, parse_placements
from ned_models.media import MediaSink, MediaSource, open_sink, open_source
from ned_models.media.atomic import AtomicFile

if TYPE_CHECKING:
    from ned_models.eval.report import EditReport

__all__ = ["PreviewWriter", "edit_magnitude", "side_by_side", "write_report", "report_sheet_path"]

logger = logging.getLogger(__name__)

_PREVIEW_MAX_WIDTH = 3840   # side by side of 1080p stays 1:1; wider sources are halved
_CAPTION_HEIGHT_FRACTION = 0.045


def edit_magnitude(source: np.ndarray, edit: np.ndarray, alpha: np.ndarray | None) -> float:
    """Mean |edit - source| over the face mask (alpha > 0, else the whole patch), in 8-bit levels.

    Args:
        source, edit: (h, w, 3) the patch area before and after, same dtype.
        alpha: (h, w) uint8 blend mask from the server, or None.
    """
    scale = {np.dtype(np.uint8): 1.0, np.dtype(np.uint16): 255.0 / 65535.0}.get(source.dtype, 255.0)
    diff = np.abs(edit.astype(np.float32) - source.astype(np.float32)).mean(axis=2)
    mask = alpha > 0 if alpha is not None else np.ones(diff.shape, bool)
    return float(diff[mask].mean() * scale) if mask.any() else 0.0


class _PreviewShape(MediaSource):
    """The preview's geometry for the sink: the source's timing and audio, a wider picture."""

    def _frames(self, start: int, stop: int, exact: bool):
        raise NotImplementedError("the preview shape has no frames to read")


def _even(value: float) -> int:
    return max(2, int(round(value / 2)) * 2)


def _caption(panel: np.ndarray, text: str) -> None:
    """Write `text` in the panel's top-left corner, white on a darkened band (in place, any dtype).

    The text is drawn into an 8-bit coverage mask first (OpenCV draws text on 8-bit images only), then
    blended into the panel, so 16-bit and float frames get the same caption.
    """
    band = max(int(panel.shape[0] * _CAPTION_HEIGHT_FRACTION), 14)
    scale, thickness = band / 30.0, max(1, round(band / 20))
    (width, _), _ = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, thickness)
    width = min(width + band // 2, panel.shape[1])
    coverage = np.zeros((band, width), np.uint8)
    cv2.putText(coverage, text, (band // 4, int(band * 0.78)), cv2.FONT_HERSHEY_SIMPLEX, scale, 255, thickness,
                cv2.LINE_AA)
    white = float(np.iinfo(panel.dtype).max) if panel.dtype.kind == "u" else 1.0
    weight = coverage[..., None].astype(np.float32) / 255.0
    region = panel[:band, :width].astype(np.float32) / 3.0
    panel[:band, :width] = (region * (1.0 - weight) + white * weight).astype(panel.dtype)


def side_by_side(panels: list[np.ndarray], captions: list[str], size_hw: tuple[int, int]) -> np.ndarray:
    """Panels resized to `size_hw` each, captioned, next to each other: (h, n * w, 3), same dtype."""
    h, w = size_hw
    out = []
    for panel, caption in zip(panels, captions, strict=True):
        if panel.shape[:2] != (h, w):
            panel = cv2.resize(panel, (w, h), interpolation=cv2.INTER_AREA)
        else:
            panel = panel.copy()
        _caption(panel, caption)
        out.append(panel)
    return np.concatenate(out, axis=1)


class PreviewWriter:
    """Writes `source | edit` frames into an H.264 file like the source (timing, audio); a context manager.

    Args:
        path: the preview file (.mp4, .mov or .mkv).
        source: the clip being edited.
        params: the edit (for the caption).
        overwrite: replace an existing file.
        panels: how many frames go side by side (2 for the CLI; the demo shows more).
    """

    def __init__(self, path: Path, source: MediaSource, params: EditParams, *, overwrite: bool = False,
                 panels: int = 2):
        info = source.info
        scale = min(1.0, _PREVIEW_MAX_WIDTH / (panels * info.width))
        self.panel_hw = (_even(info.height * scale), _even(info.width * scale))
        shape = _PreviewShape(replace(info, width=self.panel_hw[1] * panels, height=self.panel_hw[0]))
        self._sink: MediaSink = open_sink(path, shape, codec="h264", overwrite=overwrite, preset="veryfast",
                                          crf=20)
        self.path = self._sink.path
        self._label = params.emotion.name.lower()

    def __enter__(self) -> PreviewWriter:
        return self

    def __exit__(self, exc_type, *rest) -> None:
        self._sink.__exit__(exc_type, *rest)

    def write(self, index: int, source: np.ndarray, edit: np.ndarray, intensity: float) -> None:
        self.write_panels(index, [source, edit], ["source", f"{self._label} {intensity:.2f}"])

    def write_panels(self, index: int, panels: list[np.ndarray], captions: list[str]) -> None:
        self._sink.write(index, side_by_side(panels, captions, self.panel_hw))


def report_sheet_path(report: Path) -> Path:
    """Where the contact sheet of `report` goes: `REPORT_sheet.png` next to it."""
    return report.with_name(report.stem + "_sheet.png")


def _evaluate(source: MediaSource, output: Path, target: Emotion, placements: dict[int, list[PatchRect]],
              lossless: bool, reason: str) -> tuple[EditReport | None, str]:
    """The independent evaluation (dlib + classifier) of the written output, or (None, why not).

    The models load lazily: dlib and the classifier are optional (the `eval` extra and a model file).
    """
    try:
        from ned_models.eval.frame_pass import EvalModels
        from ned_models.eval.report import evaluate_edit

        models = EvalModels.load()
    except (ImportError, NedError) as exc:
        return None, f"evaluation models unavailable: {exc}"
    edit = open_source(output)
    try:
        report = evaluate_edit((f.image for f in source.frames()), (f.image for f in edit.frames()), target,
                               placements=placements, lossless=lossless, lossy_reason=reason, models=models)
    except NedError as exc:
        return None, f"evaluation not possible: {exc}"
    return report, ""


def write_report(path: Path, job: dict, source: MediaSource, output: Path, target: Emotion, placements: list[dict],
                 lossless: bool, lossy_reason: str, overwrite: bool) -> Path | None:
    """Write the report JSON (and the contact sheet when evaluated); returns the sheet's path or None.

    `job` is the CLI's own record (settings, per-frame values); `placements` the pasted patches as
    `{frame, x, y, width, height}` (the `ned-eval --placements` format).
    """
    report, skipped = _evaluate(source, output, target, parse_placements(placements), lossless, lossy_reason)
    document = dict(job, placements=placements, evaluation=None if report is None else report.to_dict())
    if skipped:
        document["evaluation_skipped"] = skipped
        logger.warning("report: %s", skipped)
    target_file = AtomicFile(path, overwrite=overwrite)
    try:
        target_file.partial.write_text(json.dumps(document, indent=1, allow_nan=False) + "\n")
        target_file.commit()
    finally:
        target_file.discard()
    if report is None:
        return None
    from ned_models.eval.contact_sheet import write_contact_sheet

    sheet = report_sheet_path(path)
    write_contact_sheet(report, sheet)
    return sheet


"""The errors ned_models raises, so callers (the server, the CLI) can map them to what users see.

ValueError stays the error for malformed arguments; these name conditions of the data or the models.
"""

from __future__ import annotations

__all__ = ["NedError", "NoFaceFound", "ModelLoadError", "AnalysisMissing", "CheckpointError"]


class NedError(Exception):
    """Base class of every error ned_models raises on purpose."""


class NoFaceFound(NedError):
    """No face could be found where one was needed (a frame, a shot, a face index)."""


class ModelLoadError(NedError):
    """A model asset is missing, corrupt or of the wrong kind; the message names the file."""


class AnalysisMissing(NedError):
    """An operation needs a shot's face analysis that does not exist (yet)."""


class CheckpointError(ModelLoadError):
    """A checkpoint file is not in the format expected; the message names the file and the problem."""

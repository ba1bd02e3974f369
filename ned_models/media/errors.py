"""The errors media I/O raises: each message is one line that names the file and the problem.

They are `NedError`s (conditions of the user's files), so the CLI can print them as they are and the
server can map them to a status. Malformed arguments (a wrong dtype, an unknown codec) stay ValueError.
"""

from __future__ import annotations

from ned_models.errors import NedError

__all__ = [
    "MediaError",
    "MediaNotFound",
    "UnsupportedMedia",
    "EmptyMedia",
    "CorruptMedia",
    "TruncatedMedia",
    "OutputError",
    "AudioCopyError",
]


class MediaError(NedError):
    """Base class of the media errors."""


class MediaNotFound(MediaError, FileNotFoundError):
    """The input path does not exist (also a FileNotFoundError, for callers that catch OSError)."""


class UnsupportedMedia(MediaError):
    """The file is not a video or image we can read (not media at all, no video stream, an odd format)."""


class EmptyMedia(MediaError):
    """The input holds no frames at all."""


class CorruptMedia(MediaError):
    """The input cannot be decoded from some frame on (damaged data)."""


class TruncatedMedia(CorruptMedia):
    """Fewer frames decode than the file declares; refused unless the caller allows it.

    Attributes:
        decodable: how many frames decode (the first `decodable` frames of the file).
        declared: how many frames the container says it holds; None when it does not say.
    """

    def __init__(self, message: str, *, decodable: int, declared: int | None) -> None:
        super().__init__(message)
        self.decodable = decodable
        self.declared = declared


class OutputError(MediaError):
    """The output cannot be written (folder missing or read-only, path is a folder, file exists)."""


class AudioCopyError(MediaError):
    """The source's audio cannot be copied unchanged into the chosen output container."""

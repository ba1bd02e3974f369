"""Media I/O for the CLI and evaluation: read videos, image sequences and images with exact timing;
write outputs that keep it (and the audio), atomically.

    with open_source("shot.mp4") as source, open_sink("shot_happy.mp4", source) as sink:
        for index, time_s, image in source:      # (H, W, 3) RGB, uint8 or uint16
            sink.write(index, edit(image))

`probe` reports what a file really decodes to, for tests and evaluation.
"""

from ned_models.media.atomic import check_writable
from ned_models.media.audio import AudioMode
from ned_models.media.errors import (
    AudioCopyError,
    CorruptMedia,
    EmptyMedia,
    MediaError,
    MediaNotFound,
    OutputError,
    TruncatedMedia,
    UnsupportedMedia,
)
from ned_models.media.open import open_sink, open_source
from ned_models.media.probe import AudioSummary, MediaInfo, probe
from ned_models.media.sink import MediaSink
from ned_models.media.source import MediaSource, SourceFrame, SourceInfo, SourceKind

__all__ = [
    "open_source",
    "open_sink",
    "probe",
    "check_writable",
    "MediaSource",
    "MediaSink",
    "SourceInfo",
    "SourceFrame",
    "SourceKind",
    "MediaInfo",
    "AudioSummary",
    "AudioMode",
    "MediaError",
    "MediaNotFound",
    "UnsupportedMedia",
    "EmptyMedia",
    "CorruptMedia",
    "TruncatedMedia",
    "OutputError",
    "AudioCopyError",
]

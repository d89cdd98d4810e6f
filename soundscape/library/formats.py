"""Which files are audio by name: the extensions libVLC plays."""

from __future__ import annotations

import os

# What libVLC plays and mutagen can read; lower case, with the dot.
AUDIO_EXTENSIONS = (
    ".mp3", ".flac", ".ogg", ".oga", ".opus", ".wav", ".m4a", ".aac", ".aiff", ".aif", ".wma",
)


def is_audio_name(path: str | os.PathLike) -> bool:
    """True when the file name ends in an extension libVLC plays (case does not matter)."""
    return os.path.splitext(os.fspath(path))[1].lower() in AUDIO_EXTENSIONS

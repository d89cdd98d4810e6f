"""Where soundscape keeps its files: the XDG base directories, each looked up here and only here.

Each function follows the XDG Base Directory spec: the variable when it holds an absolute path,
else its default under the home folder, with ``soundscape`` appended.
"""

from __future__ import annotations

import os
from pathlib import Path

APP = "soundscape"


def _base(variable: str, default: str) -> Path:
    value = os.environ.get(variable, "")
    # The spec says a relative path in these variables is invalid and must be ignored.
    if value and os.path.isabs(value):
        return Path(value)
    return Path(os.path.expanduser("~")) / default


def config_dir() -> Path:
    """``$XDG_CONFIG_HOME/soundscape`` (``~/.config/soundscape``): the room config."""
    return _base("XDG_CONFIG_HOME", ".config") / APP


def state_dir() -> Path:
    """``$XDG_STATE_HOME/soundscape`` (``~/.local/state/soundscape``): the checkpoint."""
    return _base("XDG_STATE_HOME", os.path.join(".local", "state")) / APP


def cache_dir() -> Path:
    """``$XDG_CACHE_HOME/soundscape`` (``~/.cache/soundscape``): probes, loudness, demo music."""
    return _base("XDG_CACHE_HOME", ".cache") / APP


def data_dir() -> Path:
    """``$XDG_DATA_HOME/soundscape`` (``~/.local/share/soundscape``): session logs."""
    return _base("XDG_DATA_HOME", os.path.join(".local", "share")) / APP

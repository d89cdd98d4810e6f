"""Checkpoints: where the session is, written atomically every second, so a crash resumes softly.

One checkpoint per machine (one room), in ``$XDG_STATE_HOME/soundscape`` (``~/.local/state``).
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Callable

from soundscape import paths
from soundscape.jsonfile import write_json_atomic

VERSION = 1
EVERY_S = 1.0  # while a session runs, a checkpoint at least this often (and after each command)
RESUME_CHOICES = ("auto", "ask", "no")  # carry on without asking, ask first, start afresh
MAX_AGE_S = 6 * 3600  # an unfinished session older than this is not resumed


def default_path() -> Path:
    return paths.state_dir() / "checkpoint.json"


def write(path: Path, data: dict) -> None:
    """Write atomically and durably: a reader (or a crash) sees the old checkpoint or the new."""
    write_json_atomic(path, data, fsync=True)


def read(path: Path) -> dict | None:
    """The checkpoint, or None when there is none or it cannot be used."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("version") != VERSION:
        return None
    return data


def resumable(data: dict | None, playlist_path: Path, now_epoch: float | None = None) -> bool:
    """An unfinished session of this playlist, interrupted in the last hours."""
    if not data or data.get("status") not in ("playing", "paused"):
        return False
    age = (now_epoch or time.time()) - float(data.get("wall_epoch", 0))
    if not 0 <= age <= MAX_AGE_S:
        return False
    return str(Path(playlist_path).resolve()) == data.get("playlist")


def clear(path: Path) -> None:
    try:
        Path(path).unlink()
    except FileNotFoundError:
        pass


class Checkpointer:
    """Writes the running session's checkpoint (``path``; None: kept in memory only) at least
    every EVERY_S, warns once when it cannot, and removes it when the session has ended."""

    def __init__(self, path: Path | None):
        self.path = path
        self.last: dict | None = None  # the latest checkpoint, for the engine's own recovery
        self._next_s = 0.0
        self._warned = False

    def save(self, now_s: float, status: str, make: Callable[[], dict],
             warn: Callable[[str], None], force: bool = False) -> None:
        if not force and now_s < self._next_s:
            return
        self._next_s = now_s + EVERY_S
        if status in ("playing", "paused"):
            self.last = make()
            if self.path is not None:
                try:
                    write(self.path, self.last)
                except OSError as exc:
                    if not self._warned:
                        self._warned = True
                        warn(f"cannot save the checkpoint: {exc.strerror}")
        elif status == "ended" and self.path is not None:
            clear(self.path)

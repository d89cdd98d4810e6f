"""The session log: one JSON Lines file per session, what played and who did what, when."""

from __future__ import annotations

import json
import re
import threading
from datetime import datetime
from pathlib import Path

from soundscape import paths
from soundscape.errors import SoundscapeError


def default_log_dir() -> Path:
    return paths.data_dir() / "sessions"


def session_id_for(title: str, started: datetime) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")[:40] or "session"
    return f"{started.strftime('%Y%m%d-%H%M%S')}-{slug}"


class SessionLog:
    """Appends entries as JSON lines, flushed at once (a crash loses nothing already said).

    Entries are also kept in memory for the page. If the folder cannot be written the session still
    plays: the failure is kept as ``write_error`` and reported as a warning by the engine.
    """

    def __init__(self, path: Path | None, *, append: bool = False):
        self.path = path
        self.entries: list[dict] = []
        self.write_error = ""
        self._lock = threading.Lock()
        self._file = None
        if path is not None:
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                if append and path.exists():
                    self.entries = read_log(path)
                self._file = open(path, "a", encoding="utf-8")
            except OSError as exc:
                self.write_error = f"cannot write the session log {path}: {exc.strerror}"

    def write(self, wall: datetime, session_s: float | None, event: str, **fields) -> dict:
        entry = {"t": wall.isoformat(timespec="milliseconds"), "event": event}
        if session_s is not None:
            entry["session_s"] = round(session_s, 3)
        entry.update(fields)
        line = json.dumps(entry, ensure_ascii=False, default=str)
        with self._lock:
            self.entries.append(entry)
            if self._file is not None:
                try:
                    self._file.write(line + "\n")
                    self._file.flush()
                except OSError as exc:
                    self.write_error = f"cannot write the session log: {exc.strerror}"
        return entry

    def snapshot(self) -> list[dict]:
        with self._lock:
            return list(self.entries)

    def close(self) -> None:
        with self._lock:
            if self._file is not None:
                self._file.close()
                self._file = None


def read_log(path: Path) -> list[dict]:
    """Read a session log; a torn last line (a crash mid-write) is dropped, others must parse."""
    entries = []
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise SoundscapeError(f"cannot read session log {path}: {exc.strerror}") from None
    lines = text.splitlines()
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            entries.append(json.loads(line))
        except json.JSONDecodeError:
            if number == len(lines):
                break
            raise SoundscapeError(f"{path}:{number}: not a session log line") from None
    return entries

"""The header probe: which files are audio, and how long each lasts, cached across runs.

Planning a session needs every track's duration, and checking a playlist needs to know each file
is really audio. Reading thousands of files with mutagen on every ``check`` is slow, so results
are cached in ``$XDG_CACHE_HOME/soundscape/durations.json`` keyed by absolute path, size and
mtime_ns: a changed file is read again, an unchanged one never.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

from soundscape import paths
from soundscape.jsonfile import read_json_versioned, write_json_atomic

_CACHE_VERSION = 2


@dataclass(frozen=True)
class Probe:
    """What mutagen made of one file: whether it is audio, and its length when known."""

    is_audio: bool
    duration_s: float | None
    # The length is the header's guess from one frame's bit rate (an MP3 with no Xing/Info/VBRI
    # header), not a count of frames or samples: it can be off by minutes on a valid file.
    estimated: bool = False


def cache_path() -> Path:
    """Where the probe cache lives: ``durations.json`` in soundscape's cache folder."""
    return paths.cache_dir() / "durations.json"


def _read_file(path: Path) -> Probe:
    """Ask mutagen; any failure to parse means 'not audio' (libVLC would play it as silence)."""
    import mutagen  # imported here: the CLI starts faster without it

    try:
        audio = mutagen.File(path)
    except Exception:  # noqa: BLE001 - mutagen raises many unrelated types for bad data
        return Probe(False, None)
    if audio is None:
        return Probe(False, None)
    info = getattr(audio, "info", None)
    length = getattr(info, "length", None)
    duration = float(length) if isinstance(length, (int, float)) and length > 0 else None
    from mutagen.mp3 import BitrateMode, MPEGInfo

    estimated = isinstance(info, MPEGInfo) and info.bitrate_mode == BitrateMode.UNKNOWN
    return Probe(True, duration, estimated)


def _load_cache(path: Path) -> dict:
    """The cached entries, or an empty dict when the cache is missing or unreadable."""
    return read_json_versioned(path, _CACHE_VERSION)


def _save_cache(path: Path, files: dict) -> None:
    """Write atomically so a crash never leaves half a cache."""
    try:
        write_json_atomic(path, {"version": _CACHE_VERSION, "files": files})
    except OSError:
        pass  # a cache that cannot be written only costs time on the next run


def _cached(entry: object, size: int, mtime_ns: int) -> Probe | None:
    if not isinstance(entry, dict):
        return None
    if entry.get("size") != size or entry.get("mtime_ns") != mtime_ns:
        return None
    duration = entry.get("duration_s")
    if duration is not None and not isinstance(duration, (int, float)):
        return None
    return Probe(bool(entry.get("is_audio")), duration, bool(entry.get("estimated")))


def probe(paths: Iterable[str | os.PathLike]) -> dict[Path, Probe]:
    """Probe each file (cached); files that cannot be stat'ed are reported as not audio."""
    cache_file = cache_path()
    files = _load_cache(cache_file)
    changed = False
    result: dict[Path, Probe] = {}
    for original in paths:
        path = Path(original)
        key = os.path.abspath(path)
        try:
            st = os.stat(key)
        except OSError:
            result[path] = Probe(False, None)
            continue
        found = _cached(files.get(key), st.st_size, st.st_mtime_ns)
        if found is None:
            found = _read_file(Path(key))
            files[key] = {"size": st.st_size, "mtime_ns": st.st_mtime_ns,
                          "is_audio": found.is_audio, "duration_s": found.duration_s,
                          "estimated": found.estimated}
            changed = True
        result[path] = found
    if changed:
        _save_cache(cache_file, files)
    return result


def durations(paths: Iterable[str | os.PathLike]) -> dict[Path, float | None]:
    """Each file's duration in seconds, or None when mutagen cannot tell (cached across runs)."""
    return {path: p.duration_s for path, p in probe(paths).items()}

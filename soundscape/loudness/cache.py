"""Cached loudness: ``measure`` many files, keeping results in ``.soundscape-loudness.json`` files.

Measuring a track decodes all of it (seconds per track), so results are kept. The cache sits in
the music folder itself, so it travels with the library (a copied or synced folder stays
analysed), keyed by file name and checked against size and mtime_ns: a changed file is measured
again, an unchanged one never. A folder that cannot be written (a read-only share, a mounted
disc) gets its cache under ``$XDG_CACHE_HOME/soundscape/loudness/`` instead, one file per folder
named by a hash of the folder's absolute path.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Callable, Iterable

from soundscape import paths
from soundscape.jsonfile import read_json_versioned, write_json_atomic
from soundscape.loudness.meter import Measurement, measure_file

CACHE_NAME = ".soundscape-loudness.json"
_CACHE_VERSION = 1
# Changes whenever the measurement changes, so old numbers are measured again rather than trusted.
METHOD = ("pyav decode; bs1770-4 k-weighting; mono as dual mono; true peak 4x polyphase; "
          "cues -34/-42/-6 LU v1")


def fallback_dir() -> Path:
    """Where caches of read-only folders go: ``loudness/`` in soundscape's cache folder."""
    return paths.cache_dir() / "loudness"


def fallback_path(folder: Path) -> Path:
    """The fallback cache file for one folder: a hash of its absolute path, so names never clash."""
    digest = hashlib.sha256(os.fsencode(os.path.abspath(folder))).hexdigest()[:24]
    return fallback_dir() / f"{digest}.json"


def _load(path: Path) -> dict:
    """The cached entries, or an empty dict when the file is missing, unreadable or outdated."""
    return read_json_versioned(path, _CACHE_VERSION, method=METHOD)


def _write(path: Path, folder: Path, files: dict) -> None:
    """Write atomically so a crash or a reader never sees half a cache."""
    write_json_atomic(path, {"version": _CACHE_VERSION, "method": METHOD,
                             "folder": os.path.abspath(folder), "files": files},
                      indent=1, sort_keys=True)


def _valid(entry: object, size: int, mtime_ns: int) -> dict | None:
    if not isinstance(entry, dict):
        return None
    if entry.get("size") != size or entry.get("mtime_ns") != mtime_ns:
        return None
    for key in ("lufs", "true_peak_dbtp", "duration_s", "cue_in_s", "cue_out_s", "fade_s"):
        if entry.get(key) is not None and not isinstance(entry.get(key), (int, float)):
            return None
    for key in ("error", "stopped"):
        if entry.get(key) is not None and not isinstance(entry.get(key), str):
            return None
    quiet = entry.get("quiet", [])
    if not isinstance(quiet, list) or not all(
            isinstance(q, list) and len(q) == 2 and all(isinstance(x, (int, float)) for x in q)
            for q in quiet):
        return None
    return entry


def to_entry(size: int, mtime_ns: int, found: Measurement) -> dict:
    """A measurement as the cache keeps it."""
    return {"size": size, "mtime_ns": mtime_ns, "lufs": found.lufs,
            "true_peak_dbtp": found.true_peak_dbtp, "error": found.error,
            "duration_s": found.duration_s, "cue_in_s": found.cue_in_s,
            "cue_out_s": found.cue_out_s, "fade_s": found.fade_s,
            "quiet": [list(q) for q in found.quiet], "stopped": found.stopped}


def from_entry(entry: dict) -> Measurement:
    return Measurement(entry.get("lufs"), entry.get("true_peak_dbtp"), entry.get("error"),
                       entry.get("duration_s"), entry.get("cue_in_s"), entry.get("cue_out_s"),
                       entry.get("fade_s") or 0.0,
                       tuple(tuple(q) for q in entry.get("quiet", [])), entry.get("stopped"))


class FolderCache:
    """The cached measurements of one folder: look entries up, add new ones, save once."""

    def __init__(self, folder: Path):
        self.folder = Path(folder)
        self.local_path = self.folder / CACHE_NAME
        self.fallback = fallback_path(self.folder)
        self._local = _load(self.local_path)
        self._fallback = _load(self.fallback) if self.fallback.exists() else {}
        self._new: dict = {}

    def get(self, name: str, size: int, mtime_ns: int) -> dict | None:
        """The entry for a file unchanged since it was measured, else None."""
        for files in (self._new, self._fallback, self._local):
            found = _valid(files.get(name), size, mtime_ns)
            if found is not None:
                return found
        return None

    def put(self, name: str, size: int, mtime_ns: int, found: Measurement) -> None:
        self._new[name] = to_entry(size, mtime_ns, found)

    def save(self) -> Path | None:
        """Write new entries beside the tracks, else to the fallback; returns where (None: nowhere).

        A cache that cannot be written anywhere only costs time on the next run.
        """
        if not self._new:
            return None
        for target, entries in ((self.local_path, self._local), (self.fallback, self._fallback)):
            try:
                # Read again just before writing: another process (analyze, a session's
                # analyser) may have added entries since this cache was loaded.
                on_disk = _load(target) if target.exists() else {}
                _write(target, self.folder, {**entries, **on_disk, **self._new})
            except OSError:
                continue
            entries.update(self._new)
            self._new = {}
            return target
        return None


def measure(
    paths: Iterable[str | os.PathLike],
    on_result: Callable[[Path, Measurement], None] | None = None,
) -> dict[Path, Measurement]:
    """Measure each file, from the cache when it is unchanged; ``on_result`` hears each as it comes.

    Files that do not exist are reported, not cached; files that cannot be decoded are cached with
    their reason, so a broken file is not decoded again on every run.
    """
    caches: dict[str, FolderCache] = {}
    result: dict[Path, Measurement] = {}
    try:
        for original in paths:
            path = Path(original)
            found = _lookup(path, caches, decode=True)
            result[path] = found
            if on_result is not None:
                on_result(path, found)
    finally:
        for cache in caches.values():
            cache.save()
    return result


def _lookup(path: Path, caches: dict[str, FolderCache], decode: bool) -> Measurement | None:
    """The file's measurement from its folder's cache; measured (and cached) when missing if
    ``decode``, else None."""
    absolute = os.path.abspath(path)
    try:
        st = os.stat(absolute)
    except OSError as exc:
        return Measurement(None, None, f"cannot read it ({exc.strerror or exc})") if decode else None
    folder, name = os.path.split(absolute)
    if folder not in caches:
        caches[folder] = FolderCache(Path(folder))
    cache = caches[folder]
    entry = cache.get(name, st.st_size, st.st_mtime_ns)
    if entry is not None:
        return from_entry(entry)
    if not decode:
        return None
    found = measure_file(absolute)
    if not (found.error or "").startswith("cannot read it"):  # a permission may be fixed
        cache.put(name, st.st_size, st.st_mtime_ns, found)
    return found


def cached(paths: Iterable[str | os.PathLike]) -> dict[Path, Measurement | None]:
    """Each file's measurement from the cache only (None when not analysed yet): never decodes.

    For commands that must answer at once (``check``, a session's start); the analysis fills it.
    """
    caches: dict[str, FolderCache] = {}
    return {Path(p): _lookup(Path(p), caches, decode=False) for p in paths}


def cached_lufs(paths: Iterable[str | os.PathLike]) -> dict[Path, float | None]:
    """Each file's loudness from the cache only, the shape ``loudness_problems`` takes."""
    return {path: (m.lufs if m is not None else None) for path, m in cached(paths).items()}

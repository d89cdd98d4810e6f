"""Importing M3U/M3U8 playlists as phase entries, into a new playlist or an existing one.

Clinics already have playlists from their music players. An M3U holds local paths (relative,
absolute or ``file://``) with ``#EXTINF`` titles; it may also hold things soundscape cannot play
offline (streams, Windows paths from another computer), and each of those is reported with its line
number before anything is written. An existing playlist is edited as text, so the clinic's comments
and layout survive, and the result must pass the loader before it replaces the original.
"""

from __future__ import annotations

import json
import math
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlparse

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from soundscape import library
from soundscape.errors import PlaylistError, Problem, SoundscapeError
from soundscape.playlist.loader import check_file

_WINDOWS = re.compile(r"^(?:[A-Za-z]:[\\/]|\\\\)")
_URL = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://")


@dataclass(frozen=True)
class Entry:
    """One track of the M3U: its resolved file, the #EXTINF title and length when given."""

    path: Path
    title: str | None
    extinf_s: float | None
    line: int


@dataclass(frozen=True)
class M3U:
    title: str  # #PLAYLIST, else the file name without extension
    entries: tuple[Entry, ...]


def _decode(data: bytes, shown: str) -> str:
    """M3U8 is UTF-8 by definition; plain M3U is often latin-1 from older players."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        if shown.lower().endswith(".m3u8"):
            line = data[: exc.start].count(b"\n") + 1
            raise PlaylistError([Problem(shown, line, 1, "an .m3u8 file must be UTF-8 text")]) \
                from None
        return data.decode("latin-1")


def _resolve(written: str, folder: Path) -> tuple[Path | None, str]:
    """(the file, "") or (None, why it cannot be played here)."""
    url = _URL.match(written)
    if url and url.group(1).lower() in ("http", "https"):
        return None, f"{written} is a stream; soundscape plays local files only (streams cannot " \
                     "be played offline)"
    if url and url.group(1).lower() == "file":
        parts = urlparse(written)
        if parts.netloc not in ("", "localhost"):
            return None, f"{written} is on another computer ({parts.netloc}); copy the file here"
        written = unquote(parts.path)
    elif url:
        return None, f"{written} is a {url.group(1)} URL; soundscape plays local files only"
    if _WINDOWS.match(written):
        return None, (f"{written} is a Windows path from another computer and cannot be found "
                      "here; copy the file to this computer and list its path here")
    path = Path(written)
    if "\\" in written:  # a relative Windows path: try it with forward slashes
        path = Path(written.replace("\\", "/"))
    full = Path(os.path.normpath(folder / os.path.expanduser(path)))
    if not full.is_file():
        what = "no such file" if not full.exists() else "not a file"
        return None, f"{what}: {full}"
    if not library.is_audio_name(full):
        return None, f"'{full.name}' is not an audio file; audio files end in " \
                     f"{', '.join(library.AUDIO_EXTENSIONS)}"
    return full, ""


def read_m3u(path: str | os.PathLike) -> M3U:
    """The M3U's tracks, or PlaylistError with every line that cannot be imported."""
    shown = os.fspath(path)
    try:
        data = Path(shown).read_bytes()
    except OSError as exc:
        raise SoundscapeError(f"cannot read {shown}: {exc.strerror}") from None
    folder = Path(os.path.abspath(shown)).parent
    title, extinf, entries, problems = Path(shown).stem, None, [], []
    for number, raw in enumerate(_decode(data, shown).splitlines(), 1):
        line = raw.strip()
        if not line:
            continue
        if line.startswith("#"):
            if line.upper().startswith("#EXTINF:"):
                length, _, name = line[8:].partition(",")
                seconds = re.match(r"\s*(-?\d+(?:\.\d+)?)", length)
                extinf = (float(seconds.group(1)) if seconds and float(seconds.group(1)) > 0
                          else None, name.strip() or None)
            elif line.upper().startswith("#PLAYLIST:") and line[10:].strip():
                title = line[10:].strip()
            continue
        found, why = _resolve(line, folder)
        if found is None:
            problems.append(Problem(shown, number, 1, why))
        else:
            seconds, name = extinf or (None, None)
            entries.append(Entry(found, name, seconds, number))
        extinf = None
    if problems:
        raise PlaylistError(problems)
    if not entries:
        raise SoundscapeError(f"{shown} lists no tracks")
    return M3U(title, tuple(entries))


def phase_duration_min(entries) -> tuple[int, list[str]]:
    """The tracks' total length rounded up to the minute, and the files whose length is unknown."""
    known = library.durations([e.path for e in entries])
    total, unknown = 0.0, []
    for entry in entries:
        seconds = known.get(entry.path) or entry.extinf_s
        if seconds is None:
            unknown.append(entry.path.name)
        total += seconds or 0.0
    return max(1, math.ceil(total / 60 - 1e-9)), unknown


# ---------------------------------------------------------------------------- YAML text


def scalar(value: str) -> str:
    """A YAML scalar that reads back as exactly this text: plain when safe, else double-quoted."""
    if value and value == value.strip() and "\n" not in value:
        try:
            if yaml.safe_load(f"k: {value}") == {"k": value} and "#" not in value:
                return value
        except yaml.YAMLError:
            pass
    return json.dumps(value, ensure_ascii=False)  # JSON strings are YAML double-quoted scalars


def written_path(path: Path, base: Path | None) -> str:
    """Relative to the playlist's music folder when the file is inside it, else absolute."""
    if base is not None:
        rel = os.path.relpath(path, base)
        if not rel.startswith(".." + os.sep) and rel != "..":
            return Path(rel).as_posix()
    return str(path)


def track_lines(entries, base: Path | None, indent: int) -> list[str]:
    """Block-sequence items at ``indent`` columns: a plain path, or file + title when titled."""
    pad, lines = " " * indent, []
    for entry in entries:
        shown = scalar(written_path(entry.path, base))
        if entry.title and entry.title != entry.path.stem:
            lines += [f"{pad}- file: {shown}", f"{pad}  title: {scalar(entry.title)}"]
        else:
            lines.append(f"{pad}- {shown}")
    return lines


def new_playlist_text(m3u: M3U, phase: str, minutes: int, base: Path, source: str) -> str:
    lines = [f"# Imported from {os.path.basename(source)}.", f"title: {scalar(m3u.title)}",
             "phases:", f"  - name: {scalar(phase)}", f"    duration: {minutes}m", "    tracks:"]
    return "\n".join(lines + track_lines(m3u.entries, base, 6)) + "\n"


def _last_line(node: Node) -> int:
    """0-based line of the node's last character (a block scalar's end mark is on the next line)."""
    if isinstance(node, MappingNode) and node.value:
        return _last_line(node.value[-1][1])
    if isinstance(node, SequenceNode) and node.value and not node.flow_style:
        return _last_line(node.value[-1])
    end = node.end_mark
    return end.line - 1 if end.column == 0 and end.line > node.start_mark.line else end.line


def _key(node: MappingNode, name: str) -> tuple[ScalarNode, Node] | None:
    return next(((k, v) for k, v in node.value if isinstance(k, ScalarNode) and k.value == name),
                None)


def music_base(root: MappingNode, playlist: Path) -> Path | None:
    """Where the loader resolves relative tracks (None for builtin:demo: write absolute paths)."""
    found = _key(root, "music_dir")
    if found is None or not isinstance(found[1], ScalarNode):
        return playlist.parent
    if found[1].value.startswith("builtin:"):
        return None
    return Path(os.path.normpath(playlist.parent / os.path.expanduser(found[1].value)))


def insert_into(text: str, m3u: M3U, phase: str, minutes: int, playlist: Path) -> str:
    """The existing playlist's text with the tracks appended to ``phase`` (or a new phase)."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        raise SoundscapeError(f"{playlist} is not valid YAML ({exc.problem}); run soundscape "
                              "check on it first") from None
    phases = _key(root, "phases")[1] if isinstance(root, MappingNode) and _key(root, "phases") \
        else None
    if not isinstance(phases, SequenceNode) or phases.flow_style or not phases.value:
        raise SoundscapeError(f"{playlist} has no block list of phases to add to; "
                              "run soundscape check on it first")
    base = music_base(root, Path(os.path.abspath(playlist)))
    lines = text.splitlines()
    newline = "\r\n" if "\r\n" in text else "\n"
    target = next((p for p in phases.value if isinstance(p, MappingNode) and _key(p, "name")
                   and _key(p, "name")[1].value == phase), None)
    if target is None:
        dash = phases.start_mark.column
        col = phases.value[0].start_mark.column
        at = _last_line(phases.value[-1])
        between = lines[_last_line(phases.value[-2]) + 1:phases.value[-1].start_mark.line] \
            if len(phases.value) > 1 else []
        gap = any(not line.strip() for line in between)  # phases set apart by blank lines
        new = ([""] if gap else []) + [
            " " * dash + "- " + " " * (col - dash - 2) + f"name: {scalar(phase)}",
            " " * col + f"duration: {minutes}m", " " * col + "tracks:",
            *track_lines(m3u.entries, base, col + 2)]
    else:
        found = _key(target, "tracks")
        col = target.start_mark.column
        if found is None:
            at = _last_line(target)
            new = [" " * col + "tracks:", *track_lines(m3u.entries, base, col + 2)]
        elif isinstance(found[1], SequenceNode) and not found[1].flow_style and found[1].value:
            at = _last_line(found[1])
            new = track_lines(m3u.entries, base, found[1].start_mark.column)
        else:
            raise SoundscapeError(f"{playlist}:{found[0].start_mark.line + 1}: the tracks of phase "
                                  f"'{phase}' are not written as a list of '- ' lines; "
                                  "add the tracks by hand, or write them one per line first")
    lines[at + 1:at + 1] = new
    return newline.join(lines) + newline


def write_checked(target: Path, content: str, shown: str) -> None:
    """Write only a playlist the loader accepts: checked as a temp file beside it, then renamed."""
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".yaml", dir=target.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
            f.write(content)
        _, problems = check_file(tmp)
        errors = [Problem(shown, p.line, p.col, p.message) for p in problems
                  if p.severity == "error"]
        if errors:
            raise PlaylistError(errors)
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)

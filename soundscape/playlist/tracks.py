"""Turning track and ambience entries into files: paths, folders, globs, and the audio check.

Folder and glob entries expand to their audio files in name order. Every file that ends up in
the playlist is checked twice: its extension must be one libVLC plays, and mutagen must read it
as audio (random bytes named ``.mp3`` play as silence, which in a session is worse than an error).
"""

from __future__ import annotations

import glob
import os
from pathlib import Path

from yaml.nodes import Node

from soundscape import library
from soundscape.config.yamlnodes import Report
from soundscape.errors import Problem

_GLOB_CHARS = "*?["


def _full(base: Path, written: str) -> Path:
    return Path(os.path.normpath(os.path.join(base, os.path.expanduser(written))))


def _not_audio_name(written: str) -> str:
    return (f"'{written}' is not an audio file; audio files end in "
            f"{', '.join(library.AUDIO_EXTENSIONS)}")


class Files:
    """Resolves entries relative to the music folder and defers the mutagen check to one batch."""

    def __init__(self, base: Path, report: Report):
        self.base = base
        self.report = report
        self._pending: list[tuple[Path, str, Node]] = []
        # (problem, entry as written, reason in a few words) for each file that cannot play, so
        # pre-flight can name the file rather than the playlist.
        self.bad: list[tuple[Problem, str, str]] = []
        self.good: list[Path] = []  # files that passed every check, once each, in order

    def _bad(self, node: Node, message: str, written: str, reason: str) -> None:
        self.report.error(node, message)
        self.bad.append((self.report.problems[-1], written, reason))

    def one_file(self, written: str, node: Node, what: str = "file",
                 single_because: str = "") -> Path | None:
        """A single audio file (an ambience ``file``, or a track mapping's that sets a title or
        trims: ``single_because`` names those keys)."""
        full = _full(self.base, written)
        if full.is_file():
            if not library.is_audio_name(full):
                self._bad(node, _not_audio_name(written), written, "not an audio file name")
                return None
            self._pending.append((full, written, node))
            return full
        because = f" in an entry with {single_because}" if single_because else ""
        if full.is_dir():
            self.report.error(node, f"{what} must name one audio file{because}, and {full} is "
                                    "a folder")
        elif written.endswith("/") or any(c in written for c in _GLOB_CHARS):
            fix = (f"leave out {single_because} to play a folder or glob" if single_because
                   else "list folders and globs as plain entries in tracks")
            self.report.error(node, f"{what} must name one audio file{because}; {fix}")
        else:
            self._bad(node, f"no such file: {full}", written, "cannot open: file not found")
        return None

    def entry(self, written: str, node: Node) -> list[Path]:
        """A plain track entry: a file, a folder ending in ``/``, or a glob."""
        full = _full(self.base, written)
        if written.endswith("/"):
            return self._folder(full, written, node)
        if full.is_file():  # a literal name wins over glob syntax: 'Live [1994].flac'
            if not library.is_audio_name(full):
                self._bad(node, _not_audio_name(written), written, "not an audio file name")
                return []
            self._pending.append((full, written, node))
            return [full]
        if any(c in written for c in _GLOB_CHARS):
            return self._glob(written, node)
        if full.is_dir():
            self.report.error(node, f"{full} is a folder; write '{written.rstrip('/')}/' "
                                    "to play the audio files in it")
        else:
            self._bad(node, f"no such file: {full}", written, "cannot open: file not found")
        return []

    def _folder(self, full: Path, written: str, node: Node) -> list[Path]:
        if not full.is_dir():
            self.report.error(node, f"no such folder: {full}")
            return []
        members = sorted((p for p in full.iterdir()
                          if p.is_file() and library.is_audio_name(p)
                          and not p.name.startswith(".")),  # macOS '._x.mp3' leftovers
                         key=lambda p: p.name)
        if not members:
            self.report.error(node, f"folder {full} has no audio files")
        for member in members:
            self._pending.append((member, os.path.join(written, member.name), node))
        return members

    def _glob(self, written: str, node: Node) -> list[Path]:
        pattern = os.path.expanduser(written)
        matches = sorted(glob.glob(pattern, root_dir=self.base))
        found = []
        for match in matches:
            full = _full(self.base, match)
            if full.is_file() and library.is_audio_name(full):
                found.append(full)
                self._pending.append((full, match, node))
        if not found:
            self.report.error(node, f"'{written}' matches no audio file in {self.base}")
        return found

    def verify(self) -> None:
        """Refuse files whose contents mutagen cannot read as audio (one cached batch)."""
        probes = library.probe(full for full, _, _ in self._pending)
        for full, written, node in self._pending:
            if probes[full].is_audio:
                if full not in self.good:
                    self.good.append(full)
            else:
                self._bad(node, f"'{written}' is not an audio file (its contents are not audio)",
                          written, "cannot decode: its contents are not audio")

"""``soundscape check``: validate playlists before a session, every problem located.

The loader alone cannot see that a phase's tracks are too short to fill it, or that one track
outlasts its phase: that needs every track's duration, so each playlist that loads is also planned
and the plan's warnings are added.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
from dataclasses import dataclass

from soundscape.loudness.known import known
from soundscape.errors import Problem, SoundscapeError
from soundscape.playlist import check_file
from soundscape.playlist.model import Playlist
from soundscape.schedule.plan import make_plan
from soundscape.schedule.problems import playlist_warnings

COMMAND = "check"
HELP = "check playlists (files, or every *.yaml below folders) and list every problem"

PLAYLIST_SUFFIXES = (".yaml", ".yml")


@dataclass(frozen=True)
class FileCheck:
    """The outcome for one file: the playlist when it loads, and its problems, sorted."""

    path: str
    playlist: Playlist | None
    problems: list[Problem]

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "warning"]


def find_playlists(paths: list[str]) -> list[str]:
    """Files as given, and every *.yaml / *.yml below each folder, sorted; paths kept as typed."""
    found: list[str] = []
    for given in paths:
        if os.path.isfile(given):
            found.append(given)
        elif os.path.isdir(given):
            below = []
            for folder, dirs, files in os.walk(given):
                dirs[:] = [d for d in dirs if not d.startswith(".")]
                below += [os.path.join(folder, f) for f in files
                          if f.lower().endswith(PLAYLIST_SUFFIXES) and not f.startswith(".")]
            if not below:
                raise SoundscapeError(f"no playlists (*.yaml, *.yml) in folder: {given}")
            found += sorted(below)
        else:
            raise SoundscapeError(f"no such file or folder: {given}")
    return found


def plan_warnings(playlist: Playlist, shown: str) -> list[Problem]:
    """The planner's warnings (short phases, long tracks, loudness jumps), located as typed."""
    facts = known(playlist.track_files())  # the cache only: check never decodes
    plan = make_plan(playlist, facts.durations, seed=0, cues=facts.cues)
    return [dataclasses.replace(p, path=shown) for p in playlist_warnings(playlist, plan)]


def check_paths(paths: list[str]) -> list[FileCheck]:
    """Check every playlist named or found below the given paths, in sorted order."""
    results = []
    for shown in find_playlists(paths):
        playlist, problems = check_file(shown)
        if playlist is not None:
            problems = sorted(problems + plan_warnings(playlist, shown))
        results.append(FileCheck(shown, playlist, problems))
    return results


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("paths", nargs="+", metavar="PATH", help="playlist files or folders")
    parser.add_argument("--strict", action="store_true", help="fail on warnings too")
    parser.add_argument("--json", action="store_true",
                        help="print a JSON list of {path, line, col, severity, message}")


def run(args: argparse.Namespace) -> int:
    results = check_paths(args.paths)
    failed = any(r.errors or (args.strict and r.warnings) for r in results)
    if args.json:
        records = [{"path": p.path, "line": p.line, "col": p.col, "severity": p.severity,
                    "message": p.message} for r in results for p in r.problems]
        print(json.dumps(records, indent=2, ensure_ascii=False))
        return 1 if failed else 0
    for result in results:
        for problem in result.problems:
            print(problem)
        if not result.errors and not (args.strict and result.warnings):
            print(f"{result.path}: ok")
    return 1 if failed else 0

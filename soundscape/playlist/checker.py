"""What ``soundscape check`` does to each file: load it, then ask the planner for its warnings.

The loader alone cannot see that a phase's tracks are too short to fill it, or that one track
outlasts its phase: that needs every track's duration, which the library probe supplies.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass

from soundscape import library
from soundscape.errors import Problem, SoundscapeError
from soundscape.playlist.loader import check_file
from soundscape.playlist.model import Playlist

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
    # lazy: the planner imports the model; the cache gives only what `analyze` measured
    from soundscape.loudness import loudness_problems
    from soundscape.loudness_cache import cached_lufs
    from soundscape.plan import make_plan, plan_problems

    paths = sorted({t.path for phase in playlist.phases for t in phase.tracks})
    plan = make_plan(playlist, library.durations(paths), seed=0)
    problems = plan_problems(playlist, plan) + loudness_problems(playlist, plan, cached_lufs(paths))
    return [dataclasses.replace(p, path=shown) for p in problems]


def check_paths(paths: list[str]) -> list[FileCheck]:
    """Check every playlist named or found below the given paths, in sorted order."""
    results = []
    for shown in find_playlists(paths):
        playlist, problems = check_file(shown)
        if playlist is not None:
            problems = sorted(problems + plan_warnings(playlist, shown))
        results.append(FileCheck(shown, playlist, problems))
    return results

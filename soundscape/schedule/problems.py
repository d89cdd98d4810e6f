"""Warnings only a plan reveals: a phase its tracks cannot fill, a track longer than its phase,
a loudness jump between consecutive tracks. ``check`` and ``plan`` print the same ones."""

from __future__ import annotations

from soundscape.errors import Problem
from soundscape.loudness import cached_lufs, loudness_problems
from soundscape.playlist.model import Playlist
from soundscape.schedule.plan import Plan
from soundscape.schedule.sequence import play_length_s
from soundscape.timefmt import clock


def playlist_warnings(playlist: Playlist, plan: Plan) -> list[Problem]:
    """Every warning of the plan, loudness jumps included (from what ``analyze`` measured)."""
    return plan_problems(playlist, plan) + loudness_problems(
        playlist, plan, cached_lufs(playlist.track_files()))


def plan_problems(playlist: Playlist, plan: Plan) -> list[Problem]:
    """Warnings only the durations reveal: a phase that runs short, a track longer than its phase."""
    problems: list[Problem] = []
    path = str(playlist.path)
    for phase, planned in zip(playlist.phases, plan.phases):
        where = phase.where
        if phase.tracks and phase.when_short == "silence" and planned.silence_s > 0.5:
            problems.append(Problem(
                path, where.line, where.col,
                f"phase '{phase.name}': its tracks fill {clock(phase.duration_s - planned.silence_s)} "
                f"of {clock(phase.duration_s)}; with when_short: silence it ends "
                f"{clock(planned.silence_s)} early",
                "warning",
            ))
        for missing in planned.unknown:
            problems.append(Problem(
                path, where.line, where.col,
                f"phase '{phase.name}': cannot read the length of {missing.name}; "
                "the plan stops there", "warning",
            ))
        seen = set()
        for track in phase.tracks:
            if track.path in seen:
                continue
            seen.add(track.path)
            length = play_length_s(track, plan.file_durations.get(track.path),
                                   plan.file_cues.get(track.path))
            if length is not None and length > phase.duration_s + 0.5:
                problems.append(Problem(
                    path, track.where.line or where.line, track.where.col or where.col,
                    f"track {track.path.name} ({clock(length)}) is longer than its phase "
                    f"'{phase.name}' ({clock(phase.duration_s)})", "warning",
                ))
    return problems

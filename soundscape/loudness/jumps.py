"""Warnings where consecutive tracks of a plan jump in loudness (before normalisation)."""

from __future__ import annotations

from pathlib import Path

from soundscape.errors import Problem

JUMP_LU = 3.0  # consecutive tracks further apart than this are reported


def loudness_problems(playlist, plan, loudness: dict[Path, float | None]) -> list[Problem]:
    """Warnings where a track is more than 3 LU louder or quieter than the one heard before it.

    Compared as the files would sound without normalisation, each with its own ``gain_db``, in the
    planned order, across phase boundaries too; each pair is reported once, at the phase of the
    second track. Tracks whose loudness is unknown are skipped.
    """
    problems: list[Problem] = []
    seen: set = set()
    previous = None  # (path, heard loudness) of the track before
    for phase, planned in zip(playlist.phases, plan.phases):
        gains = {track.path: track.gain_db for track in phase.tracks}
        for track in planned.tracks:
            lufs = loudness.get(track.path)
            if lufs is None:
                previous = None
                continue
            heard = lufs + gains.get(track.path, 0.0)
            if previous is not None:
                before_path, before = previous
                jump = round(heard - before, 1)
                key = (phase.name, before_path, track.path)
                if abs(jump) > JUMP_LU and key not in seen:
                    seen.add(key)
                    word = "louder" if jump > 0 else "quieter"
                    problems.append(Problem(
                        str(playlist.path), phase.where.line, phase.where.col,
                        f"{track.path.name} is {abs(jump):.1f} LU {word} than {before_path.name} "
                        "before it (before normalisation)", "warning",
                    ))
            previous = (track.path, heard)
    return problems

"""The order tracks play in, and how long each plays: shared by ``plan`` and the engine."""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass

from soundscape.playlist.model import Phase, Track


@dataclass(frozen=True)
class Slot:
    """One track as scheduled: which pass through the phase's list it belongs to."""

    track: Track
    cycle: int  # 0 = first pass; >0 = a repeat

    @property
    def repeat(self) -> bool:
        return self.cycle > 0


def phase_sequence(phase: Phase, seed: int, phase_index: int) -> Iterator[Slot]:
    """Yield the phase's tracks in playing order: once (``silence``) or cycling (``repeat``).

    A shuffled phase is reshuffled on each pass from a generator seeded by (seed, phase, pass), so
    the same seed gives the same order in ``plan`` and in the session, and a pass never starts with
    the track the previous pass ended on (when there is a choice).
    """
    tracks = list(phase.tracks)
    if not tracks:
        return
    cycle = 0
    previous: Track | None = None
    while True:
        order = list(tracks)
        if phase.order == "shuffle":
            random.Random(f"{seed}:{phase_index}:{cycle}").shuffle(order)
            if len(order) > 1 and order[0] == previous:
                order.append(order.pop(0))
        for track in order:
            yield Slot(track, cycle)
        previous = order[-1]
        if phase.when_short != "repeat":
            return
        cycle += 1


def play_length_s(track: Track, file_duration_s: float | None) -> float | None:
    """How long a track plays once trims are applied, or None when the file's length is unknown."""
    if file_duration_s is None:
        if track.end_s is not None:
            return max(0.0, track.end_s - track.start_s)
        return None
    end_s = file_duration_s if track.end_s is None else min(track.end_s, file_duration_s)
    return max(0.0, end_s - track.start_s)

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


@dataclass(frozen=True)
class Window:
    """The part of a file a track plays: from ``start_s`` to ``end_s`` (file positions, seconds).

    The trims of the playlist narrowed by the file's cue points: leading silence is skipped, a
    silent tail never played. ``fade_s`` is the track's own fade-out ending at ``end_s``; a
    crossfade no longer than it is left to it (the track is not faded a second time).
    """

    start_s: float
    end_s: float
    fade_s: float = 0.0
    cued_in: bool = False  # start_s moved to the audible start
    cued_out: bool = False  # end_s moved to the audible end
    trimmed_end: bool = False  # the window ends before the file does (a trim or a cue point)

    @property
    def length_s(self) -> float:
        return max(0.0, self.end_s - self.start_s)


def track_window(track: Track, file_duration_s: float | None, cues=None) -> Window | None:
    """Where a track starts and stops in its file, or None when the file's length is unknown.

    ``cues`` (loudness.cues.Cues, from the file's analysis) moves the start later and the end
    earlier where the file is silent; a trim of the playlist is never widened.
    """
    if file_duration_s is None:
        if track.end_s is None:
            return None
        return Window(track.start_s, max(track.start_s, track.end_s), trimmed_end=True)
    start_s, end_s = track.start_s, file_duration_s
    trimmed = track.end_s is not None and track.end_s < file_duration_s
    if trimmed:
        end_s = track.end_s
    cued_in = cued_out = False
    fade_s = 0.0
    if cues is not None:
        if cues.start_s > start_s and cues.start_s < end_s:
            start_s, cued_in = cues.start_s, True
        if cues.end_s < end_s:
            end_s, cued_out = max(start_s, cues.end_s), True
        if cues.end_s <= end_s + 0.05:  # the track's own ending is still in the window
            fade_s = min(cues.fade_s, max(0.0, end_s - start_s))
    return Window(start_s, max(start_s, end_s), fade_s, cued_in, cued_out,
                  trimmed or cued_out)


def play_length_s(track: Track, file_duration_s: float | None, cues=None) -> float | None:
    """How long a track plays once trims and cue points apply; None when its length is unknown."""
    window = track_window(track, file_duration_s, cues)
    return None if window is None else window.length_s

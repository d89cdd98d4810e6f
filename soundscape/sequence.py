"""The order tracks play in: one pure function shared by ``plan`` and the engine so they agree."""

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


END_MARGIN_S = 0.25  # libVLC applies no volume change in a file's last ~100 ms: fades end before
START_LEAD_S = 0.05  # a deck's first sample comes ~20 ms after play(): a cut starts this early


def overlap_s(crossfade_s: float, out_len_s: float, in_len_s: float) -> float:
    """The crossfade actually used between two tracks: never more than half of either."""
    return max(0.0, min(crossfade_s, out_len_s / 2, in_len_s / 2))


def handover_s(crossfade_s: float, out_len_s: float, in_len_s: float) -> tuple[float, float]:
    """(lead, fade): the next track starts ``lead`` seconds before the outgoing one's end.

    With a crossfade, the fade runs for ``fade`` seconds and ends END_MARGIN_S before the end of
    the file, where libVLC still applies volume changes (measured: a change in the last 100 ms is
    never heard, and the track would be cut off at the gain it had). Without one (a cut), the next
    deck starts START_LEAD_S early, so its first sample meets the outgoing track's last.
    """
    fade = overlap_s(crossfade_s, max(0.0, out_len_s - END_MARGIN_S), in_len_s)
    return (fade + END_MARGIN_S, fade) if fade > 0 else (min(START_LEAD_S, out_len_s), 0.0)


def handover_floor_s(crossfade_s: float) -> float:
    """How much of a track must outlast its phase for the phase's end to hand over from it.

    A track that runs on past the phase's end by at least this much is faded there (its fade cut
    to what is left of it); one that ends sooner is followed by the phase's next track as usual.
    This spares the room a sliver of a new track started only to be faded out at the phase's end.
    """
    return min(crossfade_s, 1.0) / 2

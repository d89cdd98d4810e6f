"""The order tracks play in, and how long each plays: shared by ``plan`` and the engine."""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Iterator
from dataclasses import dataclass

from soundscape.playlist.model import Phase, Track


@dataclass(frozen=True)
class Slot:
    """One track as scheduled: which pass through the phase's list it belongs to."""

    track: Track
    cycle: int  # 0 = first pass; >0 = a repeat
    queued: bool = False  # put next by a facilitator (play_next), not by the phase's order

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


class PhaseOrder:
    """What a phase plays next, by intensity: one ``phase_sequence`` per pool of tracks.

    The tracks of each intensity form a pool, ordered (and reshuffled on each pass) exactly as a
    phase of only those tracks would be, so a phase whose tracks share one intensity plays as it
    always has. The next track comes from the pool nearest the phase's intensity (a tie goes the
    way the intensity last moved, softer when it has not moved); a pool that has run out
    (``when_short: silence``) gives way to the next nearest. Banned tracks are passed over, and
    so is a pool's next occurrence of a track that was played early (from the queue).

    The state is small and replayable (``consumed`` per pool, ``level``, ``lean``): ``plan`` and
    the engine's checkpoint rebuild the same order from the seed.
    """

    def __init__(self, phase: Phase, seed: int, phase_index: int,
                 banned: set | frozenset = frozenset()):
        self.phase = phase
        self.seed, self.phase_index = seed, phase_index
        self.banned = banned  # paths; the session's set, shared (bans reach every phase)
        self.level = phase.intensity
        self.lean = -1  # -1 softer, +1 deeper: where a tie between two pools goes
        self.recycled = False  # held past its tracks (when_short: silence): they play again
        self.early: list = []  # paths played from the queue, passed over once in their pool
        self.consumed: dict[int, int] = {i: 0 for i in phase.intensities}
        self._iters: dict[int, Iterator[Slot]] = {}
        self._heads: dict[int, Slot | None] = {}
        for intensity in phase.intensities:
            self._iters[intensity] = self._pool_sequence(intensity)

    def _pool_sequence(self, intensity: int) -> Iterator[Slot]:
        tracks = tuple(t for t in self.phase.tracks if t.intensity == intensity)
        phase = dataclasses.replace(self.phase, tracks=tracks)
        if self.recycled:
            phase = dataclasses.replace(phase, when_short="repeat")
        return phase_sequence(phase, self.seed, self.phase_index)

    @property
    def intensities(self) -> tuple[int, ...]:
        return tuple(self.consumed)

    def preference(self) -> list[int]:
        """The pools, nearest the phase's intensity first."""
        return sorted(self.consumed, key=lambda i: (abs(i - self.level), -self.lean * i))

    def _head(self, intensity: int) -> Slot | None:
        """The pool's next playable slot (passed-over ones are consumed), or None: run out."""
        pool = [t.path for t in self.phase.tracks if t.intensity == intensity]
        if all(path in self.banned for path in pool):
            return None  # (a repeating pool would pass over its banned tracks forever)
        for _ in range(2 * len(pool) + 2):
            if intensity not in self._heads:
                self._heads[intensity] = next(self._iters[intensity], None)
            head = self._heads[intensity]
            if head is None:
                return None
            path = head.track.path
            if path in self.banned or path in self.early:
                if path in self.early:
                    self.early.remove(path)
                self._drop(intensity)
                continue
            return head
        return None

    def _drop(self, intensity: int) -> None:
        del self._heads[intensity]
        self.consumed[intensity] += 1

    def peek(self) -> Slot | None:
        for intensity in self.preference():
            head = self._head(intensity)
            if head is not None:
                return head
        return None

    def take(self) -> Slot | None:
        """The next slot, consumed (None when every pool has run out)."""
        slot = self.peek()
        if slot is not None:
            self._drop(slot.track.intensity)
        return slot

    def played_early(self, path) -> None:
        """``path`` played from the queue: its pool's next occurrence is passed over."""
        if any(t.path == path for t in self.phase.tracks):
            self.early.append(path)

    def recycle(self) -> None:
        """Held past the end of its tracks (``when_short: silence``): they play again."""
        self.recycled = True
        self._iters = {i: self._advanced(i, n) for i, n in self.consumed.items()}
        self._heads = {}

    def _advanced(self, intensity: int, count: int) -> Iterator[Slot]:
        it = self._pool_sequence(intensity)
        for _ in range(count):
            if next(it, None) is None:
                break
        return it

    def nearest(self, level: int) -> int | None:
        """The pool that plays at ``level`` (the tie rule applied), or None for no tracks."""
        if not self.consumed:
            return None
        return min(self.consumed, key=lambda i: (abs(i - level), -self.lean * i))

    # -- checkpoints
    def checkpoint(self) -> dict:
        return {"level": self.level, "lean": self.lean, "recycled": self.recycled,
                "early": [str(p) for p in self.early],
                "consumed": {str(k): v for k, v in self.consumed.items()}}

    def restore(self, data: dict) -> None:
        self.level = int(data.get("level", self.level))
        self.lean = -1 if int(data.get("lean", -1)) < 0 else 1
        self.recycled = bool(data.get("recycled"))
        by_name = {str(t.path): t.path for t in self.phase.tracks}
        self.early = [by_name[p] for p in data.get("early", []) if p in by_name]
        for key, count in data.get("consumed", {}).items():
            if int(key) in self.consumed:
                self.consumed[int(key)] = int(count)
        self._iters = {i: self._advanced(i, n) for i, n in self.consumed.items()}
        self._heads = {}


def default_path(phase: Phase, seed: int, phase_index: int) -> Iterator[Slot]:
    """The phase's tracks as they play when nobody steers: what ``plan`` lays out."""
    order = PhaseOrder(phase, seed, phase_index)
    while (slot := order.take()) is not None:
        yield slot

"""The session timeline: which phase is on, when each phase ends, and what plays next in each."""

from __future__ import annotations

import dataclasses
from collections import defaultdict

from soundscape.playlist.model import Playlist
from soundscape.schedule.plan import Plan, phase_ends_s
from soundscape.schedule.sequence import Slot, phase_sequence


class Timeline:
    """Phase ends on the session clock, plus each phase's track order with a one-track look-ahead.

    The order comes from the same ``phase_sequence`` that ``plan`` uses, so play agrees with plan.
    """

    def __init__(self, playlist: Playlist, seed: int, plan: Plan | None = None):
        self.playlist = playlist
        self.seed = seed
        self.plan = plan
        self.ends = phase_ends_s(playlist.phases)
        self.starts: list[float | None] = [None] * len(playlist.phases)
        self.index = 0
        self.started = False
        self._seqs: dict = {}
        self._peeked: dict[int, Slot | None] = {}
        self._taken: dict[int, int] = defaultdict(int)

    # -- phases
    def enter(self, index: int, s: float) -> None:
        self.index = index
        self.starts[index] = s
        self.started = True

    def end_s(self) -> float:
        return self.ends[self.index]

    def extend(self, seconds: float) -> None:
        """The current phase and every later one end ``seconds`` later."""
        self.extend_from(self.index, seconds)

    def extend_from(self, index: int, seconds: float) -> None:
        """Phase ``index`` and every later one end ``seconds`` later (a booster's phase)."""
        for j in range(index, len(self.ends)):
            self.ends[j] += seconds

    def end_now(self, s: float) -> None:
        """The current phase ends at ``s``; later phases keep their durations."""
        self.extend(s - self.ends[self.index])

    def end_through(self, last: int, s: float) -> None:
        """Phases from the current one through ``last`` end at ``s``; later ones keep durations."""
        shift = s - self.ends[last]
        for j in range(self.index, last + 1):
            self.ends[j] = s
        for k in range(last + 1, len(self.ends)):
            self.ends[k] += shift

    def start_of(self, index: int) -> float:
        if self.starts[index] is not None and index <= self.index:
            return self.starts[index]
        return self.ends[index - 1] if index > 0 else 0.0

    def slots(self) -> list[tuple[str, float, float]]:
        """(name, start_s, duration_s) of every phase, as things stand now."""
        out = []
        for j, phase in enumerate(self.playlist.phases):
            start = self.start_of(j)
            out.append((phase.name, start, max(0.0, self.ends[j] - start)))
        return out

    # -- tracks
    def _seq(self, index: int):
        if index not in self._seqs:
            phase = self.playlist.phases[index]
            self._seqs[index] = phase_sequence(phase, self.seed, index)
        return self._seqs[index]

    def peek(self, index: int) -> Slot | None:
        if index >= len(self.playlist.phases):
            return None
        if index not in self._peeked:
            self._peeked[index] = next(self._seq(index), None)
        return self._peeked[index]

    def recycle(self, index: int) -> Slot | None:
        """A phase held past the end of its tracks (``when_short: silence``) plays them again."""
        phase = self.playlist.phases[index]
        seq = phase_sequence(dataclasses.replace(phase, when_short="repeat"), self.seed, index)
        for _ in range(len(phase.tracks)):  # the first pass has played: carry on with the repeats
            next(seq)
        self._seqs[index] = seq
        self._peeked.pop(index, None)
        return self.peek(index)

    def next_slot(self, index: int) -> Slot:
        slot = self.peek(index)
        del self._peeked[index]
        self._taken[index] += 1
        return slot

    def take(self, index: int, path: str) -> Slot | None:
        """Phase ``index``'s next slot if it plays ``path`` (the track a checkpoint names)."""
        upcoming = self.peek(index)
        if upcoming is None or str(upcoming.track.path) != path:
            return None
        return self.next_slot(index)

    def taken(self, index: int) -> int:
        return self._taken[index]

    def taken_counts(self) -> dict[int, int]:
        return dict(self._taken)

    # -- checkpoints
    def checkpoint(self) -> dict:
        """Where the session is on the timeline, for ``restore`` after a crash."""
        return {"index": self.index, "ends": list(self.ends), "starts": list(self.starts),
                "taken": {str(k): v for k, v in self.taken_counts().items()}}

    def restore(self, data: dict, replay_current: bool) -> None:
        """Carry on from a checkpoint: the same phase ends, and each phase's order where it was.

        The tracks each phase had taken are taken again (the order is a pure function of the
        seed, so the same ones come); with ``replay_current`` the current phase's last one is left
        to be taken again, as the track to resume.
        """
        self.ends = [float(x) for x in data["ends"]]
        self.starts = [None if x is None else float(x) for x in data["starts"]]
        self.index, self.started = int(data["index"]), True
        taken = {int(k): int(v) for k, v in data.get("taken", {}).items()}
        for index, count in taken.items():
            skip = count - 1 if (index == self.index and replay_current) else count
            for _ in range(max(0, skip)):
                if self.peek(index) is None:
                    break
                self.next_slot(index)

    # -- the plan, for planned-vs-actual in the log
    def planned_start(self, index: int) -> float | None:
        if self.plan is None:
            return None
        return round(self.plan.phases[index].start_s, 3)

    def planned_end(self, index: int) -> float | None:
        if self.plan is None:
            return None
        p = self.plan.phases[index]
        return round(p.start_s + p.duration_s, 3)

    def planned_track_start(self, index: int, number: int) -> float | None:
        if self.plan is None:
            return None
        for track in self.plan.phases[index].tracks:  # ``number``: its place in the sequence
            if track.slot == number:
                return round(track.start_s, 3)
        return None

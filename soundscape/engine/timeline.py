"""The session timeline: which phase is on, when each phase ends, and what plays next in each."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

from soundscape.playlist.model import Playlist, Track
from soundscape.schedule.plan import Plan, phase_ends_s
from soundscape.schedule.sequence import PhaseOrder, Slot


class Timeline:
    """Phase ends on the session clock, plus each phase's track order with a one-track look-ahead.

    The order comes from the same ``PhaseOrder`` that ``plan`` uses, so play agrees with plan
    until a facilitator steers it (intensity, the queue, bans).
    """

    def __init__(self, playlist: Playlist, seed: int, plan: Plan | None = None):
        self.playlist = playlist
        self.seed = seed
        self.plan = plan
        self.ends = phase_ends_s(playlist.phases)
        self.starts: list[float | None] = [None] * len(playlist.phases)
        self.index = 0
        self.started = False
        self._orders: dict[int, PhaseOrder] = {}
        self._taken: dict[int, int] = defaultdict(int)
        self.banned: set[Path] = set()  # for the rest of the session, in every phase
        self.queue: list[Slot] = []  # put next by facilitators, played before the phase's order
        self.steered: set[int] = set()  # phases whose order a facilitator changed: the plan's
        # track times no longer apply there

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
    def order(self, index: int) -> PhaseOrder:
        """Phase ``index``'s order by intensity (banned tracks passed over)."""
        if index not in self._orders:
            self._orders[index] = PhaseOrder(self.playlist.phases[index], self.seed, index,
                                             self.banned)
        return self._orders[index]

    def peek(self, index: int) -> Slot | None:
        """What phase ``index`` plays next: the queue's first (in the current phase), else the
        phase's nearest pool."""
        if index >= len(self.playlist.phases):
            return None
        if index == self.index and self.queue:
            return self.queue[0]
        return self.order(index).peek()

    def recycle(self, index: int) -> Slot | None:
        """A phase held past the end of its tracks (``when_short: silence``) plays them again."""
        self.order(index).recycle()
        return self.peek(index)

    def next_slot(self, index: int) -> Slot:
        if index == self.index and self.queue:
            slot = self.queue.pop(0)
            self.order(index).played_early(slot.track.path)
            self.steered.add(index)
        else:
            slot = self.order(index).take()
        self._taken[index] += 1
        return slot

    def take_from_order(self, index: int) -> Slot | None:
        """Phase ``index``'s next slot from its pools, the queue left as it is (``now``)."""
        slot = self.order(index).take()
        if slot is not None:
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

    def upcoming(self, count: int, fits=None) -> list[tuple[int, Slot]]:
        """The next ``count`` slots as things stand (the queue, then the phase's order, then
        the next phases'), without taking them: (phase index, slot). ``fits(index, slot)``
        False: that phase is over before the slot would begin (the next phase's come)."""
        out: list[tuple[int, Slot]] = [(self.index, slot) for slot in self.queue[:count]]
        index = self.index
        while len(out) < count and index < len(self.playlist.phases):
            order = self.order(index)
            probe = PhaseOrder(order.phase, self.seed, index, self.banned)
            probe.restore(order.checkpoint())
            for _ in range(len(order.phase.tracks) + 1):
                slot = probe.take() if len(out) < count else None
                if slot is None or (fits is not None and not fits(index, slot)):
                    break
                out.append((index, slot))
            index += 1
        return out

    # -- steering
    def find_track(self, path: Path) -> Track | None:
        """The playlist's track at ``path`` (the current phase's entry first), or None."""
        phases = [self.playlist.phases[self.index]] + list(self.playlist.phases)
        return next((t for phase in phases for t in phase.tracks if t.path == path), None)

    def queue_track(self, track: Track) -> None:
        self.queue.append(Slot(track, 0, queued=True))
        self.steered.add(self.index)

    def ban(self, path: Path) -> None:
        self.banned.add(path)
        self.queue = [slot for slot in self.queue if slot.track.path != path]
        self.steered.add(self.index)

    def resume_slot(self, index: int, path: str, repeat: bool = False,
                    queued: bool = False) -> Slot:
        """The slot of the track a checkpoint was playing (already taken before the crash)."""
        full = Path(path)
        phase = self.playlist.phases[index]
        track = next((t for t in phase.tracks if t.path == full), None) \
            or self.find_track(full) or Track(full, full.stem)
        return Slot(track, 1 if repeat else 0, queued=queued)

    # -- checkpoints
    def checkpoint(self) -> dict:
        """Where the session is on the timeline, for ``restore`` after a crash."""
        return {"index": self.index, "ends": list(self.ends), "starts": list(self.starts),
                "taken": {str(k): v for k, v in self.taken_counts().items()},
                "orders": {str(k): o.checkpoint() for k, o in self._orders.items()},
                "queue": [str(slot.track.path) for slot in self.queue],
                "banned": sorted(str(p) for p in self.banned),
                "steered": sorted(self.steered)}

    def restore(self, data: dict, replay_current: bool) -> None:
        """Carry on from a checkpoint: the same phase ends, and each phase's order where it was.

        Each phase's pools carry on where they were (their order is a pure function of the
        seed), with the same queue and bans. A checkpoint from before intensities has only the
        counts of tracks taken: they are taken again, and with ``replay_current`` the current
        phase's last one is left to be taken again, as the track to resume.
        """
        self.ends = [float(x) for x in data["ends"]]
        self.starts = [None if x is None else float(x) for x in data["starts"]]
        self.index, self.started = int(data["index"]), True
        taken = {int(k): int(v) for k, v in data.get("taken", {}).items()}
        if "orders" not in data:
            for index, count in taken.items():
                skip = count - 1 if (index == self.index and replay_current) else count
                for _ in range(max(0, skip)):
                    if self.peek(index) is None:
                        break
                    self.next_slot(index)
            return
        self.banned.update(Path(p) for p in data.get("banned", []))
        for key, order_data in data["orders"].items():
            if 0 <= int(key) < len(self.playlist.phases):
                self.order(int(key)).restore(order_data)
        for path in data.get("queue", []):
            full = Path(path)
            self.queue.append(Slot(self.find_track(full) or Track(full, full.stem), 0,
                                   queued=True))
        self.steered = {int(k) for k in data.get("steered", [])}
        self._taken.update(taken)

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
        if self.plan is None or index in self.steered:
            return None
        for track in self.plan.phases[index].tracks:  # ``number``: its place in the sequence
            if track.slot == number:
                return round(track.start_s, 3)
        return None

"""The core seen from outside: an immutable ``State`` for readers, and publishing it.

Readers (the page, the terminal) only ever see what ``build`` makes. The engine thread offers a
state after every tick; ``Publisher`` takes it when ``signature`` changed (something a facilitator
would see), and otherwise at a steady pace while positions and levels move, and wakes whoever
waits for it.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable

from soundscape.engine.state import NextTrack, PhaseInfo, PhaseSlot, State, Status, TrackInfo

if TYPE_CHECKING:  # the core imports this module; only its type is needed here
    from soundscape.engine.core import SessionCore

REFRESH_EVERY_S = 1.0  # a new state at least this often while playing (positions move)
LEVEL_REFRESH_S = 0.25  # while the level slews, new states at most this often


@dataclass(frozen=True)
class SessionInfo:
    """What the engine knows of the session beyond its rules, shown with every state."""

    session_id: str
    seed: int
    output: str  # the output's name ("pulse", "alsa", "none", ...)
    output_ok: bool  # the output answered at the last health check
    log_path: str  # the session log ("" when none is written)
    resumed: bool  # the session was carried on after an interruption
    analysis: dict | None = None  # the background analysis: done, total, first_pending
    room: dict | None = None  # what the room hears (engine/watch.py), None: not listened to
    epoch: str = ""  # new on every start of the engine's process
    interruption_s: float | None = None  # the downtime before this resume (None: not resumed)
    output_latency_s: float = 0.0  # the output's delay from a change to the room hearing it
    speakers: dict | None = None  # the snapcast output's speakers (None on other outputs)


def target_pct(core: SessionCore) -> float:
    """Where the music level is going: 0 when it is not playing or is fading out."""
    if core.status in (Status.READY, Status.ENDED) or core.levels.frozen:
        return 0.0
    return round(core.levels.target_pct(core.phase.level_pct), 1)


def return_pct(core: SessionCore) -> float:
    """The level the music settles at once unhushed and playing: the phase's planned level, or
    a facilitator's, under the ceiling (what a hush or a pause returns to)."""
    if core.status is Status.ENDED:
        return 0.0
    levels = core.levels
    base = core.phase.level_pct if levels.override_pct is None else levels.override_pct
    return round(min(base, core.settings.ceiling_pct), 1)


def overrun_s(core: SessionCore, s: float) -> float:
    """How far the current phase runs past its planned end: held, waiting for the dose, or
    letting its last track finish. The phase's end moves with it (and how the later ones do,
    ``slots`` says)."""
    if not core.timeline.started or core.status not in (Status.PLAYING, Status.PAUSED) \
            or core.ending or not (core.waiting or core.finishing):
        return 0.0
    return max(0.0, s - core.timeline.end_s())


def slots(core: SessionCore, s: float) -> tuple[PhaseSlot, ...]:
    """Every phase's start and length as things stand now: extensions, and an overrun under way.

    Held or waiting for the dose, the current phase is longer by the overrun and every later one
    starts that much later (a release or the dose shifts them so). A last track playing out
    (``at_end: finish``) moves only the boundary: the next phase starts later and is shorter, the
    later ones keep their times (docs/engine.md). A phase that is over lasted until the next one
    began, which is not its planned end after a finish or ``when_short: silence``.
    """
    timeline = core.timeline
    over, current = overrun_s(core, s), timeline.index
    out: list[PhaseSlot] = []
    previous_end = 0.0
    for j, (name, start, duration) in enumerate(timeline.slots()):
        if j < current:
            if timeline.starts[j + 1] is not None:  # (phases skipped by the dose: never begun)
                duration = max(0.0, timeline.starts[j + 1] - start)
        elif j == current:
            duration += over
        elif core.waiting:
            start += over
        elif over:  # only the boundary moves: a phase begins once the one before it has ended
            end = start + duration
            start = max(start, previous_end)
            duration = max(0.0, end - start)
        previous_end = start + duration
        out.append(PhaseSlot(name, round(start, 2), round(duration, 2)))
    return tuple(out)


def total_s(core: SessionCore, s: float, phases: tuple[PhaseSlot, ...]) -> float:
    """When the session ends, as things stand: its end if it has ended, the end of a fade-out
    or stop under way, else the end of the last phase."""
    if core.status is Status.ENDED and core.ended_at is not None:
        return round(core.ended_at, 2)
    if core.ending and core.end_at is not None:
        return round(core.end_at, 2)
    last = phases[-1] if phases else None
    return round(last.start_s + last.duration_s, 2) if last else 0.0


def build(core: SessionCore, s: float, revision: int, info: SessionInfo) -> State:
    timeline = core.timeline
    phase = track = next_track = None
    if timeline.started and core.status is not Status.ENDED:
        index = timeline.index
        phase = PhaseInfo(index, core.phase.name, round(s - timeline.start_of(index), 2),
                          round(max(0.0, timeline.end_s() - s), 2), core.held,
                          round(overrun_s(core, s), 2))
        cur = core.music.current()
        if cur is not None:
            track = TrackInfo(cur.title, str(cur.path), round(cur.position_s(s), 2),
                              round((cur.length_s or 0.0) + cur.trim_start_s, 2),
                              cur.intensity, cur.queued)
        upcoming = timeline.peek(index) or timeline.peek(index + 1)
        if upcoming is not None:
            next_track = NextTrack(upcoming.track.title, str(upcoming.track.path))
    phases = slots(core, s)
    open_end = (core.waiting and not core.ending
                and core.status in (Status.PLAYING, Status.PAUSED) and timeline.started)
    return State(
        revision=revision, status=core.status, title=core.playlist.title,
        session_id=info.session_id, phase=phase, phases=phases, track=track,
        next_track=next_track, level=core.levels.level_now(s), level_target=target_pct(core),
        hushed=core.levels.hushed, session_elapsed_s=round(s, 2), warnings=tuple(core.warnings),
        warnings_at_s=tuple(core.warnings_at_s), output=info.output, ending=bool(core.ending),
        ending_kind=core.ending if core.status is not Status.ENDED else "",
        medicine=_medicine(core), resumed=info.resumed, analysis=info.analysis, room=info.room,
        epoch=info.epoch, interruption_s=info.interruption_s, level_return=return_pct(core),
        output_latency_s=info.output_latency_s, speakers=info.speakers,
        level_set_by_hand=core.levels.override_pct is not None and core.status is not Status.ENDED,
        total_s=total_s(core, s, phases), total_open=bool(open_end),
        **_steering(core, s, phases),
        extras={"seed": info.seed, "output_ok": info.output_ok,
                "ceiling": core.settings.ceiling_pct, "log": info.log_path,
                "stop_fade_s": core.settings.stop_fade_s,
                "hush_pct": core.settings.hush_pct},
    )


UPCOMING = 3  # tracks shown in the queue


def _steering(core: SessionCore, s: float, phases: tuple[PhaseSlot, ...]) -> dict:
    """Intensity, the queue, cues, bans and notes, as every phone shows them."""
    timeline, ended = core.timeline, core.status is Status.ENDED
    order = timeline.order(timeline.index)
    titles = {t.path: t.title for p in core.playlist.phases for t in p.tracks}
    return {
        "intensity": None if ended else order.level,
        "intensities": () if ended else order.intensities,
        "upcoming": () if ended or core.ending else upcoming(core, s),
        "queue": tuple(str(slot.track.path) for slot in timeline.queue),
        "cues": core.cuebook.view(core, [p.start_s for p in phases]),
        "banned": tuple({"path": str(p), "title": titles.get(p, p.stem)}
                        for p in sorted(timeline.banned)),
        "notes": tuple(core.notes),
    }


def upcoming(core: SessionCore, s: float) -> tuple[dict, ...]:
    """The next tracks as things stand: the queue, then the phase's order while the phase
    lasts (each track's length counted, crossfades taken off), then the next phase's."""
    timeline, music = core.timeline, core.music
    cur = music.current()
    clock = [s if cur is None or cur.natural_end is None else cur.natural_end]
    for slot in timeline.queue[:UPCOMING]:  # the queue plays first
        clock[0] += (music.length_s(slot.track) or 0.0) - core.phase.crossfade_s

    def fits(index: int, slot) -> bool:
        if index != timeline.index or core.waiting or not timeline.started:
            return True
        if clock[0] >= timeline.end_s():
            return False  # the phase ends before this one would begin
        clock[0] += (music.length_s(slot.track) or 0.0) - core.phase.crossfade_s
        return True

    out = []
    for index, slot in timeline.upcoming(UPCOMING, fits):
        length = music.length_s(slot.track)
        out.append({"title": slot.track.title, "path": str(slot.track.path),
                    "duration_s": None if length is None else round(length, 1),
                    "intensity": slot.track.intensity,
                    "phase": core.playlist.phases[index].name, "queued": slot.queued})
    return tuple(out)


def _medicine(core: SessionCore) -> dict | None:
    medicine = core.playlist.medicine
    if medicine is None:
        return None
    return {"route": medicine.route, "dose_phase": medicine.dose_phase,
            "booster_phase": medicine.booster_phase, "awaiting_dose": core.awaiting_dose,
            "dosed_at_s": None if core.dosed_at is None else round(core.dosed_at, 2),
            "booster_planned_s": medicine.booster_at_s,
            "boosters_s": [round(b, 2) for b in core.boosters]}


def signature(core: SessionCore, s: float) -> tuple:
    """Everything a facilitator would see change at once (the level's ramp end included)."""
    cur = core.music.current()
    return (core.status, core.timeline.index, core.held, core.levels.hushed, core.ending,
            cur.path if cur else None, tuple(core.warnings), core.levels.override_pct,
            tuple(core.timeline.ends), core.levels.frozen, core.levels.master.moving(s),
            core.awaiting_dose, core.dosed_at, len(core.boosters),
            core.timeline.order(core.timeline.index).level, len(core.timeline.queue),
            len(core.timeline.banned), len(core.notes), core.cuebook.signature(),
            core.notes[-1]["at_s"] if core.notes else None)


class Publisher:
    """The latest State, safe to read from any thread, and waiting for the next one."""

    def __init__(self, first: State, signature: tuple, now_s: float):
        self._cond = threading.Condition()
        self._state = first
        self._signature = signature  # of the first state: an unchanged session is not republished
        self._level_shown = first.level
        self._last_s = now_s  # clock time of the last publication

    def offer(self, now_s: float, signature: tuple, level: float, playing: bool,
              build: Callable[[int], State], force: bool = False) -> None:
        """Publish ``build(next revision)`` if it is due; ``now_s`` is the engine's clock."""
        due = playing and now_s - self._last_s >= REFRESH_EVERY_S
        level_moved = level != self._level_shown and now_s - self._last_s >= LEVEL_REFRESH_S
        if not (force or signature != self._signature or due or level_moved):
            return
        self._signature, self._level_shown, self._last_s = signature, level, now_s
        with self._cond:
            self._state = build(self._state.revision + 1)
            self._cond.notify_all()

    def latest(self) -> State:
        with self._cond:
            return self._state

    def wait_for_change(self, after_revision: int, timeout_s: float) -> State:
        with self._cond:
            self._cond.wait_for(lambda: self._state.revision > after_revision, timeout=timeout_s)
            return self._state

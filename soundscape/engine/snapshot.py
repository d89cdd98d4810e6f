"""The core seen from outside: an immutable ``State`` for readers, and when a new one is worth
publishing.

Readers (the page, the terminal) only ever see what ``build`` makes; the engine publishes a new
state when ``signature`` changes (something a facilitator would see), and otherwise at a steady
pace while positions and levels move.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from soundscape.engine.state import NextTrack, PhaseInfo, PhaseSlot, State, Status, TrackInfo

if TYPE_CHECKING:  # the core imports this module; only its type is needed here
    from soundscape.engine.core import SessionCore


@dataclass(frozen=True)
class SessionInfo:
    """What the engine knows of the session beyond its rules, shown with every state."""

    session_id: str
    seed: int
    output: str  # the output's name ("pulse", "alsa", "none", ...)
    output_ok: bool  # the output answered at the last health check
    log_path: str  # the session log ("" when none is written)
    resumed: bool  # the session was carried on after an interruption


def target_pct(core: SessionCore) -> float:
    """Where the music level is going: 0 when it is not playing or is fading out."""
    if core.status in (Status.READY, Status.ENDED) or core.levels.frozen:
        return 0.0
    return round(core.levels.target_pct(core.phase.level_pct), 1)


def build(core: SessionCore, s: float, revision: int, info: SessionInfo) -> State:
    timeline = core.timeline
    phase = track = next_track = None
    if timeline.started and core.status is not Status.ENDED:
        index = timeline.index
        phase = PhaseInfo(index, core.phase.name, round(s - timeline.start_of(index), 2),
                          round(max(0.0, timeline.end_s() - s), 2), core.held)
        cur = core.music.current()
        if cur is not None:
            track = TrackInfo(cur.title, str(cur.path), round(cur.position_s(s), 2),
                              round((cur.length_s or 0.0) + cur.trim_start_s, 2))
        upcoming = timeline.peek(index) or timeline.peek(index + 1)
        if upcoming is not None:
            next_track = NextTrack(upcoming.track.title, str(upcoming.track.path))
    slots = tuple(PhaseSlot(n, round(a, 2), round(d, 2)) for n, a, d in timeline.slots())
    return State(
        revision=revision, status=core.status, title=core.playlist.title,
        session_id=info.session_id, phase=phase, phases=slots, track=track,
        next_track=next_track, level=core.levels.level_now(s), level_target=target_pct(core),
        hushed=core.levels.hushed, session_elapsed_s=round(s, 2), warnings=tuple(core.warnings),
        output=info.output, ending=bool(core.ending), medicine=_medicine(core),
        resumed=info.resumed,
        extras={"seed": info.seed, "output_ok": info.output_ok,
                "ceiling": core.settings.ceiling_pct, "log": info.log_path},
    )


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
            core.awaiting_dose, core.dosed_at, len(core.boosters))

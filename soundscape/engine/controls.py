"""Facilitator controls: when each makes sense (the refusal reasons) and what each does.

``handle(core, command, s)`` runs on the engine thread with the session time ``s``. A command that
makes no sense now is refused with a sentence the page shows (HTTP 409); one that does is carried
out through the core's operations and parts (core.py), never by editing their insides.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable

from soundscape.engine import steering
from soundscape.engine.commands import Action, Command, CommandResult
from soundscape.engine.state import Status
from soundscape.timefmt import clock

if TYPE_CHECKING:  # the core imports this module; only its type is needed here
    from soundscape.engine.core import SessionCore


def handle(core: SessionCore, cmd: Command, s: float) -> CommandResult:
    reason = refusal(core, cmd) or (steering.refusal(core, cmd)
                                    if cmd.action in steering.STEERING else "")
    if reason:
        return CommandResult(False, reason)
    ACTIONS[cmd.action](core, cmd, s)
    return CommandResult(True)


def refusal(core: SessionCore, cmd: Command) -> str:
    """Why ``cmd`` cannot be done now, or "" when it can."""
    a, st = cmd.action, core.status
    if a is Action.NOTE:
        return ""  # a note is for the record, before, during and after the session
    if st is Status.ENDED:
        return "the session has ended"
    if a is Action.START:
        return "" if st is Status.READY else "the session has already started"
    if st is Status.READY:
        if a is Action.INTENSITY and cmd.params.get("now"):
            return "the session has not started yet; change the intensity without now"
        return "" if a in (Action.STOP, *steering.STEERING) else "the session has not started yet"
    if core.ending and a not in (Action.STOP, Action.ACK_CUE):
        return "the session is ending"
    if a is Action.STOP and core.ending == "stop":
        return "the room is already being quieted"
    if a is Action.PAUSE and st is not Status.PLAYING:
        return "the music is already paused"
    if a is Action.RESUME and st is not Status.PAUSED:
        return "the music is not paused"
    phase = core.phase
    if a is Action.SKIP:
        if st is not Status.PLAYING:
            return "resume the music before skipping"
        if not phase.tracks:
            return f"phase '{phase.name}' has no tracks, only ambience"
        if core.finishing:
            return (f"phase '{phase.name}' is over and its last track is playing out; "
                    "use next phase")
        if core.timeline.peek(core.timeline.index) is None:
            return f"no more tracks in phase '{phase.name}'"
    if a is Action.NEXT_PHASE and core.last_phase:
        return "this is the last phase; use fade out to end the session"
    if a is Action.NEXT_PHASE and core.awaiting_dose:
        return (f"mark the dose first: phase '{phase.name}' waits for the dose, and Dose given "
                "moves the session on")
    if a is Action.HOLD and core.held:
        return f"phase '{phase.name}' is already held"
    if a is Action.RELEASE and not core.held:
        return f"phase '{phase.name}' is not held"
    if a in (Action.DOSE, Action.BOOSTER) and core.playlist.medicine is None:
        return "this playlist has no medicine block"
    if a is Action.DOSE and core.dosed_at is not None:
        return f"the dose was already marked at {clock(core.dosed_at)}"
    if a is Action.BOOSTER:
        if core.dosed_at is None:
            return "mark the dose first"
        if core.booster_index is None:
            return "this playlist names no booster phase"
        if core.timeline.index > core.booster_index:
            name = core.playlist.phases[core.booster_index].name
            return f"the booster phase '{name}' is over"
    if a is Action.HUSH and core.levels.hushed:
        return "the music is already hushed"
    if a is Action.UNHUSH and not core.levels.hushed:
        return "the music is not hushed"
    return ""


# ------------------------------------------------------------------------- what each one does

def _start(core: SessionCore, cmd: Command, s: float) -> None:
    core.status = Status.PLAYING
    core.levels.beds_rise(s)
    core.enter_phase(0, s, crossfade_s=0.0)


def _pause(core: SessionCore, cmd: Command, s: float) -> None:
    """The music fades out over the pause fade, then its decks stand still; the bed goes on."""
    core.status = Status.PAUSED
    core.levels.fade_master(s, s + core.settings.pause_fade_s)
    core.music.pause_decks_at = s + core.settings.pause_fade_s + core.output.latency_s


def _resume(core: SessionCore, cmd: Command, s: float) -> None:
    core.status = Status.PLAYING
    core.levels.frozen = False
    core.music.resume(s)
    core.levels.hold_master(s)
    if core.timeline.index in core.phase_faded:
        # the phase's fade-out had begun: the music stays faded until the next phase
        core.levels.frozen = True
        return
    core.retarget(s)


def _unlock_phase_fade(core: SessionCore, s: float) -> None:
    """Undo a phase fade-out that extend, hold or a booster made premature."""
    if core.timeline.index in core.phase_faded and core.status is Status.PLAYING \
            and not core.ending:
        core.phase_faded.discard(core.timeline.index)
        core.levels.frozen = False
        core.retarget(s)


def _skip(core: SessionCore, cmd: Command, s: float) -> None:
    core.music.skip(s, min(core.phase.crossfade_s, core.settings.skip_crossfade_s),
                    core.settings.fault_fade_in_s)


def _next_phase(core: SessionCore, cmd: Command, s: float) -> None:
    core.timeline.end_now(s)
    core.held = False
    if core.status is Status.PLAYING:
        core.finishing = False
        core.enter_phase(core.timeline.index + 1, s, core.phase.crossfade_s)
    else:
        core.enter_phase_paused(s)


def _extend(core: SessionCore, cmd: Command, s: float) -> None:
    core.timeline.extend(cmd.params.get("minutes", core.settings.extend_default_min) * 60.0)
    if s < core.timeline.end_s():
        core.finishing = False  # the phase goes on: its tracks keep coming
    _unlock_phase_fade(core, s)


def _hold(core: SessionCore, cmd: Command, s: float) -> None:
    core.held = True
    core.finishing = False
    _unlock_phase_fade(core, s)


def _release(core: SessionCore, cmd: Command, s: float) -> None:
    core.held = False
    if s > core.timeline.end_s():
        core.timeline.end_now(s)  # the hold's overrun shifts the later phases


def _set_level(core: SessionCore, cmd: Command, s: float) -> None:
    core.levels.override_pct = min(cmd.params["level"], core.settings.ceiling_pct)
    core.retarget(s)


def _hush(core: SessionCore, cmd: Command, s: float) -> None:
    core.levels.hushed = True
    core.retarget(s, fall_s=core.settings.hush_fall_s)


def _unhush(core: SessionCore, cmd: Command, s: float) -> None:
    core.levels.hushed = False
    core.retarget(s)


def _fade_out(core: SessionCore, cmd: Command, s: float) -> None:
    core.begin_end(s, cmd.params.get("seconds", core.settings.fade_out_default_s), "fade_out")


def _stop(core: SessionCore, cmd: Command, s: float) -> None:
    if core.status is Status.READY:
        core.finish(s, "stopped before start")
    else:
        core.begin_end(s, core.settings.stop_fade_s, "stop")


def _dose(core: SessionCore, cmd: Command, s: float) -> None:
    """The dose phase (and anything before it) ends now; later phases are timed from now."""
    core.dosed_at = s
    core.log("dose", route=core.playlist.medicine.route, actual_s=round(s, 3), by=cmd.by)
    index = core.timeline.index
    if index > core.dose_index or core.dose_index >= len(core.playlist.phases) - 1:
        return  # marked late, or the dose phase is the last: a mark for the record only
    target = core.dose_index + 1
    core.timeline.end_through(core.dose_index, s)
    core.held = False
    if core.status is Status.PLAYING:
        core.finishing = False
        core.enter_phase(target, s, core.phase.crossfade_s)
    else:
        core.enter_phase_paused(s, target)


def _booster(core: SessionCore, cmd: Command, s: float) -> None:
    """A booster was given: its phase (or the current one, if later) and the rest end later."""
    medicine = core.playlist.medicine
    core.boosters.append(s)
    core.timeline.extend_from(max(core.booster_index, core.timeline.index),
                              medicine.booster_extend_s)
    core.log("booster", phase=core.playlist.phases[core.booster_index].name,
             extend_s=medicine.booster_extend_s, actual_s=round(s, 3), by=cmd.by)
    _unlock_phase_fade(core, s)


ACTIONS: dict[Action, Callable[[SessionCore, Command, float], None]] = {
    Action.START: _start,
    Action.PAUSE: _pause,
    Action.RESUME: _resume,
    Action.SKIP: _skip,
    Action.NEXT_PHASE: _next_phase,
    Action.EXTEND: _extend,
    Action.HOLD: _hold,
    Action.RELEASE: _release,
    Action.SET_LEVEL: _set_level,
    Action.HUSH: _hush,
    Action.UNHUSH: _unhush,
    Action.FADE_OUT: _fade_out,
    Action.STOP: _stop,
    Action.DOSE: _dose,
    Action.BOOSTER: _booster,
    **steering.ACTIONS,
}

"""Steering by the room: softer and deeper, the queue, bans, cues seen to, notes for the record.

Like controls.py, each action has its refusal (a sentence for the page, HTTP 409) and its
operation on the core; controls.py dispatches to them. Every one is logged with the phase, the
track playing and who did it, for the report.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from soundscape.engine.commands import Action, Command
from soundscape.engine.state import Status
from soundscape.library import is_audio_name, probe
from soundscape.playlist.model import MAX_INTENSITY, MIN_INTENSITY, Track

if TYPE_CHECKING:  # the core imports this module; only its type is needed here
    from soundscape.engine.core import SessionCore

MAX_QUEUE = 10
MAX_NOTES_SHOWN = 5
STEERING = (Action.INTENSITY, Action.PLAY_NEXT, Action.BAN, Action.ACK_CUE, Action.NOTE)


def library_track(core: SessionCore, written: str) -> Track | str:
    """The track ``written`` names (a playlist track, or an audio file under its music_dir), or
    the reason it is refused."""
    music_dir = core.playlist.music_dir
    base = music_dir if music_dir is not None else core.playlist.path.parent
    full = Path(os.path.normpath(os.path.join(base, os.path.expanduser(written))))
    track = core.timeline.find_track(full)
    if track is not None:
        return track
    inside = music_dir is not None and os.path.realpath(full).startswith(
        os.path.realpath(music_dir) + os.sep)
    if not inside:
        where = f" or an audio file under {music_dir}" if music_dir is not None else ""
        return f"'{written}' is not in this playlist's library (its tracks{where})"
    if not full.is_file() or not is_audio_name(full):
        return f"'{written}' is not an audio file under {music_dir}"
    found = probe([full])[full]
    if not found.is_audio:
        return f"'{written}' cannot be played: its contents are not audio"
    core.music.learn_file(full, found.duration_s)
    return Track(full, full.stem)


def refusal(core: SessionCore, cmd: Command) -> str:
    """Why a steering command cannot be done now, or ""; the session's life is judged first
    (controls.refusal)."""
    a = cmd.action
    if a is Action.NOTE:
        return ""
    if a is Action.ACK_CUE:
        return core.cuebook.refusal(cmd.params["id"])
    phase = core.phase
    if a is Action.INTENSITY:
        return _intensity_refusal(core, cmd)
    track = library_track(core, cmd.params["path"])
    if isinstance(track, str):
        return track
    cur = core.music.current()
    if track.path in core.timeline.banned:
        return f"'{track.title}' is banned for this session"
    if a is Action.PLAY_NEXT:
        if any(slot.track.path == track.path for slot in core.timeline.queue):
            return f"'{track.title}' is already in the queue"
        if cur is not None and cur.path == track.path and core.status is not Status.READY:
            return f"'{track.title}' is playing now"
        if len(core.timeline.queue) >= MAX_QUEUE:
            return f"the queue is full ({MAX_QUEUE} tracks); let one play first"
        if not phase.tracks and core.status is not Status.READY:
            return f"phase '{phase.name}' has no tracks, only ambience"
    return ""


def _intensity_refusal(core: SessionCore, cmd: Command) -> str:
    phase = core.phase
    if not phase.tracks:
        return f"phase '{phase.name}' has no tracks, only ambience"
    order = core.timeline.order(core.timeline.index)
    pools = ", ".join(str(i) for i in order.intensities)
    if cmd.params["direction"] == "deeper":
        if order.level >= MAX_INTENSITY:
            return f"the intensity is already at its deepest ({MAX_INTENSITY})"
        if max(order.intensities) <= order.level:
            return f"no deeper music in phase '{phase.name}' (its tracks are at intensity {pools})"
    else:
        if order.level <= MIN_INTENSITY:
            return f"the intensity is already at its gentlest ({MIN_INTENSITY})"
        if min(order.intensities) >= order.level:
            return f"no softer music in phase '{phase.name}' (its tracks are at intensity {pools})"
    if cmd.params.get("now"):
        if core.status is not Status.PLAYING:
            return "resume the music before changing it now"
        if core.finishing:
            return (f"phase '{phase.name}' is over and its last track is playing out; "
                    "use next phase")
    return ""


# ------------------------------------------------------------------------- what each one does

def _playing(core: SessionCore) -> dict:
    cur = core.music.current() if core.status is not Status.READY else None
    return {"path": None if cur is None else str(cur.path),
            "title": None if cur is None else cur.title}


def _phase_name(core: SessionCore) -> str | None:
    return core.phase.name if core.timeline.started else None


def intensity(core: SessionCore, cmd: Command, s: float) -> None:
    """One step softer or deeper: the next track comes from the nearest pool; ``now``
    crossfades to it at once over the phase's crossfade (only if the pool changes)."""
    index = core.timeline.index
    order = core.timeline.order(index)
    step = 1 if cmd.params["direction"] == "deeper" else -1
    before = order.level
    order.level, order.lean = before + step, step
    core.timeline.steered.add(index)
    now = bool(cmd.params.get("now"))
    core.log("intensity", phase=_phase_name(core), direction=cmd.params["direction"],
             **{"from": before, "to": order.level}, now=now, by=cmd.by, **_playing(core))
    if not now:
        return
    cur = core.music.current()
    target = order.nearest(order.level)
    if cur is not None and cur.intensity == target and not cur.queued:
        return  # what plays is already of that intensity: the next track follows it
    slot = core.timeline.take_from_order(index)
    if slot is not None:
        core.music.crossfade_to(s, slot, core.phase.crossfade_s, core.settings.fault_fade_in_s,
                                reason="intensity")


def play_next(core: SessionCore, cmd: Command, s: float) -> None:
    track = library_track(core, cmd.params["path"])
    core.timeline.queue_track(track)
    core.log("play_next", phase=_phase_name(core), path=str(track.path), title=track.title,
             by=cmd.by)


def ban(core: SessionCore, cmd: Command, s: float) -> None:
    """Never again this session; the playing track crossfades away now."""
    track = library_track(core, cmd.params["path"])
    core.timeline.ban(track.path)
    cur = core.music.current()
    playing = cur is not None and cur.path == track.path and core.status is not Status.READY
    core.log("ban", phase=_phase_name(core), path=str(track.path), title=track.title,
             by=cmd.by, playing=playing)
    if core.music.pending is not None and core.music.pending[0].track.path == track.path:
        core.music.pending = None  # a resumed, paused session's track: it will not come back
    if playing:
        _away(core, cur, s)
    elif core.timeline.started and core.phase.tracks and \
            all(t.path in core.timeline.banned for t in core.phase.tracks):
        core.warn(f"every track of phase '{core.phase.name}' is banned now: its music ends "
                  "with the track playing")


def _away(core: SessionCore, cur, s: float) -> None:
    index, phase = core.timeline.index, core.phase
    crossfade = phase.crossfade_s
    if core.status is Status.PAUSED:
        if core.music.pause_decks_at is not None:  # the pause's fade goes on, then it stops
            cur.fade_out(s, max(0.0, core.music.pause_decks_at - s))
        else:
            cur.release()
        core.log("track_end", path=str(cur.path), reason="banned")
        return
    upcoming = core.timeline.peek(index)
    if upcoming is None and core.waiting and phase.tracks:
        upcoming = core.timeline.recycle(index)
    if upcoming is not None:
        core.music.skip(s, crossfade, core.settings.fault_fade_in_s, reason="banned")
        return
    if not core.last_phase and not core.waiting and not core.finishing:
        nxt = core.playlist.phases[index + 1].name
        core.warn(f"the last track of phase '{phase.name}' was banned: phase '{nxt}' begins now")
        core.timeline.end_now(s)
        core.held = False
        core.enter_phase(index + 1, s, crossfade)
        return
    cur.fade_out(s, crossfade if cur.natural_end is None else min(crossfade,
                                                                   cur.fade_left_s(s)))
    core.log("track_end", path=str(cur.path), reason="banned")
    until = "the session ends" if core.last_phase else "the next phase"
    core.warn(f"no other track left in phase '{phase.name}': only the ambience plays until "
              f"{until}")


def ack_cue(core: SessionCore, cmd: Command, s: float) -> None:
    core.cuebook.ack(core, cmd.params["id"], cmd.by, s)


def note(core: SessionCore, cmd: Command, s: float) -> None:
    """A line for the record, with the session time, the phase and the track playing."""
    text = cmd.params["text"]
    phase = _phase_name(core) if core.status is not Status.ENDED else None
    core.log("note", text=text, by=cmd.by, phase=phase, **_playing(core))
    core.notes = (core.notes + [{"text": text, "by": cmd.by, "at_s": round(s, 1),
                                 "phase": phase}])[-MAX_NOTES_SHOWN:]


ACTIONS = {
    Action.INTENSITY: intensity,
    Action.PLAY_NEXT: play_next,
    Action.BAN: ban,
    Action.ACK_CUE: ack_cue,
    Action.NOTE: note,
}

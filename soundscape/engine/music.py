"""The music: which track plays when within a phase, the hand-overs between tracks, and failures.

``Music`` owns the music voices. Each tick, ``rules`` starts, crossfades and judges tracks within
the current phase, and answers with what only the session may do: move to the next phase
(``NextPhase``) or end (``End``), when the phase's music has played out. Tracks are placed on the
timeline where they were due, not where the thread woke, so lateness never adds up.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from soundscape.engine.deck import Deck
from soundscape.engine.fades import Envelope, gain_db_to_gain
from soundscape.engine.levels import Levels
from soundscape.engine.timeline import Timeline
from soundscape.engine.voices import Kind, Voice, VoiceGroup
from soundscape.playlist.model import Phase, Track
from soundscape.schedule.handover import END_MARGIN_S, handover_floor_s, handover_s
from soundscape.schedule.sequence import Slot, Window, track_window

FAILED_RETRY_S = 30.0  # after every track of a phase failed in a row, try again this much later
MAX_LATE_S = 0.04  # a start this late is placed at its scheduled time (see start)
# A deck started part-way into its file fades in over at least this: starting mid-waveform would
# click, and under load libVLC plays a few ms of the file's beginning before the seek lands
# (docs/libvlc.md).
SEEK_FADE_S = 0.1


@dataclass(frozen=True)
class NextPhase:
    """The phase's music has played out: the next phase begins, crossfading over ``crossfade_s``."""

    crossfade_s: float
    due_s: float | None = None  # when it was due (the next phase's first track is placed there)


@dataclass(frozen=True)
class End:
    """The last phase's music has played out: the session ends."""


@dataclass(frozen=True)
class Situation:
    """What the music needs to know of the session this tick."""

    phase: Phase
    index: int
    last: bool  # the last phase
    waiting: bool  # the phase must not end (held, or waiting for the dose)
    finishing: bool  # at_end: finish, the phase is over and its last track plays out
    end_s: float  # when the phase ends on the timeline


class Music(VoiceGroup):
    def __init__(self, timeline: Timeline, levels: Levels, new_deck: Callable[[str], Deck],
                 durations: dict[Path, float | None], gains_db: dict[Path, float],
                 warn: Callable[[str], None], log: Callable[..., None],
                 cues: dict | None = None, undecodable: dict | None = None):
        super().__init__()
        self.timeline = timeline
        self.levels = levels
        self._new_deck = new_deck
        self._durations = durations
        self._gains_db = gains_db  # loudness normalisation per file
        self._cues = {} if cues is None else cues  # cue points per analysed file
        self._undecodable = {} if undecodable is None else undecodable  # path -> why
        self._warn = warn
        self._log = log
        self.failures_in_row = 0  # tracks that failed one after another
        self.retry_at = 0.0  # after every track of a phase failed, when to try again
        self.pending: tuple[Slot, float] | None = None  # (slot, position_s) to start on resume
        self.pause_decks_at: float | None = None  # a pause's fade ends: the decks stop then
        self.decks_paused_at: float | None = None
        self.due: list[float] = []  # session times the next tick must come by

    def current(self) -> Voice | None:
        """The music voice that is not on its way out."""
        live = [v for v in self.voices if not v.released and not v.leaving]
        return live[-1] if live else None

    def sounding(self) -> bool:
        return any(not v.released for v in self.voices)

    def cues_of(self, path: Path):
        """The file's cue points (its analysis), or None."""
        return self._cues.get(path)

    def default_gain_db(self) -> float:
        """The gain of a track not analysed yet: the median of the analysed tracks' gains, so it
        is not ~10 dB louder than its normalised neighbours."""
        gains = sorted(self._gains_db.values())
        return gains[len(gains) // 2] if gains else 0.0

    def window(self, track: Track) -> Window | None:
        """Where the track starts and stops in its file (trims and cue points applied)."""
        return track_window(track, self._durations.get(track.path), self._cues.get(track.path))

    def length_s(self, track: Track) -> float | None:
        window = self.window(track)
        return None if window is None else window.length_s

    # -- starting and stopping tracks --------------------------------------------------------

    def start(self, s: float, slot: Slot, fade_in_s: float, position_s: float | None = None,
              due_s: float | None = None) -> Voice:
        """Start a taken slot now; ``position_s`` (a resume) starts it part-way through the file.

        ``due_s`` is when the start was scheduled: the voice is placed on the timeline there, not
        where the thread happened to wake a few milliseconds later, so lateness never adds up from
        track to track (the fades and the 50 ms lead of a cut absorb it).
        """
        track, index = slot.track, self.timeline.index
        window = self.window(track)
        from_s = track.start_s if window is None else window.start_s
        into_s = 0.0 if position_s is None else max(0.0, position_s - from_s)
        if from_s + into_s > 0:
            fade_in_s = max(fade_in_s, SEEK_FADE_S)
        t_zero = s - into_s
        if due_s is not None and 0.0 <= s - due_s <= MAX_LATE_S:
            t_zero = due_s
        voice = Voice(self._new_deck("music"), Kind.MUSIC, track.path, track.title, index, t_zero,
                      None if window is None else window.length_s,
                      Envelope(s, s + fade_in_s) if fade_in_s > 0 else Envelope(),
                      gain_db_to_gain(track.gain_db + self._gains_db.get(
                          track.path, self.default_gain_db())),
                      from_s, self.timeline.taken(index) - 1, slot.repeat)
        voice.started_s, voice.start_position_s = s, from_s + into_s
        voice.intensity, voice.queued = track.intensity, slot.queued
        if window is not None:
            voice.own_fade_s, voice.trimmed_end = window.fade_s, window.trimmed_end
        voice.verified = track.path in self._cues
        self.voices.append(voice)
        why = self._undecodable.get(track.path)
        if why is not None and track.path.exists():
            # The analysis found nothing to play in it: skipped before a second of music is lost.
            voice.failed = True
            self.failures_in_row += 1
            self._warn(f"{track.path.name} cannot be played ({why}); skipped")
            self._log("track_start", phase=self.timeline.playlist.phases[index].name,
                      path=str(track.path), title=track.title, actual_s=round(s, 3),
                      repeat=slot.repeat, undecodable=why)
            self._log("track_end", path=str(track.path), reason="failed")
            return voice
        try:
            voice.deck.load(track.path, from_s + into_s, self.levels.gain(voice, s))
            voice.deck.play()
        except Exception as exc:  # noqa: BLE001 - a deck that cannot load is a failed track
            voice.failed = True
            self.failures_in_row += 1
            self._warn(f"{track.path.name} could not be played ({exc}); skipped")
        self._log("track_start", phase=self.timeline.playlist.phases[index].name,
                  path=str(track.path), title=track.title,
                  planned_s=self.timeline.planned_track_start(index, voice.number),
                  actual_s=round(s, 3), repeat=slot.repeat, intensity=track.intensity,
                  queued=slot.queued)
        return voice

    def skip(self, s: float, crossfade_s: float, fault_fade_in_s: float,
             reason: str = "skipped") -> None:
        """The next track now: the current one crossfades out (or the new one fades in)."""
        self.crossfade_to(s, self.timeline.next_slot(self.timeline.index), crossfade_s,
                          fault_fade_in_s, reason)

    def crossfade_to(self, s: float, slot: Slot, crossfade_s: float, fault_fade_in_s: float,
                     reason: str) -> None:
        """A taken slot now: the current track crossfades out (or the new one fades in)."""
        cur = self.current()
        if cur is not None:
            cur.fade_out(s, min(crossfade_s, cur.fade_left_s(s)) if cur.natural_end is not None
                         else crossfade_s)
            self._log("track_end", path=str(cur.path), reason=reason)
        self.start(s, slot, crossfade_s if cur is not None else fault_fade_in_s)

    def learn_file(self, path: Path, duration_s: float | None) -> None:
        """A file outside the playlist (put next from its music folder): its length, if read."""
        if path not in self._durations:
            self._durations[path] = duration_s

    def leave_phase(self, s: float, crossfade_s: float, new_index: int) -> None:
        """A new phase begins: every track fades out over the crossfade, ending within its file."""
        for voice in self.voices:  # each fade ends before its file does (END_MARGIN_S)
            left = crossfade_s if voice.natural_end is None else voice.fade_left_s(s)
            duration = min(crossfade_s, left)
            if (voice.own_fade_s >= duration and voice.natural_end is not None
                    and voice.natural_end - s <= duration + END_MARGIN_S + MAX_LATE_S):
                voice.end_window()  # a track playing out in its own fade is not faded again
            else:
                voice.fade_out(s, duration)
        for voice in self.voices:
            if voice.phase_index != new_index and not voice.released:
                self._log("track_end", path=str(voice.path), reason="phase ended")

    def leave_phase_paused(self, s: float) -> None:
        """A phase boundary passed while paused: its music is let go (after the pause's fade)."""
        if self.pause_decks_at is not None:  # the pause's fade is still going: let it finish
            for voice in self.voices:
                voice.fade_out(s, self.pause_decks_at - s)
        else:
            self.release()
        self.pending = None  # a resumed session's track belonged to the phase that ended

    # -- pause and resume --------------------------------------------------------------------

    def pause_rules(self, s: float) -> None:
        """The decks stop once the pause's fade has been heard."""
        if self.pause_decks_at is not None and s >= self.pause_decks_at:
            for voice in self.voices:
                if not voice.released:
                    voice.deck.pause()
            self.pause_decks_at = None
            self.decks_paused_at = s

    def resume(self, s: float) -> None:
        """Play on where each deck stood: the voices move later by the time they stood still."""
        # The decks stood still only from when they were paused (after the fade), not from the tap.
        dt = 0.0 if self.decks_paused_at is None else s - self.decks_paused_at
        self.decks_paused_at = self.pause_decks_at = None
        if self.pending is not None:
            slot, position_s = self.pending
            self.pending = None
            self.start(s, slot, 0.0, position_s)
        for voice in self.voices:
            if not voice.released:
                voice.shift(dt)
                voice.deck.play()

    def resume_track(self, s: float, slot: Slot, position_s: float, paused: bool) -> None:
        """After a crash: the track that was playing, from where it was heard last (or, paused,
        when play resumes)."""
        if paused:
            self.pending = (slot, position_s)
        else:
            self.start(s, slot, 0.0, position_s)

    # -- the rules of each tick --------------------------------------------------------------

    def rules(self, s: float, now: Situation, fault_fade_in_s: float) -> NextPhase | End | None:
        """Judge the current track, then start, hand over or end as the phase's rules say."""
        self.due = []
        phase, index = now.phase, now.index
        cur = self.current()
        if cur is not None and not cur.failed:
            cur.learn_length()
            reason = cur.verdict(s)
            if s < cur.stall_check_due():
                self.due.append(cur.stall_check_due())  # look again when a stall would show
            if cur.settled(s):
                self.failures_in_row = 0
            if reason:
                cur.failed = True
                self.failures_in_row += 1
                self._warn(f"{cur.path.name} {reason}; skipped")
                self._log("track_end", path=str(cur.path), reason="failed")
        if cur is not None and cur.failed:
            cur.release()
            cur = None
        upcoming = self._playable_upcoming(index, now, phase)
        distinct = len({t.path for t in phase.tracks})
        if cur is None and distinct and self.failures_in_row >= distinct:
            # every track of the phase failed in a row: try again later, not on every tick
            self.failures_in_row = 0
            self.retry_at = s + FAILED_RETRY_S
            self._warn(f"no track of phase '{phase.name}' could be played; "
                       f"trying again in {FAILED_RETRY_S:.0f} s")
        if cur is None and s < self.retry_at:
            self.due.append(self.retry_at)
            return None
        if cur is None:
            if upcoming is not None and not now.finishing:
                self.start(s, self.timeline.next_slot(index), fault_fade_in_s)
            elif phase.tracks and not now.waiting and not now.last:
                return NextPhase(0.0)  # nothing left to play: the next phase begins
            elif now.finishing and now.last:
                return End()
            return None
        if cur.natural_end is None:
            return None
        if now.finishing or (upcoming is None and not now.waiting
                             and phase.when_short == "silence"):
            return self._phase_played_out(s, cur, now)
        if upcoming is None:
            return None
        if (cur.natural_end - END_MARGIN_S >= now.end_s + handover_floor_s(phase.crossfade_s)
                and not now.waiting):
            return None  # the current track outlasts the phase: the phase's end hands over
        next_len = self.length_s(upcoming.track) or cur.length_s
        lead, fade = handover_s(phase.crossfade_s, cur.length_s, next_len, cur.own_fade_s)
        self.due.append(cur.natural_end - lead)
        if s >= cur.natural_end - lead:
            duration = cur.fade_left_s(s) if fade else 0.0
            if fade and cur.own_fade_s >= duration:
                cur.end_window()  # it fades out by itself over the crossfade: not faded again
            elif fade:
                cur.fade_out(s, duration)
            else:  # a cut lets the outgoing track play to its end (its window's end)
                cur.end_window()
            self._log("track_end", path=str(cur.path), reason="crossfade" if fade else "cut")
            self.start(s, self.timeline.next_slot(index), duration, due_s=cur.natural_end - lead)
        return None

    def _playable_upcoming(self, index: int, now: Situation, phase: Phase):
        """The next slot worth playing: tracks whose window holds nothing (a start trim past
        their audible end) are passed over, as the planner passes over them."""
        for _ in range(len(phase.tracks) + 1):
            upcoming = self.timeline.peek(index)
            if upcoming is None and now.waiting and phase.tracks:
                upcoming = self.timeline.recycle(index)  # held past its tracks: they play again
            if upcoming is None or self.length_s(upcoming.track) != 0:
                return upcoming
            self.timeline.next_slot(index)
        return None

    def _phase_played_out(self, s: float, cur: Voice, now: Situation) -> NextPhase | End | None:
        """The phase's last track plays out: into the next phase with this phase's crossfade, as
        the planner lays it out (or, in the last phase, the session ends with it)."""
        if now.last:
            return End() if s >= cur.natural_end and now.finishing else None
        lead, fade = handover_s(now.phase.crossfade_s, cur.length_s, cur.length_s,
                                cur.own_fade_s)
        self.due.append(cur.natural_end - lead)
        if s >= cur.natural_end - lead:
            return NextPhase(cur.fade_left_s(s) if fade else 0.0, due_s=cur.natural_end - lead)
        return None

    # -- checkpoints -------------------------------------------------------------------------

    def checkpoint(self, s: float) -> dict | None:
        """The track to resume: where it was last heard (a paused deck stood still since)."""
        cur = self.current()
        if cur is not None and not cur.failed:
            heard_s = s if self.decks_paused_at is None else self.decks_paused_at
            return {"path": str(cur.path), "position_s": round(cur.position_s(heard_s), 3),
                    "phase_index": cur.phase_index, "repeat": cur.repeat,
                    "queued": cur.queued}
        if self.pending is not None:
            slot, position_s = self.pending
            return {"path": str(slot.track.path), "position_s": position_s,
                    "phase_index": self.timeline.index, "repeat": slot.repeat,
                    "queued": slot.queued}
        return None

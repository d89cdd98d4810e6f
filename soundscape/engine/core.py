"""The session core: every playback rule, driven by explicit session times and owned by one thread.

Nothing here sleeps, starts threads or reads a clock: ``tick(s)`` and ``handle(command, s)`` get the
session time ``s`` (seconds since ``start``) and return. The engine thread (engine.py) calls them
with real time; tests call them with a fake clock, so a 90-minute session runs in well under a second.

Timeline rules (docs/engine.md): phase ends are anchored to the session clock. ``extend``, ``hold``
and ``next_phase`` move the current end and every later one; ``at_end: finish`` and ``when_short:
silence`` move only the boundary with the next phase. Pause does not stop the session clock (the
medicine does not pause). The room level moves only along slew-limited ramps.
"""

from __future__ import annotations

from pathlib import Path

from soundscape.engine import deck as dk
from soundscape.engine.controls import Controls
from soundscape.engine.fades import (
    SILENT_DB,
    Envelope,
    Ramp,
    db_to_level,
    gain_db_to_gain,
    level_to_db,
    ramp_to,
    steady,
)
from soundscape.engine.restore import Checkpointing
from soundscape.engine.settings import RoomSettings
from soundscape.engine.state import ENDED, PAUSED, PLAYING, READY
from soundscape.engine.timeline import Timeline
from soundscape.engine.voices import STALL_S, Voice
from soundscape.playlist.model import Playlist
from soundscape.sequence import (
    END_MARGIN_S,
    handover_floor_s,
    handover_s,
    play_length_s,
)

TICK_S = 0.02  # 50 Hz while anything fades (LIBVLC.md: within 0.0063 of full scale on pulse)
EARLY_END_S = 2.0  # a track that ends this much before its length has failed (corrupt file)
FAILED_RETRY_S = 30.0  # after every track of a phase failed in a row, try again this much later
MAX_LATE_S = 0.04  # a start this late is placed at its scheduled time (see _start_track)
AMBIENCE_CHANGE_S = 4.0  # beds change (and the session's end fades with a bed) over this


class _BrokenDeck:
    """What _safe_deck gives when the output cannot make a deck: it reports FAILED and does nothing."""

    def __init__(self, name: str, reason: str):
        self.name, self.reason = name, reason

    def load(self, path, start_s=0.0, gain=0.0):
        raise RuntimeError(f"no deck: {self.reason}")

    def status(self):
        return dk.FAILED

    def position_s(self):
        return None

    def duration_s(self):
        return None

    def play(self):
        pass

    def pause(self):
        pass

    def stop(self):
        pass

    def set_gain(self, gain):
        pass

    def release(self):
        pass


class SessionCore(Controls, Checkpointing):
    """Every playback rule of one session; see the module docstring and docs/engine.md."""

    def __init__(self, playlist: Playlist, output, durations: dict, *, seed: int,
                 settings: RoomSettings, log, gains_db: dict | None = None):
        self.playlist = playlist
        self.output = output
        self.durations = {Path(k): v for k, v in durations.items()}
        self.gains_db = {Path(k): v for k, v in (gains_db or {}).items()}  # loudness normalisation
        self.seed = seed
        self.settings = settings
        self.log = log  # callable(event, **fields), stamped by the engine
        self.status = READY
        self.timeline = Timeline(playlist, seed)
        self.music: list[Voice] = []
        self.beds: list[Voice] = []
        self.master = steady(SILENT_DB)  # the room's music level (dB), slew-limited
        self.bed_master = steady(SILENT_DB)  # the ambience bed's overall level
        self.bed_level = steady(SILENT_DB)  # the current bed's own level
        self.level_override: float | None = None
        self.hushed = False
        self.held = False
        self.finishing = False  # at_end: finish, waiting for the track to play out
        self.locked = False  # the master is in a fade (pause, phase fade-out, ending)
        self.ending = ""  # "", "fade_out", "stop", "end"
        self.end_at: float | None = None
        self.paused_at: float | None = None
        self.pause_decks_at: float | None = None
        self.decks_paused_at: float | None = None
        self.phase_faded: set[int] = set()
        self.failed_beds: set[Path] = set()
        self.warnings: list[str] = []
        medicine = playlist.medicine
        names = [p.name for p in playlist.phases]
        self.dose_index = names.index(medicine.dose_phase) if medicine else None
        self.booster_index = (names.index(medicine.booster_phase)
                              if medicine and medicine.booster_phase in names else None)
        self.dosed_at: float | None = None
        self.failures_in_row = 0  # tracks that failed one after another
        self.retry_at = 0.0  # after every track of a phase failed, when to try again
        self.pending_track: tuple | None = None  # (slot, position_s) to start on resume
        self.boosters: list[float] = []
        self._deck_count = 0
        self._due: list[float] = []
        self.notify = None  # set by the engine: where decks report events

    # ----------------------------------------------------------------- helpers

    @property
    def phase(self):
        return self.playlist.phases[self.timeline.index]

    @property
    def awaiting_dose(self) -> bool:
        """The dose phase is on and the dose has not been marked: the phase waits for it."""
        return (self.dose_index is not None and self.dosed_at is None
                and self.timeline.index == self.dose_index)

    @property
    def waiting(self) -> bool:
        """The phase must not end now (held by a facilitator, or waiting for the dose)."""
        return self.held or self.awaiting_dose

    def warn(self, s: float | None, message: str) -> None:
        self.warnings = (self.warnings + [message])[-10:]
        self.log("warning", message=message)

    def music_target_db(self) -> float:
        base = self.phase.level_pct if self.level_override is None else self.level_override
        if self.hushed:
            base = min(base, self.settings.hush_pct)
        return level_to_db(min(base, self.settings.ceiling_pct))

    def _retarget(self, s: float, min_s: float = 0.0, fall_s: float | None = None) -> None:
        if self.locked or self.status != PLAYING:
            return
        self.master = ramp_to(self.master, s, self.music_target_db(), min_s=min_s,
                              rise_db_per_s=self.settings.rise_db_per_s,
                              fall_db_per_s=self.settings.fall_db_per_s, max_fall_s=fall_s)

    def _new_deck(self, kind: str):
        self._deck_count += 1
        return self.output.make_deck(f"{kind}-{self._deck_count}", self.notify)

    def _safe_deck(self, kind: str):
        """A new deck, or a stand-in that fails at once (counted as a failed track) if none can be made."""
        try:
            return self._new_deck(kind)
        except Exception as exc:  # noqa: BLE001 - an output that cannot make a deck fails the track
            return _BrokenDeck(f"{kind}-{self._deck_count}", str(exc))

    def current(self) -> Voice | None:
        """The music voice that is not on its way out."""
        live = [v for v in self.music if not v.released and not v.env.leaving]
        return live[-1] if live else None

    def _track_length(self, track) -> float | None:
        return play_length_s(track, self.durations.get(track.path))

    # ----------------------------------------------------------------- starting voices

    def _start_track(self, s: float, slot, fade_in_s: float, position_s: float | None = None,
                     due_s: float | None = None) -> Voice:
        """Start a slot now; ``position_s`` (a resume) starts it part-way through the file.

        ``due_s`` is when the start was scheduled: the voice is placed on the timeline there, not
        where the thread happened to wake a few milliseconds later, so lateness never adds up from
        track to track (the fades and the 50 ms lead of a cut absorb it).
        """
        track = slot.track
        index = self.timeline.index
        into_s = 0.0 if position_s is None else max(0.0, position_s - track.start_s)
        t_zero = s - into_s
        if due_s is not None and 0.0 <= s - due_s <= MAX_LATE_S:
            t_zero = due_s
        voice = Voice(self._safe_deck("music"), "music", track.path, track.title, index, t_zero,
                      self._track_length(track), Envelope(s, s + fade_in_s) if fade_in_s > 0
                      else Envelope(), gain_db_to_gain(track.gain_db + self.gains_db.get(track.path, 0.0)),
                      track.start_s,
                      self.timeline.taken(index) - 1, slot.repeat)
        voice.started_s, voice.start_position_s = s, track.start_s + into_s
        self.music.append(voice)
        try:
            voice.deck.load(track.path, track.start_s + into_s, self._voice_gain(voice, s))
            voice.deck.play()
        except Exception as exc:  # noqa: BLE001 - a deck that cannot load is a failed track
            voice.failed = True
            self.warn(s, f"{track.path.name} could not be played ({exc}); skipped")
        planned = self.timeline.planned_track_start(index, voice.number)
        self.log("track_start", phase=self.phase.name, path=str(track.path), title=track.title,
                 planned_s=planned, actual_s=round(s, 3), repeat=slot.repeat)
        return voice

    def _start_bed(self, s: float, bed, fade_in_s: float) -> None:
        length = self.durations.get(bed.path)
        voice = Voice(self._safe_deck("ambience"), "ambience", bed.path, bed.path.stem,
                      self.timeline.index, s, length, Envelope(s, s + fade_in_s))
        self.beds.append(voice)
        try:
            voice.deck.load(bed.path, 0.0, 0.0)
            voice.deck.play()
        except Exception as exc:  # noqa: BLE001
            voice.failed = True
            self.warn(s, f"ambience {bed.path.name} could not be played ({exc})")

    def _fade_out_voices(self, voices, s: float, duration_s: float) -> None:
        for voice in voices:
            if not voice.released:
                voice.env = voice.env.with_fade_out(s, max(duration_s, TICK_S))

    # ----------------------------------------------------------------- phases and ending

    def _enter_phase(self, index: int, s: float, crossfade_s: float, due_s: float | None = None) -> None:
        previous = self.timeline.index
        if self.timeline.started:
            self.log("phase_end", phase=self.playlist.phases[previous].name, actual_s=round(s, 3),
                     planned_s=self.timeline.planned_end(previous))
        self.timeline.enter(index, s)
        self.held = self.finishing = False
        self.level_override = None
        phase = self.phase
        audible = any(not v.released for v in self.music) and self.master.db(s) > SILENT_DB
        for voice in self.music:  # each fade ends before its file does (END_MARGIN_S)
            left = crossfade_s if voice.natural_end is None else self._fade_left(voice, s)
            self._fade_out_voices([voice], s, min(crossfade_s, left))
        for voice in self.music:
            if voice.phase_index != index and not voice.released:
                self.log("track_end", path=str(voice.path), reason="phase ended")
        if self.locked and not self.ending:  # a phase fade-out reached silence
            self.locked = False
        fade_in_s = 0.0
        if not audible:  # from silence: the room level rises (at most at the rise limit)
            self.master = ramp_to(steady(SILENT_DB, s), s, self.music_target_db(), min_s=phase.fade_in_s,
                                  rise_db_per_s=self.settings.rise_db_per_s,
                                  fall_db_per_s=self.settings.fall_db_per_s)
        else:  # the outgoing music keeps the level; a fade-in shapes only the incoming track
            self._retarget(s, min_s=crossfade_s)
            fade_in_s = max(crossfade_s, phase.fade_in_s)
        self.log("phase_start", phase=phase.name, index=index, actual_s=round(s, 3),
                 planned_s=self.timeline.planned_start(index))
        if phase.tracks and self.timeline.peek(index) is not None:
            self._start_track(s, self.timeline.next_slot(index), fade_in_s, due_s=due_s)

    def _enter_phase_paused(self, s: float, index: int | None = None) -> None:
        """A phase boundary passed while paused: the timeline moves on, the music waits."""
        if self.pause_decks_at is not None:  # the pause's fade is still going: let it finish
            self._fade_out_voices(self.music, s, max(self.pause_decks_at - s, TICK_S))
        else:
            for voice in self.music:
                voice.release()
            self.music = [v for v in self.music if not v.released]
        self.pending_track = None  # a resumed session's track belonged to the phase that ended
        self.log("phase_end", phase=self.phase.name, actual_s=round(s, 3),
                 planned_s=self.timeline.planned_end(self.timeline.index))
        self.timeline.enter(self.timeline.index + 1 if index is None else index, s)
        self.held = self.finishing = False
        self.level_override = None
        self.log("phase_start", phase=self.phase.name, index=self.timeline.index,
                 actual_s=round(s, 3), planned_s=self.timeline.planned_start(self.timeline.index))

    def _begin_end(self, s: float, duration_s: float, how: str) -> None:
        self.ending = how
        self.locked = True
        self.end_at = s + duration_s + self.output.latency_s
        self.master = Ramp(s, s + duration_s, self.master.db(s), SILENT_DB)
        self.bed_master = Ramp(s, s + duration_s, self.bed_master.db(s), SILENT_DB)

    def _finish(self, s: float, reason: str) -> None:
        for voice in self.music + self.beds:
            voice.release()
        self.music, self.beds = [], []
        if self.timeline.started:
            self.log("phase_end", phase=self.phase.name, actual_s=round(s, 3),
                     planned_s=self.timeline.planned_end(self.timeline.index))
        self.status = ENDED
        self.ending = ""
        self.log("session_end", reason=reason, actual_s=round(s, 3))

    # ----------------------------------------------------------------- the tick

    def tick(self, s: float) -> None:
        self._due = []
        if self.status == ENDED:
            return
        if self.status == READY:
            return
        if self.ending == "fade_out" and self.status == PLAYING:
            self._music_rules(s)  # a long fade-out goes on over the next tracks
        if self.ending:
            if s >= (self.end_at or s):
                self._finish(s, {"fade_out": "faded out", "stop": "stopped", "end": "completed"}[self.ending])
                return
        elif self.status == PLAYING:
            self._phase_rules(s)
            if self.status == ENDED or self.ending:
                self._apply_gains(s)
                return
            self._music_rules(s)
        elif self.status == PAUSED:
            self._paused_rules(s)
            if self.status == ENDED:
                return
        self._bed_rules(s)
        self._apply_gains(s)
        self._reap(s)

    def _paused_rules(self, s: float) -> None:
        if self.pause_decks_at is not None and s >= self.pause_decks_at:
            for voice in self.music:
                if not voice.released:
                    voice.deck.pause()
            self.pause_decks_at = None
            self.decks_paused_at = s
        if not self.waiting and s >= self.timeline.end_s():
            if self.timeline.index >= len(self.playlist.phases) - 1:
                self._begin_end(s, AMBIENCE_CHANGE_S, "end")
            else:
                self._enter_phase_paused(s)

    def _phase_rules(self, s: float) -> None:
        phase, index = self.phase, self.timeline.index
        end_s = self.timeline.end_s()
        last = index >= len(self.playlist.phases) - 1
        if self.waiting:
            return
        finish = phase.at_end == "finish"
        if (phase.fade_out_s > 0 and not finish and index not in self.phase_faded
                and s >= end_s - phase.fade_out_s):
            self.phase_faded.add(index)
            self.locked = True
            self.master = Ramp(s, max(end_s, s + TICK_S), self.master.db(s), SILENT_DB)
        if s < end_s:
            return
        cur = self.current()
        if finish and cur is not None and not cur.failed:
            if not self.finishing and phase.fade_out_s > 0 and cur.natural_end is not None:
                # with `finish` the phase ends when its track does: the fade-out ends there too
                fade_end = max(cur.natural_end - END_MARGIN_S, s + TICK_S)
                self.phase_faded.add(index)
                self.locked = True
                self.master = Ramp(max(s, fade_end - phase.fade_out_s), fade_end,
                                   self.master.db(s), SILENT_DB)
            self.finishing = True  # _music_rules moves on when the track plays out
            return
        if last:
            # never a cut at the very end: at least the stop fade, but within the file
            tail = 0.0 if self.master.db(s) <= SILENT_DB else max(phase.crossfade_s,
                                                                  self.settings.stop_fade_s)
            if cur is not None and cur.natural_end is not None:
                tail = min(tail, self._fade_left(cur, s))  # the fade ends before the file does
            self._begin_end(s, max(tail, AMBIENCE_CHANGE_S if self.beds else tail), "end")
        else:
            self._enter_phase(index + 1, s, phase.crossfade_s, due_s=end_s)

    def _music_rules(self, s: float) -> None:
        phase, index = self.phase, self.timeline.index
        last = index >= len(self.playlist.phases) - 1
        cur = self.current()
        if cur is not None and not cur.failed:
            status = cur.deck.status()
            if cur.length_s is None:
                cur.length_s = self._deck_length(cur)
            # Ended long before its length, or (length unknown: mutagen could not read the file)
            # within seconds of starting: a corrupt file, not music.
            early = status == dk.ENDED and (
                s < cur.natural_end - EARLY_END_S if cur.natural_end is not None
                else s - cur.t_zero < EARLY_END_S)
            stalled = status == dk.PLAYING and cur.stalled(s, cur.deck.position_s())
            if s < cur.started_s + STALL_S:
                self._due.append(cur.started_s + STALL_S)  # look again when a stall would show
            if cur.failed_in_row_reset(s):
                self.failures_in_row = 0
            if status == dk.FAILED or early or stalled:
                cur.failed = True
                self.failures_in_row += 1
                what = ("could not be played" if status == dk.FAILED else
                        "makes no progress (not audio?)" if stalled else
                        "ended far too early (corrupt?)")
                self.warn(s, f"{cur.path.name} {what}; skipped")
                self.log("track_end", path=str(cur.path), reason="failed")
                cur.release()
            elif status == dk.ENDED and cur.length_s is None:
                cur.length_s = s - cur.t_zero  # unknown length: it ends when the deck says so
        if cur is not None and cur.failed:
            cur.release()
            cur = None
        upcoming = self.timeline.peek(index)
        if upcoming is None and self.waiting and phase.tracks:
            upcoming = self.timeline.recycle(index)  # held past its tracks: they play again
        distinct = len({t.path for t in phase.tracks})
        if cur is None and distinct and self.failures_in_row >= distinct:
            # every track of the phase failed in a row: try again later, not on every tick
            self.failures_in_row = 0
            self.retry_at = s + FAILED_RETRY_S
            self.warn(s, f"no track of phase '{phase.name}' could be played; "
                         f"trying again in {FAILED_RETRY_S:.0f} s")
        if cur is None and s < self.retry_at:
            self._due.append(self.retry_at)
            return
        if cur is None:
            if upcoming is not None and not self.finishing:
                self._start_track(s, self.timeline.next_slot(index), self.settings.fault_fade_in_s)
            elif phase.tracks and not self.waiting and not last:
                self._enter_phase(index + 1, s, 0.0)  # nothing left to play: the next phase begins
            elif self.finishing and last:
                self._begin_end(s, AMBIENCE_CHANGE_S if self.beds else 0.0, "end")
            return
        if cur.natural_end is None:
            return
        if self.finishing or (upcoming is None and not self.waiting and phase.when_short == "silence"):
            if last:
                if s >= cur.natural_end and self.finishing:
                    self._begin_end(s, AMBIENCE_CHANGE_S if self.beds else 0.0, "end")
                return
            # Into the next phase with this phase's crossfade, as the planner lays it out.
            lead, fade = handover_s(phase.crossfade_s, cur.length_s, cur.length_s)
            self._due.append(cur.natural_end - lead)
            if s >= cur.natural_end - lead:
                self._enter_phase(index + 1, s, self._fade_left(cur, s) if fade else 0.0,
                                  due_s=cur.natural_end - lead)
            return
        if upcoming is None:
            return
        if cur.natural_end - END_MARGIN_S >= self.timeline.end_s() + handover_floor_s(phase.crossfade_s) \
                and not self.waiting:
            return  # the current track outlasts the phase: the phase's end hands over, not a sliver
        next_len = self._track_length(upcoming.track) or cur.length_s
        lead, fade = handover_s(phase.crossfade_s, cur.length_s, next_len)
        self._due.append(cur.natural_end - lead)
        if s >= cur.natural_end - lead:
            duration = self._fade_left(cur, s) if fade else 0.0
            if fade:  # a cut (no crossfade) lets the outgoing track play to its end
                self._fade_out_voices([cur], s, duration)
            self.log("track_end", path=str(cur.path), reason="crossfade" if fade else "cut")
            self._start_track(s, self.timeline.next_slot(index), duration,
                              due_s=cur.natural_end - lead)

    @staticmethod
    def _fade_left(voice: Voice, s: float) -> float:
        """A fade-out from now that ends where libVLC still hears volume changes."""
        return max(voice.natural_end - END_MARGIN_S - s, TICK_S)

    def _deck_length(self, voice: Voice) -> float | None:
        file_s = voice.deck.duration_s()
        if file_s is None or file_s <= 0:
            return None
        return max(0.0, file_s - voice.trim_start_s)

    def _bed_rules(self, s: float) -> None:
        want = self.phase.ambience if self.timeline.started else None
        if want is not None and want.path in self.failed_beds:
            want = None
        live = [v for v in self.beds if not v.released and not v.env.leaving]
        cur = live[-1] if live else None
        for voice in live:
            if voice.deck.status() == dk.FAILED or voice.failed:
                self.failed_beds.add(voice.path)
                self.warn(s, f"ambience {voice.path.name} could not be played")
                voice.release()
                return
        if want is None:
            self._fade_out_voices(live, s, AMBIENCE_CHANGE_S)
            return
        target_db = level_to_db(min(want.level_pct, self.settings.ceiling_pct))
        if cur is None or cur.path != want.path:
            self._fade_out_voices(live, s, AMBIENCE_CHANGE_S)
            fade = AMBIENCE_CHANGE_S if cur is not None else 0.0
            if cur is None:
                # a bed where there was none rises at the rise limit (at the session's start the
                # bed master already does, so the bed's own level starts where it belongs)
                start_db = target_db if self.bed_master.moving(s) else SILENT_DB
                self.bed_level = ramp_to(steady(start_db, s), s, target_db,
                                         rise_db_per_s=self.settings.rise_db_per_s,
                                         fall_db_per_s=self.settings.fall_db_per_s)
            self._start_bed(s, want, fade)
        elif abs(self.bed_level.to_db - target_db) > 1e-9:
            self.bed_level = ramp_to(self.bed_level, s, target_db, min_s=AMBIENCE_CHANGE_S,
                                     rise_db_per_s=self.settings.rise_db_per_s,
                                     fall_db_per_s=self.settings.fall_db_per_s)
        cur = self.beds[-1]
        if cur.length_s is None:
            cur.length_s = self._deck_length(cur)
        if cur.length_s:
            overlap = min(self.settings.ambience_loop_overlap_s, cur.length_s / 4) + END_MARGIN_S
            self._due.append(cur.natural_end - overlap)
            if s >= cur.natural_end - overlap:
                duration = self._fade_left(cur, s)
                self._fade_out_voices([cur], s, duration)
                self._start_bed(s, want, duration)

    def _voice_gain(self, voice: Voice, s: float) -> float:
        """Each deck's gain; no deck, whatever its track gain, above the room's ceiling."""
        ceiling = (self.settings.ceiling_pct / 100.0) ** 3
        if voice.kind == "ambience":
            return min(ceiling, self.bed_master.gain(s) * self.bed_level.gain(s) * voice.env.gain(s))
        return min(ceiling, self.master.gain(s) * voice.env.gain(s) * voice.gain)

    def _apply_gains(self, s: float) -> None:
        """Send each deck its gain: while anything moves, the value for the middle of the tick.

        A gain holds until the next tick, TICK_S later; the mid-point halves the staircase's error
        against the curve, and a command's first step is heard at once rather than a tick later.
        """
        moving = self.next_wake_s(s) <= TICK_S
        t = s + TICK_S / 2 if moving else s
        for voice in self.music + self.beds:
            if not voice.released and not voice.failed:
                voice.deck.set_gain(self._voice_gain(voice, t))

    def _reap(self, s: float) -> None:
        for voice in self.music + self.beds:
            stands_still = voice.kind == "music" and self.status == PAUSED  # its end moves on resume
            if voice.env.done(s) or (voice.natural_end is not None and s > voice.natural_end + 1.0
                                     and not stands_still):
                voice.release()
        self.music = [v for v in self.music if not v.released]
        self.beds = [v for v in self.beds if not v.released]

    # ----------------------------------------------------------------- timing

    def next_wake_s(self, s: float) -> float:
        """How long the engine may sleep before something is due (commands wake it earlier)."""
        if self.status in (READY, ENDED):
            return 1.0
        if self.master.moving(s) or self.bed_master.moving(s) or self.bed_level.moving(s) or any(
                v.env.moving(s) for v in self.music + self.beds):
            return TICK_S
        due = [self.timeline.end_s() - self.phase.fade_out_s, self.timeline.end_s(), self.end_at,
               self.pause_decks_at, *self._due]
        for voice in self.music + self.beds:
            if voice.natural_end is not None:
                due.append(voice.natural_end)
        waits = [t - s for t in due if t is not None and t > s]
        return max(0.001, min([1.0] + waits))

    def level_now(self, s: float) -> float:
        return round(db_to_level(self.master.db(s)), 1)

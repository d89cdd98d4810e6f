"""Facilitator controls: when each makes sense (the refusal reasons) and what each does.

A mixin of SessionCore (core.py): the methods run on the engine thread with the session time ``s``.
"""

from __future__ import annotations

from soundscape.engine.commands import Action, Command, CommandResult
from soundscape.engine.fades import SILENT_DB, Ramp, ramp_to, steady
from soundscape.engine.state import ENDED, PAUSED, PLAYING, READY
from soundscape.plan import format_clock


class Controls:

    def handle(self, cmd: Command, s: float) -> CommandResult:
        refusal = self._refusal(cmd)
        if refusal:
            return CommandResult(False, refusal)
        getattr(self, f"_do_{cmd.action.value}")(cmd, s)
        return CommandResult(True)

    def _refusal(self, cmd: Command) -> str:
        a, st = cmd.action, self.status
        if st == ENDED:
            return "the session has ended"
        if a is Action.START:
            return "" if st == READY else "the session has already started"
        if st == READY:
            return "" if a is Action.STOP else "the session has not started yet"
        if self.ending and a is not Action.STOP:
            return "the session is ending"
        if a is Action.STOP and self.ending == "stop":
            return "the room is already being quieted"
        if a is Action.PAUSE and st != PLAYING:
            return "the music is already paused"
        if a is Action.RESUME and st != PAUSED:
            return "the music is not paused"
        if a is Action.SKIP:
            if st != PLAYING:
                return "resume the music before skipping"
            if not self.phase.tracks:
                return f"phase '{self.phase.name}' has no tracks, only ambience"
            if self.finishing:
                return (f"phase '{self.phase.name}' is over and its last track is playing out; "
                        "use next phase")
            if self.timeline.peek(self.timeline.index) is None:
                return f"no more tracks in phase '{self.phase.name}'"
        if a is Action.NEXT_PHASE and self.timeline.index >= len(self.playlist.phases) - 1:
            return "this is the last phase; use fade out to end the session"
        if a is Action.HOLD and self.held:
            return f"phase '{self.phase.name}' is already held"
        if a is Action.RELEASE and not self.held:
            return f"phase '{self.phase.name}' is not held"
        if a in (Action.DOSE, Action.BOOSTER) and self.playlist.medicine is None:
            return "this playlist has no medicine block"
        if a is Action.DOSE and self.dosed_at is not None:
            return f"the dose was already marked at {format_clock(self.dosed_at)}"
        if a is Action.BOOSTER:
            if self.dosed_at is None:
                return "mark the dose first"
            if self.booster_index is None:
                return "this playlist names no booster phase"
            if self.timeline.index > self.booster_index:
                name = self.playlist.phases[self.booster_index].name
                return f"the booster phase '{name}' is over"
        if a is Action.HUSH and self.hushed:
            return "the music is already hushed"
        if a is Action.UNHUSH and not self.hushed:
            return "the music is not hushed"
        return ""

    def _do_start(self, cmd, s):
        self.status = PLAYING
        self.bed_master = ramp_to(steady(SILENT_DB, s), s, 0.0, rise_db_per_s=self.settings.rise_db_per_s,
                                  fall_db_per_s=self.settings.fall_db_per_s)
        self._enter_phase(0, s, crossfade_s=0.0)

    def _do_pause(self, cmd, s):
        self.status = PAUSED
        self.paused_at = s
        self.locked = True
        self.master = Ramp(s, s + self.settings.pause_fade_s, self.master.db(s), SILENT_DB)
        self.pause_decks_at = s + self.settings.pause_fade_s + self.output.latency_s

    def _do_resume(self, cmd, s):
        # The decks stood still only from when they were paused (after the fade), not from the tap.
        dt = 0.0 if self.decks_paused_at is None else s - self.decks_paused_at
        self.decks_paused_at = None
        self.status = PLAYING
        self.locked = False
        self.paused_at = self.pause_decks_at = None
        if self.pending_track is not None:
            slot, position_s = self.pending_track
            self.pending_track = None
            self._start_track(s, slot, 0.0, position_s)
        for voice in self.music:
            if not voice.released:
                voice.shift(dt)
                voice.deck.play()
        self.master = steady(min(self.master.db(s), self.master.to_db), s)
        if self.timeline.index in self.phase_faded:
            # the phase's fade-out had begun: the music stays faded until the next phase
            self.locked = True
            return
        self._retarget(s)

    def _do_skip(self, cmd, s):
        cur = self.current()
        slot = self.timeline.next_slot(self.timeline.index)
        xf = min(self.phase.crossfade_s, self.settings.skip_crossfade_s)
        if cur is not None:
            self._fade_out_voices([cur], s, xf)
            self.log("track_end", path=str(cur.path), reason="skipped")
        self._start_track(s, slot, xf if cur is not None else self.settings.fault_fade_in_s)

    def _do_next_phase(self, cmd, s):
        self.timeline.end_now(s)
        self.held = False
        if self.status == PLAYING:
            self.finishing = False
            self._enter_phase(self.timeline.index + 1, s, self.phase.crossfade_s)
        else:
            self._enter_phase_paused(s)

    def _do_extend(self, cmd, s):
        self.timeline.extend(cmd.params.get("minutes", self.settings.extend_default_min) * 60.0)
        if s < self.timeline.end_s():
            self.finishing = False  # the phase goes on: its tracks keep coming
        self._unlock_phase_fade(s)

    def _do_hold(self, cmd, s):
        self.held = True
        self.finishing = False
        self._unlock_phase_fade(s)

    def _do_release(self, cmd, s):
        self.held = False
        if s > self.timeline.end_s():
            self.timeline.end_now(s)  # the hold's overrun shifts the later phases

    def _do_set_level(self, cmd, s):
        self.level_override = min(cmd.params["level"], self.settings.ceiling_pct)
        self._retarget(s)

    def _do_hush(self, cmd, s):
        self.hushed = True
        self._retarget(s, fall_s=self.settings.hush_fall_s)

    def _do_unhush(self, cmd, s):
        self.hushed = False
        self._retarget(s)

    def _do_fade_out(self, cmd, s):
        self._begin_end(s, cmd.params.get("seconds", self.settings.fade_out_default_s), "fade_out")

    def _do_stop(self, cmd, s):
        if self.status == READY:
            self._finish(s, "stopped before start")
            return
        self._begin_end(s, self.settings.stop_fade_s, "stop")

    def _do_dose(self, cmd, s):
        """The dose phase (and anything before it) ends now; later phases are timed from now."""
        self.dosed_at = s
        self.log("dose", route=self.playlist.medicine.route, actual_s=round(s, 3), by=cmd.by)
        index = self.timeline.index
        if index > self.dose_index or self.dose_index >= len(self.playlist.phases) - 1:
            return  # marked late, or the dose phase is the last: a mark for the record only
        target = self.dose_index + 1
        self.timeline.end_through(self.dose_index, s)
        self.held = False
        if self.status == PLAYING:
            self.finishing = False
            self._enter_phase(target, s, self.phase.crossfade_s)
        else:
            self._enter_phase_paused(s, target)

    def _do_booster(self, cmd, s):
        medicine = self.playlist.medicine
        self.boosters.append(s)
        start = max(self.booster_index, self.timeline.index)
        for j in range(start, len(self.timeline.ends)):
            self.timeline.ends[j] += medicine.booster_extend_s
        self.log("booster", phase=self.playlist.phases[self.booster_index].name,
                 extend_s=medicine.booster_extend_s, actual_s=round(s, 3), by=cmd.by)
        self._unlock_phase_fade(s)

    def _unlock_phase_fade(self, s: float) -> None:
        """Undo a phase fade-out that extend/hold made premature."""
        if self.timeline.index in self.phase_faded and self.status == PLAYING and not self.ending:
            self.phase_faded.discard(self.timeline.index)
            self.locked = False
            self._retarget(s)

"""The session core: every playback rule, driven by explicit session times and owned by one thread.

Nothing here sleeps, starts threads or reads a clock: ``tick(s)`` and ``handle(command, s)`` get the
session time ``s`` (seconds since ``start``) and return. The engine thread (engine.py) calls them
with real time; tests call them with a fake clock, so a 90-minute session runs in well under a second.

The core is the session's life (ready, playing, paused, ended) and its arc through the phases; its
parts do the rest: ``Levels`` (every level and gain), ``Music`` (tracks within a phase), ``Beds``
(ambience), the ``Timeline`` (phase ends and track order). Controls (controls.py) decide what a
facilitator's command may do and call the operations below.

Timeline rules (docs/engine.md): phase ends are anchored to the session clock. ``extend``, ``hold``
and ``next_phase`` move the current end and every later one; ``at_end: finish`` and ``when_short:
silence`` move only the boundary with the next phase. Pause does not stop the session clock (the
medicine does not pause). The room level moves only along slew-limited ramps.
"""

from __future__ import annotations

from typing import Callable

from soundscape.engine import controls, snapshot
from soundscape.engine.beds import AMBIENCE_CHANGE_S, Beds
from soundscape.engine.commands import Command, CommandResult
from soundscape.engine.cuebook import CueBook
from soundscape.engine.deck import BrokenDeck, Deck, Notify, Output
from soundscape.engine.fades import TICK_S, follow_tick_s
from soundscape.engine.levels import Levels
from soundscape.engine.music import End, Music, NextPhase, Situation
from soundscape.engine.settings import RoomSettings
from soundscape.engine.state import State, Status
from soundscape.engine.timeline import Timeline
from soundscape.engine.voices import reap
from soundscape.playlist.model import Playlist
from soundscape.schedule.handover import END_MARGIN_S
from soundscape.schedule.plan import Plan

MAX_WARNINGS = 10  # the state carries the last ones
# a moving gain is looked at every TICK_S / FOLLOW_SAMPLES ahead to choose the tick (fades.py)
FOLLOW_SAMPLES = 4


class SessionCore:
    """Every playback rule of one session; see the module docstring and docs/engine.md."""

    def __init__(self, playlist: Playlist, output: Output, durations: dict, *, seed: int,
                 settings: RoomSettings, log: Callable[..., None], notify: Notify,
                 gains_db: dict | None = None, plan: Plan | None = None,
                 cues: dict | None = None, undecodable: dict | None = None):
        self.playlist = playlist
        self.output = output
        self.settings = settings
        self._log = log  # callable(event, **fields), stamped by the engine
        self._notify = notify  # where decks report events (the engine's queue)
        self.status = Status.READY
        self.ending = ""  # "", "fade_out", "stop", "end"
        self.end_at: float | None = None
        self.held = False
        self.finishing = False  # at_end: finish, waiting for the track to play out
        self.phase_faded: set[int] = set()  # phases whose fade-out has begun
        self.warnings: list[str] = []
        self.warnings_at_s: list[float | None] = []  # each warning's session time, same order
        self.last_s: float | None = None  # the session time of the latest tick or command
        self.ended_at: float | None = None
        medicine = playlist.medicine
        names = [p.name for p in playlist.phases]
        self.dose_index = names.index(medicine.dose_phase) if medicine else None
        self.booster_index = (names.index(medicine.booster_phase)
                              if medicine and medicine.booster_phase in names else None)
        self.dosed_at: float | None = None
        self.boosters: list[float] = []
        self._deck_count = 0
        # The engine's own dicts (keys are Paths): what analysis learns later shows here at once.
        self.timeline = Timeline(playlist, seed, plan)
        self.levels = Levels(settings)
        self.music = Music(self.timeline, self.levels, self._new_deck, durations,
                           {} if gains_db is None else gains_db, self.warn, self.log,
                           {} if cues is None else cues,
                           {} if undecodable is None else undecodable)
        self.beds = Beds(self.levels, self._new_deck, durations, self.warn,
                         settings.ambience_loop_overlap_s)
        self.cuebook = CueBook(playlist.cues)
        self.notes: list[dict] = []  # the last few facilitators' notes, for every phone

    # ----------------------------------------------------------------- what the session is at

    @property
    def phase(self):
        return self.playlist.phases[self.timeline.index]

    @property
    def last_phase(self) -> bool:
        return self.timeline.index >= len(self.playlist.phases) - 1

    @property
    def awaiting_dose(self) -> bool:
        """The dose phase is on and the dose has not been marked: the phase waits for it."""
        return (self.dose_index is not None and self.dosed_at is None
                and self.timeline.index == self.dose_index)

    @property
    def waiting(self) -> bool:
        """The phase must not end now (held by a facilitator, or waiting for the dose)."""
        return self.held or self.awaiting_dose

    def log(self, event: str, **fields) -> None:
        self._log(event, **fields)

    def warn(self, message: str) -> None:
        """A warning for every phone, stamped with the session time it happened at."""
        at_s = None if self.status is Status.READY or self.last_s is None else round(self.last_s, 1)
        self.warnings = (self.warnings + [message])[-MAX_WARNINGS:]
        self.warnings_at_s = (self.warnings_at_s + [at_s])[-MAX_WARNINGS:]
        self.log("warning", message=message)

    def _new_deck(self, kind: str) -> Deck:
        """A new deck, or one that fails at once (counted as a failed track) if none can be made."""
        self._deck_count += 1
        name = f"{kind}-{self._deck_count}"
        try:
            return self.output.make_deck(name, self._notify)
        except Exception as exc:  # noqa: BLE001 - an output that cannot make a deck fails the track
            return BrokenDeck(name, str(exc))

    def retarget(self, s: float, min_s: float = 0.0, fall_s: float | None = None) -> None:
        """Move the music towards its target level, if it is playing and not in a fade."""
        if self.status is Status.PLAYING:
            self.levels.retarget(s, self.phase.level_pct, min_s=min_s, fall_s=fall_s)

    # ----------------------------------------------------------------- commands

    def handle(self, cmd: Command, s: float) -> CommandResult:
        """A facilitator's command: refused with the reason, or done (controls.py)."""
        self.last_s = s
        return controls.handle(self, cmd, s)

    # ----------------------------------------------------------------- phases and the end

    def enter_phase(self, index: int, s: float, crossfade_s: float,
                    due_s: float | None = None) -> None:
        """Phase ``index`` begins now: the music crossfades into it, or rises from silence."""
        previous = self.timeline.index
        if self.timeline.started:
            self.log("phase_end", phase=self.playlist.phases[previous].name, actual_s=round(s, 3),
                     planned_s=self.timeline.planned_end(previous))
        self.timeline.enter(index, s)
        self.held = self.finishing = False
        self._level_back_to_plan(previous, index)
        phase = self.phase
        audible = self.music.sounding() and self.levels.audible(s)
        self.music.leave_phase(s, crossfade_s, index)
        if self.levels.frozen and not self.ending:  # a phase fade-out reached silence
            self.levels.frozen = False
        fade_in_s = 0.0
        if not audible:  # from silence: the room level rises (at most at the rise limit)
            self.levels.rise_from_silence(s, phase.level_pct, min_s=phase.fade_in_s)
        else:  # the outgoing music keeps the level; a fade-in shapes only the incoming track
            self.retarget(s, min_s=crossfade_s)
            fade_in_s = max(crossfade_s, phase.fade_in_s)
        self.log("phase_start", phase=phase.name, index=index, actual_s=round(s, 3),
                 planned_s=self.timeline.planned_start(index))
        if phase.tracks and self.timeline.peek(index) is not None:
            self.music.start(s, self.timeline.next_slot(index), fade_in_s, due_s=due_s)

    def enter_phase_paused(self, s: float, index: int | None = None) -> None:
        """A phase boundary passed while paused: the timeline moves on, the music waits."""
        self.music.leave_phase_paused(s)
        self.log("phase_end", phase=self.phase.name, actual_s=round(s, 3),
                 planned_s=self.timeline.planned_end(self.timeline.index))
        previous = self.timeline.index
        self.timeline.enter(self.timeline.index + 1 if index is None else index, s)
        self.held = self.finishing = False
        self._level_back_to_plan(previous, self.timeline.index)
        self.log("phase_start", phase=self.phase.name, index=self.timeline.index,
                 actual_s=round(s, 3), planned_s=self.timeline.planned_start(self.timeline.index))

    def _level_back_to_plan(self, previous: int, index: int) -> None:
        """A facilitator's level lasts until its phase ends; the next phase's planned level
        follows, and every phone is told (a level that changes by itself must never surprise)."""
        set_pct = self.levels.override_pct
        self.levels.override_pct = None
        if set_pct is None or previous == index:
            return
        planned = min(self.playlist.phases[index].level_pct, self.settings.ceiling_pct)
        if abs(planned - set_pct) >= 0.5:
            self.warn(f"{self.playlist.phases[index].name}: the level follows the plan again, "
                      f"{planned:.0f}% (it was set to {set_pct:.0f}% by hand during "
                      f"{self.playlist.phases[previous].name})")

    def begin_end(self, s: float, duration_s: float, how: str) -> None:
        """The session ends after a fade of ``duration_s`` (music and ambience together)."""
        self.ending = how
        self.end_at = s + duration_s + self.output.latency_s
        self.levels.fade_master(s, s + duration_s)
        self.levels.fade_beds(s, s + duration_s)

    def finish(self, s: float, reason: str) -> None:
        self.music.release()
        self.beds.release()
        if self.timeline.started:
            self.log("phase_end", phase=self.phase.name, actual_s=round(s, 3),
                     planned_s=self.timeline.planned_end(self.timeline.index))
        self.status = Status.ENDED
        self.ending = ""
        self.ended_at = s
        self.log("session_end", reason=reason, actual_s=round(s, 3))

    def _end_fade_s(self) -> float:
        """How long the session's last fade takes: with a bed, as long as a bed change."""
        return AMBIENCE_CHANGE_S if self.beds.voices else 0.0

    def _follow(self, s: float, request: NextPhase | End | None) -> None:
        """Do what the music asked for when its phase played out."""
        if isinstance(request, NextPhase):
            self.enter_phase(self.timeline.index + 1, s, request.crossfade_s, due_s=request.due_s)
        elif isinstance(request, End):
            self.begin_end(s, self._end_fade_s(), "end")

    # ----------------------------------------------------------------- the tick

    def tick(self, s: float) -> None:
        self.last_s = s
        self.music.due, self.beds.due = [], []
        if self.status in (Status.ENDED, Status.READY):
            return
        self.cuebook.tick(self, s)
        if self.ending == "fade_out" and self.status is Status.PLAYING:
            self._music_rules(s)  # a long fade-out goes on over the next tracks
        if self.ending:
            if s >= (self.end_at or s):
                self.finish(s, {"fade_out": "faded out", "stop": "stopped",
                                "end": "completed"}[self.ending])
                return
        elif self.status is Status.PLAYING:
            self._phase_rules(s)
            if self.status is Status.ENDED or self.ending:
                self.apply_gains(s)
                return
            self._music_rules(s)
        elif self.status is Status.PAUSED:
            self._paused_rules(s)
        self.beds.rules(s, self.phase.ambience if self.timeline.started else None,
                        self.timeline.index)
        self.apply_gains(s)
        self.music.voices = reap(self.music.voices, s, self.status is Status.PAUSED)
        self.beds.voices = reap(self.beds.voices, s)

    def _music_rules(self, s: float) -> None:
        now = Situation(self.phase, self.timeline.index, self.last_phase, self.waiting,
                        self.finishing, self.timeline.end_s())
        self._follow(s, self.music.rules(s, now, self.settings.fault_fade_in_s))

    def _paused_rules(self, s: float) -> None:
        self.music.pause_rules(s)
        if not self.waiting and s >= self.timeline.end_s():
            if self.last_phase:
                self.begin_end(s, AMBIENCE_CHANGE_S, "end")
            else:
                self.enter_phase_paused(s)

    def _phase_rules(self, s: float) -> None:
        phase, index = self.phase, self.timeline.index
        end_s = self.timeline.end_s()
        if self.waiting:
            return
        finish = phase.at_end == "finish"
        if (phase.fade_out_s > 0 and not finish and index not in self.phase_faded
                and s >= end_s - phase.fade_out_s):
            self.phase_faded.add(index)
            self.levels.fade_master(s, max(end_s, s + TICK_S))
        if s < end_s:
            return
        cur = self.music.current()
        if finish and cur is not None and not cur.failed:
            if not self.finishing and phase.fade_out_s > 0 and cur.natural_end is not None:
                # with `finish` the phase ends when its track does: the fade-out ends there too
                fade_end = max(cur.natural_end - END_MARGIN_S, s + TICK_S)
                self.phase_faded.add(index)
                self.levels.fade_master(s, fade_end, from_s=max(s, fade_end - phase.fade_out_s))
            self.finishing = True  # the music moves on when the track plays out
            return
        if self.last_phase:
            # never a cut at the very end: at least the stop fade, but within the file
            tail = 0.0 if not self.levels.audible(s) else max(phase.crossfade_s,
                                                              self.settings.stop_fade_s)
            if cur is not None and cur.natural_end is not None:
                tail = min(tail, cur.fade_left_s(s))  # the fade ends before the file does
            self.begin_end(s, max(tail, AMBIENCE_CHANGE_S if self.beds.voices else tail), "end")
        else:
            self.enter_phase(index + 1, s, phase.crossfade_s, due_s=end_s)

    def apply_gains(self, s: float) -> None:
        """Send each deck its gain: while anything moves, the value for the middle of the tick.

        A gain holds until the next tick (TICK_S later, sooner where a gain moves fast); the
        mid-point halves the staircase's error against the curve, and a command's first step is
        heard at once rather than a tick later.
        """
        wake = self.next_wake_s(s)
        t = s + wake / 2 if wake <= TICK_S else s
        for voice in self.music.voices + self.beds.voices:
            if not voice.released and not voice.failed:
                voice.deck.set_gain(self.levels.gain(voice, t))

    def release_decks(self) -> None:
        """Let go of every deck (the engine is rebuilding the session, or shutting down)."""
        for voice in self.music.voices + self.beds.voices:
            try:
                voice.release()
            except Exception:  # noqa: BLE001 - the deck may be what failed
                pass

    # ----------------------------------------------------------------- timing and reading

    def next_wake_s(self, s: float) -> float:
        """How long the engine may sleep before something is due (commands wake it earlier)."""
        if self.status in (Status.READY, Status.ENDED):
            return 1.0
        voices = self.music.voices + self.beds.voices
        if self.levels.moving(s) or any(v.env.moving(s) for v in voices):
            return follow_tick_s([tuple(self.levels.gain(v, s + TICK_S * k / FOLLOW_SAMPLES)
                                        for k in range(FOLLOW_SAMPLES + 1))
                                  for v in voices if not v.released and not v.failed])
        due = [self.timeline.end_s() - self.phase.fade_out_s, self.timeline.end_s(), self.end_at,
               self.music.pause_decks_at, *self.music.due, *self.beds.due]
        due += [v.natural_end for v in voices] + self.cuebook.next_due(self)
        due += [v.env.out_t0 for v in voices if v.env.leaving]  # a fade-out set to begin later
        waits = [t - s for t in due if t is not None and t > s]
        return max(0.001, min([1.0] + waits))

    def snapshot(self, s: float, revision: int, info: snapshot.SessionInfo) -> State:
        return snapshot.build(self, s, revision, info)

    # ----------------------------------------------------------------- checkpoints

    def checkpoint(self, s: float) -> dict:
        """Everything needed to carry on after a crash (see checkpoint.py and restore)."""
        return {"status": self.status, "session_s": round(s, 3), **self.timeline.checkpoint(),
                **self.levels.checkpoint(), "track": self.music.checkpoint(s), "held": self.held,
                "dosed_at": self.dosed_at, "boosters": self.boosters, "warnings": self.warnings,
                "warnings_at_s": self.warnings_at_s, "cues": self.cuebook.checkpoint(),
                "notes": self.notes}

    def restore(self, data: dict, s: float) -> None:
        """Carry on from a checkpoint at session time ``s``: same phase and track, from silence.

        The session clock includes the time the room was down (the medicine went on), so phase
        ends stay where they were; the track resumes where it was heard last, fading in at the
        room's rise limit.
        """
        self.status = Status.PLAYING if data.get("status") == Status.PLAYING else Status.PAUSED
        track = data.get("track")
        resume_current = track is not None and track.get("phase_index") == int(data["index"])
        self.timeline.restore(data, replay_current=resume_current)
        self.held = bool(data.get("held"))
        self.dosed_at = data.get("dosed_at")
        self.boosters = list(data.get("boosters", []))
        self.cuebook.restore(data.get("cues", {}))
        self.notes = [n for n in data.get("notes", []) if isinstance(n, dict)]
        self.warnings = list(data.get("warnings", []))[-MAX_WARNINGS:]
        times = list(data.get("warnings_at_s", []))[-len(self.warnings):] if self.warnings else []
        self.warnings_at_s = [None] * (len(self.warnings) - len(times)) + times
        self.last_s = s
        paused = self.status is Status.PAUSED
        self.levels.restore(data, s, paused)
        self.retarget(s)
        slot = None
        if resume_current and "orders" in data:  # the track was taken before the crash
            slot = self.timeline.resume_slot(self.timeline.index, track["path"],
                                             bool(track.get("repeat")), bool(track.get("queued")))
        elif resume_current:  # a checkpoint from before intensities: its order is replayed
            slot = self.timeline.take(self.timeline.index, track["path"])
        if slot is not None:
            self.music.resume_track(s, slot, float(track["position_s"]), paused)

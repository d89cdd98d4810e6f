"""The engine: one thread that owns the session core and every deck, fed by a command queue.

Readers never touch the core: they get immutable ``State`` snapshots (``snapshot``) and wait for the
next one (``wait_for_change``). Commands are queued and wake the thread at once (``submit``); deck
callbacks only enqueue. The engine's part is the thread, the queue, checkpoints and publishing;
every playback rule is the core's (core.py). For tests the same engine runs without a thread on a
fake clock (``execute`` and ``run_for``). ``Engine`` implements ``EngineAPI`` (api.py).
"""

from __future__ import annotations

import gc
import random
import secrets
import threading
import time
from pathlib import Path

from soundscape.engine import checkpoint, snapshot
from soundscape.engine.api import phase_tracks, EngineTimeout
from soundscape.engine.heartbeat import BEAT_EVERY_S, Heartbeat
from soundscape.engine.inbox import Inbox, Pending, Told
from soundscape.engine.clock import Clock, RealClock
from soundscape.engine.commands import Action, Command, CommandResult
from soundscape.engine.core import SessionCore
from soundscape.engine.deck import DeckEvent, Output
from soundscape.engine.sessionlog import SessionLog, session_id_for
from soundscape.engine.settings import RoomSettings
from soundscape.engine.snapcast import SpeakerWatch
from soundscape.engine.state import State, Status
from soundscape.engine.intake import AnalysisDone, Facts, Learned, Progress
from soundscape.engine.watch import LISTEN_EVERY_S, Watch, guard
from soundscape.playlist.model import Playlist
from soundscape.schedule.plan import make_plan

HEALTH_EVERY_S = 1.0  # the output is asked whether it still answers this often
RECOVER_RETRY_S = 1.0  # a failed rebuild of the core is tried again after this

class Engine:
    def __init__(self, playlist: Playlist, output: Output, *, clock: Clock | None = None,
                 durations: dict | None = None, seed: int | None = None,
                 settings: RoomSettings | None = None, log_dir: Path | None = None,
                 warnings: tuple[str, ...] = (), checkpoint_path: Path | None = None,
                 resume: dict | None = None, gains_db: dict | None = None,
                 cues: dict | None = None, undecodable: dict | None = None,
                 lufs: dict | None = None):
        self.clock = clock or RealClock()
        self.output = output
        self.playlist = playlist
        self.settings = settings or RoomSettings()
        self._checkpoints = checkpoint.Checkpointer(checkpoint_path)
        self.resumed = resume is not None
        self.epoch = secrets.token_hex(6)  # this process's: a page believes a new one at once
        self.interruption_s: float | None = None
        if resume is not None:
            seed = int(resume["seed"])
        self.seed = random.SystemRandom().randrange(1, 1_000_000) if seed is None else seed
        # What is known of each file, updated on the engine thread as the background analysis
        # reports (``learn``); the core's parts read the same dicts (engine/intake.py).
        self.facts = Facts(durations, gains_db, cues, undecodable, lufs)
        self.durations, self.cues, self.lufs = (self.facts.durations, self.facts.cues,
                                                self.facts.lufs)
        self.plan = self._make_plan()
        self.progress = Progress()
        self._plan_stale = False  # analysis results came in: the plan is rebuilt at the next tick
        self._closers: list = []  # what shutdown stops too (the analyser)
        self.watch = Watch()
        # from a change to the room hearing it (snapcast: its buffer too), for the page and log
        self.heard_latency_s = round(float(getattr(output, "heard_latency_s",
                                                   getattr(output, "latency_s", 0.0))), 3)
        # the speakers behind the output (snapcast only), looked at with the output's health
        self.speakers = SpeakerWatch(getattr(output, "speakers", None),
                                     getattr(getattr(output, "settings", None), "control", ""))
        self._meter = None
        self._meter_tried = False
        self._next_listen = 0.0
        if resume is not None:
            self.session_id = resume["session_id"]
            self.log_path = Path(resume["log_path"]) if resume.get("log_path") else None
        else:
            self.session_id = session_id_for(playlist.title, self.clock.wall())
            self.log_path = Path(log_dir) / f"{self.session_id}.jsonl" if log_dir else None
        self._log = SessionLog(self.log_path, append=resume is not None)
        self.core = self._new_core()
        self._t0 = self.clock.now()
        self.heartbeat = Heartbeat(self.clock)  # the watchdog's sign of life (heartbeat.py)
        self._inbox = Inbox()
        self._thread: threading.Thread | None = None
        self._running = False
        self._stopped = False
        self._output_ok = True
        self._next_health = 0.0
        if resume is not None:
            self._resume_from(resume)
        else:
            self._write("session_open", playlist=str(playlist.path), title=playlist.title,
                        seed=self.seed, output=getattr(output, "name", "?"),
                        output_latency_s=self.heard_latency_s,
                        planned_total_s=round(self.plan.total_s, 3))
        for message in warnings:
            self.core.warn(message)
        if self._log.write_error:
            self.core.warn(self._log.write_error)
        s = self.session_s()
        self._published = snapshot.Publisher(
            self._build_state(1), (snapshot.signature(self.core, s), self._output_ok,
                                   self.watch.step(), self.speakers.step()),
            self.clock.now())

    def _new_core(self) -> SessionCore:
        facts = self.facts
        core = SessionCore(self.playlist, self.output, facts.durations, seed=self.seed,
                           settings=self.settings, log=self._write, notify=self._on_deck_event,
                           gains_db=facts.gains_db, plan=self.plan, cues=facts.cues,
                           undecodable=facts.undecodable)
        core.lufs = facts.lufs
        return core

    def _make_plan(self):
        return make_plan(self.playlist, self.facts.durations, self.seed, self.facts.cues,
                         set(self.facts.undecodable))

    @property
    def playlist_path(self) -> Path:
        return self.playlist.path

    @property
    def checkpoint_path(self) -> Path | None:
        return self._checkpoints.path

    @checkpoint_path.setter
    def checkpoint_path(self, path: Path | None) -> None:
        self._checkpoints.path = path

    @property
    def clock_origin(self) -> float:
        """The clock reading session time 0 stands for (when the session started)."""
        return self._t0

    # ------------------------------------------------------------------ checkpoints and resume

    def _wall_epoch(self) -> float:
        return self.clock.wall().timestamp()

    def _checkpoint_data(self) -> dict:
        data = self.core.checkpoint(self.session_s())
        data.update(version=checkpoint.VERSION, session_id=self.session_id, seed=self.seed,
                    playlist=str(Path(self.playlist.path).resolve()), wall_epoch=self._wall_epoch(),
                    log_path=str(self.log_path) if self.log_path else None)
        return data

    def _save_checkpoint(self, force: bool = False) -> None:
        """At least once a second while a session runs; cleared when it ends."""
        self._checkpoints.save(self.clock.now(), self.core.status, self._checkpoint_data,
                               self.core.warn, force)

    def _resume_from(self, data: dict) -> None:
        """Carry on an interrupted session: the downtime counts on the session clock."""
        downtime_s = max(0.0, self._wall_epoch() - float(data["wall_epoch"]))
        self.interruption_s = round(downtime_s, 1)
        s = float(data["session_s"]) + downtime_s
        self._t0 = self.clock.now() - s
        self.core.restore(data, s)
        self._write("resumed", downtime_s=round(downtime_s, 3), from_s=data["session_s"],
                    phase=self.core.phase.name, track=(data.get("track") or {}).get("path"))
        self.core.warn(f"resumed after an interruption of {downtime_s:.0f} s")

    def _restart_core(self, data: dict | None) -> None:
        """A fresh core (fresh decks) carrying on from ``data``, fading in from silence."""
        self.core.release_decks()
        self.core = self._new_core()
        if data is not None:
            self.core.restore(data, self.clock.now() - self._t0)

    def _recover(self, error: BaseException) -> None:
        """The engine thread's loop failed outright: rebuild the core from the last checkpoint."""
        self._restart_core(self._checkpoints.last)
        self._write("engine_restart", error=f"{type(error).__name__}: {error}")
        self.core.warn(f"the engine restarted after an internal error ({type(error).__name__})")

    def _rebuild(self, why: str) -> None:
        """Fresh decks at the same place, fading in from silence (after the output came back).

        Streams opened on a sound server that went away do not come back by themselves, so the
        music is carried on exactly as after a crash: from a checkpoint taken now.
        """
        data = self._checkpoint_data()
        warnings, times = list(self.core.warnings), list(self.core.warnings_at_s)
        self._restart_core(data)
        self.core.warnings, self.core.warnings_at_s = warnings, times
        self._write("decks_reopened", reason=why)

    # ------------------------------------------------------------------ time and log

    def session_s(self) -> float:
        """Seconds since the session started (0 before Start); the clock goes on when paused."""
        return 0.0 if self.core.status is Status.READY else self.clock.now() - self._t0

    def _write(self, event: str, **fields) -> None:
        started = self.core.status is not Status.READY
        self._log.write(self.clock.wall(), self.session_s() if started else None, event,
                        **fields)

    def _on_deck_event(self, event: DeckEvent) -> None:
        """Called from libVLC's threads: only enqueue (never call into libVLC from here)."""
        self._inbox.put(event)

    # ------------------------------------------------------------------ the engine's own work

    def _execute(self, command: Command) -> CommandResult:
        pending = self.progress.start_may_wait(self.clock.now())
        if command.action is Action.START and self.core.status is Status.READY and pending:
            result = CommandResult(False, f"the first tracks are still being analysed "
                                          f"({', '.join(pending)}); Start in a few seconds")
            self._write("command", action=command.action.value, params=command.params,
                        by=command.by, source=command.source, ok=False, reason=result.reason)
            return result
        if command.action is Action.START and self.core.status is Status.READY:
            self._t0 = self.clock.now()
        s = self.session_s()
        try:
            result = self.core.handle(command, s)
        except Exception as exc:  # noqa: BLE001 - a failing command must never stop the music
            result = CommandResult(False, f"internal error: {type(exc).__name__}: {exc}")
            self.core.warn(f"command {command.action.value} failed: {exc}")
        self._write("command", action=command.action.value, params=command.params,
                    by=command.by, source=command.source, ok=result.ok, reason=result.reason)
        self._tick()
        self._publish(force=True)
        self._save_checkpoint(force=True)
        return result

    def _tick(self) -> float:
        self._replan()
        s = self.session_s()
        try:
            self.core.tick(s)
            now = self.clock.now()
            if now >= self._next_listen:
                self._next_listen = now + LISTEN_EVERY_S
                self._listen(s)
            if now >= self._next_health:
                self._next_health = now + HEALTH_EVERY_S
                self._check_output()
        except Exception as exc:  # noqa: BLE001 - logged, and the next tick tries again
            self.core.warn(f"internal error in the engine: {type(exc).__name__}: {exc}")
        wake = self.core.next_wake_s(self.session_s())
        if self._meter is not None:  # the room is listened to a few times a second
            wake = min(wake, max(0.001, self._next_listen - self.clock.now()))
        return wake

    def _listen(self, s: float) -> None:
        """Read the room's meter; the dead-air guard acts on a silence (engine/watch.py)."""
        if self._meter is None and not self._meter_tried:
            self._meter_tried = True
            try:
                self._meter = self.output.meter(self.settings)
            except Exception as exc:  # noqa: BLE001 - no meter: the room is not listened to
                self._write("meter_unavailable", error=f"{type(exc).__name__}: {exc}")
        if self._meter is None:
            return
        try:
            reading = self._meter.take()
        except Exception:  # noqa: BLE001
            reading = None
        guard(self.core, self.watch, reading, s, self._write)

    def _check_output(self) -> None:
        try:
            ok = bool(self.output.healthy())
        except Exception:  # noqa: BLE001
            ok = False
        if ok != self._output_ok:
            self._output_ok = ok
            self.core.warn("the audio output is back" if ok else
                           "AUDIO OUTPUT LOST: the speaker or sound server is not answering")
            if ok and self.core.status in (Status.PLAYING, Status.PAUSED) and not self.core.ending:
                self._rebuild("output back")
        for message in self.speakers.check():
            self.core.warn(message)

    # ------------------------------------------------------------------ snapshots

    def _info(self) -> snapshot.SessionInfo:
        return snapshot.SessionInfo(self.session_id, self.seed, getattr(self.output, "name", ""),
                                    self._output_ok, str(self.log_path or ""), self.resumed,
                                    self.analysis, self.watch.room(), self.epoch,
                                    self.interruption_s,
                                    self.heard_latency_s,
                                    self.speakers.state())

    # ------------------------------------------------------------------ background analysis

    @property
    def analysis(self) -> dict | None:
        """How far the background analysis has come (the State's ``analysis``)."""
        return self.progress.state()

    def expect_analysis(self, paths, first) -> None:
        """Files being analysed in the background; Start waits for those in ``first`` (the tracks
        heard in the first minutes), at most FIRST_WAIT_MAX_S. Call before the thread starts."""
        self.progress.expect(paths, first, self.clock.now())
        self._publish(force=True)

    def attach(self, close) -> None:
        """Something that lives as long as the engine: ``close()`` is called at shutdown."""
        self._closers.append(close)

    def learn(self, found: Learned | AnalysisDone) -> None:
        """Hand over what analysis found: taken in by the engine thread (or at once, on the
        caller's thread, by an engine without one: tests and tools)."""
        if self._stopped:
            return  # shut down: nothing more to take in
        if self._thread is None:
            self._take_in(found)
            self._publish(force=True)
        else:
            self._inbox.put(found)

    def tell(self, message: str) -> None:
        """A warning from outside the session (any thread), shown on every phone like its own."""
        if self._stopped:
            return
        if self._thread is None:
            self._handle_item(Told(message))
        else:
            self._inbox.put(Told(message))

    def _take_in(self, found: Learned | AnalysisDone) -> None:
        if isinstance(found, AnalysisDone):
            left = self.progress.finish()  # nothing more will come: Start is free
            if found.error is not None and left:
                self.core.warn(f"ANALYSIS STOPPED: {found.error}; {left} file"
                               f"{'s' if left != 1 else ''} play by their headers, at the "
                               "median gain, without cue points")
            return
        self.facts.take(found)
        self.progress.report(found.path)
        # The plan (planned-vs-actual in the log, the timeline's track starts) follows what is
        # known now, rebuilt once for a burst of results (at the next tick); the tracks already
        # playing keep the window they started with.
        self._plan_stale = True
        if self._thread is None:
            self._replan()

    def _replan(self) -> None:
        if self._plan_stale:
            self._plan_stale = False
            self.plan = self._make_plan()
            self.core.timeline.plan = self.plan

    def first_analysed(self) -> bool:
        """True once every file Start waits for has been analysed."""
        return not (self.analysis or {}).get("first_pending")

    def _build_state(self, revision: int) -> State:
        return self.core.snapshot(self.session_s(), revision, self._info())

    def _publish(self, force: bool = False) -> None:
        s = self.session_s()
        self._published.offer(
            self.clock.now(), (snapshot.signature(self.core, s), self._output_ok,
                               self.watch.step(), self.speakers.step()),
            self.core.levels.level_now(s), self.core.status not in (Status.READY, Status.ENDED),
            self._build_state, force)

    # ------------------------------------------------------------------ reader API (any thread)

    def snapshot(self) -> State:
        return self._published.latest()

    def wait_for_change(self, after_revision: int, timeout_s: float) -> State:
        return self._published.wait_for_change(after_revision, timeout_s)

    def log_entries(self) -> list[dict]:
        return self._log.snapshot()

    def phase_tracks(self) -> dict:
        """See ``EngineAPI.phase_tracks``: built from the playlist and the latest state only."""
        return phase_tracks(self.playlist, self.snapshot(), self.facts.durations)

    def submit(self, command: Command, timeout_s: float = 2.0) -> tuple[CommandResult, State]:
        """See ``EngineAPI.submit``: raises ``EngineTimeout`` when the thread does not take it."""
        if self._stopped:
            return CommandResult(False, "the engine has shut down"), self.snapshot()
        if self._thread is None:
            result = self._execute(command)
            return result, self.snapshot()
        return self._inbox.send(command, timeout_s)

    # ------------------------------------------------------------------ simulated time (tests)

    def execute(self, command: Command) -> CommandResult:
        """Run a command now, on the caller's thread (tests and tools without an engine thread)."""
        return self._execute(command)

    def run_for(self, seconds: float) -> None:
        """Advance a FakeClock by ``seconds``, ticking whenever the engine would wake."""
        end = self.clock.now() + seconds
        while True:
            self._drain()
            wait = self._tick()
            self._publish()
            self._save_checkpoint()
            self.heartbeat.beat()
            now = self.clock.now()
            if now >= end:
                return
            self.clock.advance(min(wait, BEAT_EVERY_S, end - now))

    def _drain(self) -> None:
        while (item := self._inbox.get(0)) is not None:
            self._handle_item(item)

    def _handle_item(self, item) -> None:
        if isinstance(item, Pending):
            item.carry_out(lambda command: (self._execute(command), self.snapshot()))
        elif isinstance(item, (Learned, AnalysisDone)):
            self._take_in(item)
            self._publish(force=True)
        elif isinstance(item, Told):
            self.core.warn(item.message)
            self._publish(force=True)
        # a DeckEvent needs nothing more: the tick that follows reads the deck's status

    # ------------------------------------------------------------------ the thread

    def start_thread(self) -> None:
        # A full garbage collection stops every thread while it scans every object: 40-90 ms in
        # a serve process (its modules, Flask, numpy, PyAV), long enough for a fade's next gain to
        # come one or two ticks late and step by a decibel. What exists now lives as long as the
        # process: frozen, it is never scanned again (docs/engine.md, Clock and thread).
        gc.freeze()
        self._running = True
        self._thread = threading.Thread(target=self._run, name="soundscape-engine", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        """The engine thread, supervised: if its loop fails outright it restarts from the checkpoint."""
        while self._running:
            try:
                self._loop()
            except BaseException as exc:  # noqa: BLE001 - supervise: never leave the room silent
                if not self._running:
                    return
                try:
                    self._recover(exc)
                except BaseException as again:  # noqa: BLE001 - try again shortly, never die
                    self._write("engine_restart_failed", error=f"{type(again).__name__}: {again}")
                    time.sleep(RECOVER_RETRY_S)

    def _loop(self) -> None:
        wait = 0.0
        while self._running:
            try:
                item = self._inbox.get(max(0.001, wait))
                if item is not None:
                    self._handle_item(item)
                    self._drain()
            except Exception as exc:  # noqa: BLE001 - a failing command must not stop the music
                self.core.warn(f"internal error: {type(exc).__name__}: {exc}")
            wait = min(self._tick(), BEAT_EVERY_S)
            self._publish()
            self._save_checkpoint()
            self.heartbeat.beat()

    def shutdown(self, fade: bool = True, timeout_s: float = 10.0) -> None:
        """Quiet the room (a 3 s fade unless ``fade`` is False), stop the thread, close the log."""
        if fade and self.snapshot().status is not Status.ENDED:
            try:
                self.submit(Command(Action.STOP, source="shutdown"))
            except EngineTimeout:
                pass  # a hung engine: stop it anyway
            deadline = self.clock.now() + timeout_s
            while (self.snapshot().status is not Status.ENDED and self.clock.now() < deadline
                   and self._thread):
                self.wait_for_change(self.snapshot().revision, 0.5)
        if self._meter is not None:
            self._closers.append(self._meter.close)
        for close in self._closers:
            try:
                close()
            except Exception:  # noqa: BLE001 - stopping a helper must not stop the shutdown
                pass
        self._running = False
        self._stopped = True
        if self._thread is not None:
            self._inbox.put(None)
            self._thread.join(timeout_s)
            self._thread = None
        self.core.release_decks()
        if self.core.status is Status.ENDED and self.checkpoint_path is not None:
            checkpoint.clear(self.checkpoint_path)
        self._log.close()
        self.output.close()

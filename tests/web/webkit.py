"""Test doubles for the web layer: an engine double and a real waitress server in a thread."""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import replace
from pathlib import Path

from waitress import create_server

from soundscape.engine.api import EngineTimeout
from soundscape.engine.clock import RealClock
from soundscape.engine.commands import Action, Command, CommandResult
from soundscape.engine.heartbeat import Heartbeat
from soundscape.engine.state import PhaseInfo, PhaseSlot, State, Status, TrackInfo

TOKEN = "test-token-0123456789"
FUZZ_CASES: Counter = Counter()  # examples run per fuzz test, printed at the end of the run


# What each phase of initial_state() holds: (title, path, intensity, duration_s); the double's
# phase_tracks() reads it (a test may change it), its state says which plays, is queued, banned.
PHASE_TRACKS = {
    "Arrival": (("Harbour Light", "/m/harbour-light.ogg", 2, 240.0),
                ("Low Tide", "/m/low-tide.ogg", 3, 300.0),
                ("Salt Marsh", "/m/salt-marsh.ogg", 3, 420.0),
                ("Deep Current", "/m/deep-current.ogg", 4, None)),  # not analysed yet
    "Onset": (("Slow Water", "/m/slow-water.ogg", 3, 900.0),),
    "Return": (("Morning Field", "/m/morning.ogg", 2, 600.0),),
}


def upcoming(phase: str, *paths: str, queued: tuple[str, ...] = ()) -> tuple[dict, ...]:
    """``State.upcoming`` for tracks of ``PHASE_TRACKS[phase]``, by path."""
    found = {path: (title, intensity, length) for title, path, intensity, length
             in PHASE_TRACKS[phase]}
    return tuple({"title": found[path][0], "path": path, "duration_s": found[path][2],
                  "intensity": found[path][1], "phase": phase, "queued": path in queued}
                 for path in paths)


def initial_state() -> State:
    phases = (PhaseSlot("Arrival", 0.0, 600.0), PhaseSlot("Onset", 600.0, 900.0),
              PhaseSlot("Return", 1500.0, 600.0))
    return State(revision=1, status=Status.READY, title="Test session", session_id="s1",
                 phase=PhaseInfo(0, "Arrival", 0.0, 600.0, False), phases=phases,
                 track=TrackInfo("Low Tide", "/m/low-tide.ogg", 0.0, 300.0, intensity=3),
                 next_track=None,
                 level=70.0, level_target=70.0, hushed=False, session_elapsed_s=0.0,
                 warnings=(), output="none", epoch="e1", level_return=70.0,
                 total_s=2100.0, intensity=3, intensities=(2, 3, 4),
                 upcoming=upcoming("Arrival", "/m/salt-marsh.ogg", "/m/harbour-light.ogg"))


class FakeEngine:
    """Records submitted commands, applies a few obvious transitions, can be told to refuse.

    Stands in for the engine thread so web tests need no audio and run instantly; it implements
    exactly ``EngineAPI``, the methods the web layer may call (tests/engine/test_api_contract.py
    holds it and the real engine to the same contract). ``hung`` makes submit time out as a hung
    engine thread's would.
    """

    def __init__(self, state: State | None = None):
        self._state = state or initial_state()
        self._changed = threading.Condition()
        self.commands: list[Command] = []
        self.refuse_reason: str | None = None
        self.entries: list[dict] = [{"t": "2026-11-26T22:00:00+00:00", "event": "session_opened"}]
        self.shut_down = False
        self.wait_calls = 0
        self.playlist_path = Path("/playlists/test.yaml")
        self.hung = False
        self.heartbeat = Heartbeat(RealClock())  # serve's watchdog reads it (no loop: no beats)
        self.tracks = dict(PHASE_TRACKS)

    def tell(self, message: str) -> None:
        self.set_state(warnings=tuple(self._state.warnings) + (message,))

    def snapshot(self) -> State:
        with self._changed:
            return self._state

    def set_state(self, **changes) -> State:
        """Change the state as the engine thread would (new revision, waiters woken)."""
        with self._changed:
            self._state = replace(self._state, revision=self._state.revision + 1, **changes)
            self._changed.notify_all()
            return self._state

    def submit(self, command: Command, timeout_s: float = 2.0) -> tuple[CommandResult, State]:
        if self.hung:
            raise EngineTimeout("the player did not answer in time and nothing was done; "
                                "try again")
        self.commands.append(command)
        if self.refuse_reason:
            return CommandResult(False, self.refuse_reason), self.snapshot()
        self.entries.append({"t": "2026-11-26T22:01:00+00:00", "event": "command",
                             "action": command.action.value, "by": command.by})
        state = self.snapshot()
        phase = state.phase
        changes = {
            Action.START: {"status": Status.PLAYING},
            Action.PAUSE: {"status": Status.PAUSED},
            Action.RESUME: {"status": Status.PLAYING},
            Action.HUSH: {"hushed": True},
            Action.UNHUSH: {"hushed": False},
            Action.HOLD: {"phase": phase and replace(phase, held=True)},
            Action.RELEASE: {"phase": phase and replace(phase, held=False)},
            Action.SET_LEVEL: {"level_target": command.params.get("level", state.level_target)},
            Action.FADE_OUT: {"ending": True, "ending_kind": "fade_out"},
            Action.STOP: {"ending": True, "ending_kind": "stop"},
            Action.NOTE: {"notes": (state.notes + ({  # as steering.note keeps them
                "text": command.params.get("text"), "by": command.by,
                "at_s": state.session_elapsed_s, "phase": phase and phase.name},))[-5:]},
        }.get(command.action, {})
        return CommandResult(True), self.set_state(**changes)

    def phase_tracks(self) -> dict:
        """The current phase's tracks from ``self.tracks`` (before the start: the first phase's),
        marked from the state as the engine marks them."""
        state = self.snapshot()
        if state.status is Status.ENDED or not state.phases:
            return {"phase": None, "intensity": None, "tracks": []}
        name = state.phase.name if state.phase else state.phases[0].name
        banned = {t["path"] for t in state.banned}
        queued = set(state.queue)  # as the engine does (soundscape/engine/api.py)
        playing = state.track.path if state.track and state.status in (
            Status.PLAYING, Status.PAUSED) else None
        return {"phase": name, "intensity": state.intensity, "tracks": [
            {"title": title, "path": path, "intensity": intensity, "duration_s": length,
             "banned": path in banned, "queued": path in queued, "playing": path == playing}
            for title, path, intensity, length in self.tracks.get(name, ())]}

    def wait_for_change(self, after_revision: int, timeout_s: float) -> State:
        self.wait_calls += 1
        with self._changed:
            self._changed.wait_for(lambda: self._state.revision > after_revision or self.shut_down,
                                   timeout=max(0.0, timeout_s))
            return self._state

    def log_entries(self) -> list[dict]:
        return list(self.entries)

    def shutdown(self, fade: bool = True) -> None:
        with self._changed:
            self.shut_down = True
            self.shut_down_fading = fade
            self._changed.notify_all()


class FakePreflight:
    """Stands in for ``run_preflight``: records each call, plays nothing, waits until released.

    ``checks`` are reported one by one through ``on_check``; ``error`` makes the run raise.
    """

    def __init__(self, checks=(
            ("playlist", True, "thursday.yaml: 3 phases, 4 tracks"),
            ("output", True, "none: the silent output (nothing will be heard)"))):
        from soundscape.preflight import Check

        self.checks = [Check(*c) for c in checks]
        self.calls: list[dict] = []
        self.release = threading.Event()
        self.release.set()
        self.error: Exception | None = None

    def __call__(self, playlist_path, *, output, device, room, on_check):
        self.calls.append({"playlist_path": playlist_path, "output": output, "device": device,
                           "room": room})
        for check in self.checks:
            on_check(check)
        if not self.release.wait(10):
            raise TimeoutError("the test never released the pre-flight")
        if self.error is not None:
            raise self.error
        return list(self.checks)


class ServerThread:
    """A real waitress server on a free localhost port, stopped from its own thread.

    Closing waitress's sockets from another thread while its loop polls them fails with EBADF, so
    the loop runs in short slices and closes itself once asked to stop.
    """

    def __init__(self, app, threads: int = 16):
        from soundscape.cli.serve import WAITRESS_OPTIONS  # the product's own settings

        options = dict(WAITRESS_OPTIONS, threads=threads, connection_limit=max(threads, 16))
        self.server = create_server(app, host="127.0.0.1", port=0, **options)
        self.port = self.server.effective_port
        self.url = f"http://127.0.0.1:{self.port}"
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="test-waitress", daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.server.asyncore.loop(timeout=0.05, map=self.server._map, count=1)
        # Open streams first (their next write fails and ends them), then the worker threads,
        # and the server's own sockets last: workers still use them to wake the loop.
        for channel in [c for c in self.server._map.values() if c is not self.server]:
            if channel is not getattr(self.server, "trigger", None):
                channel.close()
        self.server.task_dispatcher.shutdown(cancel_pending=True, timeout=5)
        self.server.close()

    def __enter__(self) -> "ServerThread":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(10)


def real_engine(*, fake_clock: bool = False, log_dir: Path | None = None, medicine: bool = False,
                output_class=None):
    """A real Engine with its thread running over the fake output (no audio device).

    On the real clock time passes as in a session (for the browser); on a fake clock nothing moves
    unless a test says so (for exact API assertions). With ``medicine`` the dose is given in
    Arrival (which waits for it) and a booster extends Journey. ``output_class`` replaces the
    FakeOutput (a subclass that misbehaves).
    """
    from soundscape.engine.clock import RealClock
    from soundscape.engine.engine import Engine
    from soundscape.playlist.model import Medicine, Phase, Playlist, Track
    from soundscape.testing import FakeClock, FakeOutput

    music = Path("/music")
    tracks = {"harbour-light.ogg": ("Harbour Light", 300.0), "low-tide.ogg": ("Low Tide", 420.0),
              "slow-water.ogg": ("Slow Water", 900.0), "morning.ogg": ("Morning Field", 600.0)}
    t = {name: Track(music / name, title) for name, (title, _) in tracks.items()}
    playlist = Playlist(Path("/playlists/thursday.yaml"), "Thursday group", (
        Phase("Arrival", 600.0, level_pct=55.0, tracks=(t["harbour-light.ogg"], t["low-tide.ogg"])),
        Phase("Journey", 2400.0, level_pct=60.0, tracks=(t["slow-water.ogg"],)),
        Phase("Return", 900.0, level_pct=50.0, tracks=(t["morning.ogg"],)),
    ), medicine=Medicine("im", "Arrival", "Journey") if medicine else None)
    durations = {music / name: length for name, (_, length) in tracks.items()}
    clock = FakeClock() if fake_clock else RealClock()
    engine = Engine(playlist, (output_class or FakeOutput)(clock, durations), clock=clock,
                    durations=durations,
                    seed=1, log_dir=log_dir)
    engine.start_thread()
    return engine


def command(client, action, **params):
    """POST one command as Ana through a Flask test client."""
    return client.post("/api/commands", json={"action": action, "by": "Ana", **params})

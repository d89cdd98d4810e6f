"""The engine's API: all that the web layer and the terminal may use of a running session.

``Engine`` (engine.py) implements it, and so do the web tests' double; one contract test
(tests/engine/test_api_contract.py) runs against both, so the two cannot drift apart. Everything
here is safe to call from any thread: the engine thread owns the session, callers get immutable
``State`` snapshots and queue commands.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from soundscape.engine.commands import Command, CommandResult
from soundscape.engine.heartbeat import Heartbeat
from soundscape.engine.state import State
from soundscape.errors import SoundscapeError


class EngineTimeout(SoundscapeError):
    """The engine thread did not take a command in time (it is busy or hung).

    A command that times out before the engine took it is withdrawn, never carried out later: a
    facilitator who taps again must not get it twice. The web API answers 503.
    """


def phase_tracks(playlist, state: State, durations: dict) -> dict:
    """``EngineAPI.phase_tracks`` from immutable things: the playlist, a state, file lengths."""
    index = state.phase.index if state.phase is not None else 0
    if state.status == "ended":
        return {"phase": None, "intensity": None, "tracks": []}
    phase = playlist.phases[index]
    banned = {b["path"] for b in state.banned}
    queued = set(state.queue)
    playing = state.track.path if state.track is not None else None
    tracks = [{"title": t.title, "path": str(t.path), "intensity": t.intensity,
               "duration_s": durations.get(t.path), "banned": str(t.path) in banned,
               "queued": str(t.path) in queued, "playing": str(t.path) == playing}
              for t in dict((t.path, t) for t in phase.tracks).values()]
    return {"phase": phase.name, "intensity": state.intensity, "tracks": tracks}


class EngineAPI(Protocol):
    @property
    def playlist_path(self) -> Path:
        """The playlist file this session plays (pre-flight checks the same file)."""

    @property
    def heartbeat(self) -> Heartbeat:
        """The engine loop's pulse: serve feeds systemd's watchdog from it (watchdog.py)."""

    def tell(self, message: str) -> None:
        """A warning from outside the session (the room's announcement), for every phone."""

    def snapshot(self) -> State:
        """The latest state (immutable)."""

    def wait_for_change(self, after_revision: int, timeout_s: float) -> State:
        """The first state with a revision above ``after_revision``, or the latest one after
        ``timeout_s``."""

    def submit(self, command: Command, timeout_s: float = 2.0) -> tuple[CommandResult, State]:
        """Carry out ``command``: its result (refused with a reason, or done) and the state after
        it. Raises ``EngineTimeout`` when the engine does not take it within ``timeout_s``."""

    def phase_tracks(self) -> dict:
        """The current phase's tracks (before Start: the first phase's), for the page's picker:
        {"phase", "intensity", "tracks": [{"title", "path", "intensity", "duration_s",
        "banned", "queued", "playing"}]}."""

    def log_entries(self) -> list[dict]:
        """The session log so far (what ``soundscape report`` renders)."""

    def shutdown(self, fade: bool = True) -> None:
        """Quiet the room (with a short fade unless ``fade`` is False) and stop the engine."""

"""Opening a session: load and check the playlist, read durations, pick the output, build the engine.

``play`` and ``serve`` both start here, so a session is opened the same way whichever way it is run.
An output that cannot be opened does not stop the session: it falls back to no sound with a loud
warning in the state, and the session clock goes on.
"""

from __future__ import annotations

from pathlib import Path

from soundscape import library, loudness
from soundscape.engine import checkpoint
from soundscape.engine.clock import Clock, RealClock
from soundscape.engine.engine import Engine
from soundscape.engine.outputs import NullOutput, open_output
from soundscape.engine.sessionlog import default_log_dir
from soundscape.engine.settings import RoomSettings
from soundscape.errors import SoundscapeError
from soundscape.playlist import load_playlist
from soundscape.room import Room


def find_resumable(playlist_path, checkpoint_path: Path | None) -> dict | None:
    """The unfinished session of this playlist from the last hours, if there is one."""
    if checkpoint_path is None:
        return None
    data = checkpoint.read(checkpoint_path)
    return data if checkpoint.resumable(data, Path(playlist_path)) else None


def open_session(playlist_path, *, output: str | None = None, device: str | None = None,
                 log_dir: Path | None = None, seed: int | None = None,
                 settings: RoomSettings | None = None, clock: Clock | None = None,
                 start_thread: bool = True, resume: str = "no",
                 checkpoint_path: Path | None = None, ask=None,
                 loudness_target: float | None = None, room: Room | None = None) -> Engine:
    """An engine for the playlist, its thread running: ready to start, or resumed.

    ``resume``: ``auto`` carries on an unfinished session of this playlist found in the checkpoint,
    ``ask`` asks first (``ask(text) -> bool``; without one it resumes), ``no`` starts afresh.
    Arguments left as None take the room config's values (``room``), then the defaults.
    """
    room = room or Room()
    output = output or room.output or "auto"
    device = device or room.device
    log_dir = log_dir or room.log_dir
    settings = settings or room.settings()
    if loudness_target is None:
        loudness_target = room.loudness_target_lufs or loudness.TARGET_LUFS
    if resume not in checkpoint.RESUME_CHOICES:
        raise SoundscapeError(f"--resume must be one of {', '.join(checkpoint.RESUME_CHOICES)}, "
                              f"not {resume!r}")
    playlist = load_playlist(playlist_path)
    clock = clock or RealClock()
    durations = library.durations(playlist.files())
    # Normalisation uses what `soundscape analyze` measured; nothing is decoded at start.
    gains_db = {} if loudness_target is None else {
        path: gain for path, gain in loudness.gains_for(
            playlist.track_files(), loudness_target,
            measure_missing=False).items() if gain}
    warnings: list[str] = []
    try:
        out = open_output(output, device, clock=clock)
    except SoundscapeError as exc:
        warnings.append(f"NO SOUND: the audio output could not be opened ({exc}); "
                        "the session runs silently")
        out = NullOutput(clock)
    found = None if resume == "no" else find_resumable(playlist_path, checkpoint_path)
    if found is not None and resume == "ask" and ask is not None:
        at = found.get("track") or {}
        if not ask(f"An unfinished session of this playlist was interrupted "
                   f"{found['session_s'] / 60:.0f} min in ({Path(at.get('path', '')).name}). "
                   "Resume it?"):
            found = None
    engine = Engine(playlist, out, clock=clock, durations=durations, seed=seed,
                    settings=settings, log_dir=log_dir or default_log_dir(),
                    warnings=tuple(warnings), checkpoint_path=checkpoint_path, resume=found,
                    gains_db=gains_db)
    if start_thread:
        engine.start_thread()
    return engine

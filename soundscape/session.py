"""Opening a session: load and check the playlist, read durations, pick the output, build the engine.

``play`` and ``serve`` both start here, so a session is opened the same way whichever way it is run.
An output that cannot be opened does not stop the session: it falls back to no sound with a loud
warning in the state, and the session clock goes on.
"""

from __future__ import annotations

import itertools
from pathlib import Path

from soundscape import library, loudness
from soundscape.engine import checkpoint
from soundscape.engine.clock import Clock, RealClock
from soundscape.engine.engine import Engine
from soundscape.engine.intake import AnalysisDone, Facts, Learned
from soundscape.engine.outputs import NullOutput, open_output
from soundscape.engine.sessionlog import default_log_dir
from soundscape.engine.settings import RoomSettings
from soundscape.errors import SoundscapeError
from soundscape.loudness.analyser import Analyser
from soundscape.playlist import load_playlist
from soundscape.room import Room
from soundscape.schedule.sequence import default_path


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
                 loudness_target: float | None = None, room: Room | None = None,
                 analyse: bool = True) -> Engine:
    """An engine for the playlist, its thread running: ready to start, or resumed.

    ``resume``: ``auto`` carries on an unfinished session of this playlist found in the checkpoint,
    ``ask`` asks first (``ask(text) -> bool``; without one it resumes), ``no`` starts afresh.
    Arguments left as None take the room config's values (``room``), then the defaults.
    ``analyse``: files not analysed yet are decoded in the background (the analyser process);
    Start waits for the first tracks' analysis.
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
    files = playlist.files()
    tracks = set(playlist.track_files())
    # What earlier analyses found (the cache); the header's length stands in until a file has
    # been decoded. Nothing is decoded here: the analyser does it in the background.
    facts = Facts(library.durations(files))
    known = {path: m for path, m in loudness.cached(files).items() if m is not None}
    for path, found in known.items():
        facts.take(learned(path, found, loudness_target, path in tracks))
    warnings: list[str] = []
    try:
        out = open_output(output, device, clock=clock, snapcast=room.snapcast())
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
    engine = Engine(playlist, out, clock=clock, durations=facts.durations, seed=seed,
                    settings=settings, log_dir=log_dir or default_log_dir(),
                    warnings=tuple(warnings), checkpoint_path=checkpoint_path, resume=found,
                    gains_db=facts.gains_db, cues=facts.cues, undecodable=facts.undecodable,
                    lufs=facts.lufs)
    analyser = None
    if analyse:
        analyser = _analyser(engine, [p for p in files if p not in known], loudness_target,
                             tracks)
    if start_thread:
        engine.start_thread()  # before the analyser: what it reports goes through the inbox
    if analyser is not None:
        analyser.start()
    return engine


FIRST_TRACKS = 2  # Start waits for the analysis of this many tracks (at most FIRST_WAIT_MAX_S)


def learned(path: Path, found: loudness.Measurement, target_lufs: float | None,
            is_track: bool) -> Learned:
    """What the engine takes from one file's analysis: its length, gain and cue points."""
    gain = None
    if is_track and target_lufs is not None and found.lufs is not None \
            and found.true_peak_dbtp is not None:
        gain = loudness.normalisation_gain_db(found.lufs, found.true_peak_dbtp, target_lufs)
    error = found.error if found.duration_s is None and _undecodable(found.error) else None
    return Learned(path, found.duration_s, gain, found.cues, error,
                   found.lufs if is_track else None)


def _undecodable(error: str | None) -> bool:
    """An analysis error that means the file holds nothing to play (not one it could not read:
    a missing file may be back by its turn, and libVLC reports that at once anyway)."""
    return error is not None and not error.startswith("cannot read it")


def needed_order(engine: Engine, files: list[Path]) -> tuple[list[Path], set[Path]]:
    """``files`` in the order the session needs them (the plan's), and those Start waits for."""
    order: list[Path] = []
    for phase, planned in zip(engine.playlist.phases, engine.plan.phases):
        if phase.ambience is not None:
            order.append(phase.ambience.path)
        order.extend(t.path for t in planned.tracks)
        order.extend(t.path for t in phase.tracks)
    wanted = set(files)
    ordered = [p for p in dict.fromkeys(order) if p in wanted]
    ordered += [p for p in files if p not in set(ordered)]
    first_phase = engine.playlist.phases[0] if engine.playlist.phases else None
    first: list[Path] = []
    if first_phase is not None:
        slots = itertools.islice(default_path(first_phase, engine.seed, 0),
                                 len(first_phase.tracks))  # repeating phases never end
        seq = [slot.track.path for slot in slots]
        first = list(dict.fromkeys(seq))[:FIRST_TRACKS]  # beds play as they are: not awaited
    return ordered, {p for p in first if p in wanted}


def _analyser(engine: Engine, missing: list[Path], target_lufs: float | None,
              tracks: set[Path]) -> Analyser | None:
    """The analyser of the files not analysed yet (not started); Start waits for the first."""
    if not missing:
        return None
    order, first = needed_order(engine, missing)
    engine.expect_analysis(order, first)
    analyser = Analyser(
        order, lambda path, found: engine.learn(learned(path, found, target_lufs, path in tracks)),
        lambda error: engine.learn(AnalysisDone(error)))
    engine.attach(analyser.close)
    return analyser

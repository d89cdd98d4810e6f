"""End-to-end engine kit: tone playlists, a real-time session recorded on the room sink, and the
mapping between session time and the recording.

A session is judged by what reaches the ``room`` sink. The engine's session clock starts at
``START`` (monotonic ``t0``); the recording's first frame is at monotonic ``rec.start_s``. A moment
``s`` of the session is therefore ``t0 + s - rec.start_s`` seconds into the recording.
"""

from __future__ import annotations

import os
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest

from soundscape.engine.clock import RealClock
from soundscape.engine.commands import Action, Command
from soundscape.engine.engine import Engine
from soundscape.engine.outputs import open_output
from soundscape.engine.settings import RoomSettings
from soundscape.playlist.model import Phase, Playlist, Track
from soundscape.testing.audio import RATE, Recorder, null_sink, rms_dbfs_windows, tone_amplitudes

TONE = 0.5  # amplitude of the test tones (fraction of full scale)
WINDOW_S = 0.05  # holds whole cycles of every multiple of 20 Hz
HOP_S = 0.01  # 441 frames: overlapping windows for timing to ~10 ms
FAST = dict(ceiling_pct=100.0, rise_db_per_s=200.0)  # levels settle at once; level 100 = gain 1


def settings(**overrides) -> RoomSettings:
    return RoomSettings(**{**FAST, **overrides})


def phase(name: str, duration_s: float, tracks: list[Path], **kw) -> Phase:
    kw.setdefault("level_pct", 100.0)
    return Phase(name, duration_s, tracks=tuple(Track(Path(p), Path(p).stem) for p in tracks), **kw)


def playlist(tmp_path: Path, *phases: Phase) -> Playlist:
    return Playlist(tmp_path / "e2e.yaml", "End to end", tuple(phases))


def private_sink():
    """A null sink of this test run's own (audiokit.null_sink), named for the engine tests."""
    return null_sink(f"engine-e2e-{os.getpid()}")


@dataclass
class Run:
    """A session being played and recorded; the recording is complete after the ``with`` block."""

    engine: Engine
    rec: Recorder
    t0: float = 0.0  # monotonic time of the session's start
    commands: list = field(default_factory=list)  # (session s of submit, action, ok)

    def now_s(self) -> float:
        return time.monotonic() - self.t0

    def sleep_until(self, session_s: float) -> None:
        time.sleep(max(0.0, session_s - self.now_s()))

    def submit(self, action: Action, **params) -> float:
        """Send a command as a facilitator would; returns the session time it was sent at."""
        at_s = self.now_s()
        result, _ = self.engine.submit(Command(action, params, by="e2e", source="test"))
        assert result.ok, f"{action.value} refused: {result.reason}"
        self.commands.append((at_s, action.value))
        return at_s

    # -- after the recording ---------------------------------------------------------------

    def rec_s(self, session_s: float) -> float:
        """Seconds into the recording of session time ``session_s``."""
        return self.t0 + session_s - self.rec.start_s

    def session_of(self, rec_s: float) -> float:
        return rec_s + self.rec.start_s - self.t0

    def amplitudes(self, *freqs: float, hop_s: float = HOP_S) -> dict[float, np.ndarray]:
        return tone_amplitudes(self.rec.samples, list(freqs), WINDOW_S, hop_s=hop_s)

    def centres_s(self, count: int, hop_s: float = HOP_S, window_s: float = WINDOW_S) -> np.ndarray:
        """Session time of the centre of each of ``count`` windows."""
        return self.session_of(np.arange(count) * hop_s + window_s / 2)

    def rms_dbfs(self, window_s: float) -> np.ndarray:
        return rms_dbfs_windows(self.rec.samples, window_s)

    def span(self, start_s: float, end_s: float) -> np.ndarray:
        """The recorded frames between two session times."""
        first = max(0, int(round(self.rec_s(start_s) * RATE)))
        last = int(round(self.rec_s(end_s) * RATE))
        return self.rec.samples[first:last]

    def log(self, event: str) -> list[dict]:
        return [e for e in self.engine.log_entries() if e["event"] == event]


@contextmanager
def live_session(pl: Playlist, durations: dict, room: RoomSettings, log_dir: Path, sink: str,
                 seed: int = 1):
    """Play ``pl`` on the real clock and the pulse output routed to ``sink``, recording that sink's
    monitor; yields a Run
    already started. On leaving, the recording stops, then the engine is shut down without its
    3 s fade (nobody listens to the test sink after the recording, and it saves time)."""
    clock = RealClock()
    output = open_output("pulse", device=sink, clock=clock)
    engine = Engine(pl, output, clock=clock, durations={Path(k): v for k, v in durations.items()},
                    seed=seed, settings=room, log_dir=log_dir)
    try:
        engine.start_thread()
        with Recorder(device=f"{sink}.monitor") as rec:
            time.sleep(0.2)  # some room silence before the start
            run = Run(engine, rec)
            before = time.monotonic()
            result, _ = engine.submit(Command(Action.START, by="e2e", source="test"))
            after = time.monotonic()
            assert result.ok, f"start refused: {result.reason}"
            # The engine's own record of the start, to the clock's precision (the state's
            # session_elapsed_s is rounded to 10 ms and stamped at an unknown time).
            run.t0 = engine.clock_origin
            assert before <= run.t0 <= after, "the session start is not where the submit was"
            yield run
    finally:
        engine.shutdown(fade=False)


def onset_rec_s(values: np.ndarray, threshold: float, hop_s: float = HOP_S,
                from_rec_s: float = 0.0) -> float | None:
    """Recording time (window start) of the first window from ``from_rec_s`` above threshold."""
    first = max(0, int(np.ceil(from_rec_s / hop_s - 1e-9)))
    hits = np.nonzero(values[first:] > threshold)[0]
    return None if not len(hits) else (hits[0] + first) * hop_s


def crossover_rec_s(old: np.ndarray, new: np.ndarray, from_rec_s: float,
                    hop_s: float = HOP_S, window_s: float = WINDOW_S) -> float | None:
    """Recording time (window centre, interpolated) where ``new`` first exceeds ``old``."""
    first = max(1, int(np.ceil(from_rec_s / hop_s)))
    diff = new - old
    hits = np.nonzero(diff[first:] > 0)[0]
    if not len(hits):
        return None
    i = hits[0] + first
    d0, d1 = diff[i - 1], diff[i]
    frac = 0.0 if d1 == d0 else -d0 / (d1 - d0)  # where the difference crosses zero
    return (i - 1 + frac) * hop_s + window_s / 2


def dropouts(samples: np.ndarray, min_s: float = 0.002) -> list[tuple[float, float]]:
    """(start s into ``samples``, duration s) of each run of exact digital silence.

    A playing stream never holds 2 ms of exact zeros (tones and noise pass zero only briefly), so
    such a run is an underrun: the sink had nothing from the player and mixed silence. Told apart
    from a quiet fade, which still holds samples.
    """
    zero = np.all(samples == 0.0, axis=1) if samples.ndim == 2 else samples == 0.0
    edges = np.diff(np.concatenate(([0], zero.astype(np.int8), [0])))
    starts, ends = np.nonzero(edges == 1)[0], np.nonzero(edges == -1)[0]
    return [(a / RATE, (b - a) / RATE) for a, b in zip(starts, ends) if b - a >= min_s * RATE]


def longest_quiet_sliding_s(samples: np.ndarray, threshold_dbfs: float = -50.0,
                            window_s: float = 0.02) -> float:
    """The longest stretch covered by ``window_s`` windows quieter than ``threshold_dbfs``, with a
    window starting at every frame (0 when no window is that quiet).

    Back-to-back windows miss a gap that straddles two of them (a 20 ms hole split 10/10 reads
    about -12 dB below the music, not as silence); sliding by one frame does not.
    """
    mono = np.asarray(samples, dtype=np.float64)
    mono = mono.mean(axis=1) if mono.ndim == 2 else mono
    size = int(round(window_s * RATE))
    if len(mono) < size:
        return 0.0
    power = np.concatenate(([0.0], np.cumsum(mono ** 2)))
    mean = (power[size:] - power[:-size]) / size
    quiet = mean < 10 ** (threshold_dbfs / 10)
    if not quiet.any():
        return 0.0
    edges = np.diff(np.concatenate(([0], quiet.astype(np.int8), [0])))
    runs = np.nonzero(edges == -1)[0] - np.nonzero(edges == 1)[0]
    return (runs.max() - 1 + size) / RATE


def poll_until(read, done, timeout_s: float, what: str = "", every_s: float = 0.02):
    """(value, seconds) of the first ``read()`` for which ``done(value)``; fails at the deadline."""
    start = time.monotonic()
    value = read()
    while not done(value):
        if time.monotonic() - start > timeout_s:
            pytest.fail(f"{what + ': ' if what else ''}still {value!r} after {timeout_s} s")
        time.sleep(every_s)
        value = read()
    return value, time.monotonic() - start


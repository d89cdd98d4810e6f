"""What the room actually hears: the peak on a PulseAudio sink's monitor, its mute and its volume.

It works the way pavucontrol draws its meters: a low-rate mono record stream on ``<sink>.monitor``.
The monitor carries the sink's output after its volume and mute, so a turned-down or muted room
reads quiet even while the decks play on. Mute and volume are read when ``pactl subscribe`` says a
sink changed, so nothing is spawned while nothing changes. Only pulseaudio-utils' child processes
are used (parec, pactl), so no binding to libpulse is needed and a missing tool or server leaves
every reading None rather than raising.

Peaks are those of the 8 kHz stream the server resamples for us: within 0.01 dB of a steady tone's,
but up to ~0.6 dB high for a moment after a stream starts (measured: the monitor shows the new
stream beginning with a step, not with its fade-in, and the resampler rings on the step).

When soundscape owns the sink (``own_volume_pct``), a volume found changed is put back: lowered at
once, raised no faster than the rise limit, and a mute lifted only after the volume is brought down
to the silent floor first, so nobody in the room is ever hit by a jump in level.
"""

from __future__ import annotations

import json
import math
import os
import re
import subprocess
import threading
import time
from dataclasses import dataclass

import numpy as np

from soundscape.engine.fades import SILENT_DB, level_to_db
from soundscape.errors import SoundscapeError

RATE_HZ = 8000  # enough for a level; the server resamples and downmixes to it
LATENCY_MS = 100  # the record stream's fragment: one wake-up of ours per 100 ms at most
BLOCK_S = 0.1  # the reader takes the peak of blocks this long
# Mute and volume are asked for on every change `pactl subscribe` reports, and besides every
# IDLE_POLL_S (every POLL_S while no subscription runs), and every STEP_S while raised back.
IDLE_POLL_S = 10.0
POLL_S = 1.0
STEP_S = 0.1
MAX_STEP_S = 2 * STEP_S  # a late step never makes up for more than this (no jump in level)
RESPAWN_S = 1.0  # a parec or pactl subscribe that died is started again at most this often
STALE_S = 1.0  # no block for this long: the meter is not running (peak None)
PACTL_TIMEOUT_S = 2.0
SILENCE_DBFS = -120.0  # what digital silence reads as, instead of -inf
VOLUME_TOLERANCE_PCT = 0.2  # pactl's raw volumes round percentages by ~0.002 %
FLOOR_PCT = 100.0 * 10 ** (SILENT_DB / 60.0)  # 10 %, the silent floor: a mute is lifted there
MAX_OWN_PCT = 150.0  # PulseAudio's own sliders stop at 153 %


@dataclass(frozen=True)
class Reading:
    peak_dbfs: float | None  # loudest sample since the last take(); None: the meter is not running
    muted: bool | None  # the sink's mute switch; None unknown
    volume_pct: float | None  # the sink's volume, average of channels (100 = 0 dB); None unknown


@dataclass(frozen=True)
class SinkState:
    muted: bool
    volume_pct: float


# -- pactl output (pure) ------------------------------------------------------------------------

def parse_sinks_json(text: str, sink: str) -> SinkState | None:
    """``sink``'s state from ``pactl --format=json list sinks``; None when it is not listed.

    Raises ValueError when the text is not the JSON pactl 16 writes (it is then read as text).
    """
    sinks = json.loads(text, strict=False)
    if not isinstance(sinks, list):
        raise ValueError("not a list of sinks")  # noqa: TRY004 - bad text, not a bad argument
    for entry in sinks:
        if not isinstance(entry, dict) or entry.get("name") != sink:
            continue
        volume = entry.get("volume")
        values = [ch.get("value") for ch in volume.values() if isinstance(ch, dict)] \
            if isinstance(volume, dict) else []
        if not values or not all(isinstance(v, int) for v in values) \
                or not isinstance(entry.get("mute"), bool):
            raise ValueError(f"sink {sink!r} has no readable mute and volume")
        return SinkState(entry["mute"], _raw_to_pct(values))
    return None


_VOLUME_RAW = re.compile(r":\s*(\d+)\s*/\s*[\d.]+%")


def parse_sinks_text(text: str, sink: str) -> SinkState | None:
    """``sink``'s state from ``pactl list sinks`` in the C locale; None when absent or unreadable."""
    for block in re.split(r"^Sink #\d+\s*$", text, flags=re.MULTILINE)[1:]:
        fields = {}
        for line in block.splitlines():
            key, sep, value = line.strip().partition(":")
            if sep and key in ("Name", "Mute", "Volume") and key not in fields:
                fields[key] = value.strip() if key != "Volume" else line
        if fields.get("Name") != sink:
            continue
        values = [int(v) for v in _VOLUME_RAW.findall(fields.get("Volume", ""))]
        if not values or fields.get("Mute") not in ("yes", "no"):
            return None
        return SinkState(fields["Mute"] == "yes", _raw_to_pct(values))
    return None


def parse_default_sink(info_text: str) -> str | None:
    """The default sink's name from ``pactl info``."""
    match = re.search(r"^Default Sink:\s*(\S+)\s*$", info_text, flags=re.MULTILINE)
    return match.group(1) if match else None


def _raw_to_pct(values: list[int]) -> float:
    return 100.0 * sum(values) / len(values) / 65536  # PA_VOLUME_NORM is 100 %


# -- putting the volume back (pure) -------------------------------------------------------------

def restore_action(state: SinkState, own_pct: float, rise_db_per_s: float,
                   dt_s: float) -> tuple[float | None, bool]:
    """(volume to set or None, whether to lift the mute) to bring the sink back to ``own_pct``.

    Volumes are on PulseAudio's cubic scale (as the rest of soundscape): 40 % is -23.9 dB, so a
    rise from 40 % to 100 % at 20 dB/s takes 1.2 s. A muted sink is first brought down to the
    silent floor, unmuted there, and raised from it step by step.
    """
    if state.muted:
        return (FLOOR_PCT if state.volume_pct > FLOOR_PCT else None), True
    if abs(state.volume_pct - own_pct) <= VOLUME_TOLERANCE_PCT:
        return None, False
    if state.volume_pct > own_pct:
        return own_pct, False
    raised_db = level_to_db(state.volume_pct) + rise_db_per_s * min(max(dt_s, 0.0), MAX_STEP_S)
    raised_pct = 100.0 * 10 ** (raised_db / 60.0)
    # A step that ends within the tolerance of the volume ends on it: the next look would take
    # the sink for restored and leave it just short.
    return (own_pct if raised_pct >= own_pct - VOLUME_TOLERANCE_PCT else raised_pct), False


def peak_to_dbfs(peak: float) -> float:
    return max(SILENCE_DBFS, 20.0 * math.log10(peak)) if peak > 0 else SILENCE_DBFS


# -- the meter ----------------------------------------------------------------------------------

class PulseMeter:
    """A sink's peak, mute and volume, kept by background threads; ``take()`` only reads them.

    The recorder thread keeps the running peak of ``parec`` on the monitor; the events thread
    follows ``pactl subscribe``; the sink thread reads mute and volume when a sink changed (or now
    and then) and, when soundscape owns the sink, puts them back. A child that dies is started
    again at most once a second.
    """

    def __init__(self, sink: str | None = None, *, own_volume_pct: float | None = None,
                 rise_db_per_s: float = 20.0, env: dict | None = None):
        if own_volume_pct is not None and not 0 < own_volume_pct <= MAX_OWN_PCT:
            raise SoundscapeError(f"own_volume_pct must be above 0 and at most {MAX_OWN_PCT:g}, "
                                  f"not {own_volume_pct!r}")
        if not rise_db_per_s > 0:
            raise SoundscapeError(f"rise_db_per_s must be above 0, not {rise_db_per_s!r}")
        self._sink = sink
        self._own_pct = own_volume_pct
        self._rise_db_per_s = rise_db_per_s
        # The C locale: pactl's text output and its decimals are then the same everywhere.
        self._env = {**(os.environ if env is None else env), "LC_ALL": "C"}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._sink_known = threading.Event()  # set once the sink's name is known
        self._changed = threading.Event()  # a sink or the server changed: read them again
        self._subscribed = False  # a `pactl subscribe` is running
        self._threads: list[threading.Thread] = []
        self._procs: set[subprocess.Popen] = set()
        self._proc: subprocess.Popen | None = None  # the current parec
        self._json: bool | None = None  # whether pactl speaks --format=json (None: not asked yet)
        self._peak: float | None = None  # since the last take()
        self._last_block = (0.0, -math.inf)  # (peak, monotonic arrival) of the latest block
        self._state: SinkState | None = None

    def start(self) -> None:
        """Start the threads (the default sink is found by one of them); never blocks.

        A no-op when started or closed already.
        """
        if self._threads or self._stop.is_set():
            return
        self._threads = [threading.Thread(target=target, name=f"pulsemeter-{name}", daemon=True)
                         for name, target in (("record", self._record), ("sink", self._watch_sink),
                                              ("events", self._follow_events))]
        for thread in self._threads:
            thread.start()

    def take(self) -> Reading:
        """The peak since the last call, and the sink's switch and volume; never blocks or raises.

        When no block came in since the last call but one did less than STALE_S ago (a caller
        asking faster than blocks come), the latest block's peak is repeated.
        """
        with self._lock:
            peak, self._peak = self._peak, None
            state = self._state
            if peak is None and time.monotonic() - self._last_block[1] < STALE_S:
                peak = self._last_block[0]
        return Reading(None if peak is None else peak_to_dbfs(peak),
                       None if state is None else state.muted,
                       None if state is None else state.volume_pct)

    def close(self) -> None:
        """Stop the threads and the children; idempotent."""
        self._stop.set()
        self._changed.set()
        with self._lock:
            procs = list(self._procs)
        for proc in procs:
            _terminate(proc)  # its thread sees the end of its output and reaps it
        for thread in self._threads:
            thread.join(PACTL_TIMEOUT_S + 1.0)
        with self._lock:
            self._state, self._peak, self._last_block = None, None, (0.0, -math.inf)

    # -- the recorder thread --

    def _record(self) -> None:
        block_bytes = 4 * int(RATE_HZ * BLOCK_S)
        while not self._sink_known.wait(0.2):
            if self._stop.is_set():
                return
        sink, last_spawn = self._sink, -math.inf
        while not self._stop.wait(max(0.0, last_spawn + RESPAWN_S - time.monotonic())):
            last_spawn = time.monotonic()
            proc = self._spawn(
                ["parec", f"--device={sink}.monitor", "--raw", "--format=float32le",
                 f"--rate={RATE_HZ}", "--channels=1", f"--latency-msec={LATENCY_MS}",
                 "--client-name=soundscape-meter", "--stream-name=room meter"])
            if proc is None:
                continue
            self._proc = proc
            while len(data := _read(proc, block_bytes)) >= 4:  # whole blocks: one wake-up each
                samples = np.frombuffer(data[:len(data) - len(data) % 4], dtype="<f4")
                peak = float(np.nanmax(np.abs(samples), initial=0.0))
                with self._lock:
                    self._peak = peak if self._peak is None else max(self._peak, peak)
                    self._last_block = (peak, time.monotonic())
            self._reap(proc)

    # -- the events thread --

    def _follow_events(self) -> None:
        last_spawn = -math.inf
        while not self._stop.wait(max(0.0, last_spawn + RESPAWN_S - time.monotonic())):
            last_spawn = time.monotonic()
            proc = self._spawn(["pactl", "subscribe"])
            if proc is None:
                continue
            self._subscribed = True
            self._changed.set()  # whatever changed while nobody listened
            while line := _readline(proc):
                # "Event 'change' on sink #3"; "on server" when the default sink changes.
                if b" on sink #" in line or b" on server" in line:
                    self._changed.set()
            self._subscribed = False
            self._reap(proc)

    # -- the sink thread --

    def _watch_sink(self) -> None:
        last_step_s: float | None = None
        while not self._stop.is_set():
            self._changed.clear()  # what changes from here on is read next time
            if self._sink is None:  # found once: a later change of default moves no room
                self._sink = self._default_sink()
            if self._sink is not None:
                self._sink_known.set()
            state = self._query() if self._sink is not None else None
            with self._lock:
                self._state = state
            if state is not None and self._own_pct is not None:
                now = time.monotonic()
                dt_s = STEP_S if last_step_s is None else now - last_step_s
                volume_pct, unmute = restore_action(state, self._own_pct, self._rise_db_per_s,
                                                    dt_s)
                if volume_pct is not None:
                    self._pactl("set-sink-volume", self._sink, f"{volume_pct:.2f}%")
                if unmute:
                    self._pactl("set-sink-mute", self._sink, "0")
                last_step_s = now if volume_pct is not None or unmute else None
            if last_step_s is not None:
                self._stop.wait(STEP_S)  # rising: steps keep time, our own changes wake nobody
            else:
                self._changed.wait(IDLE_POLL_S if self._subscribed else POLL_S)

    def _query(self) -> SinkState | None:
        assert self._sink is not None
        if self._json is not False:
            out = self._pactl("--format=json", "list", "sinks")
            if out is not None:
                self._json = True
                try:
                    return parse_sinks_json(out, self._sink)
                except ValueError:
                    pass  # JSON that pactl got wrong: the text says the same
        out = self._pactl("list", "sinks")
        if out is not None and self._json is None:
            self._json = False  # pactl answers, but not in JSON: older than 16
        return None if out is None else parse_sinks_text(out, self._sink)

    def _default_sink(self) -> str | None:
        name = self._pactl("get-default-sink")
        if name and name.strip():
            return name.strip()
        info = self._pactl("info")
        return None if info is None else parse_default_sink(info)

    # -- children --

    def _pactl(self, *args: str) -> str | None:
        """pactl's output, or None when it failed, is missing or took too long."""
        try:
            done = subprocess.run(["pactl", *args], stdin=subprocess.DEVNULL,
                                  capture_output=True, text=True, env=self._env,
                                  timeout=PACTL_TIMEOUT_S, check=False)
        except (OSError, subprocess.SubprocessError, UnicodeDecodeError):
            return None
        return done.stdout if done.returncode == 0 else None

    def _spawn(self, args: list[str]) -> subprocess.Popen | None:
        """A long-lived child whose output is read, or None when it cannot run or we closed."""
        try:
            proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                    stderr=subprocess.DEVNULL, env=self._env)
        except OSError:
            return None
        with self._lock:
            stopped = self._stop.is_set()  # closed while starting: close() did not see this one
            if not stopped:
                self._procs.add(proc)
        if stopped:
            self._reap(proc)
            return None
        return proc

    def _reap(self, proc: subprocess.Popen) -> None:
        _terminate(proc)
        if proc.stdout is not None:
            proc.stdout.close()
        with self._lock:
            self._procs.discard(proc)


def _read(proc: subprocess.Popen, size: int) -> bytes:
    try:
        return proc.stdout.read(size) if proc.stdout else b""
    except (OSError, ValueError):
        return b""


def _readline(proc: subprocess.Popen) -> bytes:
    try:
        return proc.stdout.readline() if proc.stdout else b""
    except (OSError, ValueError):
        return b""


def _terminate(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(1.0)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()

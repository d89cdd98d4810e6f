"""Resilience test kit: position-coded tracks, level-rise checks, broken files, and a PulseAudio
daemon of a test's own that can be killed and brought back.

A position-coded track plays a different tone each second, so a recording says where in the file
the room was at any moment (to a window, and to ~10 ms at each segment edge). A private daemon is
needed to take the sound server away: killing the shared test server would break every other test.
"""

from __future__ import annotations

import math
import os
import signal
import struct
import subprocess
import time
import wave
from pathlib import Path

import numpy as np

from soundscape.testing.audio import CHANNELS, RATE, tone_amplitudes

SEGMENT_S = 1.0
# Segments meet where every tone crosses zero (whole seconds, whole-Hz tones): the waveform stays
# continuous, so there is no click, and the 50 ms level stays within 0.03 dB across an edge. A
# crossfaded edge between two tones 40 Hz apart beats, and moved the level by up to 0.7 dB.
SEGMENT_EDGE_S = 0.0
# A tone amplitude this high (-70 dBFS) is sound: a resume starts at -60 dB of a -6 dBFS tone;
# the few ms of a file's beginning libVLC may play before a seek lands stay below it.
HEARD = 3e-4


def segment_freqs(count: int = 20, base_hz: float = 400.0, step_hz: float = 40.0) -> list[float]:
    """Segment k's tone: multiples of 20 Hz, so 50 ms windows hold whole cycles of every one."""
    return [base_hz + step_hz * k for k in range(count)]


def write_position_track(path: Path, freqs: list[float], amplitude: float = 0.5,
                         segment_s: float = SEGMENT_S, edge_s: float = SEGMENT_EDGE_S) -> Path:
    """A WAV whose segment k (``segment_s`` long) is tone ``freqs[k]``; neighbours meet at a
    common zero crossing (``edge_s`` 0) or crossfade equal-power over ``edge_s``."""
    n = round(len(freqs) * segment_s * RATE)
    t = np.arange(n) / RATE
    signal_ = np.zeros(n)
    for k, f in enumerate(freqs):
        a, b = k * segment_s, (k + 1) * segment_s
        if edge_s <= 0:
            signal_ += ((t >= a) & (t < b)) * np.sin(2 * math.pi * f * t)
            continue
        # equal-power weight: sin rise over [a - e/2, a + e/2], cos fall over [b - e/2, b + e/2]
        rise = np.clip((t - (a - edge_s / 2)) / edge_s, 0, 1) if k else np.ones(n)
        fall = np.clip((t - (b - edge_s / 2)) / edge_s, 0, 1) if k < len(freqs) - 1 else np.zeros(n)
        weight = np.sin(rise * math.pi / 2) * np.cos(fall * math.pi / 2)
        signal_ += weight * np.sin(2 * math.pi * f * t)
    edge = int(0.005 * RATE)  # the file's own ends, as audiokit.write_tone
    ramp = 0.5 - 0.5 * np.cos(np.pi * np.arange(edge) / edge)
    signal_[:edge] *= ramp
    signal_[n - edge:] *= ramp[::-1]
    pcm = np.clip(np.round(amplitude * signal_ * 32767), -32768, 32767).astype("<i2")
    with wave.open(str(path), "wb") as w:
        w.setnchannels(CHANNELS)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes(np.repeat(pcm[:, None], CHANNELS, axis=1).tobytes())
    return Path(path)


class PositionReader:
    """Which segment of a position-coded track each window of a recording holds."""

    def __init__(self, samples: np.ndarray, freqs: list[float], window_s: float = 0.05,
                 hop_s: float = 0.01):
        self.freqs, self.window_s, self.hop_s = freqs, window_s, hop_s
        amps = tone_amplitudes(samples, freqs, window_s, hop_s=hop_s)
        self.matrix = np.stack([amps[f] for f in freqs])  # segments x windows
        self.loudest = self.matrix.max(axis=0)
        self.segment = self.matrix.argmax(axis=0)

    def centre_s(self, i: int) -> float:
        return i * self.hop_s + self.window_s / 2

    def heard(self, i: int) -> bool:
        return bool(self.loudest[i] > HEARD)

    def first_heard(self, from_s: float, sustain_s: float = 0.2) -> int | None:
        """The first window from ``from_s`` on that starts ``sustain_s`` of unbroken sound.

        Sound means a run, not a blip: under load libVLC may let a few ms of a file's very
        beginning through before a seek lands (docs/libvlc.md), at the bottom of the deck's fade-in
        (about -66 dBFS here, inaudible in a room). Taken for the resumed sound, that blip is
        segment 0 and the file position could not be read from it."""
        first = math.ceil(from_s / self.hop_s)
        heard = (self.loudest[first:] > HEARD).astype(int)
        n = max(1, round(sustain_s / self.hop_s))
        if len(heard) < n:
            return None
        runs = np.nonzero(np.convolve(heard, np.ones(n, dtype=int), "valid") == n)[0]
        return None if not len(runs) else int(runs[0] + first)

    def segments_from(self, i: int, seconds: float = 0.5) -> list[int]:
        """The segments heard window by window from ``i`` (for a failure's message)."""
        return [int(k) for k in self.segment[i:i + round(seconds / self.hop_s)]]

    def last_heard(self, before_s: float) -> int | None:
        last = int(before_s / self.hop_s)
        hits = np.nonzero(self.loudest[:last] > HEARD)[0]
        return None if not len(hits) else int(hits[-1])

    def edge_s(self, k: int, i: int, forward: bool, span: int = 300) -> float | None:
        """Recording time (window centre, interpolated) where segment k+1 overtakes segment k
        (file position k+1), the nearest to window ``i`` after it (``forward``) or before it."""
        lo, hi = (i, i + span) if forward else (i - span, i)
        lo, hi = max(1, lo), min(self.matrix.shape[1], hi)
        diff = self.matrix[k + 1, lo - 1:hi] - self.matrix[k, lo - 1:hi]
        heard = self.loudest[lo - 1:hi] > HEARD
        hits = np.nonzero((diff[1:] > 0) & (diff[:-1] <= 0) & heard[1:] & heard[:-1])[0]
        if not len(hits):
            return None
        j = hits[0] if forward else hits[-1]
        d0, d1 = diff[j], diff[j + 1]
        frac = 0.0 if d1 == d0 else -d0 / (d1 - d0)
        return self.centre_s(lo - 1 + j) + frac * self.hop_s

    def position_at(self, i: int, forward: bool) -> tuple[float, int] | None:
        """File position (s) heard at window ``i``, from the nearest segment edge after it
        (``forward``) or before it; and the segment heard at ``i``."""
        k = int(self.segment[i])
        edge_k = k if forward else k - 1
        if not 0 <= edge_k < len(self.freqs) - 1:
            return None
        at_s = self.edge_s(edge_k, i, forward)
        if at_s is None:
            return None
        return (edge_k + 1) * SEGMENT_S + (self.centre_s(i) - at_s), k


# ------------------------------------------------------------------ the level

def tone_dbfs(amplitude: float) -> float:
    """RMS of a sine of ``amplitude`` (fraction of full scale) in dBFS."""
    return 20 * math.log10(amplitude / math.sqrt(2))


def volume_step_db(dbfs: np.ndarray, full_dbfs: float) -> np.ndarray:
    """The level step of one VLC volume unit at ``dbfs`` for a source heard at ``full_dbfs`` at
    gain 1: VLC's volume is an integer v (amplitude (v/100)^3), 60*log10((v+1)/v) dB a step."""
    gain = 10 ** ((np.asarray(dbfs) - full_dbfs) / 20)
    v = np.maximum(1.0, np.round(100 * np.cbrt(np.minimum(gain, 1.0))))
    return 60 * np.log10((v + 1) / v)


def worst_rise(db: np.ndarray, window_s: float, rise_db_per_s: float, full_dbfs: float,
               floor_dbfs: float = -60.0) -> tuple[float, int | None]:
    """The largest excess (dB) of a window-to-window rise over the allowance (the slew limit's
    ramp plus one VLC volume step there, plus 0.1 dB of measurement), and the window index."""
    counted = (db[1:] > floor_dbfs) & (db[:-1] > floor_dbfs)
    if not counted.any():
        return -math.inf, None
    rises = np.diff(db)
    allowed = rise_db_per_s * window_s + volume_step_db(db[1:], full_dbfs) + 0.1
    excess = np.where(counted, rises - allowed, -math.inf)
    i = int(np.argmax(excess))
    return float(excess[i]), i + 1


# ------------------------------------------------------------------ broken files

def write_truncated_wav(path: Path, claimed_s: float, holds_s: float, freq_hz: float,
                        amplitude: float = 0.5) -> Path:
    """A WAV whose header claims ``claimed_s`` of audio but which holds only ``holds_s`` (a copy
    cut short): a tone, so what little of it plays is recognised."""
    n_claimed, n_held = int(claimed_s * RATE), int(holds_s * RATE)
    t = np.arange(n_held) / RATE
    pcm = np.round(amplitude * 32767 * np.sin(2 * math.pi * freq_hz * t)).astype("<i2")
    data = np.repeat(pcm[:, None], CHANNELS, axis=1).tobytes()
    block = CHANNELS * 2
    claimed_bytes = n_claimed * block
    header = (b"RIFF" + struct.pack("<I", 36 + claimed_bytes) + b"WAVE"
              + b"fmt " + struct.pack("<IHHIIHH", 16, 1, CHANNELS, RATE, RATE * block, block, 16)
              + b"data" + struct.pack("<I", claimed_bytes))
    Path(path).write_bytes(header + data)
    return Path(path)


# ------------------------------------------------------------------ a private sound server

PULSE_CONFIG = """load-module module-null-sink sink_name={sink} rate=44100
load-module module-native-protocol-unix auth-anonymous=1
set-default-sink {sink}
"""


def _alive(pid: int) -> bool:
    """True while ``pid`` runs (a zombie, killed but not yet reaped by init, is gone)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


class PrivatePulse:
    """A PulseAudio daemon of one test's own (as scripts/pulse-start.sh, in ``runtime_dir``), with a
    null sink named ``sink`` and a silent keep-alive stream; ``kill()`` takes it away at once
    (SIGKILL, like a crash) and ``start()`` brings the same server back.

    The player under test reaches it through ``door`` (a symlink to the socket's folder, given as
    PULSE_SERVER), the test's own tools through the socket itself. Closing the door while the
    server restarts lets the test start recording before the player can see the server again:
    to the player the server comes back when the door opens, as a socket that answers again.
    """

    def __init__(self, runtime_dir: Path, sink: str):
        self.dir = Path(runtime_dir)
        self.sink = sink
        self.dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        (self.dir / "client.conf").write_text("autospawn = no\n")
        (self.dir / "pulse.pa").write_text(PULSE_CONFIG.format(sink=sink))
        self.socket = self.dir / "pulse" / "native"
        self.door = self.dir / "door"
        self.player_server = f"unix:{self.door / 'native'}"
        self.env = {**os.environ, "XDG_RUNTIME_DIR": str(self.dir),
                    "PULSE_SERVER": f"unix:{self.socket}",
                    "PULSE_CLIENTCONFIG": str(self.dir / "client.conf")}
        self.pid: int | None = None
        self._keepalive: subprocess.Popen | None = None

    def open_door(self) -> None:
        self.door.symlink_to(self.dir / "pulse", target_is_directory=True)

    def close_door(self) -> None:
        self.door.unlink(missing_ok=True)

    def answers(self) -> bool:
        try:
            return subprocess.run(["pactl", "info"], env=self.env, capture_output=True,
                                  timeout=5, check=False).returncode == 0
        except subprocess.TimeoutExpired:
            return False

    def start(self, timeout_s: float = 15.0) -> None:
        for stale in (self.dir / "pulse" / "pid", self.socket):
            stale.unlink(missing_ok=True)
        log = self.dir / "pulseaudio.log"
        subprocess.run(["pulseaudio", "--daemonize=yes", "--exit-idle-time=-1", "-n", "-F",
                        str(self.dir / "pulse.pa"), f"--log-target=file:{log}"],
                       env=self.env, stdin=subprocess.DEVNULL, capture_output=True, timeout=timeout_s,
                       check=False)
        deadline = time.monotonic() + timeout_s
        while not self.answers():
            if time.monotonic() > deadline:
                tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
                raise RuntimeError(f"the private PulseAudio did not answer in {timeout_s} s: {tail}")
            time.sleep(0.05)
        self.pid = int((self.dir / "pulse" / "pid").read_text().strip())
        self._keepalive = subprocess.Popen(
            ["pacat", "--raw", f"--device={self.sink}", "--format=s16le", "--rate=44100",
             "--channels=2", "--client-name=soundscape-e2e-keepalive", "/dev/zero"],
            env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        while "soundscape-e2e-keepalive" not in subprocess.run(
                ["pactl", "list", "sink-inputs"], env=self.env, capture_output=True, text=True,
                timeout=5, check=False).stdout:
            if time.monotonic() > deadline:
                raise RuntimeError("the keep-alive stream did not start on the private PulseAudio")
            time.sleep(0.05)

    def kill(self) -> None:
        """SIGKILL the daemon (a crash: no goodbye to its clients) and reap the keep-alive."""
        if self.pid is not None:
            try:
                os.kill(self.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            deadline = time.monotonic() + 5
            while _alive(self.pid) and time.monotonic() < deadline:
                time.sleep(0.01)
            self.pid = None
        if self._keepalive is not None:
            try:
                self._keepalive.wait(5)
            except subprocess.TimeoutExpired:
                self._keepalive.kill()
                self._keepalive.wait()
            self._keepalive = None

    def close(self) -> None:
        if self._keepalive is not None:
            self._keepalive.terminate()
        self.kill()

"""The audio kit of the tests and benchmarks: write test audio, record a null sink, measure it.

Test audio is written here (tones, noise, silence, any samples as WAV) so that every test and
bench makes its files the same way. Playback is judged by what reaches a null sink, not by what
libVLC reports, because the room hears the sink. Each track gets its own tone so that overlapping
decks can be told apart: the amplitude of each tone is measured per window with a single-bin DFT
over whole cycles (50 ms windows hold whole cycles of any multiple of 20 Hz), which is exact for a
steady tone and free of leakage.
"""

from __future__ import annotations

import os
import subprocess
import threading
import time
import wave
from contextlib import contextmanager
from pathlib import Path

import numpy as np

RATE = 44100
CHANNELS = 2
SILENCE_DBFS = -120.0  # what an all-zero window measures as, instead of -inf
EDGE_S = 0.005  # raised-cosine edges on test tones so they start and stop without a click
# Timing margins of the e2e tests, from measured jitter (see docs/libvlc.md, "Test margins"):
AUDIBLE_WITHIN_S = 0.15  # a deck action (play, pause, a gain) is heard on the sink within this
ALIGNMENT_S = 0.05  # recording time vs monotonic time: a window keeps this far from an action


def pulse_env(**extra: str) -> dict[str, str]:
    """The environment for PulseAudio clients: the test server lives in its own runtime dir."""
    env = dict(os.environ)
    env.setdefault("XDG_RUNTIME_DIR", "/tmp/soundscape-pulse")
    env.update(extra)
    return env


@contextmanager
def null_sink(name: str, settle_s: float = 0.0):
    """A null sink of the caller's own on the test server, kept running by a silent stream (an
    idle null sink delivers its monitor in bursts, which ruins timing), unloaded afterwards.

    Other tests playing on ``room`` at the same time are never recorded from it; the product is
    routed to it with its own ``device`` option.
    """
    env = pulse_env()
    loaded = subprocess.run(["pactl", "load-module", "module-null-sink", f"sink_name={name}",
                             "rate=44100"], env=env, capture_output=True, text=True, timeout=10)
    if loaded.returncode != 0:
        raise RuntimeError(f"cannot add null sink {name}: {loaded.stderr.strip()}")
    keepalive = subprocess.Popen(
        ["pacat", "--raw", f"--device={name}", "--format=s16le", "--rate=44100", "--channels=2",
         f"--client-name={name}-keepalive", "/dev/zero"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        time.sleep(settle_s)
        yield name
    finally:
        keepalive.terminate()
        keepalive.wait(5)
        subprocess.run(["pactl", "unload-module", loaded.stdout.strip()], env=env,
                       capture_output=True, timeout=10)


def write_wav(path: Path | str, signal: np.ndarray, rate: int = RATE,
              channels: int = CHANNELS) -> Path:
    """Write ``signal`` (floats, full scale 1.0; one channel, copied to each of ``channels``, or
    frames x channels) as a 16-bit PCM WAV. Makes the folder if needed."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    pcm = np.clip(np.round(np.asarray(signal, dtype=np.float64) * 32767), -32768, 32767)
    pcm = pcm.astype("<i2")
    if pcm.ndim == 1:
        pcm = np.repeat(pcm[:, None], channels, axis=1)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(pcm.shape[1])
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(pcm.tobytes())
    return path


def soft_edges(signal: np.ndarray, rate: int, edge_s: float = EDGE_S) -> np.ndarray:
    """Raised-cosine fades of ``edge_s`` at both ends (in place), so the file never clicks."""
    n = len(signal)
    edge = min(int(edge_s * rate), n // 2)
    if edge > 0:
        ramp = 0.5 - 0.5 * np.cos(np.pi * np.arange(edge) / edge)
        signal[:edge] *= ramp
        signal[n - edge:] *= ramp[::-1]
    return signal


def write_tone(path: Path | str, freq_hz: float, duration_s: float, amplitude: float = 0.5,
               rate: int = RATE, channels: int = CHANNELS) -> Path:
    """A 16-bit WAV sine of ``amplitude`` (fraction of full scale) with 5 ms edges."""
    t = np.arange(int(round(duration_s * rate))) / rate
    return write_wav(path, soft_edges(amplitude * np.sin(2 * np.pi * freq_hz * t), rate), rate,
                     channels)


def write_silence(path: Path | str, duration_s: float, rate: int = 8000) -> Path:
    """A mono WAV of digital silence."""
    return write_wav(path, np.zeros(int(round(duration_s * rate))), rate, channels=1)


def write_noise(path: Path | str, duration_s: float, rms: float = 0.1, seed: int = 7,
                rate: int = RATE) -> Path:
    """A stereo WAV of white noise (an ambience bed), with 5 ms edges.

    Unlike a tone, two overlapping copies at an offset are uncorrelated, so an equal-power loop
    crossfade keeps the power (two copies of a tone could cancel and fake a gap)."""
    n = int(round(duration_s * rate))
    signal = np.clip(np.random.default_rng(seed).normal(0.0, rms, n), -0.99, 0.99)
    return write_wav(path, soft_edges(signal, rate), rate)


class Recorder:
    """Records ``room.monitor`` with parec while the ``with`` block runs.

    After the block, ``samples`` is a float array (frames x 2, full scale 1.0) and ``start_s`` the
    monotonic time of its first frame, so tests can line up deck calls with what was heard. The
    start is estimated from chunk arrivals: frame i cannot arrive before ``start_s + i / rate``, so
    the earliest bound over all chunks is the closest to the truth.
    """

    def __init__(self, device: str = "room.monitor", rate: int = RATE,
                 start_timeout_s: float = 3.0):
        self.device = device
        self.rate = rate
        self.start_timeout_s = start_timeout_s
        self.samples = np.zeros((0, CHANNELS))
        self.start_s = 0.0
        self._chunks: list[bytes] = []
        self._bound_s = float("inf")
        self._frames = 0
        self._first = threading.Event()
        self._proc: subprocess.Popen | None = None
        self._thread: threading.Thread | None = None

    def __enter__(self) -> "Recorder":
        self._proc = subprocess.Popen(
            ["parec", f"--device={self.device}", "--format=s16le", f"--rate={self.rate}",
             f"--channels={CHANNELS}", "--latency-msec=10", "--raw"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=pulse_env())
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()
        if not self._first.wait(self.start_timeout_s):
            self._finish()
            raise RuntimeError(f"parec delivered nothing from {self.device} within "
                               f"{self.start_timeout_s} s")
        return self

    def __exit__(self, *exc) -> None:
        self._finish()

    def now_frame(self) -> int:
        """The frame index that corresponds to the current monotonic time."""
        return int(round((time.monotonic() - self.start_s) * self.rate))

    def frame_at(self, t_s: float) -> int:
        """The frame index recorded at monotonic time ``t_s``."""
        return int(round((t_s - self.start_s) * self.rate))

    def _read(self) -> None:
        frame_bytes = 2 * CHANNELS
        pending = b""
        assert self._proc and self._proc.stdout
        fd = self._proc.stdout.fileno()
        while True:
            data = os.read(fd, 4096)
            if not data:
                break
            arrived = time.monotonic()
            pending += data
            whole = len(pending) - len(pending) % frame_bytes
            if not whole:
                continue
            self._chunks.append(pending[:whole])
            pending = pending[whole:]
            self._frames += whole // frame_bytes
            self._bound_s = min(self._bound_s, arrived - self._frames / self.rate)
            self.start_s = self._bound_s
            self._first.set()

    def _finish(self) -> None:
        if self._proc and self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(2)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
        if self._thread:
            self._thread.join(2)
        raw = b"".join(self._chunks)
        pcm = np.frombuffer(raw, dtype="<i2").reshape(-1, CHANNELS)
        self.samples = pcm.astype(np.float64) / 32768.0


def _mono(samples: np.ndarray) -> np.ndarray:
    samples = np.asarray(samples, dtype=np.float64)
    return np.ascontiguousarray(samples.mean(axis=1) if samples.ndim == 2 else samples)


def _windows(samples: np.ndarray, window_s: float, rate: int,
             hop_s: float | None = None) -> np.ndarray:
    """Windows of ``window_s`` starting every ``hop_s`` (default: back to back)."""
    mono = _mono(samples)
    size = int(round(window_s * rate))
    hop = int(round((hop_s or window_s) * rate))
    if abs(hop - (hop_s or window_s) * rate) > 1e-6 or abs(size - window_s * rate) > 1e-6:
        # Window times are reported as i * hop_s: a rounded hop would drift (5 ms is 220.5 frames).
        raise ValueError(f"window {window_s} s and hop {hop_s} s must be whole frames at {rate} Hz")
    if len(mono) < size:
        return np.zeros((0, size))
    count = (len(mono) - size) // hop + 1
    return np.lib.stride_tricks.as_strided(
        mono, shape=(count, size), strides=(mono.strides[0] * hop, mono.strides[0]))


def tone_amplitudes(samples: np.ndarray, freqs: list[float], window_s: float = 0.05,
                    rate: int = RATE, hop_s: float | None = None) -> dict[float, np.ndarray]:
    """Per-window amplitude (fraction of full scale) of each tone in ``freqs``.

    A single DFT bin per window: 2/N * |sum x[n] exp(-2 pi i f n / rate)|. Exact when the window
    holds whole cycles of every tone (50 ms and multiples of 20 Hz). With ``hop_s`` shorter than
    the window, windows overlap: finer timing for latency measurements, same exactness.
    """
    win = _windows(samples, window_s, rate, hop_s)
    n = win.shape[1]
    result = {}
    for f in freqs:
        basis = np.exp(-2j * np.pi * f * np.arange(n) / rate)
        result[f] = 2.0 / n * np.abs(win @ basis)
    return result


def rms_dbfs_windows(samples: np.ndarray, window_s: float, rate: int = RATE) -> np.ndarray:
    """Per-window RMS level in dBFS (full scale 1.0: a full-scale sine reads -3.01 dBFS)."""
    win = _windows(samples, window_s, rate)
    rms = np.sqrt(np.mean(win**2, axis=1))
    with np.errstate(divide="ignore"):
        db = 20 * np.log10(rms)
    return np.maximum(db, SILENCE_DBFS)


def longest_quiet_s(samples: np.ndarray, threshold_dbfs: float = -50.0, window_s: float = 0.02,
                    rate: int = RATE) -> float:
    """The longest run of consecutive windows quieter than ``threshold_dbfs``, in seconds."""
    longest = run = 0
    for quiet in rms_dbfs_windows(samples, window_s, rate) < threshold_dbfs:
        run = run + 1 if quiet else 0
        longest = max(longest, run)
    return longest * window_s


def first_window_where(values: np.ndarray, predicate, hop_s: float = 0.05,
                       from_s: float = 0.0) -> float | None:
    """Start (s into the recording) of the first window from ``from_s`` on matching predicate."""
    values = np.asarray(values)
    first = max(0, int(np.ceil(from_s / hop_s - 1e-9)))
    hits = np.nonzero(predicate(values[first:]))[0]
    return float((hits[0] + first) * hop_s) if len(hits) else None

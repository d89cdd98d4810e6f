"""Pure analysis of recordings for the benchmarks: tone envelopes, change onsets, gaps, steps.

No I/O and no timing here, so every figure's arithmetic is tested on synthetic signals
(tests/test_bench_smoke.py).
"""

from __future__ import annotations

import numpy as np

RATE = 44100
FLOOR = 1e-6  # amplitudes below this count as silence when comparing in dB


def mono(samples: np.ndarray) -> np.ndarray:
    samples = np.asarray(samples, dtype=np.float64)
    return samples.mean(axis=1) if samples.ndim == 2 else samples


def tone_envelope(samples: np.ndarray, freq_hz: float, window_s: float = 0.01,
                  hop_frames: int = 44, rate: int = RATE) -> tuple[np.ndarray, float]:
    """Amplitude (fraction of full scale) of one tone in sliding windows, and the hop in seconds.

    A single DFT bin per window, computed for every hop with a running sum; exact for a steady
    tone when the window holds whole cycles (10 ms: multiples of 100 Hz).
    """
    x = mono(samples)
    size = int(round(window_s * rate))
    if len(x) < size:
        return np.zeros(0), hop_frames / rate
    z = x * np.exp(-2j * np.pi * freq_hz * np.arange(len(x)) / rate)
    csum = np.concatenate(([0], np.cumsum(z)))
    starts = np.arange(0, len(x) - size + 1, hop_frames)
    return 2.0 / size * np.abs(csum[starts + size] - csum[starts]), hop_frames / rate


def change_latency_s(env: np.ndarray, hop_s: float, window_s: float, request_s: float,
                     direction: int, threshold_db: float = 1.0, search_s: float = 2.0,
                     reference_s: float = 0.1) -> float | None:
    """Seconds from ``request_s`` (into the recording) to the END of the first window whose
    amplitude moved more than ``threshold_db`` from the level before the request, in
    ``direction`` (-1 down, +1 up). None when nothing changed within ``search_s``.

    The reference is the median of the windows that end in the ``reference_s`` before the
    request. Windows are searched from those starting one window before the request (so a change
    right at the request can be found) to ``search_s`` after it.
    """
    ref_lo = int(np.ceil((request_s - reference_s - window_s) / hop_s))
    ref_hi = int(np.floor((request_s - window_s) / hop_s))
    if ref_lo < 0 or ref_hi <= ref_lo:
        return None
    reference = float(np.median(env[ref_lo:ref_hi + 1]))
    if reference <= FLOOR:
        return None
    first = max(ref_hi + 1, 0)
    last = min(len(env), int((request_s + search_s) / hop_s))
    with np.errstate(divide="ignore"):
        delta_db = 20 * np.log10(np.maximum(env[first:last], FLOOR) / reference)
    hits = np.nonzero(delta_db * direction > threshold_db)[0]
    if not len(hits):
        return None
    return max(0.0, (first + hits[0]) * hop_s + window_s - request_s)


def longest_quiet_s(samples: np.ndarray, threshold_dbfs: float = -50.0, window_s: float = 0.01,
                    rate: int = RATE) -> float:
    """Longest stretch covered by ``window_s`` windows (one starting at every frame) whose RMS is
    below ``threshold_dbfs``; 0 when no window is that quiet.

    Sliding by one frame finds a hole that straddles two back-to-back windows.
    """
    x = mono(samples)
    size = int(round(window_s * rate))
    if len(x) < size:
        return 0.0
    power = np.concatenate(([0.0], np.cumsum(x ** 2)))
    quiet = (power[size:] - power[:-size]) / size < 10 ** (threshold_dbfs / 10)
    if not quiet.any():
        return 0.0
    edges = np.diff(np.concatenate(([0], quiet.astype(np.int8), [0])))
    runs = np.nonzero(edges == -1)[0] - np.nonzero(edges == 1)[0]
    return float((runs.max() - 1 + size) / rate)


def max_error(measured: np.ndarray, intended: np.ndarray) -> float:
    """Largest absolute difference between two envelopes (fraction of full scale)."""
    n = min(len(measured), len(intended))
    return float(np.max(np.abs(np.asarray(measured[:n]) - np.asarray(intended[:n])))) if n else 0.0


def largest_step_db(env: np.ndarray, floor: float = 1e-3) -> float:
    """Largest change in dB between consecutive envelope values, where both are above ``floor``
    (below it, a ratio of two near-silences means nothing)."""
    env = np.asarray(env, dtype=float)
    a, b = env[:-1], env[1:]
    ok = (a > floor) & (b > floor)
    if not ok.any():
        return 0.0
    return float(np.max(np.abs(20 * np.log10(b[ok] / a[ok]))))


def step_error_db(env: np.ndarray, ideal: np.ndarray, floor: float,
                  steeper_than_db: float = float("inf")) -> float:
    """Largest difference in dB between a measured step (consecutive envelope values) and the
    ideal curve's step sampled the same way, where all four values are above ``floor`` and the
    ideal step is at most ``steeper_than_db``."""
    n = min(len(env), len(ideal))
    env, ideal = np.asarray(env[:n], dtype=float), np.asarray(ideal[:n], dtype=float)
    ok = (env[:-1] > floor) & (env[1:] > floor) & (ideal[:-1] > floor) & (ideal[1:] > floor)
    if not ok.any():
        return 0.0
    measured = 20 * np.log10(env[1:][ok] / env[:-1][ok])
    wanted = 20 * np.log10(ideal[1:][ok] / ideal[:-1][ok])
    gentle = np.abs(wanted) <= steeper_than_db
    if not gentle.any():
        return 0.0
    return float(np.max(np.abs(measured - wanted)[gentle]))


def onset_s(env: np.ndarray, hop_s: float, threshold: float, from_s: float = 0.0) -> float | None:
    """Time (window start) of the first window from ``from_s`` on above ``threshold``."""
    first = max(0, int(np.ceil(from_s / hop_s - 1e-9)))
    hits = np.nonzero(env[first:] > threshold)[0]
    return None if not len(hits) else float((hits[0] + first) * hop_s)

"""Analysing one file: its decoded length, integrated loudness (EBU R128 / ITU-R BS.1770-4), true
peak and cue points, all from one decode (PyAV: library/decode.py).

Files are decoded in blocks, so memory stays bounded for hour-long ambience beds: the K-weighting
filters (pyloudnorm's, at the file's own rate) run with their state carried from block to block,
each 100 ms contributes one energy sum, and the BS.1770 gating over 400 ms blocks (75 % overlap)
runs on those sums at the end: 12,000 numbers for a 20-minute track instead of 100 million samples.
The same sums give the cue points (loudness/cues.py).
"""

from __future__ import annotations

import functools
import math
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from soundscape.library.decode import BLOCK_FRAMES, DecodeError, open_decoding
from soundscape.loudness.cues import Cues, find_cues

# BS.1770-4 channel weights in WAV/SMPTE order; mono counts twice (see _channel_weights).
_WEIGHTS = {2: (1.0, 1.0), 3: (1.0, 1.0, 1.0), 4: (1.0, 1.0, 1.41, 1.41),
            5: (1.0, 1.0, 1.0, 1.41, 1.41), 6: (1.0, 1.0, 1.0, 0.0, 1.41, 1.41)}
_ABSOLUTE_GATE_LUFS = -70.0
_RELATIVE_GATE_LU = -10.0
# pyloudnorm's "DeMan" filters are BS.1770's own K-weighting (its 48 kHz coefficients exactly,
# derived for other rates); its "K-weighting" class approximates them and reads 0.035 LU low.
# Read through Meter._filters (pyloudnorm 0.2); the tests compare against Meter itself.
FILTER = "DeMan"
_OVERSAMPLE = 4
_TP_CONTEXT = 32  # input frames either side a 4x interpolated sample depends on (filter: 10)


@dataclass(frozen=True)
class Measurement:
    """What decoding one file found: its true length, loudness and cue points.

    ``error`` says why there are no numbers (a file that does not decode, or is silent).
    """

    lufs: float | None
    true_peak_dbtp: float | None
    error: str | None = None
    duration_s: float | None = None  # the decoded stream's length (not the header's guess)
    cue_in_s: float | None = None  # audible start (loudness/cues.py)
    cue_out_s: float | None = None  # audible end
    fade_s: float = 0.0  # its own fade-out, ending at cue_out_s
    quiet: tuple[tuple[float, float], ...] = ()  # silent spans inside it (a hidden track)
    stopped: str | None = None  # decoding stopped before the end of the file: why

    @property
    def cues(self) -> Cues | None:
        if self.cue_in_s is None or self.cue_out_s is None:
            return None
        return Cues(self.cue_in_s, self.cue_out_s, self.fade_s, self.quiet)


class MeasureError(Exception):
    """A file that cannot be measured; the message is the reason shown to the user."""


def _channel_weights(channels: int, dual_mono: bool = True) -> np.ndarray:
    """BS.1770 weights per channel.

    A mono file is measured as dual mono (weight 2, i.e. +3.01 dB over BS.1770's single channel):
    it is played on both speakers of the room, so it is heard as loud as a stereo file carrying
    the same signal in both channels, and must be normalised like one.
    """
    if channels == 1:
        return np.array([2.0 if dual_mono else 1.0])
    if channels not in _WEIGHTS:  # 7.1 and beyond: BS.1770-4 weights only up to 5.1 here
        return np.ones(channels)
    return np.array(_WEIGHTS[channels])


class GatedLoudness:
    """Integrated loudness fed block by block: K-weighting, 100 ms energies, gating at the end."""

    def __init__(self, rate: int, channels: int, dual_mono: bool = True):
        import pyloudnorm

        self.rate = int(rate)
        self.weights = _channel_weights(channels, dual_mono)
        sections = []
        for stage in pyloudnorm.Meter(self.rate, FILTER)._filters.values():
            b = np.asarray(stage.b, dtype=float) * stage.passband_gain
            a = np.asarray(stage.a, dtype=float)
            sections.append(np.concatenate([b / a[0], a / a[0]]))
        self.sos = np.array(sections)
        self.zi = np.zeros((len(self.sos), 2, channels))
        self.sums: list[float] = []  # weighted energy of each complete 100 ms part
        self.counts: list[int] = []
        self.pending = 0.0
        self.pos = 0  # frames seen
        self.next_end = self.rate // 10  # frame at which the current 100 ms part ends

    def add(self, block: np.ndarray) -> None:
        from scipy.signal import sosfilt

        y, self.zi = sosfilt(self.sos, block.astype(np.float64), axis=0, zi=self.zi)
        power = (y * y) @ self.weights
        i, n = 0, len(power)
        while self.next_end - self.pos <= n - i:
            need = self.next_end - self.pos
            self.pending += float(power[i:i + need].sum())
            start = (len(self.sums) * self.rate) // 10
            self.sums.append(self.pending)
            self.counts.append(self.next_end - start)
            self.pending, self.pos, i = 0.0, self.next_end, i + need
            self.next_end = ((len(self.sums) + 1) * self.rate) // 10
        self.pending += float(power[i:].sum())
        self.pos += n - i

    def lufs(self) -> float:
        """Gated integrated loudness; -inf when every block is below the absolute gate."""
        if len(self.sums) < 4:
            raise MeasureError("shorter than one 400 ms measuring block")
        sums = np.concatenate([[0.0], np.cumsum(self.sums)])
        counts = np.concatenate([[0], np.cumsum(self.counts)])
        z = (sums[4:] - sums[:-4]) / (counts[4:] - counts[:-4])  # mean square of each 400 ms block
        with np.errstate(divide="ignore"):
            block_lufs = -0.691 + 10.0 * np.log10(z)
        loud = z[block_lufs > _ABSOLUTE_GATE_LUFS]
        if not len(loud):
            return -math.inf
        relative_gate = -0.691 + 10.0 * math.log10(loud.mean()) + _RELATIVE_GATE_LU
        gated = z[(block_lufs > _ABSOLUTE_GATE_LUFS) & (block_lufs > relative_gate)]
        return -0.691 + 10.0 * math.log10(gated.mean())


@functools.cache
def _tp_gain_bound() -> float:
    """The largest gain of any phase of resample_poly's 4x interpolation filter (sum of |taps|)."""
    from scipy.signal import firwin

    half_len = 10 * _OVERSAMPLE  # resample_poly's own filter design
    taps = firwin(2 * half_len + 1, 1.0 / _OVERSAMPLE, window=("kaiser", 5.0)) * _OVERSAMPLE
    return max(float(np.abs(taps[phase::_OVERSAMPLE]).sum()) for phase in range(_OVERSAMPLE))


class TruePeak:
    """BS.1770-4 Annex 2 true peak fed block by block: 4x oversampling, the largest magnitude.

    Each block is interpolated with a little of the audio before and after it, so the result is
    the same as interpolating the whole file at once.
    """

    def __init__(self):
        self.peak = 0.0
        self.context: np.ndarray | None = None  # frames already measured, kept as context
        self.held: np.ndarray | None = None  # frames waiting for the audio after them

    def _measure(self, segment: np.ndarray, start: int, stop: int) -> None:
        from scipy.signal import resample_poly

        if stop <= start:
            return
        # No interpolated sample exceeds the largest input sample near it by more than the
        # filter's gain bound: a span whose samples cannot beat the peak found so far is skipped
        # (most of a track, once its loudest moment has passed; analysis runs ~2x faster).
        near = np.abs(segment[max(0, start - _TP_CONTEXT):stop + _TP_CONTEXT]).max()
        if near * _tp_gain_bound() <= self.peak:
            return
        up = resample_poly(segment, _OVERSAMPLE, 1, axis=0)
        part = up[_OVERSAMPLE * start:_OVERSAMPLE * stop]
        self.peak = max(self.peak, float(np.abs(part).max()),
                        float(np.abs(segment[start:stop]).max()))

    def add(self, block: np.ndarray) -> None:
        block = block.astype(np.float64)
        parts = [p for p in (self.context, self.held, block) if p is not None]
        segment = np.concatenate(parts) if len(parts) > 1 else block
        start = 0 if self.context is None else len(self.context)
        if len(segment) - start < 2 * _TP_CONTEXT:
            self.held = segment[start:]
            return
        stop = len(segment) - _TP_CONTEXT
        self._measure(segment, start, stop)
        self.context = segment[stop - _TP_CONTEXT:stop]
        self.held = segment[stop:]

    def dbtp(self) -> float:
        if self.held is not None and len(self.held):
            start = 0 if self.context is None else len(self.context)
            segment = self.held if start == 0 else np.concatenate([self.context, self.held])
            self._measure(segment, start, len(segment))
            self.held = None
        return 20.0 * math.log10(self.peak) if self.peak > 0 else -math.inf


def measure_file(path: str | os.PathLike, block_frames: int = BLOCK_FRAMES) -> Measurement:
    """Decode one file and analyse it; a file that cannot be analysed says why (never raises)."""
    try:
        decoding = open_decoding(Path(path), block_frames)
        loudness = GatedLoudness(decoding.rate, decoding.channels)
        peak = TruePeak()
        for block in decoding.blocks:
            loudness.add(block)
            peak.add(block)
        duration_s = round(decoding.decoded_s, 3)
        if decoding.frames == 0:
            raise MeasureError(f"nothing in it decodes ({decoding.stopped or 'no audio'})")
        if duration_s < 0.4:
            return Measurement(None, None, f"only {duration_s:.2f} s of audio in it",
                               duration_s=duration_s, stopped=decoding.stopped)
        lufs = loudness.lufs()
    except (MeasureError, DecodeError) as exc:
        return Measurement(None, None, str(exc))
    if lufs == -math.inf:
        return Measurement(None, None, "silent (every 400 ms block is below -70 LUFS)",
                           duration_s=duration_s, stopped=decoding.stopped)
    cues = find_cues(loudness.sums, loudness.counts, lufs, duration_s)
    return Measurement(round(lufs, 2), round(peak.dbtp(), 2), None, duration_s, cues.start_s,
                       cues.end_s, cues.fade_s, cues.quiet, decoding.stopped)

"""Cue points: where a track's sound begins and ends, and where its own fade-out begins.

Real albums start with silence (pregaps, room tone before the first note), end in long fades and
silent tails, and hide tracks after a minute of nothing. The room should hear none of that
silence: a track starts at its audible start and hands over at its audible end. The points come
from the same decode that measures loudness: the K-weighted energy of every 100 ms of the file
(``GatedLoudness.sums``), judged against the track's own integrated loudness, so a quiet piano
piece and a loud drone are cued alike.

Thresholds (LU below the track's integrated loudness), from Liquidsoap's autocue (cue-in about
-34 LU, cue-out about -42 LU, its crossfade starting about -7 LU down) and measured on the test
library (docs/analysis.md):

- audible start: the first 100 ms louder than ``CUE_IN_LU``, less ``PREROLL_S``;
- audible end: the end of the last 100 ms louder than ``CUE_OUT_LU``, plus ``POSTROLL_S``;
- own fade-out: from the end of the last second at least ``FADE_LU`` to the audible end;
- quiet spans: runs of at least ``QUIET_MIN_S`` between them quieter than ``CUE_OUT_LU``.

A cue point moves only when it saves at least ``MIN_MOVE_S``: a track is never seeked into for a
sliver of silence.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

PART_S = 0.1  # the energies come in 100 ms parts
CUE_IN_LU = -34.0
CUE_OUT_LU = -42.0
FADE_LU = -6.0  # below this (over a second) a track is fading out or ending quietly
FADE_WINDOW_PARTS = 10  # one second
PREROLL_S = 0.2  # start this much before the first loud part: never clip an onset
POSTROLL_S = 0.1
MIN_MOVE_S = 0.5
MIN_FADE_S = 1.0  # a shorter "fade" is just the last note ending
QUIET_MIN_S = 2.0  # silence this long inside a track is reported (a hidden track, a long pause)
ABSOLUTE_FLOOR_LUFS = -70.0  # BS.1770's absolute gate: below it is silence whatever the track


@dataclass(frozen=True)
class Cues:
    """Cue points in seconds from the start of the file."""

    start_s: float  # audible start (0.0: the file starts with sound)
    end_s: float  # audible end (the file's length: it ends with sound)
    fade_s: float  # length of its own fade-out, ending at end_s (0.0: none)
    quiet: tuple[tuple[float, float], ...] = ()  # silent spans between start_s and end_s


def part_loudness(sums, counts) -> np.ndarray:
    """The loudness (LUFS) of each 100 ms part; -inf for digital silence."""
    sums = np.asarray(sums, dtype=float)
    counts = np.maximum(np.asarray(counts, dtype=float), 1.0)
    with np.errstate(divide="ignore"):
        return -0.691 + 10.0 * np.log10(sums / counts)


def find_cues(sums, counts, integrated_lufs: float, duration_s: float) -> Cues:
    """The cue points of one file from its 100 ms energies and integrated loudness."""
    parts = part_loudness(sums, counts)
    if not len(parts) or not math.isfinite(integrated_lufs):
        return Cues(0.0, duration_s, 0.0)
    cue_in_floor = max(integrated_lufs + CUE_IN_LU, ABSOLUTE_FLOOR_LUFS)
    cue_out_floor = max(integrated_lufs + CUE_OUT_LU, ABSOLUTE_FLOOR_LUFS)
    loud_in = np.flatnonzero(parts > cue_in_floor)
    loud_out = np.flatnonzero(parts > cue_out_floor)
    if not len(loud_in) or not len(loud_out):
        return Cues(0.0, duration_s, 0.0)
    # Rounded to the millisecond before comparing: a rule must not depend on float noise.
    start_s = round(max(0.0, float(loud_in[0]) * PART_S - PREROLL_S), 3)
    if start_s < MIN_MOVE_S:
        start_s = 0.0
    last = int(loud_out[-1])
    end_s = round(min(duration_s, (last + 1) * PART_S + POSTROLL_S), 3)
    if round(duration_s - end_s, 3) < MIN_MOVE_S:
        end_s = duration_s
    return Cues(round(start_s, 3), round(end_s, 3), _fade_s(sums, counts, integrated_lufs, last,
                                                            start_s, end_s),
                _quiet_spans(parts, cue_out_floor, start_s, end_s))


def _fade_s(sums, counts, integrated_lufs: float, last: int, start_s: float,
            end_s: float) -> float:
    """How long the track fades out by itself before its audible end (0.0 when it does not)."""
    window = FADE_WINDOW_PARTS
    sums = np.asarray(sums[:last + 1], dtype=float)
    counts = np.asarray(counts[:last + 1], dtype=float)
    if len(sums) < window:
        return 0.0
    cum_s = np.concatenate([[0.0], np.cumsum(sums)])
    cum_c = np.concatenate([[0.0], np.cumsum(counts)])
    mean = (cum_s[window:] - cum_s[:-window]) / np.maximum(cum_c[window:] - cum_c[:-window], 1.0)
    with np.errstate(divide="ignore"):
        second = -0.691 + 10.0 * np.log10(mean)  # loudness of the second ending at each part
    loud = np.flatnonzero(second >= integrated_lufs + FADE_LU)
    if not len(loud):
        return 0.0
    fade_from_s = max(float(loud[-1] + window) * PART_S, start_s)  # end of the last loud second
    fade = round(end_s - fade_from_s, 3)
    return fade if fade >= MIN_FADE_S else 0.0


def _quiet_spans(parts: np.ndarray, floor: float, start_s: float,
                 end_s: float) -> tuple[tuple[float, float], ...]:
    """Runs of parts quieter than ``floor`` lasting QUIET_MIN_S or more, inside the cue points."""
    quiet = parts <= floor
    spans = []
    k, n = 0, len(parts)
    first, last = int(start_s / PART_S), min(n, int(math.ceil(end_s / PART_S)))
    k = first
    while k < last:
        if not quiet[k]:
            k += 1
            continue
        j = k
        while j < last and quiet[j]:
            j += 1
        if (j - k) * PART_S >= QUIET_MIN_S:
            spans.append((round(k * PART_S, 3), round(j * PART_S, 3)))
        k = j
    return tuple(spans[:20])

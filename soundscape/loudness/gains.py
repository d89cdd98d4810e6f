"""The gains that even loudness out: each track brought to a target, its peaks kept under a ceiling."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Iterable

from soundscape.config.values import MAX_GAIN_DB, MIN_GAIN_DB  # the range a track's gain may take
from soundscape.loudness.cache import cached, measure

TARGET_LUFS = -23.0  # EBU R128 programme target
PEAK_CEILING_DBTP = -1.0  # EBU R128 maximum true peak


def normalisation_gain_db(lufs: float, true_peak_dbtp: float, target_lufs: float = TARGET_LUFS,
                          peak_ceiling_dbtp: float = PEAK_CEILING_DBTP) -> float:
    """The gain bringing a track to ``target_lufs``, lowered to keep its true peak under a ceiling.

    A quiet track with loud peaks is raised only as far as its peaks allow (it then plays quieter
    than the target rather than clipping). The result stays within a track gain's -30..+12 dB.
    """
    gain_db = min(target_lufs - lufs, peak_ceiling_dbtp - true_peak_dbtp)
    return max(MIN_GAIN_DB, min(MAX_GAIN_DB, gain_db))


def gains_for(paths: Iterable[str | os.PathLike], target_lufs: float = TARGET_LUFS,
              peak_ceiling_dbtp: float = PEAK_CEILING_DBTP,
              measure_missing: bool = True) -> dict[Path, float]:
    """Normalisation gain of each file in dB; 0.0 (played as it is) when it cannot be measured.

    Files the cache lacks are measured, unless ``measure_missing`` is False: then they get 0.0
    at once, for callers that cannot wait for a decode (a session starting).
    """
    found = measure(paths) if measure_missing else cached(paths)
    gains: dict[Path, float] = {}
    for path, m in found.items():
        if m is None or m.lufs is None or m.true_peak_dbtp is None:
            gains[path] = 0.0
        else:
            gains[path] = normalisation_gain_db(m.lufs, m.true_peak_dbtp, target_lufs,
                                                peak_ceiling_dbtp)
    return gains

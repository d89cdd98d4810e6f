"""Loudness: measuring tracks (BS.1770), caching what was measured, the gains, and jump warnings.

Tracks from different albums differ by 10 dB or more, and a participant lying in eyeshades can be
startled by a loud one. ``measure`` gives a file's integrated loudness and true peak, ``cache``
keeps them beside the tracks, ``gains`` turns them into a gain that brings each track to a common
target without pushing its peaks past a ceiling, and ``jumps`` warns where consecutive tracks of a
plan differ by more than 3 LU.
"""

from soundscape.loudness.cache import cached, cached_lufs, measure
from soundscape.loudness.gains import TARGET_LUFS, gains_for, normalisation_gain_db
from soundscape.loudness.jumps import loudness_problems
from soundscape.loudness.meter import Measurement, measure_file

__all__ = ["TARGET_LUFS", "Measurement", "cached", "cached_lufs", "gains_for",
           "loudness_problems", "measure", "measure_file", "normalisation_gain_db"]

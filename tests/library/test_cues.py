"""Cue points on synthetic 100 ms envelopes: every rule of loudness/cues.py, at its boundaries.

An envelope is built part by part from a chosen loudness: a part at L LUFS has the mean square
z = 10 ** ((L + 0.691) / 10) over its 4410 frames (100 ms at 44.1 kHz), so ``sums = z * counts``
is what ``GatedLoudness`` hands ``find_cues``; digital silence is a sum of 0.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from soundscape.loudness.cues import (
    ABSOLUTE_FLOOR_LUFS,
    CUE_IN_LU,
    CUE_OUT_LU,
    MIN_FADE_S,
    MIN_MOVE_S,
    PART_S,
    POSTROLL_S,
    PREROLL_S,
    QUIET_MIN_S,
    Cues,
    find_cues,
    part_loudness,
)

FRAMES = 4410  # one 100 ms part at 44.1 kHz
SILENCE = None  # digital silence: a part whose energy is exactly 0
MUSIC = -20.0  # LUFS of the music in most envelopes (and so the track's integrated loudness)
EPS = 1e-6


def flat(lufs: float | None, seconds: float) -> list[float | None]:
    return [lufs] * round(seconds / PART_S)


def ramp(from_lufs: float, to_lufs: float, seconds: float) -> list[float]:
    """A fall linear in dB, each part at the level of its midpoint."""
    n = round(seconds / PART_S)
    return [from_lufs + (to_lufs - from_lufs) * (k + 0.5) / n for k in range(n)]


def envelope(levels: list[float | None]) -> tuple[np.ndarray, np.ndarray, float]:
    """``sums``, ``counts`` and the duration of parts at these loudnesses (None: silence)."""
    z = np.array([0.0 if lufs is None else 10 ** ((lufs + 0.691) / 10) for lufs in levels])
    counts = np.full(len(levels), FRAMES)
    return z * counts, counts, round(len(levels) * PART_S, 3)


def cues(levels: list[float | None], integrated_lufs: float = MUSIC) -> Cues:
    sums, counts, duration_s = envelope(levels)
    return find_cues(sums, counts, integrated_lufs, duration_s)


def test_the_envelope_helper_reads_back_the_loudness_it_was_built_from():
    sums, counts, duration_s = envelope([-20.0, -62.5, SILENCE])
    assert part_loudness(sums, counts)[:2] == pytest.approx([-20.0, -62.5], abs=1e-9)
    assert part_loudness(sums, counts)[2] == -math.inf
    assert duration_s == 0.3


# -- audible start ------------------------------------------------------------------------------

@pytest.mark.parametrize("lead_s, start_s", [
    (0.3, 0.0),  # would save 0.1 s: never seek into a track for a sliver of silence
    (0.6, 0.0),  # would save 0.4 s, still less than MIN_MOVE_S
    (0.7, 0.5),  # saves exactly MIN_MOVE_S: moves
    (2.0, 1.8),  # the lead of most ripped albums
])
def test_leading_digital_silence_is_skipped_only_when_that_saves_half_a_second(lead_s, start_s):
    assert cues(flat(SILENCE, lead_s) + flat(MUSIC, 10)).start_s == start_s


@pytest.mark.parametrize("lead_parts", range(7, 60, 3))
def test_cue_in_is_the_preroll_before_the_first_loud_part(lead_parts):
    found = cues([SILENCE] * lead_parts + flat(MUSIC, 10))
    first_loud_s = lead_parts * PART_S
    assert found.start_s == pytest.approx(first_loud_s - PREROLL_S, abs=EPS)


@pytest.mark.parametrize("onset_in_part", [0.0, 0.25, 0.5, 0.9, 0.99])
def test_cue_in_is_never_after_an_onset_inside_a_part_nor_more_than_preroll_and_a_part_before(
        onset_in_part):
    """The music starts part-way into part 20: that part holds only the rest of it."""
    lead = flat(SILENCE, 2.0)
    partial = MUSIC + 10 * math.log10(1.0 - onset_in_part)
    found = cues(lead + [partial] + flat(MUSIC, 10))
    onset_s = 2.0 + onset_in_part * PART_S
    assert found.start_s <= onset_s
    assert found.start_s >= onset_s - (PREROLL_S + PART_S) - EPS


def test_two_seconds_of_leading_silence_are_skipped_and_the_end_is_unchanged():
    found = cues(flat(SILENCE, 2.0) + flat(MUSIC, 10))
    assert found == Cues(1.8, 12.0, 0.0, ())


# -- audible end --------------------------------------------------------------------------------

@pytest.mark.parametrize("tail_s, end_s", [
    (0.0, 10.0),
    (0.3, 10.3),  # would save 0.1 s: the file plays to its end
    (0.5, 10.5),  # would save 0.4 s
    (0.6, 10.1),  # saves exactly MIN_MOVE_S: moves
    (3.0, 10.1),  # the audible end plus the postroll
])
def test_a_silent_tail_is_cut_only_when_that_saves_half_a_second(tail_s, end_s):
    assert cues(flat(MUSIC, 10) + flat(SILENCE, tail_s)).end_s == end_s


@pytest.mark.parametrize("music_s", [3.7, 4.3, 5.0, 10.1, 12.6])
def test_saving_exactly_min_move_moves_the_cue_out_whatever_the_track_length(music_s):
    """"Moves only when it saves at least MIN_MOVE_S": a 0.6 s silent tail less the 0.1 s
    postroll saves exactly that, on a track of any length (the cue-in side always moves)."""
    found = cues(flat(MUSIC, music_s) + flat(SILENCE, 0.6))
    assert found.end_s == round(music_s + POSTROLL_S, 3)


def test_cue_out_is_the_postroll_after_the_last_part_above_the_floor():
    found = cues(flat(MUSIC, 10) + [MUSIC + CUE_OUT_LU + 1] + flat(SILENCE, 3))
    assert found.end_s == pytest.approx(10.1 + POSTROLL_S, abs=EPS)
    found = cues(flat(MUSIC, 10) + [MUSIC + CUE_OUT_LU - 1] + flat(SILENCE, 3))
    assert found.end_s == pytest.approx(10.0 + POSTROLL_S, abs=EPS)


# -- what counts as silence ---------------------------------------------------------------------

@pytest.mark.parametrize("integrated_lufs", [-30.0, -20.0, -10.0])
def test_a_noise_floor_at_minus_75_lufs_is_silence(integrated_lufs):
    """Below BS.1770's absolute gate (-70 LUFS) whatever the track: even on a -30 LUFS track,
    whose relative cue-out floor (-72 LUFS) would otherwise hear it."""
    found = cues(flat(-75.0, 3) + flat(integrated_lufs, 10) + flat(-75.0, 3), integrated_lufs)
    assert (found.start_s, found.end_s) == (2.8, 13.1)


def test_a_noise_floor_30_lu_below_the_track_is_sound():
    """I-30 LU is above both floors (I-34 for the start, I-42 for the end): room tone or
    tape hiss that is part of the recording, so nothing is cut."""
    found = cues(flat(MUSIC - 30, 3) + flat(MUSIC, 10) + flat(MUSIC - 30, 3))
    assert (found.start_s, found.end_s, found.quiet) == (0.0, 16.0, ())


def test_room_tone_between_the_floors_is_silence_before_the_music_but_sound_after_it():
    """I-38 LU is below the cue-in floor (I-34) but above the cue-out floor (I-42)."""
    tone = MUSIC - 38
    found = cues(flat(tone, 3) + flat(MUSIC, 10) + flat(tone, 3))
    assert (found.start_s, found.end_s) == (2.8, 16.0)


def test_the_lead_in_floor_follows_the_tracks_own_loudness():
    """A -62 LUFS lead-in: the cue-in floor of a -30 LUFS track is -30-34 = -64 LUFS, so the
    lead-in is above it and is heard (nothing skipped); the floor of a -14 LUFS track is
    -48 LUFS, so there the same lead-in is silence."""
    lead = flat(-62.0, 3)
    assert cues(lead + flat(-30.0, 10), -30.0).start_s == 0.0
    assert cues(lead + flat(-14.0, 10), -14.0).start_s == 2.8


def test_the_tail_floor_follows_the_tracks_own_loudness_down_to_the_absolute_floor():
    """A -66 LUFS tail is above the cue-out floor of a -30 LUFS track (max(-72, -70) = -70) but
    below that of a -20 LUFS track (-62)."""
    tail = flat(-66.0, 3)
    assert cues(flat(-30.0, 10) + tail, -30.0).end_s == 13.0
    assert cues(flat(-20.0, 10) + tail, -20.0).end_s == 10.1


def test_the_absolute_floor_is_bs1770s_gate():
    """On a -40 LUFS track both relative floors (-74, -82) are under -70 LUFS, so -70 decides:
    a -69 LUFS lead and tail are sound, a -71 LUFS one is silence."""
    assert ABSOLUTE_FLOOR_LUFS == -70.0
    found = cues(flat(-69.0, 3) + flat(-40.0, 10) + flat(-69.0, 3), -40.0)
    assert (found.start_s, found.end_s) == (0.0, 16.0)
    found = cues(flat(-71.0, 3) + flat(-40.0, 10) + flat(-71.0, 3), -40.0)
    assert (found.start_s, found.end_s) == (2.8, 13.1)


# -- own fade-out -------------------------------------------------------------------------------

def test_a_natural_fade_is_found_where_the_rule_puts_it():
    """20 s of music, then 40 dB down over 8 s (5 dB/s, linear in dB), then 3 s of silence.

    The rule: the fade runs from the end of the last second louder than I-6 LU to the cue-out.
    The cue-out is the end of the fade (-60 LUFS is above the -62 LUFS floor) plus the postroll:
    28.1 s. A second of the fade is as loud as the level at its middle (within 0.25 dB at
    5 dB/s), so the last second at I-6 ends half a second after the level has fallen 6 dB:
    20 + 6/5 + 0.5 = 21.7 s, and the fade is 28.1 - 21.7 = 6.4 s (parts quantise it to 0.1 s).
    """
    found = cues(flat(MUSIC, 20) + ramp(MUSIC, MUSIC - 40, 8) + flat(SILENCE, 3))
    assert found.end_s == pytest.approx(28.1, abs=EPS)
    predicted_fade_s = (28.0 + POSTROLL_S) - (20.0 + 6 / 5 + 0.5)
    assert found.fade_s == pytest.approx(predicted_fade_s, abs=0.25)


def test_a_track_that_just_stops_has_no_fade():
    assert cues(flat(MUSIC, 20) + flat(SILENCE, 3)).fade_s == 0.0
    assert cues(flat(MUSIC, 20)).fade_s == 0.0  # ends on its last sample


def test_a_last_note_ringing_out_in_under_a_second_is_not_a_fade():
    found = cues(flat(MUSIC, 20) + ramp(MUSIC, MUSIC - 40, 0.8) + flat(SILENCE, 3))
    assert found.fade_s == 0.0


@pytest.mark.parametrize("music_s", [2.0, 2.1, 2.2, 2.3, 2.4, 2.5, 3.0, 4.3, 10.0])
def test_a_one_second_quiet_ending_counts_as_a_fade_wherever_it_falls(music_s):
    """Music, then 1.7 s at I-10, then silence. The last second at I-6 or louder is the one
    with 8 of its 10 parts at I-10 (mean -5.5 LU; with 9 it is -7.2 LU), so it ends 0.8 s into
    the quiet ending, and the cue-out 0.9 s later: a fade of exactly MIN_FADE_S, which is kept
    ("a shorter fade is just the last note ending"), wherever the track puts it."""
    found = cues(flat(MUSIC, music_s) + flat(MUSIC - 10, 1.7) + flat(SILENCE, 3))
    assert found.end_s == pytest.approx(music_s + 1.8, abs=EPS)
    assert found.fade_s == MIN_FADE_S


# -- quiet spans --------------------------------------------------------------------------------

def test_a_hidden_track_gap_is_reported_where_it_is():
    found = cues(flat(MUSIC, 4) + flat(SILENCE, 20) + flat(MUSIC, 4))
    assert found == Cues(0.0, 28.0, 0.0, ((4.0, 24.0),))


def test_quiet_spans_are_reported_in_order_and_only_inside_the_cue_points():
    levels = (flat(SILENCE, 3) + flat(MUSIC, 5) + flat(SILENCE, 2.5) + flat(MUSIC, 5)
              + flat(MUSIC - 50, 6) + flat(MUSIC, 5) + flat(SILENCE, 3))
    found = cues(levels)
    assert (found.start_s, found.end_s) == (2.8, 26.6)
    assert found.quiet == ((8.0, 10.5), (15.5, 21.5))


@pytest.mark.parametrize("pause_s, reported", [(1.9, False), (QUIET_MIN_S, True)])
def test_a_pause_is_reported_from_two_seconds(pause_s, reported):
    found = cues(flat(MUSIC, 5) + flat(SILENCE, pause_s) + flat(MUSIC, 5))
    assert found.quiet == (((5.0, 5.0 + pause_s),) if reported else ())


def test_a_quiet_passage_above_the_cue_out_floor_is_not_a_quiet_span():
    found = cues(flat(MUSIC, 5) + flat(MUSIC + CUE_OUT_LU + 1, 5) + flat(MUSIC, 5))
    assert found.quiet == ()


# -- nothing to cue -----------------------------------------------------------------------------

@pytest.mark.parametrize("levels, integrated_lufs", [
    ([], MUSIC),  # no whole part at all
    (flat(SILENCE, 5), -math.inf),  # digital silence: the meter's integrated loudness is -inf
    (flat(SILENCE, 5), MUSIC),  # silence, whatever loudness the caller claims
    (flat(-80.0, 5), -80.0),  # all under the absolute floor
    (flat(MUSIC, 0.3), MUSIC),  # shorter than one measuring block
    (flat(MUSIC, 10), math.nan),
])
def test_with_nothing_to_cue_the_whole_file_plays(levels, integrated_lufs):
    sums, counts, whole_parts_s = envelope(levels)
    duration_s = whole_parts_s + 0.05  # and a last partial part, which is never in ``sums``
    assert find_cues(sums, counts, integrated_lufs, duration_s) == Cues(0.0, duration_s, 0.0)


# -- properties ---------------------------------------------------------------------------------

runs = st.lists(
    st.tuples(st.one_of(st.none(), st.integers(-90, -5).map(float)), st.integers(1, 40)),
    min_size=1, max_size=12)


@settings(max_examples=300, deadline=None)
@given(runs=runs, integrated=st.integers(-45, -8).map(float),
       extra_ms=st.integers(0, 99))
def test_cue_points_bracket_every_loud_part_and_stay_inside_the_file(runs, integrated, extra_ms):
    levels = [lufs for lufs, n in runs for _ in range(n)]
    sums, counts, whole_parts_s = envelope(levels)
    # The last, partial part is never in ``sums``; the meter rounds durations to the millisecond.
    duration_s = round(whole_parts_s + extra_ms / 1000, 3)
    found = find_cues(sums, counts, integrated, duration_s)
    parts = part_loudness(sums, counts)
    loud_in = np.flatnonzero(parts > max(integrated + CUE_IN_LU, ABSOLUTE_FLOOR_LUFS))
    loud_out = np.flatnonzero(parts > max(integrated + CUE_OUT_LU, ABSOLUTE_FLOOR_LUFS))

    assert 0.0 <= found.start_s <= found.end_s <= duration_s
    if not len(loud_in):
        assert found == Cues(0.0, duration_s, 0.0, ())
        return
    first_s, last_end_s = loud_in[0] * PART_S, (loud_out[-1] + 1) * PART_S
    assert found.start_s <= first_s + EPS
    assert found.start_s == 0.0 or found.start_s >= first_s - PREROLL_S - EPS
    assert found.start_s == 0.0 or found.start_s >= MIN_MOVE_S - EPS
    assert found.end_s >= last_end_s - EPS
    assert found.end_s == duration_s or found.end_s <= last_end_s + POSTROLL_S + EPS
    assert found.fade_s == 0.0 or MIN_FADE_S - EPS <= found.fade_s <= (
        found.end_s - found.start_s + EPS)
    # Every run of 2 s or more under the cue-out floor between the loud parts, and nothing else.
    quiet = parts <= max(integrated + CUE_OUT_LU, ABSOLUTE_FLOOR_LUFS)
    expected, k = [], int(loud_in[0])
    while k <= loud_out[-1]:
        j = k
        while quiet[j]:
            j += 1
        if j - k >= round(QUIET_MIN_S / PART_S):
            expected.append((round(k * PART_S, 3), round(j * PART_S, 3)))
        k = j + 1
    assert found.quiet == tuple(expected)

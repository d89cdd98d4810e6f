"""Hand-overs between tracks: the overlap used, when the next starts, and where fades end."""

from __future__ import annotations

from soundscape.schedule.handover import (END_MARGIN_S, START_LEAD_S, handover_floor_s,
                                          handover_s, overlap_s)


def test_a_crossfade_is_never_more_than_half_of_either_track():
    assert overlap_s(6.0, 100.0, 100.0) == 6.0
    assert overlap_s(6.0, 8.0, 100.0) == 4.0
    assert overlap_s(6.0, 100.0, 3.0) == 1.5
    assert overlap_s(0.0, 100.0, 100.0) == 0.0


def test_a_crossfade_ends_inside_the_outgoing_file():
    lead, fade = handover_s(6.0, 100.0, 100.0)
    assert fade == 6.0 and lead == 6.0 + END_MARGIN_S  # the fade is over 0.25 s before the end


def test_a_cut_starts_the_next_track_a_little_early_so_their_samples_meet():
    assert handover_s(0.0, 100.0, 100.0) == (START_LEAD_S, 0.0)
    assert handover_s(0.0, 0.02, 100.0) == (0.02, 0.0)  # never before the outgoing one began


def test_only_a_track_that_really_outlasts_its_phase_is_handed_over_at_the_phase_end():
    assert handover_floor_s(6.0) == 0.5
    assert handover_floor_s(0.4) == 0.2
    assert handover_floor_s(0.0) == 0.0

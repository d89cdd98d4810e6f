"""Track windows: the part of its file a track plays once trims and cue points apply, and the plan
laid out from them (schedule/sequence.py ``track_window``, schedule/plan.py ``make_plan``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from soundscape.loudness.cues import Cues
from soundscape.playlist.model import Phase, Playlist, Track
from soundscape.schedule.handover import (CUT_INTO_FADE, CUT_INTO_FADE_MAX_S, END_MARGIN_S,
                                          START_LEAD_S, handover_s)
from soundscape.schedule.plan import make_plan
from soundscape.schedule.sequence import Window, play_length_s, track_window

MUSIC = Path("/music")


def track(name: str, **kw) -> Track:
    return Track(MUSIC / name, Path(name).stem, **kw)


def playlist(*phases: Phase) -> Playlist:
    return Playlist(Path("/playlists/windows.yaml"), "Windows", tuple(phases))


# -- track_window ------------------------------------------------------------------------------


def test_without_cues_a_track_plays_its_trims_or_its_whole_file():
    assert track_window(track("a.wav"), 200.0) == Window(0.0, 200.0)
    trimmed = track_window(track("a.wav", start_s=10.0, end_s=70.0), 200.0)
    assert trimmed == Window(10.0, 70.0, 0.0, False, False, True)
    assert trimmed.length_s == 60.0
    # a trim beyond the file's end is not a trimmed end: the file ends first
    assert track_window(track("a.wav", end_s=300.0), 200.0) == Window(0.0, 200.0)


def test_cues_inside_the_trims_narrow_them_to_the_audible_part():
    cues = Cues(5.0, 90.0, 3.0)
    window = track_window(track("a.wav", start_s=2.0, end_s=100.0), 120.0, cues)
    assert window == Window(5.0, 90.0, 3.0, cued_in=True, cued_out=True, trimmed_end=True)
    assert window.length_s == 85.0
    # with no trims at all, the cues alone set the window; a silent tail is a trimmed end
    assert track_window(track("b.wav"), 120.0, cues) == Window(5.0, 90.0, 3.0, True, True, True)


def test_trims_inside_the_cues_are_never_widened():
    cues = Cues(5.0, 90.0, 3.0)
    window = track_window(track("a.wav", start_s=10.0, end_s=80.0), 120.0, cues)
    # its own fade ends at 90 s, after the trim: the window does not end with it
    assert window == Window(10.0, 80.0, 0.0, cued_in=False, cued_out=False, trimmed_end=True)
    # a start trim exactly at the cue-in is not a moved cue
    assert track_window(track("a.wav", start_s=5.0), 120.0, cues).cued_in is False


def test_a_cue_start_beyond_the_end_trim_leaves_the_trims_as_they_are():
    """Moving the start to the audible start would put it after the end: the window would turn
    inside out. The trims stand (never inverted, never widened), and no own fade is in it."""
    window = track_window(track("a.wav", end_s=30.0), 120.0, Cues(40.0, 100.0, 6.0))
    assert window == Window(0.0, 30.0, 0.0, cued_in=False, cued_out=False, trimmed_end=True)
    assert window.length_s == 30.0


def test_a_start_trim_past_the_audible_end_leaves_nothing_to_play():
    window = track_window(track("a.wav", start_s=100.0), 120.0, Cues(0.0, 90.0, 4.0))
    assert window.start_s == 100.0 and window.end_s == 100.0 and window.length_s == 0.0
    assert window.cued_out and window.trimmed_end


def test_an_unknown_length_gives_no_window_unless_an_end_trim_says_how_long():
    cues = Cues(5.0, 90.0, 3.0)
    assert track_window(track("a.wav"), None) is None
    assert track_window(track("a.wav"), None, cues) is None
    assert play_length_s(track("a.wav"), None, cues) is None
    window = track_window(track("a.wav", start_s=10.0, end_s=70.0), None)
    assert window == Window(10.0, 70.0, trimmed_end=True) and window.length_s == 60.0


@pytest.mark.parametrize("trim_end_s, cues, fade_s", [
    (None, Cues(0.0, 120.0, 6.0), 6.0),  # the file ends with its fade: kept
    (None, Cues(0.0, 100.0, 6.0), 6.0),  # a silent tail after the fade is cut off: kept
    (110.0, Cues(0.0, 100.0, 6.0), 6.0),  # the trim is in the silent tail: kept
    (100.03, Cues(0.0, 100.0, 6.0), 6.0),  # a trim within 50 ms of the audible end: kept
    (95.0, Cues(0.0, 100.0, 6.0), 0.0),  # the trim cuts into the fade: it is not the track's end
    (60.0, Cues(0.0, 120.0, 6.0), 0.0),  # the trim ends long before the fade
])
def test_the_own_fade_is_kept_only_while_the_window_ends_at_the_tracks_own_end(
        trim_end_s, cues, fade_s):
    window = track_window(track("a.wav", end_s=trim_end_s), 120.0, cues)
    assert window.fade_s == fade_s


def test_the_own_fade_is_never_longer_than_the_window():
    window = track_window(track("a.wav", start_s=95.0), 120.0, Cues(0.0, 100.0, 10.0))
    assert (window.start_s, window.end_s, window.fade_s) == (95.0, 100.0, 5.0)


def test_play_length_is_the_windows_length():
    cues = Cues(5.0, 90.0, 3.0)
    assert play_length_s(track("a.wav"), 120.0, cues) == 85.0
    assert play_length_s(track("a.wav", start_s=10.0, end_s=80.0), 120.0, cues) == 70.0


# -- make_plan ---------------------------------------------------------------------------------

DURATIONS = {MUSIC / "a.wav": 100.0, MUSIC / "b.wav": 80.0, MUSIC / "c.wav": 120.0}
CUES = {
    MUSIC / "a.wav": Cues(3.0, 95.0, 5.0),  # a silent lead and tail: window 3..95 (92 s)
    MUSIC / "c.wav": Cues(0.0, 110.0, 8.0),  # its fade is trimmed off by end_s=100 (100 s)
}


def three(crossfade_s: float, duration_s: float = 900.0, **kw) -> Playlist:
    return playlist(Phase("onset", duration_s, crossfade_s=crossfade_s, when_short="silence",
                          tracks=(track("a.wav"), track("b.wav"), track("c.wav", end_s=100.0)),
                          **kw),
                    Phase("peak", 600.0, tracks=(track("d.wav"),)))


def test_the_plan_lays_tracks_back_to_back_by_their_window_lengths():
    plan = make_plan(three(4.0), DURATIONS, 1, CUES)
    a, b, c = plan.phases[0].tracks
    assert [t.duration_s for t in (a, b, c)] == [92.0, 80.0, 100.0]
    lead_ab = handover_s(4.0, 92.0, 80.0)[0]
    lead_bc = handover_s(4.0, 80.0, 100.0)[0]
    assert lead_ab == lead_bc == 4.0 + END_MARGIN_S
    assert a.start_s == 0.0
    assert b.start_s == pytest.approx(92.0 - lead_ab)  # 87.75
    assert c.start_s == pytest.approx(b.start_s + 80.0 - lead_bc)  # 163.5
    assert (round(b.start_s, 3), round(c.start_s, 3)) == (87.75, 163.5)


def test_the_plan_with_cuts_starts_each_track_a_little_before_the_last_window_ends():
    plan = make_plan(three(0.0), DURATIONS, 1, CUES)
    starts = [round(t.start_s, 3) for t in plan.phases[0].tracks]
    # a fades out by itself over 5 s: the next track begins in its fade's last quarter (1 s max)
    into_fade = min(CUT_INTO_FADE * 5.0, CUT_INTO_FADE_MAX_S)
    b_start = 92.0 - START_LEAD_S - into_fade
    assert starts == [0.0, round(b_start, 3), round(b_start + 80.0 - START_LEAD_S, 3)]


def test_without_cues_the_same_playlist_plans_whole_files():
    plan = make_plan(three(4.0), DURATIONS, 1)
    a, b, c = plan.phases[0].tracks
    assert [t.duration_s for t in (a, b, c)] == [100.0, 80.0, 100.0]
    assert not any(t.cued_in or t.cued_out or t.own_fade_s for t in (a, b, c))
    assert b.start_s == pytest.approx(100.0 - 4.25)


def test_the_plan_marks_moved_cues_and_own_fades():
    plan = make_plan(three(4.0), DURATIONS, 1, CUES)
    a, b, c = plan.phases[0].tracks
    assert (a.from_s, a.cued_in, a.cued_out, a.own_fade_s) == (3.0, True, True, 5.0)
    assert (b.from_s, b.cued_in, b.cued_out, b.own_fade_s) == (0.0, False, False, 0.0)
    assert (c.from_s, c.cued_in, c.cued_out, c.own_fade_s) == (0.0, False, False, 0.0)
    first = plan.to_json()["phases"][0]["tracks"][0]
    assert {k: first[k] for k in ("from_s", "cued_in", "cued_out", "own_fade_s")} == {
        "from_s": 3.0, "cued_in": True, "cued_out": True, "own_fade_s": 5.0}
    assert plan.file_cues == CUES


def test_a_track_cut_by_its_phases_end_loses_its_own_fade():
    pl = playlist(Phase("onset", 120.0, crossfade_s=4.0, tracks=(track("a.wav"), track("e.wav"))),
                  Phase("peak", 600.0, tracks=(track("d.wav"),)))
    plan = make_plan(pl, {**DURATIONS, MUSIC / "e.wav": 200.0}, 1,
                     {**CUES, MUSIC / "e.wav": Cues(0.0, 200.0, 6.0)})
    a, e = plan.phases[0].tracks
    assert a.own_fade_s == 5.0 and not a.cut
    assert e.cut and e.own_fade_s == 0.0
    assert e.start_s + e.duration_s == pytest.approx(120.0)


def test_a_window_with_nothing_in_it_is_left_out_of_the_plan():
    pl = playlist(Phase("onset", 900.0, crossfade_s=4.0, when_short="silence",
                        tracks=(track("a.wav"), track("late.wav", start_s=100.0), track("b.wav"))))
    durations = {**DURATIONS, MUSIC / "late.wav": 120.0}
    plan = make_plan(pl, durations, 1, {**CUES, MUSIC / "late.wav": Cues(0.0, 90.0, 0.0)})
    assert [t.path.name for t in plan.phases[0].tracks] == ["a.wav", "b.wav"]
    assert plan.phases[0].tracks[1].start_s == pytest.approx(92.0 - 4.25)


def test_the_phase_boundary_follows_the_windows_when_the_tracks_run_out():
    plan = make_plan(three(4.0), DURATIONS, 1, CUES)
    c = plan.phases[0].tracks[-1]
    # when_short: silence, the next phase crossfades in as the last window ends
    assert plan.phases[1].start_s == pytest.approx(c.start_s + c.duration_s - 4.25)
    assert plan.phases[1].start_s == pytest.approx(259.25)

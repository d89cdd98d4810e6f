"""The medicine block: route, the dose and booster phases, located refusals, shipped templates."""

from pathlib import Path

import pytest

from soundscape.playlist import check_file, load_playlist
from soundscape.playlist.model import Medicine, Where

REPO = Path(__file__).resolve().parents[2]

PHASES = """
phases:
  - name: arrival
    duration: 10m
    tracks: [a.wav]
  - name: onset
    duration: 5m
    tracks: [b.wav]
  - name: peak
    duration: 35m
    tracks: [c.wav]
"""


def problems(name):
    return [str(p) for p in check_file(name)[1]]


def with_medicine(block: str) -> str:
    return "title: T\nmedicine:\n" + block + PHASES


def test_full_block_becomes_the_model(write):
    name = write(with_medicine("  route: sublingual\n  dose_phase: arrival\n  booster: 20m\n"
                               "  booster_phase: peak\n  booster_extend: 10m\n"))
    assert load_playlist(name).medicine == Medicine(
        route="sublingual", dose_phase="arrival", booster_phase="peak", booster_at_s=1200.0,
        booster_extend_s=600.0)
    assert load_playlist(name).medicine.where == Where(3, 3)


def test_defaults_dose_first_phase_booster_next_phase_extend_15m(write):
    medicine = load_playlist(write(with_medicine("  route: im\n"))).medicine
    assert medicine == Medicine(route="im", dose_phase="arrival", booster_phase="onset",
                                booster_at_s=None, booster_extend_s=900.0)


def test_no_block_no_medicine(write):
    assert load_playlist(write("title: T" + PHASES)).medicine is None


def test_every_route_is_accepted(write):
    for route in ("im", "sublingual", "iv", "other"):
        assert load_playlist(write(with_medicine(f"  route: {route}\n"))).medicine.route == route


def test_misspelt_dose_phase_gets_a_suggestion(write):
    name = write(with_medicine("  route: im\n  dose_phase: arival\n"))
    assert problems(name) == [
        "t.yaml:4:15: dose_phase 'arival' names no phase; did you mean 'arrival'?"]


def test_unknown_phase_without_near_name_lists_the_phases(write):
    name = write(with_medicine("  route: im\n  booster_phase: integration\n"))
    assert problems(name) == [
        "t.yaml:4:18: booster_phase 'integration' names no phase; "
        "the phases are arrival, onset, peak"]


def test_booster_phase_must_follow_dose_phase(write):
    name = write(with_medicine("  route: im\n  dose_phase: onset\n  booster_phase: arrival\n"))
    assert problems(name) == [
        "t.yaml:5:18: booster_phase 'arrival' must come after dose_phase 'onset'"]
    name = write(with_medicine("  route: im\n  dose_phase: onset\n  booster_phase: onset\n"))
    assert problems(name) == [
        "t.yaml:5:18: booster_phase 'onset' must come after dose_phase 'onset'"]


def test_dose_phase_cannot_be_the_last(write):
    name = write(with_medicine("  route: im\n  dose_phase: peak\n"))
    assert problems(name) == [
        "t.yaml:4:15: dose_phase 'peak' is the last phase; the dose mark ends it and times the "
        "phases after it, so it needs a phase after it"]


def test_single_phase_playlist_has_no_phase_to_time(write):
    name = write("title: T\nmedicine: {route: iv}\nphases: [{name: only, duration: 5m, "
                 "tracks: [a.wav]}]\n")
    assert problems(name) == [
        "t.yaml:2:11: dose_phase 'only' is the last phase; the dose mark ends it and times the "
        "phases after it, so it needs a phase after it"]


def test_every_value_problem_is_located(write):
    name = write(with_medicine("  route: oral\n  booster: 40\n  booster_extend: 0s\n"
                               "  dose_phse: arrival\n  dose_phase: yes\n"))
    assert problems(name) == [
        "t.yaml:3:10: route must be one of im, sublingual, iv, other, not 'oral'",
        "t.yaml:4:12: booster must look like 15m, 90s or 1h30m, not 40",
        "t.yaml:5:19: booster_extend must be longer than 0s",
        "t.yaml:6:3: unknown key 'dose_phse' in medicine; did you mean 'dose_phase'?",
        "t.yaml:7:15: dose_phase must be text; write it in quotes: 'yes'",
    ]


def test_missing_route_and_wrong_shapes(write):
    assert problems(write(with_medicine("  dose_phase: arrival\n"))) == [
        "t.yaml:3:3: medicine is missing 'route'"]
    assert problems(write("title: T\nmedicine: im\n" + PHASES)) == [
        "t.yaml:2:11: medicine must be a mapping of keys like route, dose_phase, booster, "
        "not 'im'"]
    assert problems(write(with_medicine("  route: [im]\n"))) == [
        "t.yaml:3:10: route must be a single value, not a list"]


def test_duplicate_medicine_key_is_refused(write):
    name = write(with_medicine("  route: im\n  route: iv\n"))
    assert problems(name) == ["t.yaml:4:3: duplicate key 'route' (first at line 3)"]


def test_booster_after_its_phase_ends_is_a_warning(write):
    # after the dose (end of arrival): onset 5m, then peak ends 40m after the dose
    name = write(with_medicine("  route: im\n  booster: 45m\n  booster_phase: peak\n"))
    playlist, found = check_file(name)
    assert [str(p) for p in found] == [
        "t.yaml:4:12: warning: the booster at 45m comes after phase 'peak' ends (40m after the "
        "dose); check booster and booster_phase"]
    assert playlist.medicine.booster_at_s == 2700.0
    ok = write(with_medicine("  route: im\n  booster: 39m\n  booster_phase: peak\n"))
    assert problems(ok) == []


def test_medicine_problem_and_phase_problem_are_both_reported(write):
    text = with_medicine("  route: im\n  dose_phase: arival\n").replace("duration: 5m",
                                                                          "duration: 5 mins")
    assert problems(write(text)) == [
        "t.yaml:4:15: dose_phase 'arival' names no phase; did you mean 'arrival'?",
        "t.yaml:11:15: duration must look like 15m, 90s or 1h30m, not '5 mins'",
    ]


@pytest.mark.parametrize("relative, route", [
    ("playlists/templates/kap-intramuscular.yaml", "im"),
    ("playlists/templates/kap-sublingual.yaml", "sublingual"),
    ("playlists/demo.yaml", "im"),
])
def test_shipped_playlists_dose_in_arrival_and_boost_peak(relative, route):
    medicine = load_playlist(REPO / relative).medicine
    assert (medicine.route, medicine.dose_phase, medicine.booster_phase) == (
        route, "Arrival", "Peak")

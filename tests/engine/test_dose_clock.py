"""The dose-anchored clock: the dose phase waits for the dose mark; a booster extends its phase."""

import dataclasses

from soundscape.playlist.model import Medicine

from engine_rig import phase, playlist

DURS = {"a.wav": 200, "b.wav": 200, "c.wav": 200, "d.wav": 200}


def dosed_playlist(**kw):
    pl = playlist(phase("arrival", 300, ["a.wav"]), phase("onset", 600, ["b.wav"]),
                  phase("peak", 1200, ["c.wav"]), phase("return", 600, ["d.wav"]))
    medicine = Medicine("im", "arrival", booster_phase="peak", booster_extend_s=900.0, **kw)
    return dataclasses.replace(pl, medicine=medicine)


def test_the_dose_phase_waits_for_the_dose_and_later_phases_are_timed_from_it(rig_factory):
    r = rig_factory(dosed_playlist(), DURS)
    r.do("start")
    r.run(500)  # 200 s past arrival's planned end, no dose yet
    assert r.state.phase.name == "arrival"
    assert r.state.medicine["awaiting_dose"] is True
    assert r.heard() == ["a.wav"] or "a.wav" in r.heard()  # the arrival music repeats
    assert r.do("dose").ok
    assert r.state.phase.name == "onset"
    assert [(p.name, p.start_s, p.duration_s) for p in r.state.phases] == [
        ("arrival", 0, 500), ("onset", 500, 600), ("peak", 1100, 1200), ("return", 2300, 600)]
    assert r.state.medicine["dosed_at_s"] == 500
    assert r.events("dose")[0]["route"] == "im"
    assert r.do("dose").reason == "the dose was already marked at 8:20"


def test_an_early_dose_ends_the_arrival_now(rig_factory):
    r = rig_factory(dosed_playlist(), DURS)
    r.do("start")
    r.run(120)
    r.do("dose")
    assert r.state.phase.name == "onset"
    assert r.state.phases[1].start_s == 120


def test_a_booster_extends_the_booster_phase(rig_factory):
    r = rig_factory(dosed_playlist(), DURS)
    r.do("start")
    r.run(100)
    assert r.do("booster").reason == "mark the dose first"
    r.do("dose")
    r.run(60)
    assert r.do("booster").ok
    assert [(p.name, p.duration_s) for p in r.state.phases][2] == ("peak", 2100)
    assert r.state.medicine["boosters_s"] == [160]


def test_dose_is_refused_without_a_medicine_block(rig_factory):
    r = rig_factory(playlist(phase("onset", 300, ["a.wav"])), DURS)
    r.do("start")
    assert r.do("dose").reason == "this playlist has no medicine block"
    assert r.state.medicine is None

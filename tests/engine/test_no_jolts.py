"""Transitions in awkward states: the room never drops to silence in a step or goes quiet by accident.

Each test drives a state combination that once cut the music or left the room silent.
"""

import dataclasses
import math

from soundscape.engine.settings import RoomSettings
from soundscape.playlist.model import Ambience, Medicine

from engine_rig import MUSIC, phase, playlist


def room_db(r) -> float:
    """The room's music and ambience power in dB; -60 dB (the fades' floor) and below read -60."""
    power = sum(d.gain ** 2 for d in r.output.decks if d.audible())
    return max(-60.0, 10 * math.log10(power)) if power > 0 else -60.0


def watch(r, seconds, dt=0.02):
    """(largest one-step drop in dB, largest one-step rise in dB, seconds below -60 dB)."""
    drop = rise = silent = 0.0
    before = room_db(r)
    for _ in range(int(seconds / dt)):
        r.run(dt)
        now = room_db(r)
        drop, rise = max(drop, before - now), max(rise, now - before)
        silent += dt if now <= -60 else 0.0
        before = now
    return drop, rise, silent


def test_entering_a_phase_with_a_fade_in_crossfades_instead_of_cutting(rig_factory):
    pl = dataclasses.replace(playlist(phase("arrival", 300, ["a.wav"]),
                                      phase("onset", 600, ["b.wav"], fade_in_s=60)),
                             medicine=Medicine("im", "arrival"))
    r = rig_factory(pl, {"a.wav": 900, "b.wav": 900})
    r.do("start")
    r.run(200)
    before = room_db(r)
    r.do("dose")
    assert before - room_db(r) < 1
    drop, _, silent = watch(r, 70)
    assert drop < 3 and silent == 0


def test_a_phase_boundary_during_the_pause_fade_lets_the_fade_finish(rig_factory):
    r = rig_factory(playlist(phase("onset", 300, ["a.wav"]), phase("peak", 300, ["b.wav"])),
                    {"a.wav": 600, "b.wav": 600})
    r.do("start")
    r.run(298.5)
    r.do("pause")
    drop, _, _ = watch(r, 2.0)
    assert drop < 6


def test_with_finish_the_phase_fade_out_ends_with_its_last_track(rig_factory):
    r = rig_factory(playlist(phase("onset", 120, ["a.wav"], at_end="finish", fade_out_s=20),
                             phase("peak", 300, ["b.wav"])), {"a.wav": 300, "b.wav": 600})
    r.do("start")
    r.run(90)
    _, _, silent = watch(r, 170, dt=0.1)
    assert silent < 10  # only the moment between the fade's end and the next phase's rise


def test_skip_while_the_last_track_plays_out_is_refused(rig_factory):
    r = rig_factory(playlist(phase("onset", 120, ["a.wav", "c.wav"], at_end="finish"),
                             phase("peak", 300, ["b.wav"])), {"a.wav": 200, "b.wav": 600, "c.wav": 300})
    r.do("start")
    r.run(150)
    assert r.do("skip").reason == ("phase 'onset' is over and its last track is playing out; "
                                   "use next phase")


def test_the_last_phase_never_ends_in_a_cut(rig_factory):
    r = rig_factory(playlist(phase("return", 120, ["a.wav"], crossfade_s=0)), {"a.wav": 600})
    r.do("start")
    r.run(119.9)
    drop, _, _ = watch(r, 4)
    assert drop < 3


def test_a_bed_where_there_was_none_rises_at_the_rise_limit(rig_factory):
    rain = Ambience(MUSIC / "rain.wav", level_pct=60)
    r = rig_factory(playlist(phase("onset", 120, ["a.wav"]), phase("peak", 300, ["b.wav"], ambience=rain)),
                    {"rain.wav": 600, "a.wav": 600, "b.wav": 600},
                    settings=RoomSettings(rise_db_per_s=6))
    r.do("start")
    r.run(119.9)
    bed_gains = []
    for _ in range(20):
        r.run(0.02)
        bed_gains += [d.gain for d in r.output.decks if d.path.name == "rain.wav" and d.audible()]
    assert bed_gains and max(bed_gains) < 0.01  # -40 dB, not the bed's -13 dB at once


def test_a_held_phase_whose_tracks_ran_out_plays_them_again(rig_factory):
    r = rig_factory(playlist(phase("onset", 300, ["a.wav"], when_short="silence"),
                             phase("peak", 300, ["b.wav"])), {"a.wav": 250, "b.wav": 600})
    r.do("start")
    r.run(200)
    r.do("hold")
    _, _, silent = watch(r, 200, dt=0.5)
    assert silent == 0 and r.state.phase.name == "onset"


def test_a_long_pause_keeps_its_track(rig_factory):
    r = rig_factory(playlist(phase("onset", 900, ["a.wav", "b.wav"])), {"a.wav": 240, "b.wav": 240})
    r.do("start")
    r.run(100)
    r.do("pause")
    r.run(155)
    r.do("resume")
    r.run(12)
    assert r.heard() == ["a.wav"]


def test_a_long_fade_out_goes_on_over_the_next_tracks(rig_factory):
    r = rig_factory(playlist(phase("onset", 1800, ["a.wav", "b.wav"])), {"a.wav": 240, "b.wav": 600})
    r.do("start")
    r.run(100)
    r.do("fade_out", seconds=600)
    _, _, silent = watch(r, 590, dt=0.5)
    assert silent < 5  # only its very end, where the fade itself is near silence


def test_plan_and_play_agree_for_silence_with_finish(rig_factory):
    from soundscape.schedule.plan import make_plan
    pl = playlist(phase("onset", 300, ["a.wav", "b.wav"], when_short="silence", at_end="finish"),
                  phase("peak", 300, ["c.wav"]))
    r = rig_factory(pl, {"a.wav": 200, "b.wav": 200, "c.wav": 600})
    r.do("start")
    r.run(500)
    plan = make_plan(pl, r.engine.durations, 1)
    planned = [(round(t.start_s, 2), t.path.name) for p in plan.phases for t in p.tracks]
    assert r.starts() == planned


def test_commands_after_shutdown_are_refused(rig_factory):
    from soundscape.engine.commands import Action, Command
    r = rig_factory(playlist(phase("onset", 300, ["a.wav"])), {"a.wav": 600})
    r.do("start")
    r.engine.shutdown(fade=False)
    result, _ = r.engine.submit(Command(Action.SKIP))
    assert (result.ok, result.reason) == (False, "the engine has shut down")

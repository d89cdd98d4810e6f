"""Facilitator controls in every state: what they do, and the reasons they are refused."""

import pytest

from soundscape.engine.commands import Action
from soundscape.engine.settings import RoomSettings
from soundscape.engine.state import Status

from engine_rig import phase, playlist

DURS = {"a.wav": 200, "b.wav": 200, "c.wav": 200, "d.wav": 200}


def two_phases():
    return playlist(phase("onset", 300, ["a.wav", "b.wav"], level_pct=70),
                    phase("peak", 300, ["c.wav", "d.wav"], level_pct=80))


@pytest.fixture
def rig(rig_factory):
    return rig_factory(two_phases(), DURS)


def started(rig, seconds=20):
    assert rig.do("start").ok
    rig.run(seconds)
    return rig


# ---------------------------------------------------------------- refusals by state

STEERING = (Action.INTENSITY, Action.PLAY_NEXT, Action.BAN, Action.ACK_CUE, Action.NOTE)
READY_REFUSED = {a: "the session has not started yet" for a in Action
                 if a not in (Action.START, Action.STOP, *STEERING)}  # steering: test_steering.py


@pytest.mark.parametrize("action", sorted(READY_REFUSED, key=lambda a: a.value))
def test_before_start_only_start_and_stop_are_accepted(rig, action):
    params = {"extend": {"minutes": 5.0}, "set_level": {"level": 50.0}, "fade_out": {"seconds": 60.0}}
    result = rig.do(action.value, **params.get(action.value, {}))
    assert (result.ok, result.reason) == (False, "the session has not started yet")
    assert rig.state.status == Status.READY


def test_after_the_end_everything_is_refused(rig):
    started(rig)
    rig.do("stop")
    rig.run(4)
    assert rig.state.status == Status.ENDED
    for action in (a for a in Action if a is not Action.NOTE):  # a note is for the record
        params = {"extend": {"minutes": 5.0}, "set_level": {"level": 50.0},
                  "fade_out": {"seconds": 60.0}, "intensity": {"direction": "deeper"},
                  "play_next": {"path": "a.wav"}, "ban": {"path": "a.wav"}, "ack_cue": {"id": "c1"}}
        result = rig.do(action.value, **params.get(action.value, {}))
        assert (result.ok, result.reason) == (False, "the session has ended")


def test_start_twice_is_refused(rig):
    started(rig)
    assert rig.do("start").reason == "the session has already started"


def test_stop_before_start_ends_the_session(rig):
    assert rig.do("stop").ok
    assert rig.state.status == Status.ENDED
    assert rig.events("session_end")[0]["reason"] == "stopped before start"


def test_refusal_reasons_while_playing(rig):
    started(rig)
    assert rig.do("resume").reason == "the music is not paused"
    assert rig.do("release").reason == "phase 'onset' is not held"
    assert rig.do("unhush").reason == "the music is not hushed"
    assert rig.do("hold").ok and rig.do("hold").reason == "phase 'onset' is already held"
    assert rig.do("hush").ok and rig.do("hush").reason == "the music is already hushed"
    assert rig.do("pause").ok and rig.do("pause").reason == "the music is already paused"
    assert rig.do("skip").reason == "resume the music before skipping"


def test_every_command_is_logged_with_who_and_result(rig):
    started(rig)
    rig.do("pause")
    rig.do("pause")
    commands = [(e["action"], e["by"], e["ok"], e["reason"]) for e in rig.events("command")]
    assert commands == [("start", "test", True, ""), ("pause", "test", True, ""),
                        ("pause", "test", False, "the music is already paused")]


# ---------------------------------------------------------------- what the controls do

def test_pause_fades_out_then_pauses_and_resume_fades_back_in(rig):
    started(rig, 30)
    assert rig.state.level == 70.0
    rig.do("pause")
    assert rig.state.status == Status.PAUSED
    rig.run(1.5)
    assert 0 < rig.state.level < 70
    rig.run(1.6)
    assert rig.state.level == 0 and rig.heard() == []
    position = rig.output.decks[0].position_s()
    rig.run(60)
    assert rig.output.decks[0].position_s() == position  # the track waits
    rig.do("resume")
    rig.run(1)
    assert 0 < rig.state.level < 70  # rising, slew-limited
    rig.run(10)
    assert rig.state.level == 70.0 and rig.heard() == ["a.wav"]
    assert rig.output.decks[0].position_s() == pytest.approx(position + 11, abs=0.05)


def test_the_session_clock_goes_on_while_paused(rig):
    started(rig, 30)
    rig.do("pause")
    rig.run(300)
    assert rig.state.phase.name == "peak"  # the medicine does not pause
    assert rig.heard() == []
    rig.do("resume")
    rig.run(12)
    assert rig.heard() == ["c.wav"]


def test_skip_crossfades_to_the_next_track(rig):
    started(rig, 30)
    assert rig.do("skip").ok
    rig.run(1)
    assert rig.heard() == ["a.wav", "b.wav"]
    rig.run(4)
    assert rig.heard() == ["b.wav"]
    assert rig.events("track_end")[0]["reason"] == "skipped"


def test_skip_is_refused_when_no_track_is_left(rig_factory):
    r = rig_factory(playlist(phase("onset", 300, ["a.wav"], when_short="silence"), phase("peak", 60, ["b.wav"])), DURS)
    started(r)
    assert r.do("skip").reason == "no more tracks in phase 'onset'"


def test_next_phase_crossfades_now_and_later_phases_keep_their_length(rig_factory):
    r = rig_factory(playlist(phase("onset", 300, ["a.wav"]), phase("peak", 300, ["c.wav"]),
                             phase("return", 300, ["d.wav"])), DURS)
    started(r, 100)
    assert r.do("next_phase").ok
    assert r.state.phase.name == "peak"
    assert [(s.start_s, s.duration_s) for s in r.state.phases] == [(0, 100), (100, 300), (400, 300)]
    r.run(1)
    assert r.heard() == ["a.wav", "c.wav"]


def test_next_phase_is_refused_in_the_last_phase(rig):
    started(rig)
    rig.do("next_phase")
    assert rig.do("next_phase").reason == "this is the last phase; use fade out to end the session"


def test_extend_moves_this_phase_and_later_ones(rig):
    started(rig, 100)
    assert rig.do("extend", minutes=5.0).ok
    assert [(s.start_s, s.duration_s) for s in rig.state.phases] == [(0, 600), (600, 300)]
    assert rig.state.phase.remaining_s == 500
    rig.run(450)
    assert rig.state.phase.name == "onset"
    rig.run(60)
    assert rig.state.phase.name == "peak"


def test_hold_keeps_the_phase_and_release_moves_on_shifting_later_phases(rig):
    started(rig, 100)
    rig.do("hold")
    rig.run(400)  # 200 s past the planned end
    assert rig.state.phase.name == "onset" and rig.state.phase.held
    assert rig.heard()  # the music goes on (repeat)
    rig.do("release")
    rig.run(1)
    assert rig.state.phase.name == "peak"
    assert [(s.start_s, s.duration_s) for s in rig.state.phases] == [(0, 500), (500, 300)]


def test_set_level_moves_slew_limited_up_and_faster_down(rig):
    started(rig, 30)
    rig.do("set_level", level=40.0)
    rig.run(1)
    fallen = rig.state.level
    rig.run(5)
    assert rig.state.level == 40.0
    rig.do("set_level", level=80.0)  # 40% -> 80% is 18 dB on the cubic scale: 3 s at 6 dB/s
    rig.run(1.5)
    assert 50 < rig.state.level < 65
    rig.run(1.6)
    assert rig.state.level == 80.0
    assert fallen < 60  # 70% -> 40% (14.6 dB) at 15 dB/s is mostly done in 1 s


def test_set_level_above_the_ceiling_stops_at_the_ceiling(rig_factory):
    r = rig_factory(two_phases(), DURS, settings=RoomSettings(ceiling_pct=60))
    started(r, 30)
    assert r.state.level == 60.0  # the phase's 70% is capped too
    r.do("set_level", level=100.0)
    r.run(10)
    assert r.state.level == 60.0


def test_hush_ducks_to_the_talk_level_and_unhush_comes_back(rig):
    started(rig, 30)
    rig.do("hush")
    rig.run(2.1)
    assert rig.state.level == 25.0 and rig.state.hushed
    rig.do("unhush")
    rig.run(1)
    assert 25 < rig.state.level < 70
    rig.run(10)
    assert rig.state.level == 70.0 and not rig.state.hushed


def test_fade_out_fades_the_music_and_ends_the_session(rig):
    started(rig, 30)
    assert rig.do("fade_out", seconds=60.0).ok
    assert rig.do("pause").reason == "the session is ending"
    rig.run(30)
    assert 0 < rig.state.level < 70
    rig.run(31)
    assert rig.state.status == Status.ENDED
    assert rig.events("session_end")[0]["reason"] == "faded out"


def test_stop_quiets_the_room_in_three_seconds(rig):
    started(rig, 30)
    rig.do("stop")
    assert rig.do("stop").reason == "the room is already being quieted"
    rig.run(2.9)
    assert rig.state.status == Status.PLAYING and rig.heard()
    rig.run(0.2)
    assert rig.state.status == Status.ENDED and rig.heard() == []
    assert rig.events("session_end")[0]["reason"] == "stopped"


def test_stop_during_a_fade_out_ends_sooner(rig):
    started(rig, 30)
    rig.do("fade_out", seconds=600.0)
    assert rig.do("stop").ok
    rig.run(3.1)
    assert rig.state.status == Status.ENDED


def test_extend_and_fade_out_without_a_number_use_the_room_defaults(rig_factory):
    r = rig_factory(two_phases(), DURS, settings=RoomSettings(extend_default_min=10, fade_out_default_s=20))
    started(r, 10)
    r.do("extend")
    assert r.state.phases[0].duration_s == 900
    r.do("fade_out")
    r.run(20.1)
    assert r.state.status == Status.ENDED

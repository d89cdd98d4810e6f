"""The dead-air guard in simulated time: a fake meter says what the room hears."""

from __future__ import annotations

from soundscape.engine.pulsemeter import Reading
from soundscape.engine.state import Status
from soundscape.engine.watch import (DEAD_AIR_S, GRACE_S, LISTEN_EVERY_S, REST_S,
                                     UNANALYSED_LEAD_S, expected_dbfs)
from soundscape.loudness.cues import Cues

from engine_rig import MUSIC, phase, playlist

LOUD_DBFS = -12.0


class FakeMeter:
    """The room's meter: loud unless the test says the room hears nothing from ``silent_from``."""

    def __init__(self, clock):
        self.clock = clock
        self.silent_from: float | None = None
        self.silent_until = float("inf")
        self.muted = False
        self.volume_pct = 100.0
        self.closed = False

    def take(self) -> Reading:
        now = self.clock.now()
        silent = self.silent_from is not None and self.silent_from <= now < self.silent_until
        return Reading(-120.0 if silent or self.muted else LOUD_DBFS, self.muted,
                       self.volume_pct)

    def close(self) -> None:
        self.closed = True


def rig_with_meter(rig_factory, analysed=True, **kw):
    r = rig_factory(playlist(phase("onset", 600, ["a.wav", "b.wav", "c.wav"], crossfade_s=2)),
                    {"a.wav": 60, "b.wav": 60, "c.wav": 60}, **kw)
    r.output.fake_meter = meter = FakeMeter(r.clock)
    if analysed:
        for name in ("a.wav", "b.wav", "c.wav"):
            r.engine.cues[MUSIC / name] = Cues(0.0, 60.0, 0.0)
            r.engine.lufs[MUSIC / name] = -23.0
    return r, meter


def session_s(r) -> float:
    return r.engine.session_s()


def test_a_silence_of_2_s_while_music_should_play_brings_the_next_track(rig_factory):
    """A hidden track: the file goes silent 10 s in (the clock starts at 0 with the session)."""
    r, meter = rig_with_meter(rig_factory)
    r.do("start")
    r.run(10)
    meter.silent_from = r.clock.now()
    r.run(DEAD_AIR_S - LISTEN_EVERY_S - 0.01)
    assert [n for _, n in r.starts()] == ["a.wav"]  # not yet: 2 s have not passed
    r.run(2 * LISTEN_EVERY_S + 0.05)
    meter.silent_from = None
    r.run(2 * LISTEN_EVERY_S)
    assert [n for _, n in r.starts()] == ["a.wav", "b.wav"]
    acted = r.starts()[1][0]
    assert 10 + DEAD_AIR_S <= acted <= 10 + DEAD_AIR_S + LISTEN_EVERY_S + 0.03
    warning = r.state.warnings[-1]
    assert warning == "DEAD AIR: the room heard nothing for 2 s during a; the next track fades in"
    [event] = r.events("dead_air")
    assert event["path"].endswith("a.wav")
    assert r.state.room == {"heard_dbfs": LOUD_DBFS, "muted": False, "volume_pct": 100,
                            "listening": True}


def test_after_acting_the_guard_rests_and_a_paused_or_hushed_room_is_not_dead_air(rig_factory):
    r, meter = rig_with_meter(rig_factory)
    r.do("start")
    r.run(10)
    meter.silent_from = r.clock.now()  # silent from now on, whatever plays
    r.run(DEAD_AIR_S + 0.3)
    assert len(r.starts()) == 2
    r.run(REST_S - 1.0)
    assert len(r.starts()) == 2  # resting: a second skip would not come this soon
    r.do("pause")
    r.run(30)
    assert r.state.status is Status.PAUSED and len(r.starts()) <= 3


def test_a_muted_speaker_is_shown_and_warned_about_but_no_track_is_skipped(rig_factory):
    r, meter = rig_with_meter(rig_factory)
    r.do("start")
    r.run(5)
    meter.muted = True
    r.run(10)
    assert [n for _, n in r.starts()] == ["a.wav"]
    assert r.state.room["muted"] is True
    assert "SPEAKER MUTED: the room hears nothing (the sound server's mute is on)" in \
        r.state.warnings
    meter.muted = False
    r.run(1)
    assert r.state.warnings[-1] == "the speaker is unmuted"


def test_a_volume_changed_by_someone_else_is_shown_once(rig_factory):
    r, meter = rig_with_meter(rig_factory)
    r.do("start")
    r.run(3)
    meter.volume_pct = 40.0
    r.run(1)
    meter.volume_pct = 42.0
    r.run(1)
    volume = [w for w in r.state.warnings if "volume" in w]
    assert volume == ["the speaker volume was changed to 40% (it was 100%)"]
    assert r.state.room["volume_pct"] == 42


def test_a_track_not_analysed_yet_is_given_time_for_a_silent_lead(rig_factory):
    """Its leading silence was not skipped (no cue points yet): not judged for 10 s."""
    r, meter = rig_with_meter(rig_factory, analysed=False)
    meter.silent_from = 0.0
    meter.silent_until = UNANALYSED_LEAD_S - 0.5  # the music starts 9.5 s in
    r.do("start")
    r.run(40)
    assert [n for _, n in r.starts()] == ["a.wav"]
    assert not r.events("dead_air")


def test_the_grace_after_a_start_and_no_meter_means_no_room_state(rig_factory):
    r, meter = rig_with_meter(rig_factory)
    meter.silent_from = 0.0
    meter.silent_until = GRACE_S + DEAD_AIR_S - 0.3  # a slow start, under the grace + 2 s
    r.do("start")
    r.run(20)
    assert [n for _, n in r.starts()] == ["a.wav"]
    plain = rig_factory(playlist(phase("onset", 600, ["a.wav"])), {"a.wav": 60})
    plain.do("start")
    plain.run(5)
    assert plain.state.room is None


def test_the_meter_is_closed_at_shutdown(rig_factory):
    r, meter = rig_with_meter(rig_factory)
    r.do("start")
    r.run(2)
    r.engine.shutdown(fade=False)
    assert meter.closed


def test_a_turned_down_speaker_lowers_what_is_expected_and_at_its_floor_nothing_is_judged(
        rig_factory):
    """The monitor of a software-volume sink is after its volume: a quiet passage at 30 % is
    not silence, and a sink at its silent floor is not dead air."""
    r, meter = rig_with_meter(rig_factory)
    meter.volume_pct = 30.0  # -31 dB on the cubic scale
    r.do("start")
    r.run(5)
    # what the room should hear now: -23 LUFS at the level's gain, -31 dB for the volume
    expected = expected_dbfs(r.engine.core, r.engine.session_s())
    quiet = expected - 31.0 - 12.0  # a quiet passage, 12 dB under the track at that volume
    meter.take = lambda: Reading(quiet, False, 30.0)
    r.run(10)
    assert not r.events("dead_air")
    meter.take = lambda: Reading(-120.0, False, 5.0)  # turned down to nothing
    r.run(10)
    assert not r.events("dead_air")


def test_when_two_tracks_brought_in_are_not_heard_either_the_guard_stops_and_says_so(
        rig_factory):
    """The meter listens to the wrong speaker: the guard must not eat the playlist."""
    r, meter = rig_with_meter(rig_factory)
    meter.silent_from = 0.0
    r.do("start")
    r.run(60)
    assert len(r.events("dead_air")) == 2
    assert len(r.starts()) == 3
    assert any(w.startswith("the room meter hears nothing after two tracks were brought in")
               for w in r.state.warnings)
    meter.silent_from = None
    r.run(3)
    meter.silent_from = r.clock.now()
    r.run(DEAD_AIR_S + 1)
    assert len(r.events("dead_air")) == 3  # it heard the music again: it guards again


def test_a_short_pause_the_analysis_found_is_music_a_long_one_is_dead_air(rig_factory):
    r, meter = rig_with_meter(rig_factory)
    r.engine.cues[MUSIC / "a.wav"] = Cues(0.0, 60.0, 0.0, ((10.0, 14.0), (30.0, 52.0)))
    r.do("start")
    r.run(10)
    meter.silent_from, meter.silent_until = r.clock.now(), r.clock.now() + 4.0
    r.run(8)
    assert not r.events("dead_air")  # a 4 s pause between movements
    meter.silent_from, meter.silent_until = r.clock.now() + 12.0, float("inf")  # at 30 s
    r.run(15)
    assert len(r.events("dead_air")) == 1  # 22 s of nothing: a hidden track's gap


def test_a_track_not_analysed_is_judged_once_it_has_been_heard(rig_factory):
    """Its silent start is given 10 s; a silence after its music was heard is dead air."""
    r, meter = rig_with_meter(rig_factory, analysed=False)
    r.do("start")
    r.run(UNANALYSED_LEAD_S - 3)  # heard from the start, the level risen
    meter.silent_from = r.clock.now()
    r.run(DEAD_AIR_S + 2 * LISTEN_EVERY_S)
    assert len(r.events("dead_air")) == 1
    assert r.events("dead_air")[0]["position_s"] < UNANALYSED_LEAD_S

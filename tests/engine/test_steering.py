"""Steering by the room, in simulated time: intensity, the queue, bans, cues and notes."""

import dataclasses

from soundscape.engine.state import Status
from soundscape.playlist.model import Cue, Medicine

from engine_rig import MUSIC, phase, playlist, track

DURS = {f"{n}.wav": 120 for n in ("g1", "g2", "m1", "m2", "d1", "d2", "p1", "p2")}


def pools(**kw):
    """onset: gentle (2), middle (3), deep (4) tracks; peak: one pool."""
    tracks = [track("g1.wav", intensity=2), track("m1.wav"), track("d1.wav", intensity=4),
              track("g2.wav", intensity=2), track("m2.wav"), track("d2.wav", intensity=4)]
    return playlist(phase("onset", 600, tracks, crossfade_s=6.0, **kw),
                    phase("peak", 600, ["p1.wav", "p2.wav"]))


def names(state):
    return [u["path"].rsplit("/", 1)[-1] for u in state.upcoming]


def test_a_playlist_without_intensities_plays_as_before(rig_factory):
    rig = rig_factory(playlist(phase("onset", 600, ["m1.wav", "m2.wav"])), DURS)
    rig.do("start")
    state = rig.run(1)
    assert (state.intensity, state.intensities) == (3, (3,))
    assert state.track.path.endswith("m1.wav") and names(state)[:1] == ["m2.wav"]
    assert rig.do("intensity", direction="deeper").reason == \
        "no deeper music in phase 'onset' (its tracks are at intensity 3)"
    assert rig.do("intensity", direction="softer").reason == \
        "no softer music in phase 'onset' (its tracks are at intensity 3)"


def test_the_next_track_comes_from_the_nearest_intensity(rig_factory):
    rig = rig_factory(pools(), DURS)
    rig.do("start")
    state = rig.run(1)
    assert state.intensities == (2, 3, 4) and state.track.path.endswith("m1.wav")
    assert names(state)[0] == "m2.wav"
    assert rig.do("intensity", direction="deeper").ok
    state = rig.state
    assert state.intensity == 4 and names(state)[:2] == ["d1.wav", "d2.wav"]
    assert state.track.path.endswith("m1.wav")  # without now: the track plays on
    assert rig.do("intensity", direction="deeper").reason == \
        "no deeper music in phase 'onset' (its tracks are at intensity 2, 3, 4)"
    state = rig.run(120)
    assert state.track.path.endswith("d1.wav") and state.track.intensity == 4


def test_intensity_bounds_are_refused_with_the_reason(rig_factory):
    rig = rig_factory(pools(intensity=5), DURS)
    rig.do("start")
    assert rig.do("intensity", direction="deeper").reason == \
        "the intensity is already at its deepest (5)"
    rig2 = rig_factory(pools(intensity=1), DURS)
    rig2.do("start")
    assert rig2.do("intensity", direction="softer").reason == \
        "the intensity is already at its gentlest (1)"
    assert rig2.run(1).track.intensity == 2  # the nearest pool to 1


def test_now_crossfades_to_the_new_pool_over_the_phase_crossfade(rig_factory):
    rig = rig_factory(pools(), DURS)
    rig.do("start")
    rig.run(30)
    assert rig.do("intensity", direction="softer", now=True).ok
    rig.run(3)
    assert sorted(rig.heard()) == ["g1.wav", "m1.wav"]  # both, mid-crossfade
    state = rig.run(4)
    assert rig.heard() == ["g1.wav"] and state.track.intensity == 2
    entry = [e for e in rig.engine.log_entries() if e["event"] == "intensity"][-1]
    assert (entry["from"], entry["to"], entry["now"], entry["by"]) == (3, 2, True, "test")


def test_now_is_refused_before_start_and_while_paused(rig_factory):
    rig = rig_factory(pools(), DURS)
    assert "without now" in rig.do("intensity", direction="deeper", now=True).reason
    assert rig.do("intensity", direction="deeper").ok and rig.state.intensity == 4
    rig.do("start")
    assert rig.run(1).track.intensity == 4
    rig.do("pause")
    assert rig.do("intensity", direction="softer", now=True).reason == \
        "resume the music before changing it now"


def test_play_next_puts_a_library_track_next_and_refuses_others(rig_factory, tmp_path):
    rig = rig_factory(pools(), DURS)
    rig.do("start")
    rig.run(1)
    assert rig.do("play_next", path=str(MUSIC / "p2.wav")).ok  # a track of another phase
    state = rig.state
    assert names(state)[0] == "p2.wav" and state.upcoming[0]["queued"]
    assert rig.do("play_next", path=str(MUSIC / "p2.wav")).reason == "'p2' is already in the queue"
    assert "is not in this playlist's library" in rig.do("play_next", path="/etc/passwd").reason
    assert rig.do("play_next", path=str(MUSIC / "m1.wav")).reason == "'m1' is playing now"
    state = rig.run(120)
    assert state.track.path.endswith("p2.wav") and state.track.queued
    assert state.phase.name == "onset" and names(state)[0] == "m2.wav"


def test_ban_crossfades_away_what_plays_and_it_never_comes_back(rig_factory):
    rig = rig_factory(playlist(phase("onset", 900, ["m1.wav", "m2.wav"]),
                               phase("peak", 600, ["p1.wav"])), DURS)
    rig.do("start")
    rig.run(20)
    assert rig.do("ban", path=str(MUSIC / "m1.wav")).ok
    state = rig.run(8)
    assert rig.heard() == ["m2.wav"] and state.banned[0]["title"] == "m1"
    refused = rig.do("play_next", path=str(MUSIC / "m1.wav"))
    assert refused.reason == "'m1' is banned for this session"
    for _ in range(6):  # a repeating phase: m1 never plays again
        rig.run(60)
        assert "m1.wav" not in rig.heard()
    assert rig.do("ban", path=str(MUSIC / "m1.wav")).reason == "'m1' is banned for this session"


def test_banning_the_last_track_of_a_phase_begins_the_next(rig_factory):
    rig = rig_factory(playlist(phase("onset", 900, ["m1.wav"]), phase("peak", 600, ["p1.wav"])),
                      DURS)
    rig.do("start")
    rig.run(20)
    assert rig.do("ban", path=str(MUSIC / "m1.wav")).ok
    state = rig.run(8)
    assert state.phase.name == "peak" and rig.heard() == ["p1.wav"]
    assert "phase 'peak' begins now" in state.warnings[-1]


def test_banning_the_last_track_of_the_last_phase_leaves_the_bed(rig_factory):
    rig = rig_factory(playlist(phase("onset", 900, ["m1.wav"])), DURS)
    rig.do("start")
    rig.run(20)
    assert rig.do("ban", path=str(MUSIC / "m1.wav")).ok
    state = rig.run(8)
    assert rig.heard() == [] and state.status == Status.PLAYING
    assert "no other track left in phase 'onset'" in state.warnings[-1]


def with_cues(pl, *cues, medicine=False):
    med = Medicine("im", pl.phases[0].name) if medicine else None
    return dataclasses.replace(pl, cues=tuple(cues), medicine=med)


def cue(n, at, kind, offset_s, phase_name=None):
    return Cue(f"c{n}", at, kind, offset_s, f"check {n}", phase_name)


def test_cues_fall_due_on_session_dose_and_phase_time_and_move_with_them(rig_factory):
    pl = with_cues(pools(), cue(1, "5m", "session", 300.0), cue(2, "dose+2m", "dose", 120.0),
                   cue(3, "peak+1m", "phase", 60.0, "peak"), medicine=True)
    rig = rig_factory(pl, DURS)
    rig.do("start")
    state = rig.run(60)
    by_id = {c["id"]: c for c in state.cues}
    assert by_id["c1"]["at_s"] == 300.0 and by_id["c2"]["at_s"] is None  # after the dose
    rig.do("hold")  # the dose phase waits for the dose anyway; the peak moves later
    state = rig.run(250)
    assert [c["status"] for c in state.cues] == ["due", "coming", "coming"]
    rig.do("dose")  # at 310 s: peak begins now
    state = rig.run(1)
    by_id = {c["id"]: c for c in state.cues}
    assert abs(by_id["c2"]["at_s"] - 430.0) < 1 and abs(by_id["c3"]["at_s"] - 370.0) < 1
    state = rig.run(70)
    assert [c["status"] for c in state.cues] == ["due", "coming", "due"]
    assert rig.do("ack_cue", id="c3").ok
    assert rig.state.cues[2]["status"] == "acked" and rig.state.cues[2]["acked_by"] == "test"
    assert "already acknowledged" in rig.do("ack_cue", id="c3").reason
    assert rig.do("ack_cue", id="c2").ok  # early: it never falls due
    rig.run(120)
    assert rig.state.cues[1]["status"] == "acked" and rig.state.cues[1]["due_s"] is None
    events = [e["event"] for e in rig.engine.log_entries() if e["event"].startswith("cue_")]
    assert events == ["cue_due", "cue_due", "cue_ack", "cue_ack"]
    assert "no cue 'c9'" in rig.do("ack_cue", id="c9").reason


def test_a_cue_that_can_no_longer_fall_due_is_skipped_not_coming(rig_factory):
    pl = playlist(phase("arrival", 300, ["g1.wav"]), phase("onset", 300, ["m1.wav"]),
                  phase("peak", 300, ["p1.wav"]))
    pl = dataclasses.replace(pl, medicine=Medicine("im", "onset"),
                             cues=(cue(1, "onset+1m", "phase", 60.0, "onset"),
                                   cue(2, "peak+1m", "phase", 60.0, "peak"),
                                   cue(3, "60m", "session", 3600.0)))
    rig = rig_factory(pl, DURS)
    rig.do("start")
    rig.run(30)
    assert [c["status"] for c in rig.state.cues] == ["coming"] * 3
    rig.do("dose")  # given during arrival: onset is passed unplayed, peak begins
    state = rig.run(1)
    assert state.phase.name == "peak"
    assert [(c["status"], c["at_s"] is None) for c in state.cues] == [
        ("skipped", True), ("coming", False), ("coming", False)]
    rig.do("stop")
    state = rig.run(10)
    assert state.status is Status.ENDED
    assert [c["status"] for c in state.cues] == ["skipped"] * 3
    assert not [e for e in rig.engine.log_entries() if e["event"] == "cue_due"]


def test_an_extension_moves_a_phase_relative_cue(rig_factory):
    pl = with_cues(pools(), cue(1, "peak+1m", "phase", 60.0, "peak"))
    rig = rig_factory(pl, DURS)
    rig.do("start")
    rig.run(10)
    assert rig.state.cues[0]["at_s"] == 660.0
    rig.do("extend", minutes=5)
    assert rig.state.cues[0]["at_s"] == 960.0


def test_a_note_is_logged_with_time_phase_track_and_who(rig_factory):
    rig = rig_factory(pools(), DURS)
    assert rig.do("note", text="participant 3 arrived late").ok  # before start too
    rig.do("start")
    rig.run(30)
    assert rig.do("note", text="distress").ok
    entry = [e for e in rig.engine.log_entries() if e["event"] == "note"][-1]
    assert (entry["text"], entry["phase"], entry["by"], entry["title"]) == \
        ("distress", "onset", "test", "m1")
    assert rig.state.notes[-1]["text"] == "distress"


def test_steering_survives_a_checkpoint(rig_factory):
    rig = rig_factory(pools(), DURS)
    rig.do("start")
    rig.run(10)
    rig.do("intensity", direction="deeper")
    rig.do("ban", path=str(MUSIC / "d1.wav"))
    rig.do("play_next", path=str(MUSIC / "g2.wav"))
    data = rig.engine.core.checkpoint(rig.engine.session_s())
    fresh = rig_factory(pools(), DURS)
    fresh.engine.core.restore(data, data["session_s"])
    core = fresh.engine.core
    assert core.timeline.order(0).level == 4 and core.timeline.queue[0].track.title == "g2"
    assert [p.name for p in core.timeline.banned] == ["d1.wav"]

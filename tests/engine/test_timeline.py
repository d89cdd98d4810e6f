"""The timeline: phase ends on the session clock, what each phase plays next, and checkpoints."""

from __future__ import annotations

from engine_rig import phase, playlist

from soundscape.engine.timeline import Timeline
from soundscape.schedule.plan import make_plan


def arc() -> Timeline:
    return Timeline(playlist(phase("arrival", 100, ["a.wav", "b.wav"]),
                             phase("onset", 200, ["c.wav"], when_short="silence"),
                             phase("peak", 300, [])), seed=1)


def test_phase_ends_are_the_sum_of_the_durations_until_something_moves_them():
    t = arc()
    assert t.ends == [100.0, 300.0, 600.0] and t.end_s() == 100.0
    t.extend(30.0)  # the current phase and every later one
    assert t.ends == [130.0, 330.0, 630.0]
    t.extend_from(2, 60.0)  # a booster's phase and the rest
    assert t.ends == [130.0, 330.0, 690.0]
    t.end_now(50.0)  # later phases keep their durations
    assert t.ends == [50.0, 250.0, 610.0]
    t.end_through(1, 70.0)  # arrival and onset end now: the dose
    assert t.ends == [70.0, 70.0, 430.0]


def test_where_each_phase_starts_as_things_stand():
    t = arc()
    assert t.slots() == [("arrival", 0.0, 100.0), ("onset", 100.0, 200.0), ("peak", 300.0, 300.0)]
    t.enter(0, 0.0)
    t.enter(1, 80.0)  # onset began early (next phase)
    assert t.start_of(1) == 80.0 and t.started and t.index == 1
    assert t.slots()[1] == ("onset", 80.0, 220.0)


def test_each_phase_takes_its_tracks_in_order_with_one_track_of_look_ahead():
    t = arc()
    assert t.peek(0).track.title == "a" and t.peek(0).track.title == "a"  # peeking takes nothing
    assert [t.next_slot(0).track.title for _ in range(3)] == ["a", "b", "a"]  # repeat
    assert t.taken(0) == 3 and t.taken_counts() == {0: 3}
    assert t.next_slot(1).track.title == "c" and t.peek(1) is None  # silence: once
    assert t.recycle(1).track.title == "c" and t.recycle(1).repeat  # held past its tracks
    assert t.peek(2) is None and t.peek(3) is None


def test_a_checkpoint_restores_the_same_ends_and_the_same_next_tracks():
    t = arc()
    t.enter(0, 0.0)
    t.next_slot(0)
    t.next_slot(0)
    t.extend(15.0)
    data = t.checkpoint()
    fresh = arc()
    fresh.restore(data, replay_current=False)
    assert (fresh.ends, fresh.starts, fresh.index) == (t.ends, t.starts, t.index)
    assert fresh.peek(0) == t.peek(0)
    replay = arc()
    replay.restore(data, replay_current=True)  # the track that was playing is resumed by path
    assert replay.resume_slot(0, str(t.playlist.phases[0].tracks[1].path)).track.title == "b"
    assert replay.peek(0) == t.peek(0) and replay.taken(0) == 2


def test_a_checkpoint_from_before_intensities_replays_the_tracks_taken():
    t = arc()
    t.enter(0, 0.0)
    t.next_slot(0)
    t.next_slot(0)
    legacy = {k: v for k, v in t.checkpoint().items() if k in ("index", "ends", "starts", "taken")}
    replay = arc()
    replay.restore(legacy, replay_current=True)  # the track that was playing comes again
    assert replay.peek(0).track.title == "b"


def test_planned_times_come_from_the_plan_when_there_is_one():
    t = arc()
    assert t.planned_start(1) is None and t.planned_track_start(0, 0) is None
    t.plan = make_plan(t.playlist, {p.path: 60.0 for p in t.playlist.phases[0].tracks}, seed=1)
    assert t.planned_start(1) == 100.0 and t.planned_end(0) == 100.0
    assert t.planned_track_start(0, 1) is not None and t.planned_track_start(0, 99) is None

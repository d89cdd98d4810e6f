"""What the control page is told, as a facilitator would read it: the epoch and the interruption,
the overrun and the end that moves with it, each warning's time, the level the music returns to."""

import dataclasses

import pytest

from soundscape.engine import checkpoint
from soundscape.engine.commands import Action, Command
from soundscape.engine.engine import Engine
from soundscape.engine.snapshot import REFRESH_EVERY_S
from soundscape.engine.state import Status
from soundscape.playlist.model import Medicine
from soundscape.testing import FakeClock, FakeOutput

from engine_rig import MUSIC, phase, playlist

DURS = {"a.wav": 200, "b.wav": 200, "c.wav": 200, "d.wav": 200, "gone.wav": 100}
# A state read between two publications is at most this old (a playing session is republished
# at least this often): figures that count with the clock are compared within it.
SEEN_WITHIN_S = REFRESH_EVERY_S
RESTARTED_PREFIX = "resumed after an interruption of "


def three_phases(**arrival):
    return playlist(phase("Arrival", 300, ["a.wav"], level_pct=55, **arrival),
                    phase("Onset", 600, ["b.wav"], level_pct=75),
                    phase("Return", 600, ["c.wav"], level_pct=50))


def dosed():
    """Arrival waits for the dose; the later phases are timed from it."""
    pl = playlist(phase("Arrival", 300, ["a.wav"], level_pct=55),
                  phase("Onset", 600, ["b.wav"], level_pct=75),
                  phase("Peak", 1200, ["c.wav"], level_pct=70),
                  phase("Return", 600, ["d.wav"], level_pct=50))
    return dataclasses.replace(pl, medicine=Medicine("im", "Arrival"))


def slots(state) -> list[tuple[str, float, float]]:
    return [(p.name, p.start_s, p.duration_s) for p in state.phases]


def assert_overrun_moves_everything_after(state, planned: list[tuple[str, float, float]]):
    """The current phase longer by its overrun, every later one starting that much later, and the
    end of the session at the end of the last slot: all within the one state the page shows."""
    over, current = state.phase.overrun_s, state.phase.index
    _, start, duration = planned[current]
    # counted from the phase's planned end, in the state's own time
    assert over == pytest.approx(state.session_elapsed_s - (start + duration), abs=0.011)
    expected = [(name, start, duration + over) if j == current
                else (name, start + over if j > current else start, duration)
                for j, (name, start, duration) in enumerate(planned)]
    for (name, start, duration), slot in zip(expected, state.phases):
        assert slot.name == name
        assert slot.start_s == pytest.approx(start, abs=0.011)
        assert slot.duration_s == pytest.approx(duration, abs=0.011)
    last = state.phases[-1]
    assert state.total_s == pytest.approx(last.start_s + last.duration_s, abs=0.011)


def crash_and_resume(rig, downtime_s: float) -> tuple[Engine, dict]:
    """The engine dies; the wall clock moves on ``downtime_s``; a new engine (a new process)
    carries on from the checkpoint the dead one left."""
    data = checkpoint.read(rig.engine.checkpoint_path)
    rig.clock.advance(downtime_s)
    durs = {MUSIC / k: v for k, v in DURS.items()}
    engine = Engine(rig.engine.playlist, FakeOutput(rig.clock, durs), clock=rig.clock,
                    durations=durs, resume=data, checkpoint_path=rig.engine.checkpoint_path)
    return engine, data


def do(engine: Engine, action: str, **params):
    return engine.execute(Command(Action(action), params, by="test", source="test"))


# ------------------------------------------------------------------ the epoch and the interruption

def test_each_engine_has_its_own_epoch_kept_through_the_session(rig_factory):
    first, second = rig_factory(three_phases(), DURS), rig_factory(three_phases(), DURS)
    epoch = first.state.epoch
    assert isinstance(epoch, str) and epoch
    assert second.state.epoch and second.state.epoch != epoch  # two server starts
    revision = first.state.revision
    first.do("start")
    first.run(100)
    first.do("hush")
    first.run(400)  # into the next phase
    assert first.state.revision > revision + 10
    assert first.state.epoch == epoch
    assert first.state.resumed is False and first.state.interruption_s is None


def test_a_resumed_engine_says_how_long_the_room_was_down(rig_factory, tmp_path):
    r = rig_factory(three_phases(), DURS)
    r.engine.checkpoint_path = tmp_path / "checkpoint.json"
    r.do("start")
    r.run(250)
    engine, data = crash_and_resume(r, downtime_s=45)
    state = engine.snapshot()
    assert state.resumed is True
    # from the last checkpoint (at most a second before the crash) to the resume
    assert state.interruption_s == pytest.approx(45, abs=REFRESH_EVERY_S)
    assert state.interruption_s == round(r.clock.wall().timestamp() - data["wall_epoch"], 1)
    assert state.epoch and state.epoch != r.state.epoch  # a new process: a new epoch
    engine.run_for(30)
    assert engine.snapshot().interruption_s == state.interruption_s
    assert engine.snapshot().epoch == state.epoch


# ------------------------------------------------------------------ overrun, slots and the end

def test_the_dose_phase_runs_over_while_it_waits_and_the_end_moves_with_it(rig_factory):
    planned = [("Arrival", 0, 300), ("Onset", 300, 600), ("Peak", 900, 1200), ("Return", 2100, 600)]
    r = rig_factory(dosed(), DURS)
    r.do("start")
    assert r.state.total_s == 2700 and r.state.total_open is True  # the wait may make it later
    r.run(430)  # 130 s past Arrival's planned end, no dose yet
    state = r.state
    assert state.phase.name == "Arrival" and state.medicine["awaiting_dose"] is True
    assert state.phase.remaining_s == 0
    assert state.phase.overrun_s == pytest.approx(130, abs=SEEN_WITHIN_S)
    assert_overrun_moves_everything_after(state, planned)
    assert state.total_s == pytest.approx(2830, abs=SEEN_WITHIN_S)
    assert state.total_open is True
    r.run(60)  # the overrun counts up, and the end with it
    assert r.state.phase.overrun_s == pytest.approx(190, abs=SEEN_WITHIN_S)
    assert_overrun_moves_everything_after(r.state, planned)
    assert r.do("dose").ok  # at 490 s
    state = r.state
    assert state.phase.name == "Onset" and state.phase.overrun_s == 0
    assert slots(state) == [("Arrival", 0, 490), ("Onset", 490, 600), ("Peak", 1090, 1200),
                            ("Return", 2290, 600)]
    assert state.total_s == 2890 and state.total_open is False


def test_a_dose_before_the_planned_end_leaves_no_overrun(rig_factory):
    r = rig_factory(dosed(), DURS)
    r.do("start")
    r.run(200)
    assert r.state.phase.overrun_s == 0 and r.state.phase.remaining_s == pytest.approx(
        100, abs=SEEN_WITHIN_S)
    r.do("dose")
    assert slots(r.state)[:2] == [("Arrival", 0, 200), ("Onset", 200, 600)]
    assert r.state.total_s == 2600 and r.state.total_open is False


def test_a_hold_past_the_end_runs_over_and_release_keeps_the_shift(rig_factory):
    planned = [("Arrival", 0, 300), ("Onset", 300, 600), ("Return", 900, 600)]
    r = rig_factory(three_phases(), DURS)
    r.do("start")
    r.run(100)
    r.do("hold")
    assert r.state.phase.held is True and r.state.phase.overrun_s == 0  # not over yet
    assert r.state.total_s == 1500 and r.state.total_open is True
    r.run(330)  # 130 s past the planned end
    state = r.state
    assert state.phase.name == "Arrival" and state.phase.held is True
    assert state.phase.remaining_s == 0
    assert state.phase.overrun_s == pytest.approx(130, abs=SEEN_WITHIN_S)
    assert_overrun_moves_everything_after(state, planned)
    assert state.total_open is True
    assert r.do("release").ok  # at 430 s: the phase ends now
    state = r.state
    assert state.phase.name == "Onset" and state.phase.overrun_s == 0
    assert slots(state) == [("Arrival", 0, 430), ("Onset", 430, 600), ("Return", 1030, 600)]
    assert state.total_s == 1630 and state.total_open is False
    r.run(605)  # the later phases really start later
    assert r.state.phase.name == "Return"
    assert slots(r.state) == [("Arrival", 0, 430), ("Onset", 430, 600), ("Return", 1030, 600)]
    assert r.state.total_s == 1630


def test_a_held_phase_runs_over_while_paused_too(rig_factory):
    r = rig_factory(three_phases(), DURS)
    r.do("start")
    r.run(250)
    r.do("pause")
    r.do("hold")
    r.run(120)
    state = r.state
    assert state.status == Status.PAUSED and state.phase.name == "Arrival"
    assert state.phase.overrun_s == pytest.approx(70, abs=SEEN_WITHIN_S)
    assert_overrun_moves_everything_after(
        state, [("Arrival", 0, 300), ("Onset", 300, 600), ("Return", 900, 600)])
    assert state.total_open is True


def test_a_last_track_playing_out_moves_only_the_boundary_with_the_next_phase(rig_factory):
    """``at_end: finish``: the phase runs over until its track ends, but that is no hold: the
    next phase begins later and is shorter, the later ones and the end keep their times
    (docs/engine.md), and the end is not open."""
    r = rig_factory(playlist(phase("Arrival", 300, ["a.wav", "b.wav"], at_end="finish"),
                             phase("Onset", 300, ["c.wav"]), phase("Return", 300, ["d.wav"])),
                    {"a.wav": 250, "b.wav": 250, "c.wav": 300, "d.wav": 300})
    r.do("start")
    r.run(350)
    state = r.state
    assert state.phase.name == "Arrival" and state.track.title == "b"
    over = state.phase.overrun_s
    assert over == pytest.approx(50, abs=SEEN_WITHIN_S)
    assert over == pytest.approx(state.session_elapsed_s - 300, abs=0.011)
    assert slots(state) == [("Arrival", 0, pytest.approx(300 + over, abs=0.011)),
                            ("Onset", pytest.approx(300 + over, abs=0.011),
                             pytest.approx(300 - over, abs=0.011)),
                            ("Return", 600, 300)]
    assert state.total_s == 900 and state.total_open is False
    r.run(200)  # b ends at about 494 s: Onset begins then
    [(onset_at, _)] = [(at, name) for at, name in r.starts() if name == "c.wav"]
    assert r.state.phase.name == "Onset" and r.state.phase.overrun_s == 0
    assert slots(r.state) == [("Arrival", 0, pytest.approx(onset_at, abs=0.011)),
                              ("Onset", pytest.approx(onset_at, abs=0.011),
                               pytest.approx(600 - onset_at, abs=0.011)),
                              ("Return", 600, 300)]
    assert 480 < onset_at < 500 and r.state.total_s == 900


def test_a_phase_that_ended_early_shows_how_long_it_lasted(rig_factory):
    r = rig_factory(playlist(phase("Arrival", 300, ["a.wav"], when_short="silence", crossfade_s=5),
                             phase("Onset", 300, ["b.wav"])), {"a.wav": 100, "b.wav": 600})
    r.do("start")
    r.run(120)
    assert r.state.phase.name == "Onset"
    assert slots(r.state) == [("Arrival", 0, 94.75), ("Onset", 94.75, 505.25)]
    assert r.state.total_s == 600


def test_phases_skipped_by_an_early_dose_stay_put_while_a_later_hold_runs_over(rig_factory):
    pl = dataclasses.replace(dosed(), medicine=Medicine("im", "Onset"))  # dose given in Onset
    r = rig_factory(pl, DURS)
    r.do("start")
    r.run(100)
    r.do("dose")  # marked in Arrival: Arrival and Onset end now, Peak follows
    r.do("hold")
    r.run(1250)  # 50 s past Peak's end (at 1300 s)
    state = r.state
    assert state.phase.name == "Peak" and state.phase.overrun_s == pytest.approx(50, abs=SEEN_WITHIN_S)
    assert slots(state)[:2] == [("Arrival", 0, 100), ("Onset", 100, 0)]
    assert_overrun_moves_everything_after(
        state, [("Arrival", 0, 100), ("Onset", 100, 0), ("Peak", 100, 1200), ("Return", 1300, 600)])


def test_without_a_wait_there_is_no_overrun_the_engine_moves_on(rig_factory):
    planned = [("Arrival", 0, 300), ("Onset", 300, 600), ("Return", 900, 600)]
    r = rig_factory(three_phases(), DURS)
    r.do("start")
    r.run(310)
    assert r.state.phase.name == "Onset" and r.state.phase.overrun_s == 0
    assert slots(r.state) == planned and r.state.total_s == 1500
    assert r.state.total_open is False
    paused = rig_factory(three_phases(), DURS)  # a pause does not hold the phase either
    paused.do("start")
    paused.run(250)
    paused.do("pause")
    paused.run(70)
    assert paused.state.status == Status.PAUSED
    assert paused.state.phase.name == "Onset" and paused.state.phase.overrun_s == 0
    assert slots(paused.state) == planned and paused.state.total_open is False
    r.run(1195)  # past the last phase's end: the session ends, it does not run over
    assert r.state.phase.name == "Return" and r.state.ending is True
    assert r.state.phase.overrun_s == 0 and r.state.total_open is False


def test_a_fade_out_shows_when_it_ends_and_an_ended_session_when_it_ended(rig_factory):
    r = rig_factory(three_phases(), DURS)
    r.do("start")
    r.run(100)
    assert r.do("fade_out", seconds=30).ok
    assert r.state.ending is True and r.state.total_s == 130 and r.state.total_open is False
    r.run(20)
    assert r.state.total_s == 130
    r.run(15)
    ended = r.state
    assert ended.status == Status.ENDED
    [ended_at] = [e["actual_s"] for e in r.engine.log_entries() if e["event"] == "session_end"]
    assert ended.total_s == pytest.approx(ended_at, abs=0.005)
    assert ended.total_s == pytest.approx(130, abs=0.05)  # the tick that found the fade over
    r.run(600)
    assert r.state.total_s == ended.total_s and r.state.total_open is False


def test_a_fade_out_while_the_dose_phase_waits_closes_the_open_end(rig_factory):
    r = rig_factory(dosed(), DURS)
    r.do("start")
    r.run(430)
    r.do("fade_out", seconds=60)
    assert r.state.total_s == 490 and r.state.total_open is False
    assert r.state.phase.overrun_s == 0  # the session ends; nothing runs over any more


# ------------------------------------------------------------------ warnings and their times

def test_a_warning_carries_the_session_time_it_happened_at(rig_factory):
    r = rig_factory(playlist(phase("Arrival", 600, ["a.wav", "gone.wav", "b.wav"], crossfade_s=6)),
                    DURS, missing=["gone.wav"])
    r.do("start")
    r.run(300)
    assert r.state.warnings == ("gone.wav could not be played; skipped",)
    [turn] = [s for s, name in r.starts() if name == "gone.wav"]  # about 194 s
    assert len(r.state.warnings_at_s) == 1
    assert r.state.warnings_at_s[0] == pytest.approx(turn, abs=0.1)


def test_output_lost_and_back_are_stamped_when_they_happen(rig_factory):
    r = rig_factory(playlist(phase("Arrival", 600, ["a.wav"])), {"a.wav": 700})
    r.do("start")
    r.run(5)
    r.output.dead = True
    r.run(2)
    r.run(60)
    r.output.dead = False
    r.run(1.5)
    state = r.state
    assert state.warnings == ("AUDIO OUTPUT LOST: the speaker or sound server is not answering",
                              "the audio output is back")
    lost, back = state.warnings_at_s  # noticed at the next health check, once a second
    assert 5 <= lost <= 5 + 1.0
    assert 67 <= back <= 67 + 1.0
    r.run(10)  # the rebuilt decks keep the times
    assert r.state.warnings_at_s == (lost, back)


NO_SOUND = "NO SOUND: the audio output could not be opened (test); the session runs silently"


def test_warnings_raised_before_start_carry_no_time(tmp_path):
    clock = FakeClock()
    durs = {MUSIC / "a.wav": 700}
    engine = Engine(playlist(phase("Arrival", 600, ["a.wav"])), FakeOutput(clock, durs),
                    clock=clock, durations=durs, seed=1, log_dir=tmp_path,
                    warnings=(NO_SOUND,))
    assert engine.snapshot().warnings_at_s == (None,)
    clock.advance(600)  # the room waits a while before Start
    engine.run_for(1)
    do(engine, "start")
    engine.run_for(40)
    engine.output.dead = True
    engine.run_for(2)
    state = engine.snapshot()
    assert len(state.warnings) == len(state.warnings_at_s) == 2
    assert state.warnings_at_s[0] is None
    assert 40 <= state.warnings_at_s[1] <= 41  # session time, not the clock's


def test_a_resumed_session_keeps_its_warnings_times_and_says_once_it_was_interrupted(
        rig_factory, tmp_path):
    r = rig_factory(playlist(phase("Arrival", 900, ["a.wav", "gone.wav", "b.wav"], crossfade_s=6)),
                    DURS, missing=["gone.wav"])
    r.engine.checkpoint_path = tmp_path / "checkpoint.json"
    r.do("start")
    r.run(250)
    [(skipped, skipped_at)] = zip(r.state.warnings, r.state.warnings_at_s)
    engine, data = crash_and_resume(r, downtime_s=45)
    assert data["warnings_at_s"] == [skipped_at]  # through the checkpoint file
    state = engine.snapshot()
    resumed_at = state.session_elapsed_s  # where the session clock stands: downtime counted
    assert resumed_at == pytest.approx(295, abs=SEEN_WITHIN_S)
    assert state.warnings == (skipped, "resumed after an interruption of 45 s")
    assert state.warnings_at_s == (skipped_at, pytest.approx(resumed_at, abs=0.05))
    engine.run_for(120)
    state = engine.snapshot()
    assert [w for w in state.warnings if w.startswith(RESTARTED_PREFIX)] == [
        "resumed after an interruption of 45 s"]
    assert state.warnings_at_s[:2] == (skipped_at, pytest.approx(resumed_at, abs=0.05))
    assert len(state.warnings) == len(state.warnings_at_s)
    saved = checkpoint.read(engine.checkpoint_path)  # the resumed engine's own checkpoint
    assert saved["warnings"][:2] == list(state.warnings[:2])
    assert saved["warnings_at_s"][:2] == list(state.warnings_at_s[:2])


def test_a_second_interruption_adds_its_own_warning_the_first_keeps_its_time(
        rig_factory, tmp_path):
    r = rig_factory(three_phases(), DURS)
    r.engine.checkpoint_path = tmp_path / "checkpoint.json"
    r.do("start")
    r.run(100)
    engine, _ = crash_and_resume(r, downtime_s=45)
    [first], [first_at] = engine.snapshot().warnings, engine.snapshot().warnings_at_s
    engine.run_for(50.5)
    r.engine = engine  # the resumed engine dies in its turn
    again, _ = crash_and_resume(r, downtime_s=20)
    state = again.snapshot()
    assert first.startswith(RESTARTED_PREFIX)
    assert state.warnings[0] == first and state.warnings_at_s[0] == first_at
    # the downtime counts from the last checkpoint, at most a second before the crash
    assert state.warnings[1] in {f"{RESTARTED_PREFIX}{n} s" for n in (20, 21)}
    assert state.warnings_at_s[1] == pytest.approx(state.session_elapsed_s, abs=0.05)
    assert state.interruption_s == pytest.approx(20, abs=REFRESH_EVERY_S)


# ------------------------------------------------------------------ the level the music returns to

def test_the_level_the_music_returns_to_through_set_level_hush_and_pause(rig_factory):
    r = rig_factory(three_phases(), DURS)
    r.do("start")
    r.run(20)
    state = r.state
    assert state.level_return == 55 and state.level_target == 55  # the phase's planned level
    assert state.level_set_by_hand is False
    r.do("set_level", level=40)
    assert (r.state.level_return, r.state.level_target, r.state.level_set_by_hand) == (40, 40, True)
    r.do("hush")
    assert r.state.level_target == r.state.extras["hush_pct"] == 25
    assert r.state.level_return == 40 and r.state.level_set_by_hand is True
    r.do("unhush")
    r.do("pause")
    assert r.state.level_target == 0 and r.state.level_return == 40
    r.do("set_level", level=28)  # while paused: kept, and shown
    assert r.state.level_target == 0
    assert r.state.level_return == 28 and r.state.level_set_by_hand is True
    r.do("resume")
    assert r.state.level_target == 28
    r.run(10)
    assert r.do("next_phase").ok
    state = r.state
    assert state.phase.name == "Onset"
    assert state.level_set_by_hand is False and state.level_return == 75
    assert state.warnings[-1] == ("Onset: the level follows the plan again, 75% (it was set to "
                                  "28% by hand during Arrival)")
    assert state.warnings_at_s[-1] == pytest.approx(state.session_elapsed_s, abs=0.05)


def test_a_phase_that_ends_by_itself_tells_too_and_a_paused_one(rig_factory):
    r = rig_factory(three_phases(), DURS)
    r.do("start")
    r.run(100)
    r.do("set_level", level=30)
    r.run(210)  # Arrival ends at 300 s
    assert r.state.phase.name == "Onset" and r.state.level_set_by_hand is False
    assert r.state.warnings == (
        "Onset: the level follows the plan again, 75% (it was set to 30% by hand during Arrival)",)
    assert r.state.warnings_at_s[0] == pytest.approx(300, abs=0.05)
    r.do("set_level", level=60)
    r.do("pause")
    r.run(700)  # Onset ends at 900 s while paused
    assert r.state.status == Status.PAUSED and r.state.phase.name == "Return"
    assert r.state.level_return == 50 and r.state.level_set_by_hand is False
    assert r.state.warnings[-1] == ("Return: the level follows the plan again, 50% (it was set to "
                                    "60% by hand during Onset)")


def test_the_level_returned_to_is_under_the_ceiling(rig_factory):
    from soundscape.engine.settings import RoomSettings
    r = rig_factory(playlist(phase("Arrival", 300, ["a.wav"], level_pct=95)), DURS,
                    settings=RoomSettings(ceiling_pct=80))
    r.do("start")
    assert r.state.level_return == 80 and r.state.level_set_by_hand is False
    r.do("set_level", level=100)
    assert r.state.level_return == 80 and r.state.level_set_by_hand is True


def test_no_level_warning_when_no_level_was_set_by_hand(rig_factory):
    r = rig_factory(three_phases(), DURS)
    r.do("start")
    r.run(50)
    r.do("hush")  # a hush is not a level set by hand
    r.do("next_phase")
    assert r.state.phase.name == "Onset" and r.state.level_return == 75
    assert r.state.warnings == ()
    r.do("set_level", level=50)  # what the next phase plans anyway: nothing changes by itself
    r.do("next_phase")
    assert r.state.phase.name == "Return" and r.state.level_set_by_hand is False
    assert r.state.warnings == ()


def test_an_ended_session_returns_to_no_level(rig_factory):
    r = rig_factory(three_phases(), DURS)
    r.do("start")
    r.do("set_level", level=40)
    r.do("stop")
    r.run(5)
    assert r.state.status == Status.ENDED
    assert r.state.level_return == 0 and r.state.level_set_by_hand is False


# ------------------------------------------------------------------ next phase and the dose

def test_next_phase_is_refused_while_the_dose_phase_waits(rig_factory):
    r = rig_factory(dosed(), DURS)
    r.do("start")
    r.run(100)
    result = r.do("next_phase")
    assert not result.ok
    assert result.reason == ("mark the dose first: phase 'Arrival' waits for the dose, and Dose "
                             "given moves the session on")
    r.run(300)  # past its planned end: still refused
    assert r.do("next_phase").reason.startswith("mark the dose first")
    assert r.state.phase.name == "Arrival"
    assert [e["ok"] for e in r.events("command") if e["action"] == "next_phase"] == [False, False]
    r.do("dose")
    assert r.state.phase.name == "Onset"
    assert r.do("next_phase").ok
    assert r.state.phase.name == "Peak"

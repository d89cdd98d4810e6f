"""Checkpoints and resuming: the same phase and track, from silence, the log going on."""

import json
import time

from soundscape.engine import checkpoint
from soundscape.engine.engine import Engine
from soundscape.engine.state import Status
from soundscape.testing import FakeClock, FakeOutput

from engine_rig import MUSIC, phase, playlist

DURS = {"a.wav": 200, "b.wav": 200, "c.wav": 200, "d.wav": 200}


def arc():
    return playlist(phase("onset", 300, ["a.wav", "b.wav"]), phase("peak", 600, ["c.wav", "d.wav"]))


def resume(rig, data, downtime_s=0.0):
    """A new engine (as after a restart) resuming from ``data`` on the same log."""
    clock = FakeClock(start=5000.0)  # its wall clock reads what the crashed engine's did
    data = dict(data, wall_epoch=clock.wall().timestamp() - downtime_s)
    durs = {MUSIC / k: v for k, v in DURS.items()}
    output = FakeOutput(clock, durs)
    engine = Engine(rig.engine.playlist, output, clock=clock, durations=durs, resume=data,
                    checkpoint_path=rig.engine.checkpoint_path)
    return engine, output


def test_the_checkpoint_is_written_every_second_and_cleared_at_the_end(rig_factory, tmp_path):
    r = rig_factory(arc(), DURS)
    r.engine.checkpoint_path = path = tmp_path / "state" / "checkpoint.json"
    r.do("start")
    r.run(250.5)
    data = json.loads(path.read_text())
    assert data["index"] == 0 and data["status"] == Status.PLAYING
    assert data["track"]["path"] == str(MUSIC / "b.wav")
    assert abs(data["session_s"] - 250.5) <= 1.0
    assert abs(data["track"]["position_s"] - (250.5 - 194)) <= 1.0
    r.do("stop")
    r.run(4)
    assert not path.exists()


def test_resume_plays_the_same_track_from_where_it_was_fading_in(rig_factory, tmp_path):
    r = rig_factory(arc(), DURS)
    r.engine.checkpoint_path = tmp_path / "checkpoint.json"
    r.do("start")
    r.do("extend", minutes=2.0)
    r.run(250)
    data = checkpoint.read(r.engine.checkpoint_path)
    engine, output = resume(r, data, downtime_s=20)
    state = engine.snapshot()
    assert state.resumed and state.status == Status.PLAYING
    assert state.phase.name == "onset"
    assert state.track.title == "b"
    assert abs(state.track.position_s - data["track"]["position_s"]) < 0.01
    assert output.loads[0][3] == data["track"]["position_s"]  # the deck starts there
    assert state.level == 0  # from silence ...
    engine.run_for(3)
    assert 0 < engine.snapshot().level < 70  # ... rising at the room's limit
    engine.run_for(10)
    assert engine.snapshot().level == 70
    # the session clock counted the downtime; the extension survived
    assert abs(engine.snapshot().session_elapsed_s - (data["session_s"] + 20 + 13)) < 1.5  # refreshed each second
    assert engine.snapshot().phases[0].duration_s == 420
    assert engine.log_path == r.engine.log_path
    assert "resumed" in [e["event"] for e in engine.log_entries()]
    assert engine.log_entries()[0]["event"] == "session_open"  # the same log goes on


def test_resume_after_a_crossfade_keeps_the_track_order(rig_factory, tmp_path):
    r = rig_factory(arc(), DURS)
    r.engine.checkpoint_path = tmp_path / "checkpoint.json"
    r.do("start")
    r.run(450)  # peak: c.wav playing
    engine, output = resume(r, checkpoint.read(r.engine.checkpoint_path))
    assert engine.snapshot().track.title == "c"
    assert engine.snapshot().next_track.title == "d"


def test_a_paused_session_resumes_paused_and_plays_its_track_on_resume(rig_factory, tmp_path):
    r = rig_factory(arc(), DURS)
    r.engine.checkpoint_path = tmp_path / "checkpoint.json"
    r.do("start")
    r.run(100)
    r.do("pause")
    r.run(5)
    data = checkpoint.read(r.engine.checkpoint_path)
    engine, output = resume(r, data)
    assert engine.snapshot().status == Status.PAUSED and output.playing() == []
    from soundscape.engine.commands import Action, Command
    engine.execute(Command(Action.RESUME))
    engine.run_for(12)
    assert [d.path.name for d in output.playing()] == ["a.wav"]
    assert abs(output.loads[0][3] - 103) < 0.1  # where the decks stopped, after the 3 s fade


def test_only_recent_unfinished_sessions_of_the_same_playlist_are_resumable(tmp_path):
    from pathlib import Path
    pl = tmp_path / "p.yaml"
    data = {"version": 1, "status": "playing", "playlist": str(pl.resolve()), "wall_epoch": time.time() - 60}
    assert checkpoint.resumable(data, pl)
    assert not checkpoint.resumable(dict(data, status="ended"), pl)
    assert not checkpoint.resumable(dict(data, wall_epoch=time.time() - 7 * 3600), pl)
    assert not checkpoint.resumable(data, Path(tmp_path / "other.yaml"))
    (tmp_path / "bad.json").write_text("{not json")
    assert checkpoint.read(tmp_path / "bad.json") is None


def test_the_engine_thread_recovers_from_a_failure_of_its_loop(rig_factory, tmp_path):
    r = rig_factory(arc(), DURS)
    engine = r.engine
    r.do("start")
    r.run(50)
    engine._save_checkpoint(force=True)
    engine._recover(RuntimeError("boom"))
    r.run(1)
    assert engine.snapshot().phase.name == "onset"
    assert [d.path.name for d in r.output.playing()][-1] == "a.wav"
    assert any("restarted" in w for w in engine.snapshot().warnings)

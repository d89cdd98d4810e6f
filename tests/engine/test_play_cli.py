"""``soundscape play``: the status line and the keys."""

from soundscape.cli.play import key_command, status_line
from soundscape.engine.commands import Action
from soundscape.engine.state import NextTrack, PhaseInfo, State, TrackInfo


def state(**kw):
    base = dict(revision=3, status="playing", title="T", session_id="s",
                phase=PhaseInfo(1, "peak", 60.0, 1250.0, False), phases=(),
                track=TrackInfo("Open sky", "/m/a.wav", 75.0, 300.0), next_track=NextTrack("b", "/m/b.wav"),
                level=52.0, level_target=70.0, hushed=False, session_elapsed_s=900.0,
                level_return=70.0)
    base.update(kw)
    return State(**base)


def test_status_line_shows_phase_time_left_track_and_level():
    assert status_line(state()) == "PLAYING | peak 20:50 left | ♪ Open sky 1:15/5:00 | level 52%→70%"
    held = state(phase=PhaseInfo(1, "peak", 60.0, 0.0, True), hushed=True, level=25.0, level_target=25.0,
                 warnings=("gone.wav could not be played; skipped",))
    assert status_line(held) == ("PLAYING | peak 0:00 left HELD | ♪ Open sky 1:15/5:00 | level 25% HUSHED"
                                 " | ⚠ gone.wav could not be played; skipped")
    over = state(phase=PhaseInfo(0, "arrival", 900.0, 0.0, False, overrun_s=130.0))
    assert status_line(over).startswith("PLAYING | arrival +2:10 over | ")


def test_level_keys_step_from_the_level_the_music_returns_to():
    # paused (level_target 0) or hushed (25 %): + is 5 % above the music's own level, not 5 %
    paused = state(status="paused", level=0.0, level_target=0.0, level_return=60.0)
    assert key_command("+", paused, "")[0].params == {"level": 65.0}
    hushed = state(hushed=True, level=25.0, level_target=25.0, level_return=60.0)
    assert key_command("-", hushed, "")[0].params == {"level": 55.0}


def test_destructive_keys_need_a_second_press():
    s = state()
    assert key_command("n", s, "") == (None, "n")
    command, armed = key_command("n", s, "n")
    assert command.action is Action.NEXT_PHASE and armed == ""
    assert key_command("q", s, "n") == (None, "q")  # another key disarms the first
    command, _ = key_command("q", s, "q")
    assert command.action is Action.FADE_OUT
    command, _ = key_command("d", s, "d")
    assert command.action is Action.DOSE


def test_single_keys():
    assert key_command(" ", state(), "")[0].action is Action.PAUSE
    assert key_command(" ", state(status="paused"), "")[0].action is Action.RESUME
    assert key_command("s", state(), "")[0].action is Action.SKIP
    assert key_command("h", state(hushed=True), "")[0].action is Action.UNHUSH
    assert key_command("+", state(), "")[0].params == {"level": 75.0}
    assert key_command("x", state(), "") == (None, "")


def test_play_without_a_terminal_runs_the_session_to_its_end(tmp_path, monkeypatch, capsys):
    """Real time, the `none` output: a 6-second arc with a dose phase ends by itself, exit 0."""
    import io
    import math

    from soundscape.cli.main import main
    from soundscape.testing.audio import write_tone

    for name in ("a", "b"):
        write_tone(tmp_path / f"{name}.wav", 8000 / (6 * math.pi), 4.0, amplitude=0.09, rate=8000,
                   channels=1)
    (tmp_path / "p.yaml").write_text(
        "title: Short\ndefaults: {crossfade: 1s}\n"
        "medicine: {route: im, dose_phase: arrival}\n"
        "phases:\n  - {name: arrival, duration: 3s, tracks: [a.wav]}\n"
        "  - {name: onset, duration: 3s, tracks: [b.wav]}\n")
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    assert main(["play", str(tmp_path / "p.yaml"), "--output", "none", "--log-dir", str(tmp_path / "logs")]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("PLAYING | arrival")
    assert any(line.startswith("PLAYING | onset") for line in out)
    assert out[-1] == "session ended"
    log = (next((tmp_path / "logs").iterdir())).read_text()
    assert '"event": "dose"' in log and '"by": "play (no terminal)"' in log

"""``soundscape check`` and ``soundscape schema`` as a user runs them: output and exit status."""

import json

from soundscape.cli.main import main

GOOD = "title: T\nphases: [{name: A, duration: 1m, tracks: [a.wav]}]\n"
BAD = "title: T\nphases: [{name: A, duration: 90, tracks: [a.wav]}]\n"
LONG = "title: T\nphases: [{name: A, duration: 13h, tracks: [a.wav]}]\n"


def run(capsys, *argv):
    code = main(["check", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_clean_file_prints_ok(write, capsys):
    write(GOOD)
    assert run(capsys, "t.yaml") == (0, "t.yaml: ok\n", "")


def test_errors_are_printed_located_and_fail(write, capsys):
    write(BAD)
    assert run(capsys, "t.yaml") == (
        1, "t.yaml:2:30: duration must look like 15m, 90s or 1h30m, not 90\n", "")


def test_warnings_pass_unless_strict(write, capsys):
    write(LONG)
    warning = "t.yaml:2:1: warning: the session lasts 13h, over 12h; check the phase durations\n"
    assert run(capsys, "t.yaml") == (0, warning + "t.yaml: ok\n", "")
    assert run(capsys, "--strict", "t.yaml") == (1, warning, "")


def test_folders_are_searched_for_yaml_in_sorted_order(write, here, make_wav, capsys):
    make_wav(here / "lists" / "a.wav")
    make_wav(here / "lists" / "deeper" / "a.wav")
    write(GOOD, "lists/b.yaml")
    write(BAD, "lists/a.yml")
    write(GOOD, "lists/deeper/c.yaml")
    write("not a playlist", "lists/readme.txt")
    code, out, _ = run(capsys, "lists")
    assert code == 1
    assert out == ("lists/a.yml:2:30: duration must look like 15m, 90s or 1h30m, not 90\n"
                   "lists/b.yaml: ok\n"
                   "lists/deeper/c.yaml: ok\n")


def test_json_output(write, capsys):
    write(BAD, "bad.yaml")
    write(LONG, "long.yaml")
    write(GOOD, "good.yaml")
    code, out, _ = run(capsys, "--json", "bad.yaml", "long.yaml", "good.yaml")
    assert code == 1
    assert json.loads(out) == [
        {"path": "bad.yaml", "line": 2, "col": 30, "severity": "error",
         "message": "duration must look like 15m, 90s or 1h30m, not 90"},
        {"path": "long.yaml", "line": 2, "col": 1, "severity": "warning",
         "message": "the session lasts 13h, over 12h; check the phase durations"},
    ]
    code, out, _ = run(capsys, "--json", "good.yaml", "long.yaml")
    assert code == 0 and len(json.loads(out)) == 1
    code, out, _ = run(capsys, "--json", "--strict", "long.yaml")
    assert code == 1


def test_missing_path(here, capsys):
    assert run(capsys, "nope.yaml") == (1, "", "error: no such file or folder: nope.yaml\n")


def test_folder_without_playlists(here, capsys):
    (here / "empty").mkdir()
    assert run(capsys, "empty") == (
        1, "", "error: no playlists (*.yaml, *.yml) in folder: empty\n")


def test_hostile_file_never_gives_a_traceback(here, capsys):
    (here / "t.yaml").write_bytes(b"\xff\xfe\x00garbage")
    assert run(capsys, "t.yaml") == (
        1, "t.yaml:1:1: file is not UTF-8 text (byte 0xff); save it as UTF-8\n", "")


def test_planner_warnings_short_phase_and_long_track(write, here, make_wav, capsys):
    make_wav(here / "long.wav", seconds=3.0)
    write("""
        title: T
        phases:
          - name: A
            duration: 1m
            when_short: silence
            tracks: [a.wav]
          - name: B
            duration: 1s
            crossfade: 0s
            tracks: [long.wav]
    """)
    code, out, _ = run(capsys, "t.yaml")
    lines = out.splitlines()
    assert code == 0
    assert lines[0].startswith("t.yaml:3:5: warning: phase 'A': its tracks fill ")
    assert "when_short: silence" in lines[0]
    assert lines[1] == "t.yaml:10:14: warning: track long.wav (0:03) is longer than its phase " \
                       "'B' (0:01)"
    assert lines[2] == "t.yaml: ok"
    assert run(capsys, "--strict", "t.yaml")[0] == 1


def test_schema_command_prints_the_schema(capsys):
    assert main(["schema"]) == 0
    out, err = capsys.readouterr()
    schema = json.loads(out)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["required"] == ["title", "phases"]
    assert err == ""


def test_check_warns_of_a_loudness_jump_once_the_tracks_are_analysed(write, make_wav, here, capsys):
    import numpy as np
    import soundfile

    rate = 8000
    t = np.arange(rate * 3) / rate
    soundfile.write(here / "soft.wav", 0.02 * np.sin(2 * np.pi * 440 * t), rate)
    soundfile.write(here / "loud.wav", 0.5 * np.sin(2 * np.pi * 440 * t), rate)
    name = write("""
        title: T
        phases:
          - name: onset
            duration: 6s
            crossfade: 1s
            tracks: [soft.wav, loud.wav]
    """)
    assert main(["check", name]) == 0
    assert "louder" not in capsys.readouterr().out  # nothing measured yet: nothing claimed
    assert main(["analyze", "."]) == 0
    capsys.readouterr()
    assert main(["check", name]) == 0
    out = capsys.readouterr().out
    assert "t.yaml:3:5: warning: loud.wav is 28.0 LU louder than soft.wav before it" in out

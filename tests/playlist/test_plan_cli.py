"""``soundscape plan``: the arc as text and JSON, with repeats, cuts and silences marked."""

import json

from soundscape.cli.main import main


def test_plan_prints_phases_and_tracks_with_offsets(write, make_wav, here, capsys):
    make_wav(here / "long.wav", seconds=50)
    make_wav(here / "short.wav", seconds=20)
    name = write("""
        title: Tuesday
        defaults: {crossfade: 4s}
        phases:
          - name: onset
            duration: 1m
            level: 60%
            tracks: [short.wav]
          - name: peak
            duration: 30s
            tracks: [long.wav]
          - name: return
            duration: 1m
            when_short: silence
            tracks: [short.wav]
    """)
    assert main(["plan", name]) == 0
    out = capsys.readouterr().out
    assert out.splitlines() == [
        "Tuesday  (2:30, seed 0)",
        "",
        "+   0:00  onset  1:00  level 60%",
        "  +   0:00     0:20  short",
        "  +   0:16     0:20  short [repeat]",
        "  +   0:32     0:20  short [repeat]",
        "  +   0:47     0:13  short [repeat] [cut at phase end]",
        "",
        "+   1:00  peak  0:30  level 70%",
        "  +   1:00     0:30  long [cut at phase end]",
        "",
        "+   1:30  return  1:00  level 70%",
        "  +   1:30     0:20  short",
        "               0:40  [silence until the session ends]",
        "t.yaml:10:14: warning: track long.wav (0:50) is longer than its phase 'peak' (0:30)",
        "t.yaml:11:5: warning: phase 'return': its tracks fill 0:20 of 1:00; with when_short: "
        "silence it ends 0:40 early",
    ]


def test_plan_json_has_the_documented_shape(write, capsys):
    name = write("""
        title: T
        phases:
          - name: onset
            duration: 10s
            crossfade: 0s
            tracks: [a.wav]
    """)
    assert main(["plan", name, "--json", "--seed", "7"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert set(data) >= {"title", "total_s", "phases"}
    assert data["seed"] == 7 and data["total_s"] == 10.0
    phase = data["phases"][0]
    assert (phase["name"], phase["start_s"], phase["duration_s"], phase["level"]) == ("onset", 0.0, 10.0, 70.0)
    assert {"path", "start_s", "duration_s"} <= set(phase["tracks"][0])
    assert phase["tracks"][0]["duration_s"] == 0.3


def test_plan_of_a_broken_playlist_prints_located_errors(write, capsys):
    name = write("""
        title: T
        phases:
          - name: onset
            duration: 15 mins
            tracks: [a.wav]
    """)
    assert main(["plan", name]) == 1
    err = capsys.readouterr().err
    assert err == "t.yaml:4:15: duration must look like 15m, 90s or 1h30m, not '15 mins'\n"


def test_every_problem_of_a_refused_playlist_is_printed_on_its_own_line(write, capsys):
    name = write("""
        title: T
        phases:
          - name: onset
            duration: 15 mins
            level: loud
            tracks: [a.wav]
    """)
    assert main(["play", name, "--output", "none"]) == 1
    assert capsys.readouterr().err.splitlines() == [
        "t.yaml:4:15: duration must look like 15m, 90s or 1h30m, not '15 mins'",
        "t.yaml:5:12: level must be a number 0-100 or a percentage like 70%, not 'loud'",
    ]

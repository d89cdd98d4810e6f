"""The loader: a valid file becomes the model; every refusal is located, worded and sorted."""

import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from soundscape.errors import PlaylistError, SoundscapeError
from soundscape.playlist import check_file, load_playlist
from soundscape.playlist.model import Ambience, Phase, Track, Where


@pytest.fixture(autouse=True, params=["libyaml", "pure-python"])
def parser(request, monkeypatch):
    """Every test runs with libyaml (fast path) and without it: same problems, same positions."""
    import yaml

    from soundscape.config import yamlnodes
    if request.param == "pure-python":
        monkeypatch.setattr(yamlnodes, "_FAST_LOADER", yaml.SafeLoader)
    elif not hasattr(yaml, "CSafeLoader"):
        pytest.fail("PyYAML was built without libyaml")
    return request.param


def problems(name):
    return [str(p) for p in check_file(name)[1]]


GOOD = """
    title: Tuesday group
    description: A gentle arc
    defaults:
      level: 60%
      crossfade: 4s
      order: in-order
    ambience: {file: rain.wav, level: 25}
    phases:
      - name: Arrival
        duration: 1:30
        tracks:
          - a.wav
          - file: b.wav
            gain: -3dB
            title: Breath
            start: 0s
            end: 2m
      - name: Onset
        duration: 15m
        level: 80
        crossfade: 8s
        order: shuffle
        at_end: finish
        when_short: silence
        fade_in: 30s
        fade_out: 1m
        ambience: none
        tracks: [songs/]
      - name: Rest
        duration: 1h30m
        ambience: {file: rain.wav}
"""


def test_valid_playlist_becomes_the_model(write, here, make_wav):
    make_wav(here / "songs" / "2.wav")
    make_wav(here / "songs" / "1.wav")
    (here / "songs" / "notes.txt").write_text("not listed: not audio by name")
    name = write(GOOD)
    playlist, found = check_file(name)
    assert found == []
    assert playlist.title == "Tuesday group"
    assert playlist.description == "A gentle arc"
    assert playlist.path == here / "t.yaml"
    assert playlist.music_dir == here
    assert playlist.duration_s == 90 + 900 + 5400
    arrival, onset, rest = playlist.phases
    assert arrival == Phase(
        name="Arrival", duration_s=90, level_pct=60, crossfade_s=4, order="in-order",
        at_end="fade", when_short="repeat",
        tracks=(Track(here / "a.wav", "a"),
                Track(here / "b.wav", "Breath", gain_db=-3, start_s=0, end_s=120)),
        ambience=Ambience(here / "rain.wav", 25))
    assert arrival.where == Where(9, 5)
    assert arrival.tracks[0].where == Where(12, 9)
    assert arrival.tracks[1].where == Where(13, 9)
    assert arrival.ambience.where == Where(7, 11)
    assert (onset.level_pct, onset.crossfade_s, onset.order, onset.at_end, onset.when_short,
            onset.fade_in_s, onset.fade_out_s) == (80, 8, "shuffle", "finish", "silence", 30, 60)
    assert onset.ambience is None
    assert [t.path.name for t in onset.tracks] == ["1.wav", "2.wav"]
    assert rest.tracks == () and rest.ambience == Ambience(here / "rain.wav", 30)
    assert rest.crossfade_s == 4 and rest.level_pct == 60


def test_defaults_without_a_defaults_block(write):
    name = write("""
        title: T
        phases:
          - {name: A, duration: 10m, tracks: [a.wav]}
    """)
    phase = load_playlist(name).phases[0]
    assert (phase.level_pct, phase.crossfade_s, phase.order, phase.at_end, phase.when_short) == (
        70, 6, "in-order", "fade", "repeat")
    assert phase.ambience is None


def test_music_dir_relative_to_the_playlist_and_tilde(write, here, make_wav, monkeypatch):
    make_wav(here / "lib" / "x.wav")
    name = write("""
        title: T
        music_dir: ../lib
        phases:
          - {name: A, duration: 10m, tracks: [x.wav, "*.wav"]}
    """, "lists/t.yaml")
    playlist = load_playlist(name)
    assert playlist.music_dir == here / "lib"
    assert [t.path for t in playlist.phases[0].tracks] == [here / "lib" / "x.wav"] * 2
    monkeypatch.setenv("HOME", str(here))
    name = write("title: T\nmusic_dir: ~/lib\nphases: [{name: A, duration: 1m, tracks: [x.wav]}]\n")
    assert load_playlist(name).music_dir == here / "lib"


def test_glob_and_folder_are_in_name_order_and_skip_other_files(write, here, make_wav):
    for n in ("b", "a", "c"):
        make_wav(here / "onset" / f"{n}.wav")
    (here / "onset" / "cover.jpg").write_bytes(b"\xff\xd8")
    (here / "onset" / "sub").mkdir()
    make_wav(here / "onset" / "sub" / "deep.wav")  # folders are not recursive
    name = write("""
        title: T
        phases:
          - {name: A, duration: 10m, tracks: ["onset/*.wav", onset/, "onset/[ab].wav"]}
    """)
    tracks = load_playlist(name).phases[0].tracks
    assert [t.path.name for t in tracks] == ["a.wav", "b.wav", "c.wav"] * 2 + ["a.wav", "b.wav"]


def test_a_literal_name_with_brackets_is_a_file_not_a_glob(write, here, make_wav):
    make_wav(here / "Live [1994].wav")
    name = write("title: T\nphases: [{name: A, duration: 1m, tracks: ['Live [1994].wav']}]\n")
    assert load_playlist(name).phases[0].tracks[0].title == "Live [1994]"


def test_builtin_demo_uses_the_demo_folder(write, here, make_wav, monkeypatch):
    import soundscape.demo
    make_wav(here / "demo" / "calm.wav")
    monkeypatch.setattr(soundscape.demo, "ensure_demo_music", lambda: here / "demo")
    name = write("title: T\nmusic_dir: builtin:demo\n"
                 "phases: [{name: A, duration: 1m, tracks: [calm.wav]}]\n")
    playlist = load_playlist(name)
    assert playlist.music_dir == here / "demo"
    assert playlist.phases[0].tracks[0].path == here / "demo" / "calm.wav"


def test_load_playlist_raises_every_error(write):
    name = write("title: T\nphases:\n  - name: A\n    duration: 90\n    level: 300\n")
    with pytest.raises(PlaylistError) as exc:
        load_playlist(name)
    assert str(exc.value) == (
        "t.yaml:3:5: phase 'A' has no tracks and no ambience; give it tracks or an ambience bed\n"
        "t.yaml:4:15: duration must look like 15m, 90s or 1h30m, not 90\n"
        "t.yaml:5:12: level must be between 0% and 100%, not 300")


def test_missing_file_is_an_error_not_a_traceback(here):
    with pytest.raises(SoundscapeError, match="^no such file: nope.yaml$"):
        check_file("nope.yaml")


# --- YAML-level refusals -------------------------------------------------------------------

@pytest.mark.parametrize("text, expected", [
    ("title: T\nphases: [\n", ["t.yaml:3:1: YAML syntax error: expected the node content, but "
                               "found '<stream end>'"]),
    ("title: T\n  x: 1\n", ["t.yaml:2:4: YAML syntax error: mapping values are not allowed "
                            "here"]),
    ("title: T\nphases:\n\t- name: A\n", ["t.yaml:3:1: tabs are not allowed for indentation; "
                                          "use spaces"]),
    ("", ["t.yaml:1:1: file is empty; a playlist needs at least a title and phases"]),
    ("# only a comment\n", ["t.yaml:1:1: file is empty; a playlist needs at least a title and "
                            "phases"]),
    ("- a\n- b\n", ["t.yaml:1:1: the playlist must be a mapping of keys like title, phases, "
                    "description, not a list"]),
    ("just words\n", ["t.yaml:1:1: the playlist must be a mapping of keys like title, phases, "
                      "description, not 'just words'"]),
    ("title: T\n---\ntitle: U\n", ["t.yaml:2:1: YAML syntax error: a playlist file holds one "
                                   "YAML document; remove the '---' line"]),
    ("title: a\x07b\n", ["t.yaml:1:9: the character U+0007 is not allowed in YAML; remove it"]),
])
def test_yaml_refusals(write, text, expected):
    assert problems(write(text)) == expected


def test_not_utf8_locates_the_first_bad_byte(here):
    (here / "t.yaml").write_bytes("title: Été\nphases:\n  - name: Ca\xe9".encode("utf-8")[:-2]
                                  + b"\xe9\n")
    assert problems("t.yaml") == [
        "t.yaml:3:13: file is not UTF-8 text (byte 0xe9); save it as UTF-8"]


def test_file_over_1mb_is_refused_before_parsing(here):
    (here / "t.yaml").write_bytes(b"title: T\n" + b"#" * (1024 * 1024))
    assert problems("t.yaml") == [
        "t.yaml:1:1: file is larger than 1 MB (1048585 bytes); is it a playlist?"]


def test_anchors_and_aliases_are_refused(write):
    name = write("""
        defaults: &d {level: 50}
        title: T
        phases:
          - name: A
            duration: 1m
            <<: *d
    """)
    assert problems(name) == [
        "t.yaml:1:11: anchors and aliases are not allowed",
        "t.yaml:6:9: anchors and aliases are not allowed",
    ]


def test_billion_laughs_is_refused_before_expanding(here):
    lines = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i in range(1, 10):
        lines.append(f"a{i}: &a{i} [" + ",".join([f"*a{i - 1}"] * 9) + "]")
    (here / "t.yaml").write_text("\n".join(lines) + "\ntitle: T\n")
    start = time.perf_counter()
    found = problems("t.yaml")
    # a guard against a hang, not a timing target (bench/ measures speed): expanding would take
    # minutes and gigabytes
    assert time.perf_counter() - start < 10
    assert found[0] == "t.yaml:1:5: anchors and aliases are not allowed"
    assert len(found) == 10 + 9 * 9
    assert set(p.split(": ", 1)[1] for p in found) == {"anchors and aliases are not allowed"}


def test_python_and_other_tags_are_refused(write):
    name = write("""
        title: !!python/object/apply:os.system ["echo hi"]
        description: !custom x
        phases:
          - name: !!str 5
            duration: 1m
            tracks: [a.wav]
    """)
    assert problems(name) == [
        "t.yaml:1:8: tags like !!python/object are not allowed "
        "(found !!python/object/apply:os.system)",
        "t.yaml:2:14: tags like !!python/object are not allowed (found !custom)",
    ]


def test_standard_str_tag_is_text(write):
    name = write("title: !!str yes\nphases: [{name: A, duration: 1m, tracks: [a.wav]}]\n")
    assert load_playlist(name).title == "yes"


# --- keys ----------------------------------------------------------------------------------

def test_duplicate_and_unknown_keys(write):
    name = write("""
        title: T
        titel: U
        phases:
          - name: A
            duration: 1m
            tracks: [a.wav]
            duration: 2m
            durration: 3m
            volume: 50
        title: V
    """)
    assert problems(name) == [
        "t.yaml:2:1: unknown key 'titel' in the playlist; did you mean 'title'?",
        "t.yaml:7:5: duplicate key 'duration' (first at line 5)",
        "t.yaml:8:5: unknown key 'durration' in phase; did you mean 'duration'?",
        "t.yaml:9:5: unknown key 'volume' in phase; valid keys are name, duration, tracks, "
        "ambience, fade_in, fade_out, intensity, level, crossfade, order, at_end, when_short",
        "t.yaml:10:1: duplicate key 'title' (first at line 1)",
    ]


def test_unknown_keys_in_defaults_tracks_and_ambience(write):
    name = write("""
        title: T
        defaults: {crossfad: 3s}
        ambience: {file: rain.wav, levle: 3}
        phases:
          - name: A
            duration: 1m
            tracks: [{file: a.wav, gian: 2dB}]
    """)
    assert problems(name) == [
        "t.yaml:2:12: unknown key 'crossfad' in defaults; did you mean 'crossfade'?",
        "t.yaml:3:28: unknown key 'levle' in ambience; did you mean 'level'?",
        "t.yaml:7:28: unknown key 'gian' in track; did you mean 'gain'?",
    ]


def test_missing_required_keys(write):
    name = write("""
        description: x
        phases:
          - tracks: [a.wav]
          - {name: B, tracks: [{gain: 1dB}]}
    """)
    assert problems(name) == [
        "t.yaml:1:1: the playlist is missing 'title'",
        "t.yaml:3:5: phase is missing 'duration'",
        "t.yaml:3:5: phase is missing 'name'",
        "t.yaml:4:5: phase is missing 'duration'",
        "t.yaml:4:24: track is missing 'file'",
    ]
    assert problems(write("title: T\n")) == ["t.yaml:1:1: the playlist is missing 'phases'"]


def test_phases_shape(write):
    assert problems(write("title: T\nphases: []\n")) == [
        "t.yaml:2:9: phases must list at least one phase"]
    assert problems(write("title: T\nphases: {name: A}\n")) == [
        "t.yaml:2:9: phases must be a list of phases, each starting with '- name:'"]
    assert problems(write("title: T\nphases: [A]\n")) == [
        "t.yaml:2:10: phase must be a mapping of keys like name, duration, tracks, not 'A'"]


# --- YAML 1.1 traps --------------------------------------------------------------------------

def test_yaml11_booleans_and_numbers_where_text_is_expected(write):
    name = write("""
        title: yes
        description: on
        phases:
          - name: no
            duration: 1m
            tracks: [{file: a.wav, title: 2024}, true]
          - name:
            duration: 1m
            tracks: [a.wav]
    """)
    assert problems(name) == [
        "t.yaml:1:8: title must be text; write it in quotes: 'yes'",
        "t.yaml:2:14: description must be text; write it in quotes: 'on'",
        "t.yaml:4:11: name must be text; write it in quotes: 'no'",
        "t.yaml:6:35: title must be text; write it in quotes: '2024'",
        "t.yaml:6:42: a track must be text; write it in quotes: 'true'",
        "t.yaml:7:5: name must not be empty",
    ]


def test_sexagesimal_is_read_as_text(write):
    name = write("""
        title: T
        defaults: {crossfade: 0:05}
        phases:
          - {name: A, duration: 1:30, tracks: [a.wav]}
          - {name: B, duration: 1:02:30, fade_in: 1:00, tracks: [a.wav]}
    """)
    a, b = load_playlist(name).phases
    assert (a.duration_s, b.duration_s, b.fade_in_s, a.crossfade_s) == (90, 3750, 60, 5)
    name = write("title: T\nphases: [{name: A, duration: 5m, level: 1:30, tracks: [a.wav]}]\n")
    assert problems(name) == [
        "t.yaml:2:41: level must be a number 0-100 or a percentage like 70%, not 1:30"]


# --- values --------------------------------------------------------------------------------

def test_bad_values_are_located_at_the_value(write):
    name = write("""
        title: T
        defaults:
          level: loud
          crossfade: 3
          order: random
          at_end: off
          when_short: loop
        ambience: {file: rain.wav, level: 130%}
        phases:
          - name: A
            duration: 15 mins
            fade_in: -5s
            tracks:
              - {file: a.wav, gain: +20dB}
              - {file: b.wav, gain: loud, start: 1m, end: 30s}
              - {file: c.wav, end: [1]}
    """)
    assert problems(name) == [
        "t.yaml:3:10: level must be a number 0-100 or a percentage like 70%, not 'loud'",
        "t.yaml:4:14: crossfade must look like 15m, 90s or 1h30m, not 3",
        "t.yaml:5:10: order must be one of in-order, shuffle, not 'random'",
        "t.yaml:6:11: at_end must be one of fade, finish, not off",
        "t.yaml:7:15: when_short must be one of repeat, silence, not 'loop'",
        "t.yaml:8:35: level must be between 0% and 100%, not 130%",
        "t.yaml:11:15: duration must look like 15m, 90s or 1h30m, not '15 mins'",
        "t.yaml:12:14: fade_in must look like 15m, 90s or 1h30m, not '-5s'",
        "t.yaml:14:29: gain must be between -30dB and +12dB, not +20dB",
        "t.yaml:15:29: gain must look like -3dB or +2dB, not 'loud'",
        "t.yaml:15:51: end must be after start (1m)",
        "t.yaml:16:28: end must be a single value, not a list",
    ]


def test_zero_and_empty_durations(write):
    name = write("""
        title: T
        phases:
          - {name: A, duration: 0s, tracks: [a.wav]}
          - {name: B, duration: 0:00, tracks: [a.wav]}
          - {name: C, duration: , tracks: [a.wav]}
          - {name: D, duration: 1m, crossfade: 0s, fade_in: 0s, tracks: [{file: a.wav, end: 0s}]}
    """)
    assert problems(name) == [
        "t.yaml:3:25: duration must be longer than 0s",
        "t.yaml:4:25: duration must be longer than 0s",
        "t.yaml:5:15: duration must look like 15m, 90s or 1h30m, not empty",
        "t.yaml:6:85: end must be after start (0s)",
    ]


def test_duplicate_phase_names(write):
    name = write("""
        title: T
        phases:
          - {name: Onset, duration: 1m, tracks: [a.wav]}
          - {name: Peak, duration: 1m, tracks: [a.wav]}
          - {name: Onset, duration: 1m, tracks: [a.wav]}
    """)
    assert problems(name) == ["t.yaml:5:12: duplicate phase name 'Onset' (first at line 3)"]


def test_a_phase_needs_tracks_or_an_ambience_bed(write):
    name = write("""
        title: T
        phases:
          - {name: A, duration: 1m}
          - {name: B, duration: 1m, tracks: []}
          - {name: C, duration: 1m, ambience: {file: rain.wav}}
    """)
    assert problems(name) == [
        "t.yaml:3:5: phase 'A' has no tracks and no ambience; give it tracks or an ambience bed",
        "t.yaml:4:5: phase 'B' has no tracks and no ambience; give it tracks or an ambience bed",
    ]
    name = write("""
        title: T
        ambience: {file: rain.wav}
        phases:
          - {name: A, duration: 1m}
          - {name: B, duration: 1m, ambience: none}
    """)
    assert problems(name) == [
        "t.yaml:5:5: phase 'B' has no tracks and no ambience; give it tracks or an ambience bed"]
    playlist = load_playlist(write(
        "title: T\nambience: {file: rain.wav}\nphases: [{name: A, duration: 1m}]\n"))
    assert playlist.phases[0].ambience.path.name == "rain.wav"


def test_ambience_shape(write):
    name = write("""
        title: T
        ambience: rain.wav
        phases:
          - {name: A, duration: 1m, tracks: [a.wav], ambience: {level: 20}}
    """)
    assert problems(name) == [
        "t.yaml:2:11: ambience must be a mapping with file (and level), or none",
        "t.yaml:4:56: ambience is missing 'file'",
    ]


def test_crossfades_and_fades_must_fit_the_phase(write):
    name = write("""
        title: T
        defaults: {crossfade: 30s}
        phases:
          - {name: A, duration: 20s, tracks: [a.wav]}
          - {name: B, duration: 20s, crossfade: 25s, tracks: [a.wav]}
          - {name: C, duration: 1m, fade_in: 40s, fade_out: 30s, tracks: [a.wav]}
          - {name: D, duration: 1m, fade_in: 2m, tracks: [a.wav]}
          - {name: E, duration: 20s, ambience: {file: rain.wav}}
    """)
    assert problems(name) == [
        "t.yaml:4:25: the phase (20s) is shorter than the crossfade in defaults (30s)",
        "t.yaml:5:41: crossfade 25s is longer than the phase (20s)",
        "t.yaml:6:53: fade_in + fade_out (1m10s) is longer than the phase (1m)",
        "t.yaml:7:38: fade_in + fade_out (2m) is longer than the phase (1m)",
    ]
    name = write("title: T\nphases: [{name: A, duration: 5s, tracks: [a.wav]}]\n")
    assert problems(name) == [
        "t.yaml:2:30: the phase (5s) is shorter than the default crossfade (6s); "
        "set a shorter crossfade"]


def test_long_session_is_a_warning(write):
    name = write("""
        title: T
        phases:
          - {name: A, duration: 8h, tracks: [a.wav]}
          - {name: B, duration: 5h, tracks: [a.wav]}
    """)
    playlist, found = check_file(name)
    assert playlist is not None
    assert [str(p) for p in found] == [
        "t.yaml:2:1: warning: the session lasts 13h, over 12h; check the phase durations"]
    assert load_playlist(name).duration_s == 13 * 3600


# --- files ---------------------------------------------------------------------------------

def test_file_problems(write, here, make_wav):
    (here / "notes.txt").write_text("hello")
    (here / "fake.mp3").write_bytes(b"\x00" * 4000)
    (here / "empty").mkdir()
    (here / "docs").mkdir()
    (here / "docs" / "x.txt").write_text("x")
    make_wav(here / "songs" / "ok.wav")
    (here / "songs" / "broken.wav").write_bytes(b"RIFF0000WAVEjunk")
    name = write("""
        title: T
        ambience: {file: thunder.wav}
        phases:
          - name: A
            duration: 10m
            tracks:
              - missing.wav
              - notes.txt
              - fake.mp3
              - nothing/
              - empty/
              - docs/*
              - "*.flac"
              - songs
              - songs/
              - {file: songs/, title: S}
              - {file: "*.wav", start: 1s}
              - {file: gone.wav}
            ambience: {file: notes.txt}
    """)
    here_ = str(here)
    assert problems(name) == [
        f"t.yaml:2:18: no such file: {here_}/thunder.wav",
        f"t.yaml:7:9: no such file: {here_}/missing.wav",
        "t.yaml:8:9: 'notes.txt' is not an audio file; audio files end in .mp3, .flac, .ogg, "
        ".oga, .opus, .wav, .m4a, .aac, .aiff, .aif, .wma",
        "t.yaml:9:9: 'fake.mp3' is not an audio file (its contents are not audio)",
        f"t.yaml:10:9: no such folder: {here_}/nothing",
        f"t.yaml:11:9: folder {here_}/empty has no audio files",
        f"t.yaml:12:9: 'docs/*' matches no audio file in {here_}",
        f"t.yaml:13:9: '*.flac' matches no audio file in {here_}",
        f"t.yaml:14:9: {here_}/songs is a folder; write 'songs/' to play the audio files in it",
        "t.yaml:15:9: 'songs/broken.wav' is not an audio file (its contents are not audio)",
        f"t.yaml:16:16: file must name one audio file in an entry with title, and "
        f"{here_}/songs is a folder",
        "t.yaml:17:16: file must name one audio file in an entry with start; leave out start "
        "to play a folder or glob",
        f"t.yaml:18:16: no such file: {here_}/gone.wav",
        "t.yaml:19:22: 'notes.txt' is not an audio file; audio files end in .mp3, .flac, .ogg, "
        ".oga, .opus, .wav, .m4a, .aac, .aiff, .aif, .wma",
    ]


def test_missing_music_dir_is_one_problem_not_one_per_track(write, here):
    name = write("""
        title: T
        music_dir: /no/such/place
        phases:
          - {name: A, duration: 1m, tracks: [a.wav, b.wav]}
    """)
    assert problems(name) == ["t.yaml:2:12: no such folder: /no/such/place"]


def test_builtin_demo_without_the_demo_module(write, monkeypatch):
    import sys
    monkeypatch.setitem(sys.modules, "soundscape.demo", None)  # import fails
    name = write("title: T\nmusic_dir: builtin:demo\nphases: [{name: A, duration: 1m}]\n")
    found = problems(name)
    assert found[0].startswith("t.yaml:2:12: builtin:demo is not available in this installation")


def test_problems_are_sorted_by_position(write):
    name = write("""
        phases:
          - {name: A, duration: 90, tracks: [missing.wav]}
        titel: T
    """)
    found = check_file(name)[1]
    assert found == sorted(found)
    assert [(p.line, p.col) for p in found] == [(1, 1), (2, 25), (2, 38), (3, 1)]


def test_playlist_named_as_given(here, write):
    name = write("title: T\nphases: [{name: A, duration: 90, tracks: [../t/a.wav]}]\n",
                 "sub/dir/p.yml")
    assert problems(str(Path("sub") / "dir" / "p.yml"))[0].startswith("sub/dir/p.yml:2:")
    assert problems(f"./{name}")[0].startswith("./sub/dir/p.yml:2:")


# --- robustness ----------------------------------------------------------------------------

PIECES = ["title: T\n", "phases:\n", "  - name: A\n", "    duration: 1m\n",
          "    tracks: [a.wav]\n",
          "- ", ": ", "[", "]", "{", "}", ",", "&a ", "*a", "!!str ", "!x ", "\t", "\n", "  ",
          "yes", "1:30", "90", "~", "'", '"', "#", "---\n", "? ", "|\n", "level: ", "gain: ",
          "file: ", "ambience: ", "none", "\x00", "é", "%", "@", "`", "<<: "]


@settings(max_examples=300, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.sampled_from(PIECES), max_size=30))
def test_any_text_gives_problems_never_an_exception(here, parts):
    (here / "t.yaml").write_text("".join(parts), encoding="utf-8")
    playlist, found = check_file("t.yaml")
    assert playlist is not None or any(p.severity == "error" for p in found)
    assert all(p.line >= 1 and p.col >= 1 for p in found)

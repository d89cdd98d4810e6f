"""``soundscape import``: M3U/M3U8 playlists become phase entries that pass ``soundscape check``."""

from __future__ import annotations

import textwrap

import pytest

from soundscape.cli.main import main
from soundscape.playlist import check_file, load_playlist
from soundscape.testing.audio import write_silence


@pytest.fixture(autouse=True)
def private_cache(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.mktemp("cache")))


silence = write_silence


@pytest.fixture
def music(tmp_path, monkeypatch):
    """tmp_path holds music/a.wav (25 s), music/sub/b c.wav (25 s), music/Café.wav (15 s)."""
    silence(tmp_path / "music" / "a.wav", 25)
    silence(tmp_path / "music" / "sub" / "b c.wav", 25)
    silence(tmp_path / "music" / "Café.wav", 15)
    (tmp_path / "playlists").mkdir()
    monkeypatch.chdir(tmp_path)
    return tmp_path


def run(*argv) -> int:
    return main(["import", *argv])


def test_m3u8_with_extinf_relative_absolute_and_file_urls_makes_a_valid_playlist(music, capsys):
    (music / "evening.m3u8").write_text(
        "#EXTM3U\n"
        "#EXTINF:25,Hania Rani - Eden: Part 1\n"
        "music/a.wav\n"
        "#EXTINF:25,Nils Frahm - Says\n"
        f"file://{(music / 'music' / 'sub').as_posix()}/b%20c.wav\n"
        "\n"
        f"{music / 'music' / 'Café.wav'}\n", encoding="utf-8")
    assert run("evening.m3u8", "--phase", "Onset", "-o", "playlists/new.yaml") == 0
    assert (music / "playlists" / "new.yaml").read_text(encoding="utf-8") == textwrap.dedent(f"""\
        # Imported from evening.m3u8.
        title: evening
        phases:
          - name: Onset
            duration: 2m
            tracks:
              - file: {music}/music/a.wav
                title: "Hania Rani - Eden: Part 1"
              - file: {music}/music/sub/b c.wav
                title: Nils Frahm - Says
              - {music}/music/Café.wav
        """)
    playlist, problems = check_file("playlists/new.yaml")
    assert problems == []
    assert [t.title for t in playlist.phases[0].tracks] == [
        "Hania Rani - Eden: Part 1", "Nils Frahm - Says", "Café"]
    assert playlist.phases[0].duration_s == 120  # 65 s of music, rounded up to the minute
    assert "playlists/new.yaml: 3 track(s) added to phase 'Onset'" in capsys.readouterr().err


def test_paths_are_written_relative_to_the_new_playlist_when_inside_its_folder(music):
    (music / "music" / "list.m3u").write_text("#PLAYLIST:Quiet room\na.wav\nsub/b c.wav\n")
    assert run("music/list.m3u", "--phase", "Rain", "-o", "music/quiet.yaml") == 0
    text = (music / "music" / "quiet.yaml").read_text(encoding="utf-8")
    assert "title: Quiet room\n" in text
    assert "      - a.wav\n      - sub/b c.wav\n" in text
    assert check_file("music/quiet.yaml")[1] == []


def test_a_latin1_m3u_is_read(music):
    (music / "old.m3u").write_bytes("#EXTINF:15,Caf\xe9 del Mar\nmusic/Caf\xe9.wav\n".encode("latin-1"))
    assert run("old.m3u", "--phase", "Peak", "-o", "old.yaml") == 0
    playlist = load_playlist("old.yaml")
    assert playlist.phases[0].tracks[0].title == "Café del Mar"
    assert playlist.phases[0].tracks[0].path == music / "music" / "Café.wav"
    assert playlist.phases[0].duration_s == 60


def test_missing_files_urls_and_windows_paths_are_located_and_nothing_is_written(music, capsys):
    (music / "list.m3u").write_text(
        "#EXTM3U\n"
        "music/a.wav\n"
        "#EXTINF:200,Somebody - Gone\n"
        "music/gone.mp3\n"
        "https://radio.example/stream.mp3\n"
        "C:\\Music\\Onset\\01 Breathing.mp3\n"
        "music/notes.txt\n")
    (music / "music" / "notes.txt").write_text("not audio")
    assert run("list.m3u", "--phase", "Onset", "-o", "new.yaml") == 1
    assert not (music / "new.yaml").exists()
    assert capsys.readouterr().err.splitlines() == [
        f"list.m3u:4:1: no such file: {music}/music/gone.mp3",
        "list.m3u:5:1: https://radio.example/stream.mp3 is a stream; soundscape plays local files "
        "only (streams cannot be played offline)",
        "list.m3u:6:1: C:\\Music\\Onset\\01 Breathing.mp3 is a Windows path from another computer "
        "and cannot be found here; copy the file to this computer and list its path here",
        "list.m3u:7:1: 'notes.txt' is not an audio file; audio files end in .mp3, .flac, .ogg, "
        ".oga, .opus, .wav, .m4a, .aac, .aiff, .aif, .wma",
        "error: nothing written: 4 line(s) of list.m3u cannot be imported",
    ]


def test_a_relative_windows_path_that_exists_here_is_used(music):
    (music / "list.m3u").write_text("music\\sub\\b c.wav\r\n")
    assert run("list.m3u", "--phase", "Onset", "-o", "new.yaml") == 0
    assert load_playlist("new.yaml").phases[0].tracks[0].path == music / "music" / "sub" / "b c.wav"


EXISTING = """\
# Tuesday group: keep this comment
title: Tuesday group
music_dir: ../music   # the clinic's library

phases:
  - name: Arrival
    duration: 5m
    tracks:
      - a.wav   # gentle start

  # the onset comes next
  - name: Onset
    duration: 15m
    level: 60%
    tracks:
      - file: sub/b c.wav
        title: Breathing

# closing words stay at the end
"""


def test_into_an_existing_phase_appends_to_its_tracks_and_keeps_every_comment(music, capsys):
    (music / "playlists" / "tuesday.yaml").write_text(EXISTING, encoding="utf-8")
    (music / "list.m3u8").write_text("#EXTINF:15,Café\nmusic/Café.wav\nmusic/a.wav\n")
    assert run("list.m3u8", "--phase", "Onset", "--into", "playlists/tuesday.yaml") == 0
    expected = EXISTING.replace("        title: Breathing\n",
                                "        title: Breathing\n      - Café.wav\n      - a.wav\n")
    assert (music / "playlists" / "tuesday.yaml").read_text(encoding="utf-8") == expected
    playlist, problems = check_file("playlists/tuesday.yaml")
    assert problems == []
    assert [t.path.name for t in playlist.phases[1].tracks] == ["b c.wav", "Café.wav", "a.wav"]
    assert playlist.phases[1].duration_s == 15 * 60  # an existing phase keeps its duration
    assert "added to phase 'Onset'" in capsys.readouterr().err


def test_into_with_a_new_phase_name_adds_a_phase_at_the_end(music):
    (music / "playlists" / "tuesday.yaml").write_text(EXISTING, encoding="utf-8")
    (music / "list.m3u8").write_text("#EXTINF:25,Nils Frahm - Says\nmusic/sub/b c.wav\n")
    assert run("list.m3u8", "--phase", "Return", "--into", "playlists/tuesday.yaml") == 0
    expected = EXISTING.replace("        title: Breathing\n", (
        "        title: Breathing\n"
        "\n"
        "  - name: Return\n"
        "    duration: 1m\n"
        "    tracks:\n"
        "      - file: sub/b c.wav\n"
        "        title: Nils Frahm - Says\n"))
    assert (music / "playlists" / "tuesday.yaml").read_text(encoding="utf-8") == expected
    playlist, problems = check_file("playlists/tuesday.yaml")
    assert problems == []
    assert [p.name for p in playlist.phases] == ["Arrival", "Onset", "Return"]


def test_a_phase_without_tracks_gets_a_tracks_list(music):
    (music / "playlists" / "rain.yaml").write_text(
        "title: Rain\nambience: {file: ../music/a.wav}\nphases:\n- name: Settle\n  duration: 10m\n")
    (music / "list.m3u").write_text("music/Café.wav\n")
    assert run("list.m3u", "--phase", "Settle", "--into", "playlists/rain.yaml") == 0
    assert (music / "playlists" / "rain.yaml").read_text() == (
        "title: Rain\nambience: {file: ../music/a.wav}\nphases:\n- name: Settle\n  duration: 10m\n"
        f"  tracks:\n    - {music}/music/Café.wav\n")
    assert check_file("playlists/rain.yaml")[1] == []


def test_a_result_that_would_not_load_leaves_the_original_untouched(music, capsys):
    (music / "music" / "fake.wav").write_text("this is text, not audio")
    (music / "playlists" / "tuesday.yaml").write_text(EXISTING, encoding="utf-8")
    (music / "list.m3u").write_text("music/fake.wav\n")
    assert run("list.m3u", "--phase", "Onset", "--into", "playlists/tuesday.yaml") == 1
    assert (music / "playlists" / "tuesday.yaml").read_text(encoding="utf-8") == EXISTING
    assert capsys.readouterr().err.splitlines() == [
        "warning: cannot read the length of fake.wav; the phase duration counts only the known "
        "lengths",
        "playlists/tuesday.yaml:18:9: 'fake.wav' is not an audio file (its contents are not audio)",
        "error: playlists/tuesday.yaml left unchanged: with the imported tracks it would not load",
    ]
    assert [p.name for p in (music / "playlists").iterdir()] == ["tuesday.yaml"]  # no temp left


def test_tracks_written_inline_are_not_rewritten(music, capsys):
    (music / "playlists" / "inline.yaml").write_text(
        "title: Inline\nmusic_dir: ../music\nphases:\n  - name: Onset\n    duration: 5m\n"
        "    tracks: [a.wav]\n")
    (music / "list.m3u").write_text("music/Café.wav\n")
    assert run("list.m3u", "--phase", "Onset", "--into", "playlists/inline.yaml") == 1
    assert capsys.readouterr().err == (
        "error: playlists/inline.yaml:6: the tracks of phase 'Onset' are not written as a list of "
        "'- ' lines; add the tracks by hand, or write them one per line first\n")


def test_an_existing_output_file_is_not_overwritten(music, capsys):
    (music / "new.yaml").write_text("# mine\n")
    (music / "list.m3u").write_text("music/a.wav\n")
    assert run("list.m3u", "--phase", "Onset", "-o", "new.yaml") == 1
    assert (music / "new.yaml").read_text() == "# mine\n"
    assert capsys.readouterr().err == "error: new.yaml already exists; use --into new.yaml to add to it\n"


def test_an_m3u_with_no_tracks_or_that_does_not_exist_is_an_error(music, capsys):
    (music / "empty.m3u").write_text("#EXTM3U\n# nothing here\n")
    assert run("empty.m3u", "--phase", "Onset", "-o", "new.yaml") == 1
    assert run("nope.m3u", "--phase", "Onset", "-o", "new.yaml") == 1
    assert capsys.readouterr().err.splitlines() == [
        "error: empty.m3u lists no tracks",
        "error: cannot read nope.m3u: No such file or directory",
    ]

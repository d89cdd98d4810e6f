"""Pre-flight with libVLC, the output and time replaced: each failure is named, each pass shown."""

from __future__ import annotations

from pathlib import Path

import pytest

from soundscape.cli.main import main
from soundscape.engine import outputs
from soundscape.engine.libvlc.probe import Probed
from soundscape.engine.outputs import Device
from soundscape.errors import SoundscapeError
from soundscape.preflight import Check, run_preflight, summary
from soundscape.room import Room
from soundscape.testing import FakeClock, FakeOutput
from soundscape.testing.audio import write_tone


def write_wav(path: Path, seconds: float) -> Path:
    return write_tone(path, 440, seconds, amplitude=0.25, rate=8000, channels=1)


PLAYLIST = """\
title: Test arc
ambience: {file: bed.wav}
phases:
  - name: Arrival
    duration: 5m
    tracks: [a.wav, sub/b.wav]
"""


@pytest.fixture
def room_dir(tmp_path, monkeypatch):
    """A working folder with a playlist, its three files (3 s, 2 s, 4 s) and a 0.5 s chime."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.chdir(tmp_path)
    (tmp_path / "sub").mkdir()
    write_wav(tmp_path / "a.wav", 3.0)
    write_wav(tmp_path / "sub" / "b.wav", 2.0)
    write_wav(tmp_path / "bed.wav", 4.0)
    write_wav(tmp_path / "chime.wav", 0.5)
    (tmp_path / "t.yaml").write_text(PLAYLIST)
    return tmp_path


class FakeLibVlc:
    """Answers as libVLC would: each file's length as given, or as told to fail; records calls."""

    def __init__(self, lengths: dict[str, float], broken: dict[str, Probed] | None = None):
        self.lengths = lengths
        self.broken = broken or {}
        self.asked: list[str] = []

    def __call__(self, paths: list[Path]) -> dict[Path, Probed]:
        self.asked += [p.name for p in paths]
        return {p: self.broken.get(p.name, Probed(True, self.lengths.get(p.name), True))
                for p in paths}


GOOD = {"a.wav": 3.0, "b.wav": 2.0, "bed.wav": 4.0}


class Rig:
    """run_preflight with a fake libVLC, a fake output on a fake clock and the test chime."""

    def __init__(self, folder: Path, libvlc: FakeLibVlc | None = None, missing=()):
        self.clock = FakeClock()
        self.chime = folder / "chime.wav"
        self.output = FakeOutput(self.clock, {self.chime: 0.5},
                                 missing=[folder / m for m in missing])
        self.libvlc = libvlc or FakeLibVlc(GOOD)
        self.opened: list[tuple[str, str | None]] = []

    def opener(self, kind: str, device: str | None):
        self.opened.append((kind, device))
        return self.output

    def run(self, playlist="t.yaml", **kwargs) -> list[str]:
        checks = run_preflight(playlist, probe=self.libvlc, opener=self.opener, chime=self.chime,
                               clock=self.clock, wait=self.clock.advance, **kwargs)
        return [str(c) for c in checks] + [summary(checks)]

    def chime_gains(self) -> list[float]:
        return [gain for deck in self.output.decks for _, gain in deck.gains]


def test_everything_passes_and_each_file_is_listed(room_dir):
    rig = Rig(room_dir)
    assert rig.run() == [
        "PASS  playlist  t.yaml: 'Test arc', 1 phase, 5m, 3 files",
        "PASS  bed.wav  0:04; -12.5 LUFS (a bed: at its own loudness)",
        "PASS  a.wav  0:03; -12.5 LUFS, played at -10.5 dB",
        "PASS  sub/b.wav  0:02; -12.5 LUFS, played at -10.5 dB",
        "PASS  output  fake, its default device",
        "PASS  chime  played chime.wav (0.5s) at 25% on fake",
        "PASS  all 6 checks passed",
    ]
    assert rig.libvlc.asked == ["bed.wav", "a.wav", "b.wav"]
    assert rig.opened == [("auto", None)]
    # the chime played at 25%: VLC volume 25 is amplitude 0.25^3 (the cubic scale)
    assert rig.chime_gains() == [pytest.approx(0.25 ** 3)]
    assert rig.output.loads[0][2] == room_dir / "chime.wav"
    assert rig.output.released == ["chime"]


def test_missing_and_not_audio_files_are_named(room_dir):
    (room_dir / "sub" / "b.wav").unlink()
    (room_dir / "a.wav").write_bytes(b"\x00garbage" * 500)
    rig = Rig(room_dir)
    assert rig.run() == [
        "FAIL  a.wav  cannot decode: its contents are not audio (t.yaml:6:14)",
        "FAIL  sub/b.wav  cannot open: file not found (t.yaml:6:21)",
        "PASS  bed.wav  0:04; -12.5 LUFS",  # the good files of a refused playlist are tried
        "PASS  output  fake, its default device",
        "PASS  chime  played chime.wav (0.5s) at 25% on fake",
        "FAIL  2 of 5 checks failed: a.wav, sub/b.wav",
    ]
    assert rig.libvlc.asked == ["bed.wav"]


def test_files_libvlc_cannot_open_or_decode(room_dir):
    libvlc = FakeLibVlc(GOOD, {
        "a.wav": Probed(False, None, False, "libVLC cannot open or parse it"),
        "bed.wav": Probed(True, 4.0, False, "it ends at once: libVLC finds no audio to decode"),
    })
    lines = Rig(room_dir, libvlc).run()
    assert lines[1:3] == [
        "FAIL  bed.wav  cannot decode in libVLC: it ends at once: libVLC finds no audio to decode",
        "FAIL  a.wav  cannot open in libVLC: libVLC cannot open or parse it",
    ]
    assert lines[-1] == "FAIL  2 of 6 checks failed: bed.wav, a.wav"


def test_the_decoded_length_and_cue_points_are_told_and_truncation_fails(room_dir):
    """What a line passes, the session plays: the true length (and a lying header's), the cue
    points that move and the gain; a file cut short of what its header promises fails."""
    from soundscape.testing.music import FORMATS, Shape, encode

    encode(room_dir / "a.wav", Shape(lead_s=2.0, music_s=6.0, fade_s=4.0, tail_s=3.0),
           FORMATS["wav-mono-22k"])
    whole = encode(room_dir / "whole.mp3", Shape(music_s=20.0), FORMATS["mp3-vbr"])
    (room_dir / "sub" / "b.wav").unlink()
    encode(room_dir / "sub" / "lying.mp3", Shape(lead_s=1.0, music_s=20.0),
           FORMATS["mp3-vbr-noxing"])
    data = whole.read_bytes()
    (room_dir / "sub" / "b.mp3").write_bytes(data[:len(data) * 2 // 5])
    (room_dir / "t.yaml").write_text(PLAYLIST.replace("[a.wav, sub/b.wav]",
                                                      "[a.wav, sub/b.mp3, sub/lying.mp3]"))
    lines = Rig(room_dir, FakeLibVlc({})).run()
    # the last 1.2 s of its 4 s fade to -60 dB are below the cue-out threshold (-42 LU)
    assert lines[2].startswith("PASS  a.wav  0:11, music from 0:01.8, music to 0:07 (the "
                               "silent 4.0 s after it not played), fades out by itself over ")
    assert lines[3].startswith("FAIL  sub/b.mp3  plays 0:08") and lines[3].endswith(
        ", but its header says 0:20: truncated or damaged")
    assert lines[4].startswith("PASS  sub/lying.mp3  0:21 (its header says ")
    assert "; the decoded length is used), music from 0:00." in lines[4]
    assert lines[-1] == "FAIL  1 of 7 checks failed: sub/b.mp3"


def test_a_file_that_is_all_silence_fails(room_dir):
    from soundscape.testing.audio import write_tone as tone

    tone(room_dir / "a.wav", 440, 5.0, amplitude=0.0, rate=8000, channels=1)
    assert Rig(room_dir).run()[2] == "FAIL  a.wav  0:05 of silence: nothing in it to hear"


def test_missing_device_is_named_and_nothing_chimes(room_dir, monkeypatch):
    monkeypatch.setattr(outputs, "pulse_answers", lambda *a, **k: True)
    monkeypatch.setattr(outputs, "list_devices",
                        lambda kind="auto": [Device("room", "Null Output"),
                                             Device("hdmi", "HDMI")])
    checks = run_preflight("t.yaml", output="pulse", device="usb-speaker",
                           probe=FakeLibVlc(GOOD), chime=room_dir / "chime.wav")
    assert [str(c) for c in checks][-1] == (
        "FAIL  output  no pulse device named 'usb-speaker'; available: room, hdmi "
        "(see `soundscape devices --output pulse`)")
    assert summary(checks) == "FAIL  1 of 5 checks failed: output"


def test_chime_that_cannot_play_fails(room_dir):
    rig = Rig(room_dir, missing=["chime.wav"])
    lines = rig.run()
    assert lines[-2:] == [
        f"FAIL  chime  did not play on fake: cannot open {room_dir / 'chime.wav'}",
        "FAIL  1 of 6 checks failed: chime",
    ]


def test_chime_that_never_ends_fails_within_its_bound(room_dir):
    rig = Rig(room_dir)
    rig.output.durations[rig.chime] = 600.0  # the deck keeps playing far past the chime's length
    start = rig.clock.now()
    assert rig.run()[-2] == ("FAIL  chime  did not finish within 0.5s + 3s on fake "
                             "(status playing)")
    assert rig.clock.now() - start == pytest.approx(3.5, abs=0.06)


def test_chime_level_from_argument_room_hush_and_ceiling(room_dir):
    rig = Rig(room_dir)
    rig.run(room=Room(hush_pct=15.0))
    rig.run(room=Room(hush_pct=15.0), chime_level=40.0)
    rig.run(room=Room(ceiling_pct=10.0), chime_level=40.0)
    assert rig.chime_gains() == [pytest.approx(0.15 ** 3), pytest.approx(0.40 ** 3),
                                 pytest.approx(0.10 ** 3)]


def test_output_and_device_come_from_the_room_unless_given(room_dir):
    rig = Rig(room_dir)
    rig.run(room=Room(output="alsa", device="hw:1"))
    rig.run(output="pulse", room=Room(output="alsa", device="hw:1"))
    rig.run(output="pulse", device="room", room=Room(output="alsa", device="hw:1"))
    assert rig.opened == [("alsa", "hw:1"), ("pulse", "hw:1"), ("pulse", "room")]


def test_broken_or_missing_playlist(room_dir):
    (room_dir / "t.yaml").write_text(PLAYLIST.replace("5m", "5 mins"))
    assert Rig(room_dir).run()[:2] == [
        "FAIL  playlist  t.yaml:5:15: duration must look like 15m, 90s or 1h30m, not '5 mins'",
        "PASS  bed.wav  0:04; -12.5 LUFS"]
    assert Rig(room_dir).run("gone.yaml")[0] == "FAIL  playlist  no such file: gone.yaml"


def test_none_output_skips_the_chime(room_dir):
    checks = run_preflight("t.yaml", output="none", probe=FakeLibVlc(GOOD))
    assert [str(c) for c in checks[-2:]] == [
        "PASS  output  none: the silent output (nothing will be heard)",
        "PASS  chime  not played: the none output is silent"]


def test_on_check_sees_each_check_as_it_is_made(room_dir):
    seen: list[Check] = []
    rig = Rig(room_dir)
    checks = run_preflight("t.yaml", on_check=seen.append, probe=rig.libvlc, opener=rig.opener,
                           chime=rig.chime, clock=rig.clock, wait=rig.clock.advance)
    assert seen == checks


def test_without_libvlc_the_files_fail_and_the_rest_still_runs(room_dir):
    def no_libvlc(paths):
        raise SoundscapeError("libVLC could not start (are the vlc-plugin-base packages "
                              "installed?)")
    lines = Rig(room_dir, no_libvlc).run()
    assert lines[1:] == [
        "FAIL  libVLC  cannot check the files: libVLC could not start (are the vlc-plugin-base "
        "packages installed?)",
        "PASS  output  fake, its default device",
        "PASS  chime  played chime.wav (0.5s) at 25% on fake",
        "FAIL  1 of 4 checks failed: libVLC",
    ]


# -- the command ----------------------------------------------------------------------------------

def test_command_prints_each_check_and_the_summary(room_dir, monkeypatch, capsys):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(room_dir / "config"))  # no room file
    monkeypatch.setattr("soundscape.engine.libvlc.probe.probe_files", FakeLibVlc(GOOD))
    assert main(["preflight", "t.yaml", "--output", "none"]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "PASS  playlist  t.yaml: 'Test arc', 1 phase, 5m, 3 files",
        "PASS  bed.wav  0:04; -12.5 LUFS (a bed: at its own loudness)",
        "PASS  a.wav  0:03; -12.5 LUFS, played at -10.5 dB",
        "PASS  sub/b.wav  0:02; -12.5 LUFS, played at -10.5 dB",
        "PASS  output  none: the silent output (nothing will be heard)",
        "PASS  chime  not played: the none output is silent",
        "PASS  all 6 checks passed",
    ]


def test_command_fails_with_status_1(room_dir, monkeypatch, capsys):
    monkeypatch.setattr("soundscape.engine.libvlc.probe.probe_files",
                        FakeLibVlc(GOOD, {"a.wav": Probed(False, None, False, "it is broken")}))
    room = room_dir / "room.yaml"
    room.write_text("output: none\n")
    assert main(["preflight", "t.yaml", "--room", str(room)]) == 1
    assert capsys.readouterr().out.splitlines()[-1] == "FAIL  1 of 6 checks failed: a.wav"


def test_command_refuses_a_room_file_with_mistakes(room_dir, capsys):
    (room_dir / "room.yaml").write_text("output: speakers\nceiling: loud\n")
    assert main(["preflight", "t.yaml", "--room", "room.yaml"]) == 1
    out = capsys.readouterr()
    assert out.out == ""
    assert out.err == (
        "room.yaml:1:9: output must be one of auto, pulse, alsa, snapcast, none, not 'speakers'\n"
        "room.yaml:2:10: ceiling must be a number 0-100 or a percentage like 70%, not 'loud'\n")


def test_command_checks_the_chime_level(room_dir, capsys):
    with pytest.raises(SystemExit):
        main(["preflight", "t.yaml", "--chime-level", "loud"])
    assert ("--chime-level must be a number 0-100 or a percentage like 70%, not 'loud'"
            in capsys.readouterr().err)


def test_outputs_errors_are_soundscape_errors():
    """The output check relies on open_output raising SoundscapeError for every refusal."""
    with pytest.raises(SoundscapeError):
        outputs.open_output("speakers")

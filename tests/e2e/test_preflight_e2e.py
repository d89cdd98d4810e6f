"""Pre-flight on real libVLC and the ``room`` null sink: the chime is heard at its level, the
decode checks are not heard at all, and broken files are each named."""

from __future__ import annotations

import os
import wave
from pathlib import Path

import numpy as np
import pytest

from soundscape.cli.main import main
from soundscape.demo import ensure_demo_music
from soundscape.preflight import run_preflight, summary
from soundscape.testing.audio import (Recorder, null_sink, rms_dbfs_windows, tone_amplitudes,
                                      write_tone)

pytestmark = pytest.mark.e2e

TONES_HZ = (440.0, 660.0, 880.0, 220.0)
WINDOW_S = 0.1  # whole frames at the chime's 22050 Hz and the sink's 44100 Hz


@pytest.fixture(scope="module")
def chime(tmp_path_factory) -> Path:
    """The demo chime, synthesised into a private cache once for this module."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.mktemp("demo-cache")))
        return ensure_demo_music() / "chime.wav"


@pytest.fixture
def session(tmp_path, monkeypatch, chime):
    """A playlist folder whose tracks and bed are tones; the chime cache is the module's."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(chime.parent.parent.parent))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))  # no room file
    monkeypatch.chdir(tmp_path)
    for name, freq in zip(("a", "b", "c", "bed"), TONES_HZ):
        write_tone(tmp_path / f"{name}.wav", freq, 2.0 if name != "bed" else 3.0)
    return tmp_path


def private_sink():
    """A null sink of this test's own, so other tests playing on ``room`` are never recorded
    as the chime (or as a decode check)."""
    return null_sink(f"preflight-e2e-{os.getpid()}")


def playlist(folder: Path, tracks: list[str]) -> str:
    (folder / "t.yaml").write_text(
        "title: Pre-flight\nambience: {file: bed.wav}\nphases:\n"
        f"  - name: A\n    duration: 10m\n    tracks: [{', '.join(tracks)}]\n")
    return "t.yaml"


def loudest_dbfs(samples: np.ndarray, rate: int) -> float:
    return float(np.max(rms_dbfs_windows(samples, WINDOW_S, rate)))


def test_good_playlist_passes_and_the_chime_is_heard_at_its_level(session, pulse, chime):
    """Recorded on a sink of the test's own: the chime at its level, the decode checks silent."""
    with private_sink() as sink, Recorder(f"{sink}.monitor") as rec:
        checks = run_preflight(playlist(session, ["a.wav", "b.wav", "c.wav"]), output="pulse",
                               device=sink, chime_level=25.0)
    assert [str(c) for c in checks] + [summary(checks)] == [
        "PASS  playlist  t.yaml: 'Pre-flight', 1 phase, 10m, 4 files",
        "PASS  bed.wav  0:03; -6.9 LUFS (a bed: at its own loudness)",
        "PASS  a.wav  0:02; -6.7 LUFS, played at -16.3 dB",
        "PASS  b.wav  0:02; -6.5 LUFS, played at -16.4 dB",
        "PASS  c.wav  0:02; -6.3 LUFS, played at -16.7 dB",
        f"PASS  output  pulse, device {sink}",
        "PASS  chime  played chime.wav (5s) at 25% on pulse",
        "PASS  all 7 checks passed",
    ]
    # VLC volume 25 is amplitude 0.25^3: the chime reaches the room 36 dB under its file level.
    with wave.open(str(chime)) as w:
        rate = w.getframerate()
        source = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2") / 32768.0
    expected_dbfs = loudest_dbfs(source, rate) + 60 * np.log10(0.25)
    assert loudest_dbfs(rec.samples, 44100) == pytest.approx(expected_dbfs, abs=2.0)
    # the decode checks play muted on libVLC's silent output: none of the tones was heard
    for freq, amplitude in tone_amplitudes(rec.samples, list(TONES_HZ)).items():
        assert amplitude.max() < 0.002, f"{freq:g} Hz was heard in the room"


def test_missing_corrupt_and_truncated_files_are_each_named(session, pulse, capsys):
    (session / "corrupt.mp3").write_bytes(os.urandom(40_000))
    whole = (session / "a.wav").read_bytes()
    (session / "cut.wav").write_bytes(whole[: 44 + 44100 * 4 // 2])  # header says 2 s; 0.5 s left
    (session / "empty.wav").write_bytes(whole[:60])  # header only
    name = playlist(session, ["a.wav", "gone.mp3", "corrupt.mp3", "cut.wav", "empty.wav"])
    assert main(["preflight", name, "--output", "pulse", "--device", "room"]) == 1
    assert capsys.readouterr().out.splitlines() == [
        "FAIL  gone.mp3  cannot open: file not found (t.yaml:6:21)",
        "FAIL  corrupt.mp3  cannot decode: its contents are not audio (t.yaml:6:31)",
        "PASS  bed.wav  0:03; -6.9 LUFS",  # a refused playlist: loudness only
        "PASS  a.wav  0:02; -6.7 LUFS",
        "FAIL  cut.wav  plays 0:00.5, but its header says 0:02: truncated or damaged",
        "FAIL  empty.wav  cannot decode in libVLC: it ends at once: libVLC finds no audio to decode",
        "PASS  output  pulse, device room",
        "PASS  chime  played chime.wav (5s) at 25% on pulse",
        "FAIL  4 of 8 checks failed: gone.mp3, corrupt.mp3, cut.wav, empty.wav",
    ]


def test_missing_device_fails_naming_it(session, pulse, capsys):
    assert main(["preflight", playlist(session, ["a.wav"]), "--output", "pulse",
                 "--device", "no-such-sink"]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[-2].startswith("FAIL  output  no pulse device named 'no-such-sink'; available: ")
    assert "room" in out[-2]
    assert out[-1] == "FAIL  1 of 4 checks failed: output"

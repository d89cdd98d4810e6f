"""Loudness: BS.1770 readings of signals whose loudness the standards define, gains, cache, CLI.

Reference values: EBU Tech 3341 (2016), table 1, cases 1-5: a stereo 1 kHz sine at -23 dBFS peak
in both channels reads -23.0 LUFS (+-0.1), at -33 dBFS -33.0, and the gated sequences of cases 3-5
read -23.0. ITU-R BS.1770-4 section 2: a 0 dBFS 1 kHz sine in one channel (L, C or R) reads
-3.01 LKFS.
"""

from __future__ import annotations

import json
import os
import textwrap
from pathlib import Path

import numpy as np
import pyloudnorm
import pytest
import soundfile
from scipy.signal import resample_poly

from soundscape import loudness
from soundscape.cli.main import main
from soundscape.loudness import cache as loudness_cache
from soundscape.loudness import meter as loudness_measure
from soundscape.loudness.cache import CACHE_NAME, fallback_dir
from soundscape.playlist import load_playlist
from soundscape.schedule.plan import make_plan

RATE = 48000


@pytest.fixture(autouse=True)
def private_cache(tmp_path_factory, monkeypatch):
    """Keep fallback caches out of the user's home."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.mktemp("xdg")))


def sine(parts, channels=2, freq_hz=1000.0, rate=RATE):
    """A 1 kHz sine made of (dBFS peak, seconds) parts, phase-continuous, in every channel."""
    chunks, start = [], 0
    for dbfs, seconds in parts:
        n = int(round(seconds * rate))
        t = (np.arange(n) + start) / rate
        chunks.append(10 ** (dbfs / 20) * np.sin(2 * np.pi * freq_hz * t))
        start += n
    signal = np.concatenate(chunks)
    return np.repeat(signal[:, None], channels, axis=1)


def pink_noise(seconds, channels=2, seed=0, rate=RATE):
    """Pink-ish noise (1/f power) so the K-weighting's shelf and high pass both matter."""
    rng = np.random.default_rng(seed)
    n = int(seconds * rate)
    spectrum = np.fft.rfft(rng.standard_normal((n, channels)), axis=0)
    freqs = np.fft.rfftfreq(n, 1 / rate)
    spectrum[1:] /= np.sqrt(freqs[1:, None])
    spectrum[0] = 0
    noise = np.fft.irfft(spectrum, n, axis=0)
    return noise / np.abs(noise).max() * 0.5


def write(path: Path, signal, rate=RATE, subtype=None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    soundfile.write(path, signal, rate, subtype=subtype)
    return path


# -- measurement against the standards ---------------------------------------------------------

EBU_3341 = {
    "case 1": ([(-23, 20)], -23.0),
    "case 2": ([(-33, 20)], -33.0),
    "case 3": ([(-36, 10), (-23, 60), (-36, 10)], -23.0),
    "case 4": ([(-72, 10), (-36, 10), (-23, 60), (-36, 10), (-72, 10)], -23.0),
    "case 5": ([(-26, 20), (-20, 20.1), (-26, 20)], -23.0),
}


@pytest.mark.parametrize("case", sorted(EBU_3341))
def test_ebu_tech_3341_cases_read_within_a_tenth_of_a_lu(tmp_path, case):
    parts, expected = EBU_3341[case]
    path = write(tmp_path / "case.wav", sine(parts), subtype="PCM_24")
    found = loudness.measure_file(path)
    assert found.error is None
    assert abs(found.lufs - expected) <= 0.1, found.lufs


def test_full_scale_sine_in_one_channel_reads_minus_3_01_as_bs1770_defines():
    meter = loudness_measure.GatedLoudness(RATE, 1, dual_mono=False)
    meter.add(sine([(0, 5)], channels=1).astype(np.float32))
    assert abs(meter.lufs() - (-3.01)) <= 0.1


def test_a_mono_file_reads_as_loud_as_the_same_signal_on_both_speakers(tmp_path):
    mono = loudness.measure_file(write(tmp_path / "mono.wav", sine([(-23, 5)], channels=1)))
    stereo = loudness.measure_file(write(tmp_path / "stereo.wav", sine([(-23, 5)], channels=2)))
    assert mono.lufs == stereo.lufs
    assert abs(mono.lufs - (-23.0)) <= 0.1


@pytest.mark.parametrize("rate", [44100, 48000, 22050])
def test_block_by_block_reading_equals_pyloudnorm_on_the_whole_signal(rate):
    signal = pink_noise(7.3, rate=rate) * np.linspace(0.05, 1.0, int(7.3 * rate))[:, None]
    meter = loudness_measure.GatedLoudness(rate, 2)
    for start in range(0, len(signal), 9973):  # blocks that never line up with 100 ms
        meter.add(signal[start:start + 9973])
    reference = pyloudnorm.Meter(rate, loudness_measure.FILTER).integrated_loudness(signal)
    assert abs(meter.lufs() - reference) < 1e-6


def test_wav_and_flac_of_the_same_audio_read_the_same(tmp_path):
    signal = pink_noise(5) * 0.3
    wav = loudness.measure_file(write(tmp_path / "a.wav", signal, subtype="PCM_24"))
    flac = loudness.measure_file(write(tmp_path / "a.flac", signal, subtype="PCM_24"))
    assert wav == flac


# -- true peak ---------------------------------------------------------------------------------

def _faded(signal, seconds=0.05):
    ramp = np.sin(np.linspace(0, np.pi / 2, int(seconds * RATE))) ** 2
    signal = signal.copy()
    signal[:len(ramp)] *= ramp[:, None]
    signal[-len(ramp):] *= ramp[::-1, None]
    return signal


def test_true_peak_finds_the_peak_between_samples(tmp_path):
    # A sine at a quarter of the sample rate, 45 degrees off: every sample sits at 0.707 of the
    # crest (-3.01 dBFS), the waveform itself reaches 1.0 (0 dBTP) between them.
    n = np.arange(3 * RATE)
    signal = _faded(np.repeat(np.sin(np.pi / 2 * n + np.pi / 4)[:, None], 2, axis=1))
    found = loudness.measure_file(write(tmp_path / "isp.wav", signal, subtype="FLOAT"))
    sample_peak_dbfs = 20 * np.log10(np.abs(signal).max())
    assert round(sample_peak_dbfs, 2) == -3.01
    assert abs(found.true_peak_dbtp - 0.0) <= 0.2


def test_true_peak_read_block_by_block_equals_interpolating_the_whole_file():
    signal = pink_noise(1.0)
    whole = np.abs(resample_poly(signal, 4, 1, axis=0)).max()
    for block in (1, 50, 63, 64, 1000, 48000):
        peak = loudness_measure.TruePeak()
        for start in range(0, len(signal), block):
            peak.add(signal[start:start + block])
        assert abs(peak.dbtp() - 20 * np.log10(whole)) < 1e-9, block


# -- gains -------------------------------------------------------------------------------------

def test_gain_is_target_minus_loudness():
    assert loudness.normalisation_gain_db(-30.0, -12.0) == 7.0
    assert loudness.normalisation_gain_db(-16.0, -2.0) == -7.0
    assert loudness.normalisation_gain_db(-16.0, -2.0, target_lufs=-18.0) == -2.0


def test_gain_never_pushes_the_true_peak_past_the_ceiling():
    assert loudness.normalisation_gain_db(-30.0, -3.0) == 2.0
    assert loudness.normalisation_gain_db(-30.0, -3.0, peak_ceiling_dbtp=-2.0) == 1.0


def test_gain_stays_within_a_track_gain_range():
    assert loudness.normalisation_gain_db(-60.0, -50.0) == 12.0
    assert loudness.normalisation_gain_db(20.0, 20.0) == -30.0


def test_normalised_tracks_measure_at_the_target(tmp_path):
    noise = pink_noise(10)
    base = loudness_measure.GatedLoudness(RATE, 2)
    base.add(noise)
    paths, signals = [], {}
    for wanted in (-30.0, -16.0):
        signal = noise * 10 ** ((wanted - base.lufs()) / 20)
        path = write(tmp_path / f"at{int(-wanted)}.wav", signal, subtype="FLOAT")
        paths.append(path)
        signals[path] = signal
    gains = loudness.gains_for(paths)
    assert [round(gains[p], 1) for p in paths] == [7.0, -7.0]
    for path in paths:
        gained = write(tmp_path / "gained" / path.name, signals[path] * 10 ** (gains[path] / 20),
                       subtype="FLOAT")
        assert abs(loudness.measure_file(gained).lufs - (-23.0)) <= 0.05


def test_a_file_that_cannot_be_measured_gets_no_gain(tmp_path):
    (tmp_path / "x.m4a").write_bytes(b"\0" * 1000)
    assert loudness.gains_for([tmp_path / "x.m4a"]) == {tmp_path / "x.m4a": 0.0}


# -- files that cannot be measured -------------------------------------------------------------

def test_reasons_for_files_that_cannot_be_measured(tmp_path):
    (tmp_path / "song.m4a").write_bytes(b"\0" * 1000)
    (tmp_path / "junk.wav").write_bytes(b"not audio at all " * 200)
    write(tmp_path / "silence.wav", np.zeros((RATE, 2)))
    write(tmp_path / "blip.wav", sine([(-20, 0.3)]))
    found = loudness_cache.measure([tmp_path / n for n in
                              ("song.m4a", "junk.wav", "silence.wav", "blip.wav", "gone.wav")])
    reasons = {path.name: m.error for path, m in found.items()}
    assert reasons["song.m4a"] == "not audio (FFmpeg: Invalid data found when processing input)"
    assert reasons["junk.wav"] == "not audio (FFmpeg: Invalid data found when processing input)"
    assert reasons["silence.wav"] == "silent (every 400 ms block is below -70 LUFS)"
    assert reasons["blip.wav"] == "only 0.30 s of audio in it"
    assert reasons["gone.wav"] == "cannot read it (No such file or directory)"
    assert all(m.lufs is None and m.true_peak_dbtp is None for m in found.values())


# -- cache -------------------------------------------------------------------------------------

def _refuse_to_decode(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("decoded although cached")
    monkeypatch.setattr(loudness_measure, "open_decoding", refuse)


def test_second_run_reads_the_cache_beside_the_tracks(tmp_path, monkeypatch):
    path = write(tmp_path / "music" / "a.flac", sine([(-23, 3)]))
    (tmp_path / "music" / "b.m4a").write_bytes(b"\0")
    paths = [path, tmp_path / "music" / "b.m4a"]
    first = loudness_cache.measure(paths)
    cache = json.loads((tmp_path / "music" / CACHE_NAME).read_text())
    assert sorted(cache["files"]) == ["a.flac", "b.m4a"]
    assert cache["files"]["a.flac"]["size"] == path.stat().st_size
    assert cache["files"]["a.flac"]["mtime_ns"] == path.stat().st_mtime_ns
    _refuse_to_decode(monkeypatch)
    assert loudness_cache.measure(paths) == first
    assert loudness_cache.cached_lufs(paths) == {path: first[path].lufs, paths[1]: None}


def test_a_changed_file_is_measured_again(tmp_path):
    path = write(tmp_path / "a.wav", sine([(-23, 3)]))
    assert abs(loudness_cache.measure([path])[path].lufs - (-23.0)) <= 0.1
    write(path, sine([(-30, 3)]))
    os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 10**9))
    assert abs(loudness_cache.measure([path])[path].lufs - (-30.0)) <= 0.1


def test_an_unwritable_folder_is_cached_under_xdg_cache_home(tmp_path, monkeypatch):
    path = write(tmp_path / "ro" / "a.wav", sine([(-23, 3)]))
    # Even root cannot replace a directory with a file: the folder's cache cannot be written.
    (tmp_path / "ro" / CACHE_NAME).mkdir()
    first = loudness_cache.measure([path])
    fallback = list(fallback_dir().glob("*.json"))
    assert len(fallback) == 1
    data = json.loads(fallback[0].read_text())
    assert data["folder"] == str(tmp_path / "ro") and list(data["files"]) == ["a.wav"]
    _refuse_to_decode(monkeypatch)
    assert loudness_cache.measure([path]) == first


def test_cached_lufs_never_decodes(tmp_path, monkeypatch):
    path = write(tmp_path / "a.wav", sine([(-23, 3)]))
    _refuse_to_decode(monkeypatch)
    assert loudness_cache.cached_lufs([path]) == {path: None}
    assert not (tmp_path / CACHE_NAME).exists()


# -- soundscape analyze ------------------------------------------------------------------------

@pytest.fixture
def library(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write(tmp_path / "music" / "quiet.wav", sine([(-33, 3)]))
    write(tmp_path / "music" / "deeper" / "loud.flac", sine([(-13, 3)]))
    (tmp_path / "music" / "deeper" / "notes.txt").write_text("not audio")
    (tmp_path / "music" / "song.m4a").write_bytes(b"\0" * 100)
    return tmp_path


def test_analyze_prints_aligned_lines_and_lists_what_it_cannot_measure(library, capsys):
    assert main(["analyze", "music"]) == 0
    assert capsys.readouterr().out.splitlines() == [
        " -33.0 LUFS  -33.0 dBTP     0:03  music/quiet.wav",
        " -13.0 LUFS  -13.0 dBTP     0:03  music/deeper/loud.flac",
        "cannot measure 1 file:",
        "  music/song.m4a: not audio (FFmpeg: Invalid data found when processing input)",
    ]


def test_analyze_json(library, capsys):
    assert main(["analyze", "--json", "music/quiet.wav", "music/song.m4a"]) == 0
    records = json.loads(capsys.readouterr().out)
    assert records == [
        {"path": "music/quiet.wav", "lufs": records[0]["lufs"],
         "true_peak_dbtp": records[0]["true_peak_dbtp"], "error": None, "duration_s": 3.0,
         "cue_in_s": 0.0, "cue_out_s": 3.0, "fade_s": 0.0, "quiet": [], "stopped": None},
        {"path": "music/song.m4a", "lufs": None, "true_peak_dbtp": None,
         "error": "not audio (FFmpeg: Invalid data found when processing input)",
         "duration_s": None, "cue_in_s": None, "cue_out_s": None, "fade_s": 0.0, "quiet": [],
         "stopped": None},
    ]
    assert abs(records[0]["lufs"] - (-33.0)) <= 0.1
    assert abs(records[0]["true_peak_dbtp"] - (-33.0)) <= 0.05


def test_analyze_fails_when_nothing_could_be_measured(library, capsys):
    assert main(["analyze", "music/song.m4a"]) == 1
    assert main(["analyze", "music/deeper/notes.txt"]) == 1
    (library / "empty").mkdir()
    assert main(["analyze", "empty"]) == 1
    assert capsys.readouterr().err.splitlines() == ["error: no audio files in empty"]


def test_analyze_fails_on_a_missing_path_but_measures_the_rest(library, capsys):
    assert main(["analyze", "nowhere", "music/quiet.wav"]) == 1
    captured = capsys.readouterr()
    assert captured.err.splitlines() == ["error: no such file or folder: nowhere"]
    assert captured.out.splitlines() == [" -33.0 LUFS  -33.0 dBTP     0:03  music/quiet.wav"]


# -- jumps in the plan -------------------------------------------------------------------------

def _playlist(tmp_path, text):
    for name in ("a", "b", "c", "d"):
        write(tmp_path / f"{name}.wav", sine([(-20, 1)]))
    path = tmp_path / "t.yaml"
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    playlist = load_playlist(path)
    durations = {tmp_path / f"{n}.wav": 60.0 for n in "abcd"}
    return playlist, make_plan(playlist, durations)


def test_loudness_jumps_between_consecutive_tracks_are_warned(tmp_path):
    playlist, plan = _playlist(tmp_path, """
        title: T
        phases:
          - name: onset
            duration: 2m40s
            tracks: [a.wav, b.wav, c.wav]
          - name: peak
            duration: 1m
            tracks: [d.wav]
    """)
    lufs = {tmp_path / "a.wav": -25.0, tmp_path / "b.wav": -17.6, tmp_path / "c.wav": -19.0,
            tmp_path / "d.wav": -30.0}
    problems = loudness.loudness_problems(playlist, plan, lufs)
    assert [str(p) for p in problems] == [
        f"{tmp_path}/t.yaml:3:5: warning: b.wav is 7.4 LU louder than a.wav before it "
        "(before normalisation)",
        f"{tmp_path}/t.yaml:6:5: warning: d.wav is 11.0 LU quieter than c.wav before it "
        "(before normalisation)",
    ]


def test_a_track_gain_that_evens_out_the_jump_silences_the_warning(tmp_path):
    playlist, plan = _playlist(tmp_path, """
        title: T
        phases:
          - name: onset
            duration: 4m
            tracks: [a.wav, {file: b.wav, gain: -6dB}]
    """)
    lufs = {tmp_path / "a.wav": -25.0, tmp_path / "b.wav": -17.6}
    assert loudness.loudness_problems(playlist, plan, lufs) == []
    lufs[tmp_path / "b.wav"] = -15.0
    assert [p.message for p in loudness.loudness_problems(playlist, plan, lufs)] == [
        "b.wav is 4.0 LU louder than a.wav before it (before normalisation)",
        "a.wav is 4.0 LU quieter than b.wav before it (before normalisation)",
    ]


def test_unknown_loudness_and_small_steps_are_not_warned(tmp_path):
    playlist, plan = _playlist(tmp_path, """
        title: T
        phases:
          - name: onset
            duration: 2m40s
            tracks: [a.wav, b.wav, c.wav]
    """)
    lufs = {tmp_path / "a.wav": -25.0, tmp_path / "b.wav": None, tmp_path / "c.wav": -15.0}
    assert loudness.loudness_problems(playlist, plan, lufs) == []
    lufs = {tmp_path / "a.wav": -25.0, tmp_path / "b.wav": -22.0, tmp_path / "c.wav": -19.0}
    assert loudness.loudness_problems(playlist, plan, lufs) == []


@pytest.mark.parametrize("fmt, subtype, ext", [
    ("MP3", "MPEG_LAYER_III", "mp3"), ("OGG", "VORBIS", "ogg"), ("OGG", "OPUS", "opus"),
])
def test_lossy_formats_are_decoded_and_read_close_to_their_source(tmp_path, fmt, subtype, ext):
    path = tmp_path / f"a.{ext}"
    soundfile.write(path, sine([(-23, 5)]), RATE, format=fmt, subtype=subtype)
    assert abs(loudness.measure_file(path).lufs - (-23.0)) <= 0.3


def test_gains_from_the_cache_alone_never_decode(tmp_path, monkeypatch):
    loud = write(tmp_path / "loud.wav", sine([(-13, 3)]))
    new = write(tmp_path / "new.wav", sine([(-33, 3)]))
    loudness_cache.measure([loud])
    _refuse_to_decode(monkeypatch)
    gains = loudness.gains_for([loud, new], measure_missing=False)
    assert round(gains[loud], 1) == -10.0 and gains[new] == 0.0


def test_analyze_measures_a_file_named_twice_once(library, capsys):
    assert main(["analyze", "music/quiet.wav", "music", "music/quiet.wav"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split("  ")[-1] for line in lines[:2]] == ["music/quiet.wav",
                                                            "music/deeper/loud.flac"]

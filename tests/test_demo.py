"""The built-in demo material: complete, deterministic, soft, click-free, and built safely."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import wave
from pathlib import Path

import numpy as np
import pytest

from soundscape import demo
from soundscape.cli.main import main
from soundscape.errors import SoundscapeError

EXPECTED_S = {
    "arrival-1.wav": 75.0, "arrival-2.wav": 60.0,
    "onset-1.wav": 80.0, "onset-2.wav": 80.0,
    "peak-1.wav": 100.0, "peak-2.wav": 100.0,
    "return-1.wav": 80.0, "return-2.wav": 70.0,
    "integration-1.wav": 75.0,
    "gentle-1.wav": 90.0, "deep-1.wav": 100.0,
    "ambience-bed.wav": 90.0,
    "chime.wav": 5.0,
}
MUSIC = sorted(name for name in EXPECTED_S if name not in ("ambience-bed.wav", "chime.wav"))


def read_wav(path: Path) -> tuple[np.ndarray, int, int, int]:
    """Samples as floats in [-1, 1), with rate, channels and sample width as the header says."""
    with wave.open(str(path)) as w:
        frames = w.readframes(w.getnframes())
        rate, channels, width = w.getframerate(), w.getnchannels(), w.getsampwidth()
    return np.frombuffer(frames, "<i2").astype(float) / 32768, rate, channels, width


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    """One real build for the module, through the public entry point and XDG_CACHE_HOME."""
    root = tmp_path_factory.mktemp("cache")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("XDG_CACHE_HOME", str(root))
        folder = demo.ensure_demo_music()
    return root, folder


@pytest.fixture(scope="module")
def folder(cache):
    return cache[1]


def test_lives_in_the_xdg_cache(cache):
    root, folder = cache
    assert folder == root / "soundscape" / "demo-music-v2"


def test_default_cache_is_under_home(monkeypatch, tmp_path):
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    assert demo.demo_music_dir() == tmp_path / ".cache" / "soundscape" / "demo-music-v2"


def test_every_file_is_a_mono_16_bit_wav_of_its_intended_length(folder):
    assert sorted(p.name for p in folder.iterdir()) == sorted(EXPECTED_S)
    for name, duration_s in EXPECTED_S.items():
        samples, rate, channels, width = read_wav(folder / name)
        assert (rate, channels, width) == (22050, 1, 2), name
        assert len(samples) == round(duration_s * 22050), name


def test_peaks_stay_at_or_below_minus_6_dbfs(folder):
    for name in EXPECTED_S:
        samples, *_ = read_wav(folder / name)
        peak_dbfs = 20 * np.log10(np.max(np.abs(samples)))
        assert peak_dbfs <= -6.0, f"{name} peaks at {peak_dbfs:.1f} dBFS"
        assert peak_dbfs > -20.0, f"{name} is nearly silent ({peak_dbfs:.1f} dBFS)"


def test_every_file_starts_and_ends_at_zero(folder):
    for name in EXPECTED_S:
        samples, *_ = read_wav(folder / name)
        assert samples[0] == 0 and samples[-1] == 0, name


def test_music_fades_in_and_out_over_about_a_second_and_a_half(folder):
    for name in MUSIC:
        samples, rate, *_ = read_wav(folder / name)
        peak = np.max(np.abs(samples))
        first_50ms, last_50ms = samples[: rate // 20], samples[-rate // 20:]
        assert np.max(np.abs(first_50ms)) < 0.02 * peak, name
        assert np.max(np.abs(last_50ms)) < 0.02 * peak, name
        # by two seconds in, the music is at its normal level
        assert np.max(np.abs(samples[2 * rate: 3 * rate])) > 0.3 * peak, name


def test_music_is_soft_nothing_above_5_khz(folder):
    for name in MUSIC:
        samples, rate, *_ = read_wav(folder / name)
        power = np.abs(np.fft.rfft(samples)) ** 2
        freqs_hz = np.fft.rfftfreq(len(samples), 1 / rate)
        assert power[freqs_hz > 5000].sum() < 1e-4 * power.sum(), name


def test_ambience_bed_loops_without_a_seam(folder):
    samples, *_ = read_wav(folder / "ambience-bed.wav")
    steps = np.abs(np.diff(samples))
    seam_step = abs(samples[0] - samples[-1])
    assert seam_step <= np.percentile(steps, 50), "the loop point jumps more than a typical step"
    # and the level at the end matches the start: no swell cut off mid-way
    head, tail = samples[:22050], samples[-22050:]
    rms_ratio_db = 20 * np.log10(np.sqrt(np.mean(head**2)) / np.sqrt(np.mean(tail**2)))
    assert abs(rms_ratio_db) < 3.0


def test_chime_rings_and_dies_away(folder):
    samples, rate, *_ = read_wav(folder / "chime.wav")
    first_s = np.sqrt(np.mean(samples[:rate] ** 2))
    last_s = np.sqrt(np.mean(samples[-rate:] ** 2))
    assert 20 * np.log10(last_s / first_s) < -20.0
    assert np.argmax(np.abs(samples)) < rate // 20, "the strike comes within 50 ms"


def test_total_size_is_under_50_mb(folder):
    total_bytes = sum(p.stat().st_size for p in folder.iterdir())
    assert total_bytes < 50 * 1024 * 1024


def test_building_twice_gives_the_same_bytes(folder, tmp_path):
    demo.build_demo_music(tmp_path)
    for name in EXPECTED_S:
        assert (tmp_path / name).read_bytes() == (folder / name).read_bytes(), name


def test_a_complete_cache_is_reused_not_rebuilt(cache, monkeypatch):
    root, folder = cache
    monkeypatch.setenv("XDG_CACHE_HOME", str(root))
    monkeypatch.setattr(demo, "build_demo_music", lambda f: pytest.fail("rebuilt a complete cache"))
    assert demo.ensure_demo_music() == folder


def fake_build(folder: Path) -> None:
    """Writes placeholder files quickly, so the cache logic is tested without synthesis."""
    for name in EXPECTED_S:
        (folder / name).write_bytes(b"new")


def test_a_damaged_cache_is_rebuilt(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.setattr(demo, "build_demo_music", fake_build)
    folder = demo.demo_music_dir()
    folder.mkdir(parents=True)
    (folder / "peak-1.wav").write_bytes(b"old")  # the rest is missing
    assert demo.ensure_demo_music() == folder
    assert sorted(p.name for p in folder.iterdir()) == sorted(EXPECTED_S)
    assert (folder / "peak-1.wav").read_bytes() == b"new"


def test_losing_a_race_keeps_the_winners_folder_and_leaves_no_debris(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    final = demo.demo_music_dir()

    def build_while_another_process_finishes(folder: Path) -> None:
        fake_build(folder)
        final.mkdir(parents=True)
        for name in EXPECTED_S:
            (final / name).write_bytes(b"winner")

    monkeypatch.setattr(demo, "build_demo_music", build_while_another_process_finishes)
    assert demo.ensure_demo_music() == final
    assert (final / "chime.wav").read_bytes() == b"winner"
    assert [p.name for p in final.parent.iterdir()] == ["demo-music-v2"]


def test_a_failed_build_leaves_no_folder_behind(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))

    def broken(folder: Path) -> None:
        (folder / "arrival-1.wav").write_bytes(b"partial")
        raise OSError("disk full")

    monkeypatch.setattr(demo, "build_demo_music", broken)
    with pytest.raises(SoundscapeError) as err:
        demo.ensure_demo_music()
    assert str(err.value) == (
        f"cannot write the demo music to {tmp_path}/soundscape/demo-music-v2: disk full; "
        "set XDG_CACHE_HOME to a folder you can write to")
    assert list((tmp_path / "soundscape").iterdir()) == []


def test_an_unwritable_cache_says_what_to_do(monkeypatch, tmp_path):
    (tmp_path / "file").write_text("")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "file"))  # a file, not a folder
    with pytest.raises(SoundscapeError, match=r"^cannot write the demo music to .*file/soundscape"
                                              r"/demo-music-v2: Not a directory; set XDG_CACHE"):
        demo.ensure_demo_music()


def test_demo_music_command_prints_the_folder(cache, monkeypatch, capsys):
    root, folder = cache
    monkeypatch.setenv("XDG_CACHE_HOME", str(root))
    assert main(["demo-music", "--list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == str(folder)
    assert "  peak-1.wav            100.0 s" in lines
    assert len(lines) == 1 + len(EXPECTED_S)


# --- the shipped playlists play the demo material as documented ---------------------------------

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture
def load(cache, monkeypatch):
    """The real loader, with builtin:demo resolving to this module's build."""
    from soundscape.playlist.loader import load_playlist

    monkeypatch.setenv("XDG_CACHE_HOME", str(cache[0]))
    return lambda relative: load_playlist(REPO / relative)


def arc(playlist) -> list[tuple[str, float, float]]:
    return [(p.name, p.duration_s / 60, p.level_pct) for p in playlist.phases]


def test_demo_playlist_is_a_short_full_arc_with_level_changes(load, folder):
    playlist = load("playlists/demo.yaml")
    assert arc(playlist) == [("Arrival", 1.5, 55.0), ("Onset", 2.5, 65.0), ("Peak", 3.5, 75.0),
                             ("Return", 2.0, 60.0)]
    first, last = playlist.phases[0], playlist.phases[-1]
    assert first.fade_in_s == 20.0 and last.fade_out_s == 30.0
    for phase in playlist.phases:
        assert phase.ambience.path == folder / "ambience-bed.wav"
        assert phase.intensity == 3
        assert [t.path.name for t in phase.tracks if t.intensity == 3] == [
            f"{phase.name.lower()}-1.wav", f"{phase.name.lower()}-2.wav"]
    # Softer and Deeper have somewhere to go after the dose; Arrival is one pool.
    assert [p.intensities for p in playlist.phases] == [(3,), (2, 3), (2, 3, 4), (2, 3)]
    assert [(c.kind, c.phase, c.offset_s) for c in playlist.cues] == [
        ("dose", None, 60.0), ("phase", "Peak", 60.0), ("dose", None, 300.0),
        ("phase", "Return", 0.0)]


@pytest.mark.parametrize("relative, total_min, phases_min", [
    ("playlists/templates/kap-intramuscular.yaml", 75, [10, 5, 35, 15, 10]),
    ("playlists/templates/kap-sublingual.yaml", 120, [10, 20, 45, 30, 15]),
])
def test_kap_templates_load_with_their_documented_timings(load, relative, total_min, phases_min):
    playlist = load(relative)
    assert playlist.duration_s == total_min * 60
    assert [name for name, *_ in arc(playlist)] == [
        "Arrival", "Onset", "Peak", "Return", "Integration"]
    assert [minutes for _, minutes, _ in arc(playlist)] == phases_min
    assert all(phase.tracks and phase.when_short == "repeat" for phase in playlist.phases)
    assert playlist.phases[0].fade_in_s > 0 and playlist.phases[-1].fade_out_s > 0
    # every phase after the dose has a gentler pool; the peak a deeper one too
    assert [p.intensities for p in playlist.phases] == [(3,), (2, 3), (2, 3, 4), (2, 3), (2, 3)]
    dose_cues = [c.offset_s / 60 for c in playlist.cues if c.kind == "dose"]
    assert dose_cues == sorted(dose_cues) and len(dose_cues) >= 4
    assert {c.phase for c in playlist.cues if c.kind == "phase"} == {"Return", "Integration"}


# --- the private PulseAudio server that `make run` and `make test` start ----------------------

def pulse_tools_or_skip() -> None:
    missing = [t for t in ("pulseaudio", "pactl", "pacat") if shutil.which(t) is None]
    if missing:
        reason = f"{', '.join(missing)} not found: install pulseaudio pulseaudio-utils"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)


def script(name: str, pulse_dir: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "SOUNDSCAPE_PULSE_DIR": str(pulse_dir)}
    return subprocess.run(["bash", str(REPO / "scripts" / name)], env=env, capture_output=True,
                          text=True, timeout=30)


def pactl(pulse_dir: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "XDG_RUNTIME_DIR": str(pulse_dir)}
    return subprocess.run(["pactl", *args], env=env, capture_output=True, text=True, timeout=10)


def test_pulse_start_makes_a_running_room_sink_and_is_idempotent():
    pulse_tools_or_skip()
    pulse_dir = Path(tempfile.mkdtemp(prefix="ss-pulse-", dir="/tmp"))  # short: socket paths
    try:
        first = script("pulse-start.sh", pulse_dir)
        assert first.returncode == 0, first.stderr
        assert first.stdout == f"PulseAudio ready: sink 'room' at XDG_RUNTIME_DIR={pulse_dir}\n"
        server_pid = (pulse_dir / "pulse" / "pid").read_text()

        again = script("pulse-start.sh", pulse_dir)
        assert again.returncode == 0, again.stderr
        assert (pulse_dir / "pulse" / "pid").read_text() == server_pid  # the same server

        sinks = [line.split("\t") for line in pactl(pulse_dir, "list", "short", "sinks")
                 .stdout.splitlines()]
        assert [(s[1], s[4]) for s in sinks] == [("room", "RUNNING")]  # kept running
        assert "Default Sink: room" in pactl(pulse_dir, "info").stdout
        inputs = pactl(pulse_dir, "list", "sink-inputs").stdout
        assert inputs.count('application.name = "soundscape-keepalive"') == 1
    finally:
        stopped = script("pulse-stop.sh", pulse_dir)
        shutil.rmtree(pulse_dir, ignore_errors=True)
    assert stopped.returncode == 0, stopped.stderr
    assert pactl(pulse_dir, "info").returncode != 0

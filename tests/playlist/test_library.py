"""The audio probe: durations from mutagen, cached by path, size and mtime_ns."""

import json
import os

import pytest

from soundscape import library
from soundscape.library import headers


def test_durations_of_wav_files(tmp_path, make_wav):
    a = make_wav(tmp_path / "a.wav", seconds=0.5)
    b = make_wav(tmp_path / "b.wav", seconds=0.25)
    junk = tmp_path / "junk.mp3"
    junk.write_bytes(b"\x00" * 2000)
    result = library.durations([a, b, junk, tmp_path / "missing.wav"])
    assert result[a] == pytest.approx(0.5)
    assert result[b] == pytest.approx(0.25)
    assert result[junk] is None
    assert result[tmp_path / "missing.wav"] is None


def test_probe_tells_audio_from_junk(tmp_path, make_wav):
    a = make_wav(tmp_path / "a.wav")
    junk = tmp_path / "junk.flac"
    junk.write_text("not audio")
    probes = library.probe([a, junk])
    assert probes[a].is_audio and not probes[junk].is_audio


def test_audio_names():
    assert library.is_audio_name("x/Song.FLAC")
    assert library.is_audio_name("a.opus") and library.is_audio_name("a.aif")
    assert not library.is_audio_name("notes.txt")
    assert not library.is_audio_name("flac")
    assert library.AUDIO_EXTENSIONS == (
        ".mp3", ".flac", ".ogg", ".oga", ".opus", ".wav", ".m4a", ".aac", ".aiff", ".aif", ".wma")


def test_cache_location_follows_xdg(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "c"))
    assert headers.cache_path() == tmp_path / "c" / "soundscape" / "durations.json"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert headers.cache_path() == tmp_path / ".cache" / "soundscape" / "durations.json"


def test_cache_is_written_and_reused(tmp_path, make_wav, monkeypatch):
    a = make_wav(tmp_path / "a.wav", seconds=0.5)
    library.durations([a])
    data = json.loads(headers.cache_path().read_text())
    entry = data["files"][str(a)]
    assert entry["size"] == a.stat().st_size and entry["mtime_ns"] == a.stat().st_mtime_ns
    assert entry["duration_s"] == pytest.approx(0.5)

    import mutagen
    monkeypatch.setattr(mutagen, "File", lambda *_: pytest.fail("read again despite the cache"))
    assert library.durations([a])[a] == pytest.approx(0.5)


def test_a_changed_file_is_read_again(tmp_path, make_wav):
    a = make_wav(tmp_path / "a.wav", seconds=0.5)
    assert library.durations([a])[a] == pytest.approx(0.5)
    make_wav(a, seconds=1.0)
    st = a.stat()
    os.utime(a, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000))  # coarse clocks
    assert library.durations([a])[a] == pytest.approx(1.0)


def test_corrupt_cache_is_ignored_and_rebuilt(tmp_path, make_wav):
    a = make_wav(tmp_path / "a.wav", seconds=0.5)
    path = headers.cache_path()
    path.parent.mkdir(parents=True)
    for garbage in ("{not json", "[]", '{"version": 2, "files": []}',
                    json.dumps({"version": 2, "files": {str(a): {"size": "x"}}})):
        path.write_text(garbage)
        assert library.durations([a])[a] == pytest.approx(0.5)
        assert json.loads(path.read_text())["version"] == 2
    assert [p.name for p in path.parent.iterdir()] == ["durations.json"]  # no temp files left


def test_unwritable_cache_costs_only_time(tmp_path, make_wav, monkeypatch):
    a = make_wav(tmp_path / "a.wav", seconds=0.5)
    blocker = tmp_path / "blocked"
    blocker.write_text("a file where the cache folder should be")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocker))
    assert library.durations([a])[a] == pytest.approx(0.5)


def test_second_run_on_2000_files_is_fast(tmp_path, make_wav, monkeypatch):
    template = make_wav(tmp_path / "t.wav", seconds=0.05).read_bytes()
    paths = []
    for i in range(2000):
        p = tmp_path / "lib" / f"{i:04d}.wav"
        p.parent.mkdir(exist_ok=True)
        p.write_bytes(template)
        paths.append(p)
    first = library.durations(paths)
    assert all(d == pytest.approx(0.05) for d in first.values())

    import mutagen
    monkeypatch.setattr(mutagen, "File", lambda *_: pytest.fail("read again despite the cache"))
    second = library.durations(paths)  # mutagen is not called again (its speed is in bench/)
    assert second == first

"""Fixtures for playlist tests: a private probe cache, tiny WAV files (the testing kit's), and a
working folder so playlists are named as a user types them (``t.yaml``)."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from soundscape.testing.audio import write_tone


@pytest.fixture(autouse=True)
def private_cache(tmp_path_factory, monkeypatch):
    """Keep the duration cache out of the user's home."""
    cache = tmp_path_factory.mktemp("cache")
    monkeypatch.setenv("XDG_CACHE_HOME", str(cache))
    return cache


def _write_wav(path: Path, seconds: float = 0.3, freq_hz: float = 440.0) -> Path:
    return write_tone(path, freq_hz, seconds, amplitude=0.25, rate=8000, channels=1)


@pytest.fixture
def make_wav():
    """make_wav(path, seconds=0.3): a short mono sine written with the standard library."""
    return _write_wav


@pytest.fixture
def here(tmp_path, monkeypatch):
    """Run from tmp_path, which holds a.wav, b.wav, c.wav and rain.wav."""
    for name in ("a", "b", "c", "rain"):
        _write_wav(tmp_path / f"{name}.wav")
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture
def write(here):
    """write(text, name='t.yaml'): a dedented playlist in the working folder; returns its name."""
    def _write(text: str, name: str = "t.yaml") -> str:
        path = here / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
        return name
    return _write

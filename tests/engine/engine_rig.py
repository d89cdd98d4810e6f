"""Builders for engine tests: playlists of imaginary files, a fake clock and a fake output."""

from __future__ import annotations

from pathlib import Path

import pytest

from soundscape.engine.commands import Action, Command
from soundscape.engine.engine import Engine
from soundscape.engine.settings import RoomSettings
from soundscape.playlist.model import Phase, Playlist, Track
from soundscape.testing import FakeClock, FakeOutput

MUSIC = Path("/music")


def track(name: str, **kw) -> Track:
    return Track(MUSIC / name, Path(name).stem, **kw)


def phase(name: str, duration_s: float, tracks=(), **kw) -> Phase:
    return Phase(name, duration_s, tracks=tuple(track(t) if isinstance(t, str) else t for t in tracks), **kw)


def playlist(*phases: Phase) -> Playlist:
    return Playlist(Path("/playlists/test.yaml"), "Test session", tuple(phases))


class Rig:
    """An engine on a fake clock and fake output, with helpers to drive and observe it."""

    def __init__(self, pl: Playlist, durations: dict, *, missing=(), short=None, seed=1,
                 settings=None, log_dir=None, unknown=(), gains_db=None):
        """``unknown``: files whose length the engine is not told (mutagen could not read it);
        ``gains_db``: loudness normalisation per file name, as `analyze` would have measured."""
        self.clock = FakeClock()
        durs = {MUSIC / k if not str(k).startswith("/") else Path(k): v for k, v in durations.items()}
        self.output = FakeOutput(self.clock, durs, missing=[MUSIC / m for m in missing],
                                 short={MUSIC / k: v for k, v in (short or {}).items()})
        known = {path: length for path, length in durs.items()
                 if path not in {MUSIC / u for u in unknown}}
        self.engine = Engine(pl, self.output, clock=self.clock, durations=known, seed=seed,
                             settings=settings or RoomSettings(), log_dir=log_dir,
                             gains_db={MUSIC / k: v for k, v in (gains_db or {}).items()})

    def do(self, action: str, **params):
        return self.engine.execute(Command(Action(action), params, by="test", source="test"))

    def run(self, seconds: float):
        self.engine.run_for(seconds)
        return self.engine.snapshot()

    @property
    def state(self):
        return self.engine.snapshot()

    def heard(self) -> list[str]:
        """Names of the files audible right now."""
        return sorted(deck.path.name for deck in self.output.playing())

    def starts(self) -> list[tuple[float, str]]:
        """(session time, file name) of every music track started, in order."""
        return [(round(e["actual_s"], 2), Path(e["path"]).name)
                for e in self.engine.log_entries() if e["event"] == "track_start"]

    def events(self, name: str) -> list[dict]:
        return [e for e in self.engine.log_entries() if e["event"] == name]


@pytest.fixture
def rig_factory(tmp_path):
    def make(pl, durations, **kw):
        kw.setdefault("log_dir", tmp_path / "logs")
        return Rig(pl, durations, **kw)
    return make

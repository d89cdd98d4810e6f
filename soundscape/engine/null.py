"""The silent output (``none``): decks that keep time and end on time, without any sound.

A session runs its course on a machine without audio (or when the output could not be opened): the
decks' positions advance with the clock while playing and each ends at its file's length, which
the engine notices when it next asks (it wakes at every voice's end).
"""

from __future__ import annotations

from pathlib import Path

import mutagen

from soundscape.engine.clock import Clock, RealClock
from soundscape.engine.deck import DeckEvent, DeckStatus, Notify


def _file_duration_s(path: Path) -> float | None:
    """The file's length from its headers (mutagen), None when it cannot be read as audio."""
    try:
        info = mutagen.File(str(path))
    except Exception:  # noqa: BLE001 - mutagen raises many types for files that are not audio
        return None
    length = getattr(getattr(info, "info", None), "length", None)
    return float(length) if length and length > 0 else None


class NullDeck:
    """A deck that makes no sound but keeps time like a playing one: position advances with the
    clock while playing and it ends (with an "ended" event) at the file's length, noticed when it
    is next asked for its status or position. Driven from the engine thread only."""

    def __init__(self, name: str, notify: Notify, clock: Clock):
        self.name = name
        self._notify = notify
        self._now = clock.now
        self._generation = 0
        self._status = DeckStatus.IDLE
        self._duration_s: float | None = None
        self._offset_s = 0.0  # position at _since (or while not playing)
        self._since = 0.0
        self._loaded = False

    def load(self, path: Path, start_s: float = 0.0, gain: float = 0.0) -> int:
        self._generation += 1
        self._loaded = True
        self._status = DeckStatus.IDLE
        self._offset_s = max(0.0, start_s)
        if not Path(path).is_file():
            self._fail(f"file not found: {path}")
        else:
            self._duration_s = _file_duration_s(Path(path))
            if self._duration_s is None:
                self._fail(f"no playable audio in {path}")
        return self._generation

    def play(self) -> None:
        if self._loaded and self._status in (DeckStatus.IDLE, DeckStatus.PAUSED):
            self._status, self._since = DeckStatus.PLAYING, self._now()

    def pause(self) -> None:
        if self._status is DeckStatus.PLAYING:
            self._offset_s = self._position()
            self._status = DeckStatus.PAUSED

    def stop(self) -> None:
        self._loaded, self._status, self._duration_s, self._offset_s = (
            False, DeckStatus.IDLE, None, 0.0)

    def set_gain(self, gain: float) -> None:
        """Nothing to hear; accepted so the engine's fades run the same as on a real output."""

    def position_s(self) -> float | None:
        self._check_end()
        return self._position() if self._loaded else None

    def duration_s(self) -> float | None:
        return self._duration_s if self._loaded else None

    def status(self) -> DeckStatus:
        self._check_end()
        return self._status

    def release(self) -> None:
        self.stop()

    def _position(self) -> float:
        position = self._offset_s
        if self._status is DeckStatus.PLAYING:
            position += self._now() - self._since
        return min(position, self._duration_s) if self._duration_s is not None else position

    def _check_end(self) -> None:
        if self._status is not DeckStatus.PLAYING or self._duration_s is None:
            return
        if self._offset_s + self._now() - self._since < self._duration_s - 1e-6:
            return
        self._offset_s, self._status = self._duration_s, DeckStatus.ENDED
        self._notify(DeckEvent(self.name, "ended", self._generation))

    def _fail(self, detail: str) -> None:
        self._status, self._duration_s = DeckStatus.FAILED, None
        self._notify(DeckEvent(self.name, "error", self._generation, detail))


class NullOutput:
    """The "none" output: decks that keep time and end on time, without sound."""

    name = "none"
    latency_s = 0.0

    def __init__(self, clock: Clock | None = None):
        self._clock = clock or RealClock()

    def make_deck(self, name: str, notify: Notify) -> NullDeck:
        return NullDeck(name, notify, self._clock)

    def meter(self, settings):
        """Nothing is heard, so nothing is listened to."""
        return None

    def healthy(self) -> bool:
        return True

    def close(self) -> None:
        pass

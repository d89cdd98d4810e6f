"""A fake audio output for tests: decks that keep time on an injected clock and record every gain.

Like a dummy audio layer, it can be told that a file is missing (FAILED at once, as libVLC reports
an error ~1 ms after play), corrupt (ENDED after ``short_s`` seconds of playing) or junk that
"plays" without moving (``stall``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from soundscape.engine.clock import Clock
from soundscape.engine.deck import DeckEvent, DeckStatus, Notify


@dataclass
class FakeDeck:
    name: str
    output: "FakeOutput"
    notify: Notify
    path: Path | None = None
    generation: int = 0
    gain: float = 0.0
    gains: list = field(default_factory=list)  # (t, gain) every time it changed
    _status: DeckStatus = DeckStatus.IDLE
    _pos0: float = 0.0  # position when last started
    _t0: float | None = None  # clock time when last started (None: not running)
    _start_s: float = 0.0

    def load(self, path: Path, start_s: float = 0.0, gain: float = 0.0) -> int:
        self.generation += 1
        self.path, self._start_s = Path(path), start_s
        self._pos0, self._t0 = start_s, None
        self._status = DeckStatus.IDLE
        self.set_gain(gain)
        self.output.loads.append((self.output.clock.now(), self.name, self.path, start_s))
        return self.generation

    def play(self) -> None:
        if self.path is None or self._status in (DeckStatus.PLAYING, DeckStatus.FAILED, DeckStatus.ENDED):
            return
        if self.path in self.output.missing or self.output.dead:
            self._status = DeckStatus.FAILED
            self.notify(DeckEvent(self.name, "error", self.generation, f"cannot open {self.path}"))
            return
        self._status = DeckStatus.PLAYING
        self._t0 = self.output.clock.now()

    def pause(self) -> None:
        if self._status == DeckStatus.PLAYING:
            self._pos0 = self._position()
            self._t0 = None
            self._status = DeckStatus.PAUSED

    def stop(self) -> None:
        self._status = DeckStatus.IDLE
        self._t0 = None

    def set_gain(self, gain: float) -> None:
        if gain != self.gain or not self.gains:
            self.gain = gain
            self.gains.append((self.output.clock.now(), gain))

    def _length(self) -> float:
        if self.path in self.output.short:
            return self._start_s + self.output.short[self.path]
        return self.output.durations.get(self.path, self.output.default_duration_s)

    def _position(self) -> float:
        if self._t0 is None or self.path in self.output.stall:
            return self._pos0
        return self._pos0 + (self.output.clock.now() - self._t0)

    def position_s(self) -> float | None:
        if self.path is None:
            return None
        return min(self._position(), self._length())

    def duration_s(self) -> float | None:
        if self.path is None or self.path in self.output.missing:
            return None
        return self.output.durations.get(self.path, self.output.default_duration_s)

    def status(self) -> DeckStatus:
        if self._status == DeckStatus.PLAYING and self._position() >= self._length():
            self._status = DeckStatus.ENDED
        return self._status

    def release(self) -> None:
        self.stop()
        self.output.released.append(self.name)

    def audible(self) -> bool:
        return self.status() == DeckStatus.PLAYING and self.gain > 0


class FakeOutput:
    """Makes FakeDecks; ``durations`` gives each file's length (others last ``default_duration_s``)."""

    name = "fake"
    latency_s = 0.0

    def __init__(self, clock: Clock, durations: dict | None = None, *, missing=(), short=None,
                 stall=(), default_duration_s: float = 180.0):
        self.clock = clock
        self.durations = {Path(k): v for k, v in (durations or {}).items()}
        self.missing = {Path(p) for p in missing}
        self.short = {Path(k): v for k, v in (short or {}).items()}
        self.stall = {Path(p) for p in stall}  # "playing" without moving, as libVLC on junk
        self.default_duration_s = default_duration_s
        self.decks: list[FakeDeck] = []
        self.loads: list = []
        self.released: list[str] = []
        self.dead = False

    def make_deck(self, name: str, notify: Notify) -> FakeDeck:
        deck = FakeDeck(name, self, notify)
        self.decks.append(deck)
        return deck

    def meter(self, settings):
        """``fake_meter`` (None: nothing listens): tests give it an object with ``take()``."""
        return getattr(self, "fake_meter", None)

    def healthy(self) -> bool:
        return not self.dead

    def close(self) -> None:
        pass

    def playing(self) -> list[FakeDeck]:
        """Decks heard right now (playing with gain above zero)."""
        return [deck for deck in self.decks if deck.audible()]

"""The deck protocol: one player of one file at a time, as the engine sees it, and the output that
makes decks.

The engine talks only to this protocol, so the audio layer can be replaced in tests (a fake deck)
or when there is no audio output at all (the null output). Implementations are driven from the
engine thread only; they report asynchronous happenings (a file that failed to open, an end) by
calling the ``notify`` function they were built with, which must only enqueue and never call back
into the deck.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Callable, Protocol


class DeckStatus(StrEnum):
    IDLE = "idle"  # nothing loaded, or stopped
    PLAYING = "playing"
    PAUSED = "paused"
    ENDED = "ended"  # reached the end of the file
    FAILED = "failed"  # could not open or decode the file


@dataclass(frozen=True)
class DeckEvent:
    """Something a deck reports from outside the engine thread (e.g. a libVLC callback)."""

    deck: str  # the deck's name
    kind: str  # "ended" | "error"
    generation: int  # which load() this refers to; stale events are ignored
    detail: str = ""


Notify = Callable[[DeckEvent], None]


class Deck(Protocol):
    name: str

    def load(self, path: Path, start_s: float = 0.0, gain: float = 0.0) -> int:
        """Prepare ``path`` to play from ``start_s`` at linear ``gain``; returns a new generation."""

    def play(self) -> None:
        """Start (or continue after pause) playback."""

    def pause(self) -> None:
        """Pause; idempotent."""

    def stop(self) -> None:
        """Stop and unload; idempotent."""

    def set_gain(self, gain: float) -> None:
        """Set the linear amplitude gain (1.0 = unity, 0 = silent). Cubic VLC volume is the deck's job."""

    def position_s(self) -> float | None:
        """Current position in the file, or None when unknown."""

    def duration_s(self) -> float | None:
        """The file's length as the deck sees it, or None when unknown."""

    def status(self) -> DeckStatus:
        """Where the deck is: idle, playing, paused, ended or failed."""

    def release(self) -> None:
        """Free all resources; the deck is not used afterwards."""


class Output(Protocol):
    """Makes decks that all play on one audio output."""

    name: str  # "pulse", "alsa", "none", ...
    latency_s: float  # how long after set_gain the change is heard (alsa read-ahead)
    # (optional) heard_latency_s: when the room hears it, if later (snapcast: + its buffer)

    def make_deck(self, name: str, notify: Notify) -> Deck: ...

    def meter(self, settings):
        """What the room hears (an object whose ``take()`` gives a pulsemeter.Reading), or None
        when this output cannot be listened to."""

    def healthy(self) -> bool:
        """False when the output device has gone away (checked by the engine now and then)."""

    def close(self) -> None: ...


class BrokenDeck:
    """The deck of an output that could not make one: it has failed from the start and does nothing.

    The engine plays it like any deck, so a track given one counts as failed and is skipped.
    """

    def __init__(self, name: str, reason: str):
        self.name, self.reason = name, reason

    def load(self, path: Path, start_s: float = 0.0, gain: float = 0.0) -> int:
        raise RuntimeError(f"no deck: {self.reason}")

    def status(self) -> DeckStatus:
        return DeckStatus.FAILED

    def position_s(self) -> float | None:
        return None

    def duration_s(self) -> float | None:
        return None

    def play(self) -> None:
        pass

    def pause(self) -> None:
        pass

    def stop(self) -> None:
        pass

    def set_gain(self, gain: float) -> None:
        pass

    def release(self) -> None:
        pass

"""A voice: one deck playing one file on the session timeline, with its own fade envelope."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from soundscape.engine.deck import Deck
from soundscape.engine.fades import Envelope

STALL_S = 1.2  # a deck that has not moved in its file after this long is taken as failed


@dataclass
class Voice:
    deck: Deck
    kind: str  # "music" | "ambience"
    path: Path
    title: str
    phase_index: int
    t_zero: float  # session time at which the voice began (position == trim start)
    length_s: float | None  # how long it plays (trims applied); None until known
    env: Envelope = field(default_factory=Envelope)
    gain: float = 1.0  # the track's own gain (linear), or the bed's level gain
    trim_start_s: float = 0.0
    number: int = 0  # which track of its phase (0-based), for planned-vs-actual in the log
    repeat: bool = False
    released: bool = False
    failed: bool = False
    started_s: float = 0.0  # session time the deck was told to play (moves with pauses)
    start_position_s: float = 0.0  # the file position it was loaded at

    def stalled(self, s: float, deck_position_s: float | None) -> bool:
        """Playing for STALL_S by the clock yet hardly moved in the file: it makes no sound.

        libVLC sometimes "plays" a file of random bytes for seconds while it searches it for audio;
        its reported time does not move (the deck extrapolates at most 0.5 s past a report).
        """
        return (s - self.started_s >= STALL_S
                and (deck_position_s is None or deck_position_s < self.start_position_s + 0.6))

    @property
    def natural_end(self) -> float | None:
        return None if self.length_s is None else self.t_zero + self.length_s

    def position_s(self, s: float) -> float:
        """Position in the file at session time ``s``, as the timeline says."""
        elapsed = max(0.0, s - self.t_zero)
        if self.length_s is not None:
            elapsed = min(elapsed, self.length_s)
        return self.trim_start_s + elapsed

    def failed_in_row_reset(self, s: float) -> bool:
        """True once the voice has played for a few seconds: a run of failures is over."""
        return not self.failed and s - self.t_zero > 3.0

    def shift(self, dt: float) -> None:
        """Move the voice later on the timeline (after a pause of ``dt`` seconds)."""
        self.t_zero += dt
        self.started_s += dt
        self.env = self.env.shifted(dt)

    def release(self) -> None:
        if not self.released:
            self.released = True
            try:
                self.deck.stop()
            finally:
                self.deck.release()

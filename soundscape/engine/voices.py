"""A voice: one deck playing one file on the session timeline, with its own fade envelope.

The voice also judges its own deck: a file that fails, ends long before its length, or "plays"
without moving has failed, and the engine skips it (docs/engine.md, faults).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from soundscape.engine.deck import Deck, DeckStatus
from soundscape.engine.fades import TICK_S, Envelope
from soundscape.schedule.handover import END_MARGIN_S

STALL_S = 1.5  # a deck that has not moved in its file after this long is taken as failed
# (libVLC "plays" random bytes in silence for seconds: docs/libvlc.md, errors and threads).
# libVLC reports an Ogg file's time (and its audio statistics) only about once a second, the
# first report ~1.0 s after play (docs/libvlc.md): a deck counts as moving once it is reported
# STALL_MOVED_S into its file.
STALL_MOVED_S = 0.3
# A file the analysis decoded whole is audio: only a deck stuck this long has failed (a hung
# output, a file changed since), never a healthy file on a loaded machine.
VERIFIED_STALL_S = 5.0
EARLY_END_S = 2.0  # a track that ends this much before its length has failed (corrupt file)
SETTLED_S = 3.0  # a voice that has played this long ends a run of failures
WINDOW_END_FADE_S = 0.1  # a voice stopping inside its file fades over this (no click)


class Kind(StrEnum):
    MUSIC = "music"
    AMBIENCE = "ambience"


@dataclass
class Voice:
    deck: Deck
    kind: Kind
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
    verified: bool = False  # the analysis decoded the whole file: it is audio
    own_fade_s: float = 0.0  # the file fades out by itself over this long before natural_end
    trimmed_end: bool = False  # natural_end comes before the file's end (a trim or a cue point)
    intensity: int = 3  # the pool of its phase it came from
    queued: bool = False  # put next by a facilitator (play_next)

    @property
    def natural_end(self) -> float | None:
        return None if self.length_s is None else self.t_zero + self.length_s

    @property
    def leaving(self) -> bool:
        """A fade-out has been scheduled: the voice is on its way out."""
        return self.env.leaving

    def position_s(self, s: float) -> float:
        """Position in the file at session time ``s``, as the timeline says."""
        elapsed = max(0.0, s - self.t_zero)
        if self.length_s is not None:
            elapsed = min(elapsed, self.length_s)
        return self.trim_start_s + elapsed

    # -- judging the deck --------------------------------------------------------------------

    def learn_length(self) -> None:
        """Take the length from the deck when nothing else knew it (mutagen could not read it)."""
        if self.length_s is not None:
            return
        file_s = self.deck.duration_s()
        if file_s is not None and file_s > 0:
            self.length_s = max(0.0, file_s - self.trim_start_s)

    @property
    def stall_s(self) -> float:
        return VERIFIED_STALL_S if self.verified else STALL_S

    def stalled(self, s: float, deck_position_s: float | None) -> bool:
        """Playing for ``stall_s`` by the clock yet hardly moved in the file: it makes no sound.

        libVLC sometimes "plays" a file of random bytes for seconds while it searches it for audio;
        its reported time does not move (the deck extrapolates at most 0.5 s past a report).
        """
        return (s - self.started_s >= self.stall_s
                and (deck_position_s is None
                     or deck_position_s < self.start_position_s + STALL_MOVED_S))

    def verdict(self, s: float) -> str:
        """Why the deck has failed (words for the warning), or "" while it plays as it should."""
        status = self.deck.status()
        if status is DeckStatus.FAILED:
            return "could not be played"
        if status is DeckStatus.PLAYING and self.stalled(s, self.deck.position_s()):
            return "makes no progress (not audio?)"
        if status is DeckStatus.ENDED:
            # Ended long before its length, or (length unknown: mutagen could not read the file)
            # within seconds of starting: a corrupt file, not music.
            if (s < self.natural_end - EARLY_END_S if self.natural_end is not None
                    else s - self.t_zero < EARLY_END_S):
                return "ended far too early (corrupt?)"
            if self.length_s is None:
                self.length_s = s - self.t_zero  # unknown length: it ends when the deck says so
        return ""

    def stall_check_due(self) -> float:
        """When a stall would first show (the engine looks again then)."""
        return self.started_s + self.stall_s

    def settled(self, s: float) -> bool:
        """True once the voice has played for a few seconds: a run of failures is over."""
        return not self.failed and s - self.t_zero > SETTLED_S

    # -- moving it ---------------------------------------------------------------------------

    def fade_out(self, s: float, duration_s: float) -> None:
        """Fade out from ``s`` (at least one tick); an earlier fade-out already under way stays."""
        if not self.released:
            self.env = self.env.with_fade_out(s, max(duration_s, TICK_S))

    def end_window(self) -> None:
        """Let the voice play to its natural end; one whose file goes on past it (a trim, a silent
        tail) is faded over the last WINDOW_END_FADE_S, so nothing after its end is heard (a file
        that ends there needs nothing: libVLC stops it)."""
        if self.natural_end is not None and self.trimmed_end:
            fade = min(WINDOW_END_FADE_S, self.length_s or 0.0)
            self.fade_out(self.natural_end - fade, fade)

    def fade_left_s(self, s: float) -> float:
        """A fade-out from ``s`` that ends where libVLC still hears volume changes."""
        return max(self.natural_end - END_MARGIN_S - s, TICK_S)

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


def reap(voices: list[Voice], s: float, standing_still: bool = False) -> list[Voice]:
    """Release the voices whose fade-out is over or whose file has ended, and drop them.

    ``standing_still``: the decks are paused, so their ends are not where the timeline says (they
    move on when play resumes); only finished fades are reaped then.
    """
    for voice in voices:
        ended = (voice.natural_end is not None and s > voice.natural_end + 1.0
                 and not standing_still)
        if voice.env.done(s) or ended:
            voice.release()
    return [v for v in voices if not v.released]


class VoiceGroup:
    """Voices of one kind (the music's, the beds'), faded and let go together."""

    def __init__(self):
        self.voices: list[Voice] = []

    def fade_out(self, s: float, duration_s: float) -> None:
        for voice in self.voices:
            voice.fade_out(s, duration_s)

    def release(self) -> None:
        for voice in self.voices:
            voice.release()
        self.voices = []

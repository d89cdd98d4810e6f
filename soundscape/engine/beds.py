"""Ambience beds: the looping sound under the music, one bed per phase (or none).

A bed loops gaplessly on two overlapping decks (each loop crossfades into a fresh deck before the
file ends: libVLC's own repeat leaves a gap); a phase with another bed crossfades to it over
AMBIENCE_CHANGE_S; a bed that cannot play is warned about once and left out.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from soundscape.engine.deck import Deck, DeckStatus
from soundscape.engine.fades import Envelope
from soundscape.engine.levels import Levels
from soundscape.engine.voices import Kind, Voice, VoiceGroup
from soundscape.playlist.model import Ambience
from soundscape.schedule.handover import END_MARGIN_S

AMBIENCE_CHANGE_S = 4.0  # beds change (and the session's end fades with a bed) over this


class Beds(VoiceGroup):
    def __init__(self, levels: Levels, new_deck: Callable[[str], Deck],
                 durations: dict[Path, float | None], warn: Callable[[str], None],
                 loop_overlap_s: float):
        super().__init__()
        self.levels = levels
        self._new_deck = new_deck
        self._durations = durations
        self._warn = warn
        self._loop_overlap_s = loop_overlap_s
        self.failed: set[Path] = set()  # beds that could not be played: not tried again
        self.due: list[float] = []  # session times the next tick must come by

    def __bool__(self) -> bool:
        return bool(self.voices)

    def rules(self, s: float, want: Ambience | None, phase_index: int) -> None:
        """Play ``want`` (the current phase's bed, or None): start, change, loop or fade it."""
        self.due = []
        if want is not None and want.path in self.failed:
            want = None
        live = [v for v in self.voices if not v.released and not v.leaving]
        cur = live[-1] if live else None
        for voice in live:
            if voice.deck.status() is DeckStatus.FAILED or voice.failed:
                self.failed.add(voice.path)
                self._warn(f"ambience {voice.path.name} could not be played")
                voice.release()
                return
        if want is None:
            for voice in live:
                voice.fade_out(s, AMBIENCE_CHANGE_S)
            return
        if cur is None or cur.path != want.path:
            for voice in live:
                voice.fade_out(s, AMBIENCE_CHANGE_S)
            if cur is None:
                self.levels.bed_start(s, want.level_pct)
            self._start(s, want, phase_index, AMBIENCE_CHANGE_S if cur is not None else 0.0)
        else:
            self.levels.bed_to(s, want.level_pct, min_s=AMBIENCE_CHANGE_S)
        cur = self.voices[-1]
        cur.learn_length()
        if cur.length_s:
            overlap = min(self._loop_overlap_s, cur.length_s / 4) + END_MARGIN_S
            self.due.append(cur.natural_end - overlap)
            if s >= cur.natural_end - overlap:  # the next loop crossfades in before the end
                duration = cur.fade_left_s(s)
                cur.fade_out(s, duration)
                self._start(s, want, phase_index, duration)

    def _start(self, s: float, bed: Ambience, phase_index: int, fade_in_s: float) -> None:
        voice = Voice(self._new_deck("ambience"), Kind.AMBIENCE, bed.path, bed.path.stem,
                      phase_index, s, self._durations.get(bed.path), Envelope(s, s + fade_in_s))
        self.voices.append(voice)
        try:
            voice.deck.load(bed.path, 0.0, 0.0)
            voice.deck.play()
        except Exception as exc:  # noqa: BLE001 - a bed that cannot load is left out
            voice.failed = True
            self._warn(f"ambience {bed.path.name} could not be played ({exc})")

"""The session's levels: the room's music level and the ambience's, hush, a facilitator's level,
and the gain each deck gets from them.

Every level moves along a ramp in dB (fades.py): rises never faster than the room's rise limit,
falls at the room's fall rate or as a fade asks. While the master is *frozen* (a pause's fade, a
phase's fade-out, the session's end) nothing retargets it: the fade runs its course.
"""

from __future__ import annotations

from soundscape.engine.fades import SILENT_DB, Ramp, db_to_level, level_to_db, ramp_to, steady
from soundscape.engine.settings import RoomSettings
from soundscape.engine.voices import Kind, Voice


class Levels:
    def __init__(self, settings: RoomSettings):
        self.settings = settings
        self.master = steady(SILENT_DB)  # the room's music level (dB)
        self.bed_master = steady(SILENT_DB)  # the ambience beds' overall level
        self.bed_level = steady(SILENT_DB)  # the current bed's own level
        self.override_pct: float | None = None  # set_level, until the phase ends
        self.hushed = False
        self.frozen = False  # the master is in a fade that nothing may retarget

    # -- where the music should be ----------------------------------------------------------

    def target_pct(self, phase_level_pct: float) -> float:
        """The level the music settles at: the phase's (or a facilitator's), hushed, under the
        room's ceiling."""
        base = phase_level_pct if self.override_pct is None else self.override_pct
        if self.hushed:
            base = min(base, self.settings.hush_pct)
        return min(base, self.settings.ceiling_pct)

    def _ramp(self, current: Ramp, s: float, target_db: float, **kw) -> Ramp:
        return ramp_to(current, s, target_db, rise_db_per_s=self.settings.rise_db_per_s,
                       fall_db_per_s=self.settings.fall_db_per_s, **kw)

    def retarget(self, s: float, phase_level_pct: float, min_s: float = 0.0,
                 fall_s: float | None = None) -> None:
        """Ramp the master from where it is to the target (unless it is frozen in a fade)."""
        if not self.frozen:
            self.master = self._ramp(self.master, s, level_to_db(self.target_pct(phase_level_pct)),
                                     min_s=min_s, max_fall_s=fall_s)

    def rise_from_silence(self, s: float, phase_level_pct: float, min_s: float = 0.0) -> None:
        """The master starts at silence and rises to the target (at most at the rise limit)."""
        self.master = self._ramp(steady(SILENT_DB, s), s,
                                 level_to_db(self.target_pct(phase_level_pct)), min_s=min_s)

    def fade_master(self, s: float, end_s: float, from_s: float | None = None) -> None:
        """The music fades to silence by ``end_s`` (from ``from_s``, else now), frozen until
        something unfreezes it."""
        self.frozen = True
        self.master = Ramp(s if from_s is None else from_s, end_s, self.master.db(s), SILENT_DB)

    def hold_master(self, s: float) -> None:
        """Stay where the master is now (or lower, where it was going): resume after a pause."""
        self.master = steady(min(self.master.db(s), self.master.to_db), s)

    def silence_master(self, s: float) -> None:
        self.master = steady(SILENT_DB, s)

    def checkpoint(self) -> dict:
        return {"hushed": self.hushed, "level_override": self.override_pct}

    def restore(self, data: dict, s: float, paused: bool) -> None:
        """After a crash: hush and a facilitator's level as they were, the music and the beds
        from silence (the beds rising; the music once playing, frozen while paused)."""
        self.hushed = bool(data.get("hushed"))
        self.override_pct = data.get("level_override")
        self.silence_master(s)
        self.beds_rise(s)
        self.frozen = paused

    # -- the ambience -----------------------------------------------------------------------

    def beds_rise(self, s: float) -> None:
        """The ambience rises from silence at the rise limit (a start, a resume)."""
        self.bed_master = self._ramp(steady(SILENT_DB, s), s, 0.0)

    def fade_beds(self, s: float, end_s: float) -> None:
        self.bed_master = Ramp(s, end_s, self.bed_master.db(s), SILENT_DB)

    def bed_start(self, s: float, level_pct: float) -> None:
        """A bed where there was none rises to its level at the rise limit; at the session's start
        the bed master already rises, so the bed's own level starts where it belongs."""
        target_db = self.bed_target_db(level_pct)
        start_db = target_db if self.bed_master.moving(s) else SILENT_DB
        self.bed_level = self._ramp(steady(start_db, s), s, target_db)

    def bed_to(self, s: float, level_pct: float, min_s: float) -> None:
        """The current bed's own level moves to ``level_pct`` (a new phase's bed level)."""
        target_db = self.bed_target_db(level_pct)
        if abs(self.bed_level.to_db - target_db) > 1e-9:
            self.bed_level = self._ramp(self.bed_level, s, target_db, min_s=min_s)

    def bed_target_db(self, level_pct: float) -> float:
        return level_to_db(min(level_pct, self.settings.ceiling_pct))

    # -- what each deck gets ----------------------------------------------------------------

    def gain(self, voice: Voice, s: float) -> float:
        """A deck's linear gain at ``s``; no deck, whatever its track gain, above the ceiling."""
        ceiling = (self.settings.ceiling_pct / 100.0) ** 3
        if voice.kind is Kind.AMBIENCE:
            return min(ceiling, self.bed_master.gain(s) * self.bed_level.gain(s) * voice.env.gain(s))
        return min(ceiling, self.master.gain(s) * voice.env.gain(s) * voice.gain)

    def moving(self, s: float) -> bool:
        return self.master.moving(s) or self.bed_master.moving(s) or self.bed_level.moving(s)

    def level_now(self, s: float) -> float:
        """The music level heard now, in percent (0 at the silent floor)."""
        return round(db_to_level(self.master.db(s)), 1)

    def audible(self, s: float) -> bool:
        return self.master.db(s) > SILENT_DB

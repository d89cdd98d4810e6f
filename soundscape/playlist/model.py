"""Frozen, validated playlist model: what the loader produces and the planner and engine consume."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

ORDERS = ("in-order", "shuffle")
AT_END = ("fade", "finish")
WHEN_SHORT = ("repeat", "silence")

DEFAULT_LEVEL_PCT = 70.0
DEFAULT_CROSSFADE_S = 6.0
DEFAULT_AMBIENCE_LEVEL_PCT = 30.0
MIN_INTENSITY, MAX_INTENSITY = 1, 5  # how deep a track goes: 1 the gentlest, 5 the deepest
DEFAULT_INTENSITY = 3


@dataclass(frozen=True)
class Where:
    """A 1-based source position, kept so later stages (plan, check) can locate warnings."""

    line: int = 0
    col: int = 0


@dataclass(frozen=True)
class Track:
    """One playable file of a phase, after folders and globs are expanded (name order)."""

    path: Path  # absolute
    title: str  # explicit title, else the file's stem
    gain_db: float = 0.0
    start_s: float = 0.0  # trim: start playing here
    end_s: float | None = None  # trim: stop here (None: the file's end)
    where: Where = field(default=Where(), compare=False)
    intensity: int = DEFAULT_INTENSITY  # which pool of its phase it belongs to (1-5)


@dataclass(frozen=True)
class Ambience:
    """A bed that loops gaplessly under the music."""

    path: Path  # absolute
    level_pct: float = DEFAULT_AMBIENCE_LEVEL_PCT
    where: Where = field(default=Where(), compare=False)


@dataclass(frozen=True)
class Phase:
    name: str
    duration_s: float
    level_pct: float = DEFAULT_LEVEL_PCT
    crossfade_s: float = DEFAULT_CROSSFADE_S
    order: str = "in-order"
    at_end: str = "fade"
    when_short: str = "repeat"
    fade_in_s: float = 0.0
    fade_out_s: float = 0.0
    tracks: tuple[Track, ...] = ()
    ambience: Ambience | None = None  # already resolved: phase override, else top level, else None
    where: Where = field(default=Where(), compare=False)
    intensity: int = DEFAULT_INTENSITY  # where the phase starts (the nearest pool plays)

    @property
    def intensities(self) -> tuple[int, ...]:
        """The intensities its tracks have, gentlest first (one pool of tracks each)."""
        return tuple(sorted({t.intensity for t in self.tracks}))


ROUTES = ("im", "sublingual", "iv", "other")
DEFAULT_BOOSTER_EXTEND_S = 15 * 60.0


@dataclass(frozen=True)
class Medicine:
    """How the medicine is given, so the arc can follow the dose rather than the start button.

    The phase named ``dose_phase`` (e.g. arrival) lasts until a facilitator marks the dose (it is
    held past its planned end, its music repeating); the dose mark ends it and every later phase is
    timed from that moment. A booster mark extends ``booster_phase`` by ``booster_extend_s``.
    """

    route: str  # one of ROUTES
    dose_phase: str  # the phase during which the dose is given (the first phase, if not set)
    booster_phase: str | None = None  # the phase a booster extends (the loader defaults it to
    # the phase after dose_phase)
    booster_at_s: float | None = None  # planned booster time after the dose, for the record
    booster_extend_s: float = DEFAULT_BOOSTER_EXTEND_S
    where: Where = field(default=Where(), compare=False)


CUE_KINDS = ("session", "dose", "phase")


@dataclass(frozen=True)
class Cue:
    """A silent reminder for the facilitators (a blood-pressure check, a booster decision).

    ``at`` as written: ``20m`` (session time), ``dose+20m`` (after the dose mark) or
    ``peak+5m`` (after the phase named ``peak`` began). Never heard in the room: every phone
    shows it when it is due, until one facilitator acknowledges it.
    """

    id: str  # "c1", "c2", ... in the playlist's order
    at: str
    kind: str  # one of CUE_KINDS
    offset_s: float
    text: str
    phase: str | None = None  # the phase a phase-relative cue counts from
    where: Where = field(default=Where(), compare=False)


@dataclass(frozen=True)
class Playlist:
    path: Path  # the YAML file, absolute
    title: str
    phases: tuple[Phase, ...]
    description: str = ""
    music_dir: Path | None = None
    medicine: Medicine | None = None
    cues: tuple[Cue, ...] = ()

    @property
    def duration_s(self) -> float:
        return sum(p.duration_s for p in self.phases)

    def files(self) -> list[Path]:
        """Every file the session may play (ambience beds and tracks), once each, in playing order."""
        found: dict[Path, None] = {}
        for phase in self.phases:
            if phase.ambience is not None:
                found[phase.ambience.path] = None
            for track in phase.tracks:
                found[track.path] = None
        return list(found)

    def track_files(self) -> list[Path]:
        """Every music track's file (beds left out), once each, in playing order."""
        return list(dict.fromkeys(t.path for phase in self.phases for t in phase.tracks))

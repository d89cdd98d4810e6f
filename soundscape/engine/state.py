"""Immutable snapshots of the engine's state, the only thing readers (web, terminal) ever see."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from enum import StrEnum


class Status(StrEnum):
    """Where a session is: not started, playing, paused (the clock goes on), or over."""

    READY = "ready"
    PLAYING = "playing"
    PAUSED = "paused"
    ENDED = "ended"


@dataclass(frozen=True)
class PhaseInfo:
    index: int
    name: str
    elapsed_s: float
    remaining_s: float
    held: bool


@dataclass(frozen=True)
class PhaseSlot:
    name: str
    start_s: float  # session time, extensions applied
    duration_s: float


@dataclass(frozen=True)
class TrackInfo:
    title: str
    path: str
    position_s: float
    duration_s: float


@dataclass(frozen=True)
class NextTrack:
    title: str
    path: str


@dataclass(frozen=True)
class State:
    revision: int
    status: Status
    title: str  # the playlist's title
    session_id: str
    phase: PhaseInfo | None
    phases: tuple[PhaseSlot, ...]
    track: TrackInfo | None
    next_track: NextTrack | None
    level: float  # the room level now, percent (what is heard, moving while it slews)
    level_target: float  # where the level is going, percent
    hushed: bool
    session_elapsed_s: float
    warnings: tuple[str, ...] = ()
    output: str = ""  # "pulse", "alsa", "none", ...
    ending: bool = False  # a fade_out or stop is under way
    resumed: bool = False  # this session was resumed after an interruption
    medicine: dict | None = None  # route, dose_phase, awaiting_dose, dosed_at_s, boosters_s, ...
    analysis: dict | None = None  # files analysed so far: done, total, first_pending (None: none)
    room: dict | None = None  # heard_dbfs, muted, volume_pct, listening (None: nothing listens)
    extras: dict = field(default_factory=dict)

    def to_json(self) -> dict:
        return asdict(self)

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
    remaining_s: float  # until the phase's planned end (0 once past it)
    held: bool
    overrun_s: float = 0.0  # how far past its planned end the phase runs (held, awaiting the dose)


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
    intensity: int = 3  # the pool of its phase it comes from
    queued: bool = False  # put next by a facilitator


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
    warnings_at_s: tuple[float | None, ...] = ()  # each warning's session time (None: before Start)
    output: str = ""  # "pulse", "alsa", "none", ...
    ending: bool = False  # a fade_out or stop is under way
    ending_kind: str = ""  # "fade_out", "stop" (Quiet now) or "end" (the arc's own end); "" none
    resumed: bool = False  # this session was resumed after an interruption
    medicine: dict | None = None  # route, dose_phase, awaiting_dose, dosed_at_s, boosters_s, ...
    analysis: dict | None = None  # files analysed so far: done, total, first_pending (None: none)
    room: dict | None = None  # heard_dbfs, muted, volume_pct, listening (None: nothing listens)
    epoch: str = ""  # new on every server start: a page believes a new epoch's state at once
    interruption_s: float | None = None  # how long the room was down before this resume
    level_return: float = 0.0  # percent the music settles at unhushed and playing (phase's or set)
    level_set_by_hand: bool = False  # a facilitator's set_level holds (until the phase ends)
    total_s: float = 0.0  # when the session ends as things stand now (holds and waits counted)
    total_open: bool = False  # the end moves later while a hold or the wait for the dose lasts
    intensity: int | None = None  # the current phase's intensity, 1-5 (None once ended)
    intensities: tuple[int, ...] = ()  # the intensities the current phase's tracks have
    upcoming: tuple[dict, ...] = ()  # the next tracks: title, path, duration_s, intensity,
    # phase, queued (put there by play_next)
    queue: tuple[str, ...] = ()  # the paths put next by facilitators, in order
    cues: tuple[dict, ...] = ()  # every cue: id, text, at, at_s, status (coming, due, acked),
    # due_s, acked_by, acked_at_s
    banned: tuple[dict, ...] = ()  # path, title of each track banned for the session
    notes: tuple[dict, ...] = ()  # the last few notes: text, by, at_s, phase
    output_latency_s: float = 0.0  # how long after a change the room hears it (the output's)
    speakers: dict | None = None  # snapcast: reachable, clients (id, name, connected,
    # latency_ms, expected), error; None on other outputs
    extras: dict = field(default_factory=dict)

    def to_json(self) -> dict:
        return asdict(self)

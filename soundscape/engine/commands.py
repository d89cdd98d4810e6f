"""Facilitator commands: the closed set of actions, their parameters, and their validation.

Parsing is strict and pure, so the HTTP API and the terminal both reject a bad request with a
message before it reaches the engine (HTTP 400), while the engine itself decides whether an action
makes sense in the current state (HTTP 409).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from soundscape.errors import SoundscapeError


class Action(str, Enum):
    START = "start"
    PAUSE = "pause"
    RESUME = "resume"
    SKIP = "skip"
    NEXT_PHASE = "next_phase"
    EXTEND = "extend"
    HOLD = "hold"
    RELEASE = "release"
    SET_LEVEL = "set_level"
    HUSH = "hush"
    UNHUSH = "unhush"
    FADE_OUT = "fade_out"
    STOP = "stop"
    DOSE = "dose"  # the medicine was given: the dose phase ends, later phases are timed from now
    BOOSTER = "booster"  # a booster was given: the booster phase is extended
    INTENSITY = "intensity"  # the phase's music softer or deeper (now, or from the next track)
    PLAY_NEXT = "play_next"  # a track of the library next
    BAN = "ban"  # a track never again this session (crossfaded away if it plays)
    ACK_CUE = "ack_cue"  # a cue was seen to, for every phone
    NOTE = "note"  # a line for the record: time, phase, track, who


@dataclass(frozen=True)
class Number:
    required: bool
    low: float
    high: float


@dataclass(frozen=True)
class Choice:
    required: bool
    choices: tuple[str, ...]


@dataclass(frozen=True)
class Flag:
    """true or false; left out: false."""

    required: bool = False


@dataclass(frozen=True)
class Text:
    """Printable text, its spaces collapsed; longer than ``max_chars`` is refused, not cut."""

    required: bool
    max_chars: int


MAX_NOTE_CHARS = 200
MAX_PATH_CHARS = 4096

# action -> {param: spec}. An optional number left out takes the room's default (RoomSettings:
# extend 5 min, fade out 60 s) in the engine.
PARAMS: dict[Action, dict[str, Number | Choice | Flag | Text]] = {
    Action.EXTEND: {"minutes": Number(False, 0.5, 120.0)},
    Action.SET_LEVEL: {"level": Number(True, 0.0, 100.0)},
    Action.FADE_OUT: {"seconds": Number(False, 3.0, 1800.0)},
    Action.INTENSITY: {"direction": Choice(True, ("softer", "deeper")), "now": Flag()},
    Action.PLAY_NEXT: {"path": Text(True, MAX_PATH_CHARS)},
    Action.BAN: {"path": Text(True, MAX_PATH_CHARS)},
    Action.ACK_CUE: {"id": Text(True, 20)},
    Action.NOTE: {"text": Text(True, MAX_NOTE_CHARS)},
}

MAX_BY_CHARS = 40


class CommandError(SoundscapeError):
    """A malformed command: unknown action, missing or bad parameter (HTTP 400)."""


@dataclass(frozen=True)
class Command:
    action: Action
    params: dict[str, Any] = field(default_factory=dict)  # numbers, words, flags, text
    by: str = ""  # who, for the log
    source: str = "api"  # "api", "terminal", "engine", ...


@dataclass(frozen=True)
class CommandResult:
    ok: bool
    reason: str = ""  # why it was refused (HTTP 409)


def parse_command(data: Any, source: str = "api") -> Command:
    """Turn a decoded JSON body into a Command, or raise CommandError saying what is wrong."""
    if not isinstance(data, dict):
        raise CommandError("the body must be a JSON object like {\"action\": \"pause\"}")
    name = data.get("action")
    if not isinstance(name, str):
        raise CommandError("'action' is required and must be a string")
    try:
        action = Action(name)
    except ValueError:
        valid = ", ".join(a.value for a in Action)
        raise CommandError(f"unknown action {name!r}; valid actions: {valid}") from None
    by = data.get("by", "")
    if not isinstance(by, str):
        raise CommandError("'by' must be a string")
    by = "".join(ch for ch in by if ch.isprintable()).strip()[:MAX_BY_CHARS]
    spec = PARAMS.get(action, {})
    unknown = sorted(k for k in data if k not in ("action", "by") and k not in spec)
    if unknown:
        allowed = ", ".join(spec) or "none"
        raise CommandError(f"{action.value} takes no parameter {unknown[0]!r} (parameters: {allowed})")
    params: dict[str, Any] = {}
    for key, kind in spec.items():
        value = data.get(key)
        if value is None:
            if kind.required:
                raise CommandError(f"{action.value} needs '{key}' ({_expected(kind)})")
            continue
        params[key] = _value(key, value, kind)
    return Command(action, params, by, source)


def _expected(kind: Number | Choice | Flag | Text) -> str:
    if isinstance(kind, Number):
        return f"{kind.low:g}-{kind.high:g}"
    if isinstance(kind, Choice):
        return " or ".join(kind.choices)
    if isinstance(kind, Flag):
        return "true or false"
    return f"text, up to {kind.max_chars} characters"


def _value(key: str, value: Any, kind: Number | Choice | Flag | Text) -> Any:
    if isinstance(kind, Flag):
        if not isinstance(value, bool):
            raise CommandError(f"'{key}' must be true or false, not {value!r}")
        return value
    if isinstance(kind, Choice):
        if not isinstance(value, str) or value not in kind.choices:
            raise CommandError(f"'{key}' must be {_expected(kind)}, not {value!r:.60}")
        return value
    if isinstance(kind, Text):
        if not isinstance(value, str):
            raise CommandError(f"'{key}' must be text, not {value!r:.60}")
        cleaned = " ".join("".join(ch if ch.isprintable() else " " for ch in value).split())
        if not cleaned:
            raise CommandError(f"'{key}' must not be empty")
        if len(cleaned) > kind.max_chars:
            raise CommandError(f"'{key}' must be at most {kind.max_chars} characters, "
                               f"not {len(cleaned)}")
        return cleaned
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > 10**12:
        value = float("inf")  # a huge integer would overflow a float: out of range below
    if isinstance(value, bool) or not isinstance(value, (int, float)) or math.isnan(value):
        raise CommandError(f"'{key}' must be a number, not {value!r:.60}")
    if not kind.low <= value <= kind.high:
        raise CommandError(f"'{key}' must be between {kind.low:g} and {kind.high:g}, not {value:g}")
    return float(value)

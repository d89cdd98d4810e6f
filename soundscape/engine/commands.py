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


# action -> {param: (required, minimum, maximum)}; every parameter is a number. An optional one
# left out takes the room's default (RoomSettings: extend 5 min, fade out 60 s) in the engine.
PARAMS: dict[Action, dict[str, tuple[bool, float, float]]] = {
    Action.EXTEND: {"minutes": (False, 0.5, 120.0)},
    Action.SET_LEVEL: {"level": (True, 0.0, 100.0)},
    Action.FADE_OUT: {"seconds": (False, 3.0, 1800.0)},
}

MAX_BY_CHARS = 40


class CommandError(SoundscapeError):
    """A malformed command: unknown action, missing or bad parameter (HTTP 400)."""


@dataclass(frozen=True)
class Command:
    action: Action
    params: dict[str, float] = field(default_factory=dict)
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
    params: dict[str, float] = {}
    for key, (required, low, high) in spec.items():
        value = data.get(key)
        if value is None:
            if required:
                raise CommandError(f"{action.value} needs '{key}' ({low:g}-{high:g})")
            continue
        if isinstance(value, int) and not isinstance(value, bool) and abs(value) > 10**12:
            value = float("inf")  # a huge integer would overflow a float: out of range below
        if isinstance(value, bool) or not isinstance(value, (int, float)) or math.isnan(value):
            raise CommandError(f"'{key}' must be a number, not {value!r}")
        if not low <= value <= high:
            raise CommandError(f"'{key}' must be between {low:g} and {high:g}, not {value:g}")
        params[key] = float(value)
    return Command(action, params, by, source)

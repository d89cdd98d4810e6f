"""Parsing of the small value languages: durations, levels and gains, from their text.

Values are parsed from the text as written (the YAML scalar's source), never from what YAML 1.1
makes of it, so ``1:30`` is a minute and a half rather than the integer 90. Each parser raises
``ValueError`` whose message is the user-facing sentence, without the location.
"""

from __future__ import annotations

import re

# Shared with soundscape/schema.json (a test keeps them equal): ECMAScript and Python agree on them.
DURATION_PATTERN = (
    r"^(?:(?=\d)(?:\d+(?:\.\d+)?h)?(?:\d+(?:\.\d+)?m)?(?:\d+(?:\.\d+)?s)?"
    r"|\d+:[0-5]\d(?:\.\d+)?|\d+:[0-5]\d:[0-5]\d(?:\.\d+)?)$"
)
LEVEL_PATTERN = r"^(?:100(?:\.0+)?|\d{1,2}(?:\.\d+)?)%$"
GAIN_PATTERN = r"^[-+]?\d+(?:\.\d+)? ?[dD][bB]$"
NUMBER_PATTERN = r"^[-+]?\d+(?:\.\d+)?$"

MIN_GAIN_DB = -30.0
MAX_GAIN_DB = 12.0

_UNITS = re.compile(r"(\d+(?:\.\d+)?)([hms])")
_PERCENT = re.compile(r"^[-+]?\d+(?:\.\d+)?%$")


def shown(text: str, is_text: bool = True) -> str:
    """How a written value is quoted back in a message: text in quotes; numbers, booleans bare.

    ``bare`` throughout this module means a plain scalar that YAML 1.1 reads as something other
    than text (``90``, ``yes``, ``1:30``): it is echoed as written, without quotes.
    """
    if len(text) > 60:
        text = text[:57] + "..."
    return f"'{text}'" if is_text else text


def parse_duration(text: str, what: str = "duration", bare: bool = False) -> float:
    """Seconds from ``90s``, ``15m``, ``1h30m``, ``1:30`` (m:ss) or ``1:02:30`` (h:mm:ss).

    A bare number is refused on purpose: ``90`` could mean seconds or minutes, and in a
    session arc that is the difference between a pause and a phase.
    """
    if not re.match(DURATION_PATTERN, text):
        raise ValueError(f"{what} must look like 15m, 90s or 1h30m, not {shown(text, not bare)}")
    if ":" in text:
        parts = [float(p) for p in text.split(":")]
        seconds = 0.0
        for part in parts:
            seconds = seconds * 60 + part
        return seconds
    factor = {"h": 3600.0, "m": 60.0, "s": 1.0}
    return sum(float(n) * factor[unit] for n, unit in _UNITS.findall(text))


def format_duration(seconds: float) -> str:
    """The shortest unit form of a duration (``1h30m``, ``2m30s``, ``45s``), for messages."""
    whole = round(seconds)
    if abs(seconds - whole) > 1e-6:
        return f"{seconds:g}s"
    if whole == 0:
        return "0s"
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    out = ""
    if hours:
        out += f"{hours}h"
    if minutes:
        out += f"{minutes}m"
    if secs:
        out += f"{secs}s"
    return out


def parse_number(text: str) -> float | None:
    """A plain decimal number from its text, or None (no hex, ``1_000``, ``.inf`` or ``1:30``)."""
    return float(text) if re.match(NUMBER_PATTERN, text) else None


def parse_level(text: str, bare: bool, what: str = "level") -> float:
    """Percent 0-100 from ``70%`` or a plain number written without quotes."""
    if bare and parse_number(text) is not None:
        value = float(text)
    elif not bare and _PERCENT.match(text):
        value = float(text[:-1])
    else:
        raise ValueError(
            f"{what} must be a number 0-100 or a percentage like 70%, "
            f"not {shown(text, not bare)}")
    if not 0.0 <= value <= 100.0:
        raise ValueError(f"{what} must be between 0% and 100%, not {text}")
    return value


def parse_gain(text: str, bare: bool) -> float:
    """Decibels from ``-3dB``, ``+2dB`` or a plain number; the range keeps mistakes from hurting."""
    if bare and parse_number(text) is not None:
        value = float(text)
    elif not bare and re.match(GAIN_PATTERN, text):
        value = float(text.rstrip("dDbB ").strip())
    else:
        raise ValueError(f"gain must look like -3dB or +2dB, not {shown(text, not bare)}")
    if not MIN_GAIN_DB <= value <= MAX_GAIN_DB:
        raise ValueError(f"gain must be between -30dB and +12dB, not {text}")
    return value


INTENSITY_PATTERN = r"^[1-5]$"


def parse_intensity(text: str, bare: bool) -> int:
    """1 (the gentlest) to 5 (the deepest), as a whole number."""
    if not re.match(INTENSITY_PATTERN, text.strip()):
        raise ValueError(f"intensity must be a whole number from 1 (gentlest) to 5 (deepest), "
                         f"not {shown(text, not bare)}")
    return int(text.strip())


def parse_choice(text: str, choices: tuple[str, ...], what: str, bare: bool = False) -> str:
    """One word out of a fixed list; the message lists them all."""
    if not bare and text in choices:
        return text
    raise ValueError(f"{what} must be one of {', '.join(choices)}, not {shown(text, not bare)}")

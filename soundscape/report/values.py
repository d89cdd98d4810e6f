"""Reading the log's untrusted values, and the report's ways of writing times.

Every value in a log may be anything (a file anyone could edit), so each is read with ``num`` or
``text``, never trusted to have the type it should.
"""

from __future__ import annotations

import json
import math
from datetime import datetime

from soundscape.timefmt import clock as clock_text


def num(value) -> float | None:
    """A finite number from the log, or None (the log is untrusted and may hold anything)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return None
    return float(value)


def text(value) -> str:
    return "" if value is None else value if isinstance(value, str) else json.dumps(value)


def clock(seconds: float | None) -> str:
    """Session time as m:ss or h:mm:ss (the way the control page shows it); – when unknown."""
    return "–" if seconds is None else clock_text(seconds)


def difference(actual: float | None, planned: float | None) -> str:
    if actual is None or planned is None:
        return "–"
    delta = actual - planned
    return "on time" if abs(delta) < 1 else ("+" if delta > 0 else "-") + clock(abs(delta))


def wall_time(stamp) -> str:
    """HH:MM:SS of an ISO wall-clock stamp, or the stamp as written when it does not parse."""
    try:
        return datetime.fromisoformat(text(stamp)).strftime("%H:%M:%S")
    except ValueError:
        return text(stamp)


def wall_date(stamp) -> str:
    try:
        moment = datetime.fromisoformat(text(stamp))
    except ValueError:
        return text(stamp)
    offset = moment.utcoffset()
    zone = ""
    if offset is not None:
        minutes = round(offset.total_seconds() / 60)
        zone = f" (UTC{'-' if minutes < 0 else '+'}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d})"
    return moment.strftime("%A %d %B %Y, %H:%M") + zone

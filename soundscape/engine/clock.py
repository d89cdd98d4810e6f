"""Time sources: the clock protocol the engine is given, and the real clock of sessions.

Only the command line builds a ``RealClock``; tests give the engine ``soundscape.testing.FakeClock``
(simulated time), so a 90-minute session runs in a test in well under a second.
"""

from __future__ import annotations

import time
from datetime import datetime, timezone
from typing import Protocol


class Clock(Protocol):
    def now(self) -> float:
        """Monotonic seconds; only differences matter."""

    def wall(self) -> datetime:
        """Wall-clock time for logs (timezone-aware)."""


class RealClock:
    def now(self) -> float:
        return time.monotonic()

    def wall(self) -> datetime:
        return datetime.now(timezone.utc).astimezone()

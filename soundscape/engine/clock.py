"""Time sources: the real monotonic clock for sessions, and a fake one tests move by hand."""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone
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


class FakeClock:
    """Simulated time: nothing moves until a test calls ``advance``."""

    def __init__(self, start: float = 1000.0, wall_start: datetime | None = None):
        self._t = start
        self._start = start
        self._wall0 = wall_start or datetime(2026, 1, 1, 9, 0, tzinfo=timezone.utc)

    def now(self) -> float:
        return self._t

    def wall(self) -> datetime:
        return self._wall0 + timedelta(seconds=self._t - self._start)

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("time only moves forward")
        self._t += seconds

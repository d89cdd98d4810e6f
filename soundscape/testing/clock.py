"""Simulated time: a clock that stands still until a test moves it."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone


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

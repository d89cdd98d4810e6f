"""The engine loop's pulse: how the box's supervisor (systemd's watchdog) knows the engine is alive.

A process can be alive while its engine thread is not: a libVLC call that never returns, or a
deadlock, leaves the web server answering and the room unsteered (commands time out, fades stop).
The engine loop beats once a pass, and it passes at least every ``BEAT_EVERY_S`` even with nothing
to do, so a heartbeat older than ``STALL_S`` means the loop is stuck. ``watchdog.py`` turns that
into systemd's keep-alive pings.
"""

from __future__ import annotations

from soundscape.engine.clock import Clock

BEAT_EVERY_S = 1.0  # the loop's longest sleep: it passes at least this often
# Far above any pass the loop makes when well (a pass is milliseconds; a checkpoint's fsync on an
# SD card busy writing back can take seconds), and a hung engine does not silence the room (libVLC
# plays on by itself): what is lost meanwhile is steering, so a restart can wait this long.
STALL_S = 20.0


class Heartbeat:
    """The time of the engine loop's last pass. Written by the engine thread, read by any other
    (a float assignment: no lock needed). Counts from its creation, so a loop that never starts
    is found stalled too."""

    def __init__(self, clock: Clock):
        self._clock = clock
        self._last = clock.now()

    def beat(self) -> None:
        self._last = self._clock.now()

    def age_s(self) -> float:
        return max(0.0, self._clock.now() - self._last)

    def fresh(self, stall_s: float = STALL_S) -> bool:
        return self.age_s() <= stall_s

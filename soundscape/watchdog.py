"""Telling systemd how the session is: ready, alive (while the engine loop is), stopping.

Under the unit ``soundscape service install`` writes (``Type=notify``, ``WatchdogSec=``), serve
says ``READY=1`` once it listens, ``WATCHDOG=1`` while the engine loop's heartbeat is fresh
(engine/heartbeat.py), and ``STOPPING=1`` on its way out. When the heartbeat goes stale the pings
stop and ``WATCHDOG=trigger`` asks systemd to act at once: it kills the process and, with
``Restart=always``, starts it again, and the session resumes from its checkpoint. Without
``$NOTIFY_SOCKET`` (serve started by hand) every message is dropped and nothing changes.

The protocol (sd_notify(3)) is one datagram of ``KEY=value`` lines on a Unix socket, so its few
lines are here instead of a dependency: the ``sdnotify`` package has had no release since 2017
and leaves reading ``WATCHDOG_USEC`` to its caller anyway.
"""

from __future__ import annotations

import faulthandler
import os
import socket
import threading
from collections.abc import Mapping

from soundscape.engine.heartbeat import STALL_S, Heartbeat

PINGS_PER_PERIOD = 4  # systemd's advice is at least two pings per watchdog period
LOOK_EVERY_S = 1.0  # and a stall is seen within a second of STALL_S, whatever the period


class Notifier:
    """Sends sd_notify messages to ``$NOTIFY_SOCKET``; a no-op without one."""

    def __init__(self, environ: Mapping[str, str] | None = None):
        environ = os.environ if environ is None else environ
        address = environ.get("NOTIFY_SOCKET", "")
        if address.startswith("@"):  # an abstract socket
            address = "\0" + address[1:]
        self.address = address or None
        self._sock: socket.socket | None = None
        self._lock = threading.Lock()

    @property
    def enabled(self) -> bool:
        return self.address is not None

    def send(self, *lines: str) -> bool:
        """One message of ``lines``; False when it could not be sent (systemd gone: carry on)."""
        if self.address is None:
            return False
        with self._lock:
            try:
                if self._sock is None:
                    self._sock = socket.socket(socket.AF_UNIX,
                                               socket.SOCK_DGRAM | socket.SOCK_CLOEXEC)
                self._sock.sendto("\n".join(lines).encode(), self.address)
                return True
            except OSError:
                return False

    def close(self) -> None:
        with self._lock:
            if self._sock is not None:
                self._sock.close()
                self._sock = None


def watchdog_period_s(environ: Mapping[str, str] | None = None) -> float | None:
    """systemd's watchdog period for this process (``WATCHDOG_USEC``), or None when it has none.

    ``WATCHDOG_PID``, when set, names the process meant; a child started with the same environment
    (the analyser) must not feed the watchdog in its parent's stead.
    """
    environ = os.environ if environ is None else environ
    pid = environ.get("WATCHDOG_PID")
    if pid and pid != str(os.getpid()):
        return None
    try:
        usec = int(environ.get("WATCHDOG_USEC", ""))
    except ValueError:
        return None
    return usec / 1e6 if usec > 0 else None


class WatchdogFeeder:
    """Pings systemd while the heartbeat is fresh: every second, or ``PINGS_PER_PERIOD`` times a
    watchdog period if that is more often.

    ``poll`` is one look (what the thread does each time; tests call it on a fake clock): a fresh
    heartbeat sends ``WATCHDOG=1``; the first stale one sends the reason and ``WATCHDOG=trigger``,
    and nothing more is sent until the heartbeat is fresh again.
    """

    def __init__(self, heartbeat: Heartbeat, notifier: Notifier, period_s: float,
                 stall_s: float = STALL_S):
        self.heartbeat = heartbeat
        self.notifier = notifier
        self.period_s = period_s
        self.stall_s = min(stall_s, period_s)
        self.stalled = False
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def poll(self) -> str | None:
        """Send what the heartbeat calls for; returns the message's last line, or None."""
        if self.heartbeat.fresh(self.stall_s):
            self.stalled = False
            self.notifier.send("WATCHDOG=1")
            return "WATCHDOG=1"
        if self.stalled:
            return None
        self.stalled = True
        faulthandler.dump_traceback(all_threads=True)  # where it hung, for the journal
        age_s = self.heartbeat.age_s()
        self.notifier.send(f"STATUS=the engine loop has not run for {age_s:.1f} s: asking for a "
                           "restart", "WATCHDOG=trigger")
        return "WATCHDOG=trigger"

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="soundscape-watchdog", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            self.poll()
            self._stop.wait(min(LOOK_EVERY_S, self.period_s / PINGS_PER_PERIOD))

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(2.0)
            self._thread = None


class Supervision:
    """What serve does for systemd: ``ready()`` once listening, the watchdog fed meanwhile,
    ``stopping()`` on the way out. Everything is a no-op when not run by systemd."""

    def __init__(self, heartbeat: Heartbeat, environ: Mapping[str, str] | None = None):
        self.notifier = Notifier(environ)
        period_s = watchdog_period_s(environ) if self.notifier.enabled else None
        self.feeder = WatchdogFeeder(heartbeat, self.notifier, period_s) if period_s else None

    def ready(self, status: str) -> None:
        self.notifier.send("READY=1", f"STATUS={status}")
        if self.feeder is not None:
            self.feeder.start()

    def stopping(self) -> None:
        if self.feeder is not None:
            self.feeder.stop()
        self.notifier.send("STOPPING=1", "STATUS=fading out and stopping")
        self.notifier.close()

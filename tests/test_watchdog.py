"""The watchdog: pings while the engine loop runs, a trigger when it stalls, systemd's protocol."""

from __future__ import annotations

import os
import re
import socket

import pytest

from soundscape.engine.heartbeat import STALL_S, Heartbeat
from soundscape.testing import FakeClock
from soundscape.watchdog import Notifier, Supervision, WatchdogFeeder, watchdog_period_s

from engine.engine_rig import Rig, phase, playlist


class Recorder:
    """A Notifier that keeps what it was asked to send."""

    def __init__(self):
        self.sent: list[tuple[str, ...]] = []

    def send(self, *lines: str) -> bool:
        self.sent.append(lines)
        return True


class StallingRig(Rig):
    """An engine whose output's health check, once armed, does not return for ``stall_s``
    (a sound server that stopped answering): meanwhile the feeder thread polls once a second."""

    def __init__(self, stall_s: float):
        super().__init__(playlist(phase("Open", 600, ["a.ogg", "b.ogg"], level_pct=60)),
                         {"a.ogg": 400, "b.ogg": 400})
        self.feeder = WatchdogFeeder(self.engine.heartbeat, Recorder(), period_s=30.0)
        self.stall_s = stall_s
        self.armed = False
        self.polls: list[tuple[float, str | None]] = []
        healthy = self.output.healthy

        def stalling_healthy() -> bool:
            if self.armed:
                self.armed = False
                for _ in range(int(self.stall_s)):
                    self.clock.advance(1.0)
                    self.polls.append((self.engine.heartbeat.age_s(), self.feeder.poll()))
            return healthy()
        self.output.healthy = stalling_healthy

    def run_polling(self, seconds: int) -> list[str | None]:
        """``seconds`` of a well engine, the feeder polling after each one."""
        out = []
        for _ in range(seconds):
            self.engine.run_for(1.0)
            out.append(self.feeder.poll())
        return out


def test_a_running_engine_loop_keeps_the_watchdog_fed_even_with_nothing_to_do():
    rig = StallingRig(0)
    assert rig.run_polling(20) == ["WATCHDOG=1"] * 20  # READY: waiting for Start
    rig.do("start")
    assert rig.run_polling(60) == ["WATCHDOG=1"] * 60
    assert rig.engine.heartbeat.age_s() <= 1.0


def test_a_stalled_engine_loop_stops_the_pings_and_asks_for_a_restart_once():
    rig = StallingRig(30)
    rig.do("start")
    rig.run_polling(5)
    rig.armed = True
    rig.engine.run_for(2.0)  # the health check hangs for 30 s in here
    pings = [message for age_s, message in rig.polls if age_s <= STALL_S]
    after = [message for age_s, message in rig.polls if age_s > STALL_S]
    assert pings == ["WATCHDOG=1"] * len(pings) and len(pings) >= 9
    assert after[0] == "WATCHDOG=trigger" and after[1:] == [None] * (len(after) - 1)
    reason, trigger = rig.feeder.notifier.sent[len(pings) + 5]
    said = re.fullmatch(r"STATUS=the engine loop has not run for ([\d.]+) s: asking for a restart",
                        reason)
    assert said and STALL_S <= float(said.group(1)) <= STALL_S + 1.0, reason
    assert trigger == "WATCHDOG=trigger"
    # The loop came back by itself (the call returned): the pings start again.
    assert rig.run_polling(3) == ["WATCHDOG=1"] * 3


def test_a_loop_that_never_started_is_stalled_too():
    clock = FakeClock()
    feeder = WatchdogFeeder(Heartbeat(clock), Recorder(), period_s=30.0)
    assert feeder.poll() == "WATCHDOG=1"
    clock.advance(STALL_S + 0.5)
    assert feeder.poll() == "WATCHDOG=trigger"


def test_the_stall_limit_is_never_longer_than_systemds_period():
    feeder = WatchdogFeeder(Heartbeat(FakeClock()), Recorder(), period_s=4.0)
    assert feeder.stall_s == 4.0


@pytest.mark.parametrize("environ, period_s", [
    ({}, None), ({"WATCHDOG_USEC": "30000000"}, 30.0), ({"WATCHDOG_USEC": "0"}, None),
    ({"WATCHDOG_USEC": "soon"}, None),
    ({"WATCHDOG_USEC": "30000000", "WATCHDOG_PID": str(os.getpid())}, 30.0),
    ({"WATCHDOG_USEC": "30000000", "WATCHDOG_PID": "1"}, None),  # meant for another process
])
def test_the_watchdog_period_comes_from_systemds_environment(environ, period_s):
    assert watchdog_period_s(environ) == period_s


@pytest.mark.parametrize("abstract", [False, True])
def test_messages_reach_the_notify_socket(tmp_path, abstract):
    name = f"\0soundscape-test-{os.getpid()}" if abstract else str(tmp_path / "notify")
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as server:
        server.bind(name)
        server.settimeout(5)
        environ = {"NOTIFY_SOCKET": "@" + name[1:] if abstract else name,
                   "WATCHDOG_USEC": "20000000"}
        supervision = Supervision(Heartbeat(FakeClock()), environ)
        supervision.ready("serving the control page on port 8700")
        assert server.recv(4096) == b"READY=1\nSTATUS=serving the control page on port 8700"
        assert server.recv(4096) == b"WATCHDOG=1"  # the feeder's first look, at once
        supervision.stopping()
        while (message := server.recv(4096)) == b"WATCHDOG=1":
            pass
        assert message == b"STOPPING=1\nSTATUS=fading out and stopping"


def test_without_systemd_nothing_is_sent_and_nothing_runs():
    supervision = Supervision(Heartbeat(FakeClock()), {"WATCHDOG_USEC": "20000000"})
    assert not supervision.notifier.enabled and supervision.feeder is None
    supervision.ready("serving")
    supervision.stopping()
    assert Notifier({"NOTIFY_SOCKET": "/nonexistent/socket"}).send("READY=1") is False


def test_a_warning_from_outside_the_session_reaches_every_phone():
    rig = StallingRig(0)
    rig.engine.tell("another device already answers to room-2.local (192.168.1.7)")
    assert rig.state.warnings[-1] == "another device already answers to room-2.local (192.168.1.7)"

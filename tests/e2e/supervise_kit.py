"""A small stand-in for systemd (not PID 1 here): notify socket, watchdog, Restart=always.

It runs a command as the unit ``soundscape service`` writes would have systemd run it:
``NOTIFY_SOCKET`` and ``WATCHDOG_USEC`` in its environment; ``READY=1`` awaited; a process whose
pings stop for the watchdog period, or that sends ``WATCHDOG=trigger``, gets SIGABRT (systemd's
``WatchdogSignal``) and SIGKILL after ``kill_after_s``; any exit is followed by a new start after
``restart_s`` (``Restart=always``). Signals go to the whole process group, as systemd's go to the
unit's cgroup (the analyser and the meter's parec die with serve). Everything it sees is kept in
``events`` with its time.
"""

from __future__ import annotations

import os
import resource
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path


class MiniSystemd:
    def __init__(self, cmd: list[str], env: dict[str, str], folder: Path, *,
                 watchdog_s: float = 30.0, restart_s: float = 2.0, kill_after_s: float = 20.0):
        self.cmd, self.env = cmd, env
        self.watchdog_s, self.restart_s, self.kill_after_s = watchdog_s, restart_s, kill_after_s
        self.socket_path = str(folder / "notify")
        self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self._sock.bind(self.socket_path)
        self._sock.settimeout(0.1)
        self.events: list[tuple[float, str]] = []  # (monotonic time, what)
        self.outputs: list[Path] = []  # each start's stdout and stderr
        self.folder = folder
        self.proc: subprocess.Popen | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> "MiniSystemd":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(30)
        self._sock.close()

    def starts(self) -> int:
        return sum(1 for _, what in self.events if what.startswith("started"))

    def saw(self, text: str) -> list[float]:
        return [t for t, what in self.events if what == text]

    def _spawn(self) -> None:
        out = self.folder / f"start-{len(self.outputs) + 1}.log"
        self.outputs.append(out)
        env = {**self.env, "NOTIFY_SOCKET": self.socket_path,
               "WATCHDOG_USEC": str(int(self.watchdog_s * 1e6))}
        with open(out, "wb") as log:
            self.proc = subprocess.Popen(self.cmd, env=env, stdin=subprocess.DEVNULL, stdout=log,
                                         stderr=subprocess.STDOUT, start_new_session=True,
                                         preexec_fn=_no_core_files)
        self.events.append((time.monotonic(), f"started pid {self.proc.pid}"))

    def _kill(self, why: str) -> None:
        self.events.append((time.monotonic(), f"watchdog: {why}"))
        self._signal(signal.SIGABRT)
        try:
            self.proc.wait(self.kill_after_s)
        except subprocess.TimeoutExpired:
            self._signal(signal.SIGKILL)
            self.proc.wait()
        self._signal(signal.SIGKILL)  # what is left of the group, as systemd does

    def _signal(self, sig: int) -> None:
        try:
            os.killpg(self.proc.pid, sig)
        except ProcessLookupError:
            pass

    def _run(self) -> None:
        self._spawn()
        last_ping = None
        while not self._stop.is_set():
            try:
                message = self._sock.recv(4096).decode()
            except socket.timeout:
                message = None
            now = time.monotonic()
            if message is not None:
                for line in message.splitlines():
                    self.events.append((now, line))
                    if line in ("READY=1", "WATCHDOG=1"):
                        last_ping = now
                if "WATCHDOG=trigger" in message.splitlines():
                    self._kill("triggered")
            elif last_ping is not None and now - last_ping > self.watchdog_s:
                self._kill("no ping")
            if self.proc.poll() is not None:
                self.events.append((time.monotonic(), f"exited {self.proc.returncode}"))
                last_ping = None
                if self._stop.wait(self.restart_s):
                    break
                self._spawn()
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self._signal(signal.SIGKILL)
                self.proc.wait()
            self.events.append((time.monotonic(), f"stopped {self.proc.returncode}"))
        self._signal(signal.SIGKILL)


def _no_core_files() -> None:
    """SIGABRT dumps core; systemd's coredump handling is not here to take it."""
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))

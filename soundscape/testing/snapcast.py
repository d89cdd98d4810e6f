"""A Snapcast server and clients of a test's (or the bench's) own: snapserver with a pipe source
on loopback ports of its own, each snapclient playing to a PulseAudio null sink of its own (the
test server's), logs in the work folder. Needs Debian's ``snapserver`` and ``snapclient``."""

from __future__ import annotations

import socket
import subprocess
import time
from pathlib import Path

from soundscape.testing.audio import pulse_env

BUFFER_MS = 1000  # Snapcast's default end-to-end buffer


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Snapcast:
    """snapserver and one snapclient per sink (``sinks``: client id -> null sink name)."""

    def __init__(self, work: Path, sinks: dict[str, str], buffer_ms: int = BUFFER_MS):
        self.work, self.sinks, self.buffer_ms = work, sinks, buffer_ms
        self.fifo = work / "snapfifo"
        self.stream_port, self.control_port = _free_port(), _free_port()
        self.env = pulse_env()
        self.server = subprocess.Popen(
            ["snapserver", "-c", "/dev/null",
             "--stream.source", f"pipe://{self.fifo}?name=room&sampleformat=48000:16:2",
             "--stream.port", str(self.stream_port), "--stream.bind_to_address", "127.0.0.1",
             "--tcp.port", str(self.control_port), "--tcp.bind_to_address", "127.0.0.1",
             "--http.enabled", "false", "--stream.buffer", str(buffer_ms),
             "--server.datadir", str(work), "--logging.sink", f"file:{work / 'server.log'}"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=self.env)
        self.clients: dict[str, subprocess.Popen] = {}
        deadline = time.monotonic() + 10
        while not self.fifo.exists():
            if time.monotonic() > deadline or self.server.poll() is not None:
                self.close()
                raise RuntimeError(f"snapserver made no pipe (see {work / 'server.log'})")
            time.sleep(0.05)
        for name in sinks:
            self.start_client(name)

    def start_client(self, name: str) -> None:
        self.clients[name] = subprocess.Popen(
            ["snapclient", "-h", "127.0.0.1", "-p", str(self.stream_port), "--hostID", name,
             "--player", "pulse", "-s", self.sinks[name], "--logsink",
             f"file:{self.work / f'client-{name}.log'}"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=self.env)

    def kill_client(self, name: str) -> None:
        self.clients[name].kill()
        self.clients[name].wait(5)

    def close(self) -> None:
        for proc in [*self.clients.values(), self.server]:
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(5)
                except subprocess.TimeoutExpired:
                    proc.kill()

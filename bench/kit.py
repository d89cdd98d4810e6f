"""Shared plumbing of the benchmarks: a private null sink, test files, a served session, /proc.

Every bench records what reaches its own PulseAudio null sink (not the shared ``room``), so other
activity on the test server never pollutes a figure. Recording and test audio come from the kit
the end-to-end tests use (``soundscape.testing.audio``), so the bench hears exactly as they do.
"""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from soundscape.testing.audio import RATE, Recorder, null_sink, pulse_env, write_noise, write_tone  # noqa: F401 (re-exported)

ROOT = Path(__file__).resolve().parent.parent

VENV_BIN = Path(sys.executable).parent
SOUNDSCAPE = str(VENV_BIN / "soundscape")
TOKEN = "bench-token"


@dataclass
class Section:
    """One bench's result: a table, how it was measured, and its headline rows."""

    title: str
    method: str
    headers: list[str]
    rows: list[list]
    headline: list[list] = field(default_factory=list)  # [metric, soundscape, baseline, ratio]
    notes: list[str] = field(default_factory=list)
    elapsed_s: float = 0.0


def log(msg: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", flush=True)


def bench_sink(name: str):
    """A null sink of the bench's own (the e2e kit's), given 0.2 s to settle."""
    return null_sink(name, settle_s=0.2)


def one_phase_playlist(folder: Path, name: str, tracks: list[str], *, level: str = "100%",
                       crossfade_s: float | None = None, when_short: str | None = None) -> Path:
    """``<name>.yaml`` in ``folder``: one 10-minute phase of ``tracks`` (files in ``folder``),
    no fade-in, at ``level``."""
    lines = [f"title: {name.capitalize()} bench", f"music_dir: {folder}", "phases:",
             "  - name: Music", "    duration: 10m", f"    level: {level}", "    fade_in: 0s"]
    if crossfade_s is not None:
        lines.append(f"    crossfade: {crossfade_s:g}s")
    if when_short is not None:
        lines.append(f"    when_short: {when_short}")
    lines.append(f"    tracks: [{', '.join(tracks)}]")
    path = folder / f"{name}.yaml"
    path.write_text("\n".join(lines) + "\n")
    return path


@contextmanager
def recorded_session(name: str, playlist: Path, home: Path, room: Path | None = None,
                     env: dict[str, str] | None = None):
    """``soundscape serve`` on a bench sink of its own, recorded from before its start: yields
    (server, recorder, monotonic time of the start command). The recording is complete, and the
    server stopped, after the block. ``env``: more environment for the server."""
    with bench_sink(f"bench_{name}_{os.getpid()}") as sink:
        server = Server(playlist, home, device=sink, room=room, env=env)
        try:
            with Recorder(device=f"{sink}.monitor") as rec:
                time.sleep(0.2)  # some silence before the start
                t0 = time.monotonic()
                server.command("start")
                yield server, rec, t0
        finally:
            server.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def isolated_env(home: Path, **extra) -> dict[str, str]:
    """Pulse env plus private XDG state/config/cache dirs, so no checkpoint or room file of the
    machine is read and no session of an earlier run is resumed."""
    return pulse_env(XDG_STATE_HOME=str(home / "state"), XDG_CONFIG_HOME=str(home / "config"),
                     XDG_CACHE_HOME=str(home / "cache"), XDG_DATA_HOME=str(home / "data"),
                     **extra)


class Server:
    """``soundscape serve`` in a subprocess on loopback, with a keep-alive API connection."""

    def __init__(self, playlist: Path, home: Path, *, output: str = "pulse",
                 device: str | None = None, room: Path | None = None,
                 env: dict[str, str] | None = None):
        self.port = free_port()
        cmd = [SOUNDSCAPE, "serve", str(playlist), "--host", "127.0.0.1", "--port",
               str(self.port), "--token", TOKEN, "--output", output, "--resume", "no",
               "--log-dir", str(home / "logs"), "--seed", "1"]
        if device:
            cmd += ["--device", device]
        if room:
            cmd += ["--room", str(room)]
        self.proc = subprocess.Popen(cmd, env=isolated_env(home, **(env or {})),
                                     stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
        self._conn: http.client.HTTPConnection | None = None
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"serve exited: {self.proc.stderr.read().decode()[-500:]}")
            try:
                self.state()
                break
            except OSError:
                self._conn = None
                time.sleep(0.1)
        else:
            self.close()
            raise RuntimeError("serve did not answer within 20 s")
        self.wait_analysed()

    def wait_analysed(self, timeout_s: float = 60.0) -> None:
        """Start waits for the first tracks' analysis (docs/analysis.md): wait for it, so a
        bench's start command is never refused."""
        deadline = time.monotonic() + timeout_s
        while (self.state().get("analysis") or {}).get("first_pending"):
            if time.monotonic() > deadline:
                self.close()
                raise RuntimeError("the first tracks were not analysed within 60 s")
            time.sleep(0.1)

    def _request(self, method: str, path: str, body: dict | None = None) -> tuple[int, dict]:
        if self._conn is None:
            self._conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        headers = {"Authorization": f"Bearer {TOKEN}"}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        try:
            self._conn.request(method, path, body=data, headers=headers)
            resp = self._conn.getresponse()
            payload = resp.read()
        except (OSError, http.client.HTTPException):
            self._conn.close()
            self._conn = None
            raise
        return resp.status, json.loads(payload or b"{}")

    def state(self) -> dict:
        return self._request("GET", "/api/state")[1]

    def log(self) -> list[dict]:
        return self._request("GET", "/api/log")[1]

    def command(self, action: str, **params) -> int:
        status, body = self._request("POST", "/api/commands", {"action": action, **params})
        if action == "start" and status != 200:  # a bench that never started measures nothing
            raise RuntimeError(f"start answered {status}: {body.get('error') or body}")
        return status

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def proc_cpu_s(pid: int) -> float:
    """User + system CPU seconds of a process (and its reaped children) from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = sum(int(x) for x in fields[11:15])  # utime stime cutime cstime
    return ticks / os.sysconf("SC_CLK_TCK")


def proc_mem_kb(pid: int) -> dict[str, int]:
    """VmRSS and VmHWM (peak RSS) in kB."""
    out = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            out[key] = int(value.split()[0])
    return out


def pct(values, q: float) -> float:
    return float(np.percentile(np.asarray(values, dtype=float), q)) if len(values) else float("nan")


def fmt(value: float, digits: int = 1) -> str:
    return "n/a" if value is None or value != value else f"{value:.{digits}f}"


VLC_UID = 65534  # VLC refuses to run as root; the baselines run as nobody


@contextmanager
def cvlc_as_nobody(folder: Path, sink: str, args: list[str]):
    """``cvlc`` (the real VLC binary) playing to ``sink``, as nobody, through a pulse socket of
    the bench's own (the shared server's socket folder is root's); stopped on leaving."""
    sock = folder / "pulse.sock"
    env = pulse_env()
    module = subprocess.run(["pactl", "load-module", "module-native-protocol-unix",
                             f"socket={sock}", "auth-anonymous=1"], env=env,
                            capture_output=True, text=True, timeout=10).stdout.strip()
    home = folder / "vlc-home"
    home.mkdir(exist_ok=True)
    os.chown(home, VLC_UID, VLC_UID)
    proc = subprocess.Popen(
        ["setpriv", f"--reuid={VLC_UID}", f"--regid={VLC_UID}", "--clear-groups", "cvlc",
         "--aout=pulse", *args],
        env={"PATH": "/usr/bin:/bin", "HOME": str(home), "PULSE_SERVER": f"unix:{sock}",
             "PULSE_SINK": sink}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        subprocess.run(["pactl", "unload-module", module], env=env, capture_output=True,
                       timeout=10)


def unnormalised_room(tone: Path, extra: str = "") -> str:
    """A room config whose loudness target is the tone's own loudness: the analysed tracks play
    at 0 dB, as the bench's ideal curves assume (normalisation is measured in bench/library)."""
    from soundscape.loudness import measure_file

    found = measure_file(tone)
    return f"{extra}loudness_target: {found.lufs:.2f}LUFS\n"


"""Scale: command latency with 1, 20 and 50 live event-stream clients, and `check`/`plan` time
for a 2,000-track library, cold and warm."""

from __future__ import annotations

import os
import socket
import subprocess
import threading
import time
import wave
from pathlib import Path

from bench.kit import (SOUNDSCAPE, TOKEN, Section, Server, bench_sink, fmt, isolated_env, log, pct,
                       write_tone)

CLIENTS = (1, 20, 50)
RATE_HZ = 20.0
BURST_S = 10.0
LIBRARY = 2000


STATE_EVENT = b"event: state\n"


def count_states(tail: bytes, data: bytes) -> tuple[int, bytes]:
    """State events in ``data``, given the ``tail`` kept from the chunk before (an event's line
    may be split between two reads): (count, the tail to keep). Pings and byes are not counted,
    so a page that hears only pings counts 0."""
    joined = tail + data
    return joined.count(STATE_EVENT), joined[-(len(STATE_EVENT) - 1):]


class EventClient(threading.Thread):
    """One open control page's live stream: reads /api/events and counts its state events."""

    def __init__(self, port: int, stop: threading.Event):
        super().__init__(daemon=True)
        self.port, self.stop, self.events, self.error = port, stop, 0, None
        self.connected = threading.Event()

    def run(self) -> None:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1.0) as sock:
                sock.sendall(f"GET /api/events HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                             f"Authorization: Bearer {TOKEN}\r\nAccept: text/event-stream\r\n"
                             "\r\n".encode())
                self.connected.set()
                tail = b""
                while not self.stop.is_set():
                    try:
                        data = sock.recv(65536)
                    except socket.timeout:
                        continue
                    if not data:
                        break
                    found, tail = count_states(tail, data)
                    self.events += found
        except OSError as exc:
            self.error = str(exc)
            self.connected.set()


def load(server: Server, clients: int, rate_hz: float, duration_s: float) -> dict:
    """``clients`` live streams open while commands go at ``rate_hz`` for ``duration_s``:
    each command's round trip, and the events every client received."""
    stop = threading.Event()
    readers = [EventClient(server.port, stop) for _ in range(clients)]
    for r in readers:
        r.start()
    for r in readers:
        r.connected.wait(5)
    time.sleep(0.5)
    latencies, refused = [], 0
    t_next = time.monotonic()
    deadline = t_next + duration_s
    i = 0
    while t_next < deadline:
        time.sleep(max(0.0, t_next - time.monotonic()))
        t = time.monotonic()
        status = server.command("set_level", level=60 if i % 2 else 62)
        latencies.append(time.monotonic() - t)
        refused += status != 200
        i += 1
        t_next += 1.0 / rate_hz
    stop.set()
    for r in readers:
        r.join(3)
    return {"lat": latencies, "refused": refused,
            "min_events": min((r.events for r in readers), default=0),
            "errors": sum(1 for r in readers if r.error)}


def _playlist(folder: Path) -> Path:
    write_tone(folder / "s.wav", 440.0, 60.0)
    path = folder / "scale.yaml"
    path.write_text(f"title: Scale bench\nmusic_dir: {folder}\nphases:\n  - name: Music\n"
                    "    duration: 30m\n    level: 60%\n    tracks: [s.wav]\n")
    return path


def _library(folder: Path) -> Path:
    """2,000 tiny WAVs (0.1 s, mono 8 kHz) in four folders, one phase each."""
    frames = b"\x00\x00" * 800
    for i in range(LIBRARY):
        sub = folder / f"p{i % 4}"
        sub.mkdir(exist_ok=True)
        with wave.open(str(sub / f"track-{i:04d}.wav"), "wb") as w:
            w.setnchannels(1)
            w.setsampwidth(2)
            w.setframerate(8000)
            w.writeframes(frames)
    lines = [f"title: Big library\nmusic_dir: {folder}\ndefaults:\n  crossfade: 0s\nphases:"]
    for p in range(4):
        lines.append(f"  - name: Phase {p + 1}\n    duration: 10m\n    tracks: [\"p{p}/*.wav\"]")
    path = folder / "library.yaml"
    path.write_text("\n".join(lines) + "\n")
    return path


def _timed(cmd: list[str], env: dict) -> float:
    t = time.perf_counter()
    done = subprocess.run(cmd, env=env, capture_output=True, timeout=120)
    elapsed = time.perf_counter() - t
    if done.returncode not in (0, 1):  # 1: problems found (warnings are fine here)
        raise RuntimeError(f"{' '.join(cmd[1:3])} failed: {done.stderr.decode()[-300:]}")
    return elapsed


def run(work: Path) -> Section:
    work.mkdir(parents=True, exist_ok=True)
    rows = []
    with bench_sink(f"bench_scale_{os.getpid()}") as sink:
        server = Server(_playlist(work), work / "home", device=sink)
        try:
            server.command("start")
            for n in CLIENTS:
                log(f"scale: {n} live clients, {RATE_HZ:g} commands/s for {BURST_S:g} s")
                r = load(server, n, RATE_HZ, BURST_S)
                rows.append([f"{n} live clients", len(r["lat"]), r["refused"],
                             fmt(pct(r["lat"], 50) * 1000, 1), fmt(pct(r["lat"], 99) * 1000, 1),
                             fmt(max(r["lat"]) * 1000, 1), r["min_events"], r["errors"]])
        finally:
            server.close()
    log(f"scale: check and plan of a {LIBRARY}-track library")
    lib_dir = work / "library"
    lib_dir.mkdir()
    playlist = _library(lib_dir)
    env = isolated_env(work / "lib-home")
    times = {}
    for what in ("check", "plan"):
        times[what] = [_timed([SOUNDSCAPE, what, str(playlist)], env) for _ in range(2)]
    lib_rows = [[f"`soundscape {w}` ({LIBRARY} tracks)", fmt(times[w][0], 2), fmt(times[w][1], 2)]
                for w in ("check", "plan")]
    notes = ["\n".join(["| command | cold s (empty caches: `plan` decodes every file first) "
                        "| warm s (second run) |",
                        "|---|---|---|"] + ["| " + " | ".join(map(str, r)) + " |"
                                            for r in lib_rows])]
    headline = [["command round trip p99, ms, with 50 live clients at 20 commands/s",
                 rows[-1][4], "n/a", "n/a"],
                ["command round trip max, ms, with 50 live clients at 20 commands/s",
                 rows[-1][5], "n/a", "n/a"],
                [f"`soundscape plan`, {LIBRARY}-track library, cold / warm, s",
                 f"{fmt(times['plan'][0], 2)} / {fmt(times['plan'][1], 2)}", "n/a", "n/a"]]
    method = (
        "`soundscape serve --output pulse` playing one tone track on a null sink of the bench's "
        "own. N threads each hold a live `GET /api/events` stream and count its state events; "
        f"meanwhile `set_level` commands (alternating 60/62, so every command changes the state "
        f"and fans out to every stream) go at {RATE_HZ:g}/s for {BURST_S:g} s over one "
        "keep-alive connection; the round trip of each is timed. The rounds run one after "
        "another on one server, each opening its streams just after the round before closed its "
        "own, as pages being reloaded do: a server that keeps a closed page's thread shows it in "
        "the max (the slowest command of the round), not in the p99. 'min events' is the fewest "
        "state events any one client received (pings not counted; 0 would mean a starved "
        "page). Library: "
        f"{LIBRARY} WAVs of 0.1 s in four folders, one glob per phase; wall time of the whole "
        "command (Python start-up included), first with an empty XDG_CACHE_HOME, then again.")
    return Section("Scale", method,
                   ["clients", "commands", "refused", "p50 ms", "p99 ms", "max ms",
                    "min events per client", "client errors"], rows, headline, notes)

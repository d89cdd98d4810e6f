"""Control latency: an HTTP request to the first audible level change on the recorded sink,
soundscape's API against VLC's own web remote on the same tone and the same kind of sink."""

from __future__ import annotations

import base64
import http.client
import os
import time
from pathlib import Path

from bench import analysis
from bench.kit import (Recorder, Section, Server, bench_sink, cvlc_as_nobody, fmt, free_port, log,
                       one_phase_playlist, pct, write_tone)

FREQ_HZ = 1000.0  # 10 ms windows hold exactly 10 cycles
WINDOW_S = 0.01
CHANGES = 50


def _measure(rec: Recorder, requests: list[tuple[float, int]]) -> list[float | None]:
    env, hop_s = analysis.tone_envelope(rec.samples, FREQ_HZ, WINDOW_S)
    return [analysis.change_latency_s(env, hop_s, WINDOW_S, t - rec.start_s, direction)
            for t, direction in requests]


def _run_soundscape(folder: Path, sink: str, room: Path | None, levels: tuple[int, int],
                    spacing_s: float, label: str) -> dict:
    playlist = one_phase_playlist(folder, "latency", ["tone.wav"], level="80%")
    server = Server(playlist, folder / f"home-{label}", device=sink, room=room)
    requests, acks = [], []
    try:
        with Recorder(device=f"{sink}.monitor") as rec:
            server.command("start")
            server.command("set_level", level=levels[0])
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline:
                state = server.state()
                if state["level"] is not None and abs(state["level"] - levels[0]) < 0.5:
                    break
                time.sleep(0.1)
            time.sleep(0.5)
            for i in range(CHANGES):
                level = levels[(i + 1) % 2]
                t = time.monotonic()
                status = server.command("set_level", level=level)
                acks.append(time.monotonic() - t)
                if status != 200:
                    raise RuntimeError(f"set_level answered {status}")
                requests.append((t, -1 if level < levels[(i % 2)] else 1))
                time.sleep(spacing_s)
            time.sleep(0.3)
    finally:
        server.close()
    return {"lat": _measure(rec, requests), "dirs": [d for _, d in requests], "acks": acks}


def _run_vlc(folder: Path, sink: str, tone: Path, spacing_s: float) -> dict:
    """cvlc with its Lua HTTP interface, as nobody, through a pulse socket of the bench's own."""
    port = free_port()
    with cvlc_as_nobody(folder, sink, ["-I", "http", "--http-host", "127.0.0.1", "--http-port",
                                       str(port), "--http-password", "pw", "--loop",
                                       str(tone)]):
        return _drive_vlc(port, sink, spacing_s)


def _drive_vlc(port: int, sink: str, spacing_s: float) -> dict:
    auth = "Basic " + base64.b64encode(b":pw").decode()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)

    def volume(val: int) -> None:
        conn.request("GET", f"/requests/status.xml?command=volume&val={val}",
                     headers={"Authorization": auth})
        resp = conn.getresponse()
        resp.read()
        if resp.status != 200:
            raise RuntimeError(f"VLC answered {resp.status}")

    levels = (round(256 * 0.8), round(256 * 0.4))  # 80 % and 40 % on VLC's 0-512 scale
    requests, acks = [], []
    try:
        deadline = time.monotonic() + 15
        while True:
            try:
                volume(levels[0])
                break
            except (OSError, http.client.HTTPException):
                conn.close()
                if time.monotonic() > deadline:
                    raise RuntimeError("VLC's web remote did not answer within 15 s") from None
                time.sleep(0.2)
        with Recorder(device=f"{sink}.monitor") as rec:
            time.sleep(1.5)
            for i in range(CHANGES):
                val = levels[(i + 1) % 2]
                t = time.monotonic()
                volume(val)
                acks.append(time.monotonic() - t)
                requests.append((t, -1 if val < levels[i % 2] else 1))
                time.sleep(spacing_s)
            time.sleep(0.3)
    finally:
        conn.close()
    return {"lat": _measure(rec, requests), "dirs": [d for _, d in requests], "acks": acks}


def _row(name: str, result: dict, direction: int | None = None) -> tuple[list, float, float]:
    lat = [x for x, d in zip(result["lat"], result["dirs"])
           if x is not None and (direction is None or d == direction)]
    asked = sum(1 for d in result["dirs"] if direction is None or d == direction)
    p50, p95 = pct(lat, 50) * 1000, pct(lat, 95) * 1000
    which = {None: "both", -1: "down", 1: "up"}[direction]
    return ([name, which, f"{len(lat)}/{asked}", fmt(p50), fmt(p95), fmt(max(lat, default=float('nan')) * 1000),
             fmt(pct(result["acks"], 50) * 1000)], p50, p95)


def run(work: Path) -> Section:
    folder = work / "latency"
    folder.mkdir(parents=True, exist_ok=True)
    os.chmod(work, 0o755)
    os.chmod(folder, 0o755)
    tone = write_tone(folder / "tone.wav", FREQ_HZ, 90.0)
    os.chmod(tone, 0o644)
    fast = folder / "fast-room.yaml"
    fast.write_text("ceiling: 100%\nrise_rate: 200dB/s\nfall_rate: 200dB/s\n")
    with bench_sink(f"bench_lat_{os.getpid()}") as sink:
        log("latency: soundscape, default room (80%<->70%)")
        default = _run_soundscape(folder, sink, None, (80, 70), 0.8, "default")
        log("latency: soundscape, fast room (80%<->40%)")
        quick = _run_soundscape(folder, sink, fast, (80, 40), 0.5, "fast")
        log("latency: cvlc web remote (80%<->40%)")
        vlc = _run_vlc(folder, sink, tone, 0.5)
    rows = []
    r, _, _ = _row("soundscape, default room (fall 15 dB/s, rise 6 dB/s), 80%<->70%", default, -1)
    rows.append(r)
    r, _, _ = _row("soundscape, default room (fall 15 dB/s, rise 6 dB/s), 80%<->70%", default, 1)
    rows.append(r)
    r, s50, s95 = _row("soundscape, room at 200 dB/s, 80%<->40%", quick)
    rows.append(r)
    r, v50, v95 = _row("cvlc -I http (VLC web remote), 80%<->40%", vlc)
    rows.append(r)
    _, d50, _ = _row("", default, -1)
    headline = [
        ["control latency p50, ms (200 dB/s room vs VLC)", fmt(s50), fmt(v50), fmt(s50 / v50, 2)],
        ["control latency p95, ms (200 dB/s room vs VLC)", fmt(s95), fmt(v95), fmt(s95 / v95, 2)],
        ["control latency p50, ms (default room, downward)", fmt(d50), fmt(v50),
         fmt(d50 / v50, 2)],
    ]
    method = (
        f"A {FREQ_HZ:.0f} Hz tone (0.5 full scale) plays on a null sink of the bench's own; parec "
        f"records its monitor. {CHANGES} level changes per run, alternating between two levels, "
        "each sent over a keep-alive loopback HTTP connection: soundscape `POST /api/commands "
        "{\"action\": \"set_level\"}` to `soundscape serve --output pulse --device <sink>`, VLC "
        "`GET /requests/status.xml?command=volume&val=N` (0-512 scale, 205 and 102 = 80 % and "
        "40 %) to `cvlc -I http --aout=pulse --loop` (run as `nobody`, because VLC refuses root, "
        "through a pulse socket of the bench's own). Latency = from just before the request is "
        "sent to the END of the first 10 ms window (sliding, 1 ms hop) whose tone amplitude "
        "(single-bin DFT) is more than 1 dB from the median of the 100 ms before the request, in "
        "the requested direction. The recording's clock is mapped to the monotonic clock from "
        "parec's chunk arrivals. soundscape slews every level change (15 dB/s down and 6 dB/s "
        "up by default, so 1 dB takes at least 67 ms down and 167 ms up); the 200 dB/s room "
        "(`--room` with `rise_rate: 200dB/s`, `fall_rate: 200dB/s`) shows the control path "
        "itself. 'HTTP ack' is the request's round trip.")
    return Section("Control latency", method,
                   ["run", "direction", "detected", "p50 ms", "p95 ms", "max ms", "HTTP ack p50 ms"],
                   rows, headline)

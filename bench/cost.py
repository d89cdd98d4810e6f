"""Cost: CPU seconds and peak memory of a served session against cvlc playing the same files for
the same time, and the idle CPU of a paused session."""

from __future__ import annotations

import os
import time
from pathlib import Path

from bench import analysis
from bench.kit import (Recorder, Section, Server, bench_sink, cvlc_as_nobody, fmt, log,
                       one_phase_playlist, proc_cpu_s, proc_mem_kb, write_tone)
from soundscape.cli.serve import THREADS

PLAY_S = 60.0
IDLE_S = 30.0
TRACK_S = 20.0
FREQS = (300.0, 400.0, 500.0, 600.0)


def _window(pid: int, seconds: float, sink: str) -> tuple[float, float]:
    """CPU seconds the process used over the next ``seconds`` of wall time, and the share of
    that time the sink was audibly playing (so a silent, failed player is not counted cheap)."""
    with Recorder(device=f"{sink}.monitor") as rec:
        before = proc_cpu_s(pid)
        time.sleep(seconds)
        used = proc_cpu_s(pid) - before
    x = analysis.mono(rec.samples)
    size = int(0.1 * analysis.RATE)
    n = len(x) // size
    rms = (x[:n * size].reshape(n, size) ** 2).mean(axis=1)
    return used, float((rms > 1e-4).mean()) if n else 0.0


def run(work: Path) -> Section:
    work.mkdir(parents=True, exist_ok=True)
    files = [write_tone(work / f"c{i}.wav", f, TRACK_S) for i, f in enumerate(FREQS)]
    for f in files:
        os.chmod(f, 0o644)
    os.chmod(work, 0o755)
    with bench_sink(f"bench_cost_{os.getpid()}") as sink:
        log(f"cost: soundscape serve, {PLAY_S:g} s playing + {IDLE_S:g} s paused")
        server = Server(one_phase_playlist(work, "cost", [f"c{i}.wav" for i in range(len(FREQS))],
                                    level="70%", crossfade_s=6), work / "home", device=sink)
        try:
            pid = server.proc.pid
            server.command("start")
            s_play, s_heard = _window(pid, PLAY_S, sink)
            s_mem = proc_mem_kb(pid)
            server.command("pause")
            time.sleep(4.0)  # the 3 s pause fade, then the decks pause
            s_idle, _ = _window(pid, IDLE_S, sink)
            s_total = proc_cpu_s(pid)
        finally:
            server.close()
        log(f"cost: cvlc, {PLAY_S:g} s playing the same files")
        with cvlc_as_nobody(work, sink, ["-I", "dummy", "--loop", *map(str, files)]) as proc:
            time.sleep(1.0)  # start-up, as soundscape's before `start` is not counted either
            v_play, v_heard = _window(proc.pid, PLAY_S, sink)
            v_mem = proc_mem_kb(proc.pid)
            v_total = proc_cpu_s(proc.pid)
    rows = [
        ["soundscape serve (--output pulse)", fmt(s_play, 2), fmt(100 * s_play / PLAY_S, 1),
         fmt(100 * s_heard, 0), fmt(s_total, 2), fmt(s_mem["VmHWM"] / 1024, 1), fmt(s_idle, 2),
         fmt(100 * s_idle / IDLE_S, 2)],
        ["cvlc -I dummy --loop (same files)", fmt(v_play, 2), fmt(100 * v_play / PLAY_S, 1),
         fmt(100 * v_heard, 0), fmt(v_total, 2), fmt(v_mem["VmHWM"] / 1024, 1), "n/a", "n/a"],
    ]
    headline = [
        [f"CPU seconds for {PLAY_S:g} s of playback", fmt(s_play, 2), fmt(v_play, 2),
         fmt(s_play / v_play, 2) if v_play else "n/a"],
        ["peak RSS, MiB", fmt(s_mem["VmHWM"] / 1024, 1), fmt(v_mem["VmHWM"] / 1024, 1),
         fmt(s_mem["VmHWM"] / v_mem["VmHWM"], 2)],
        [f"idle CPU of a paused session, % of one core ({IDLE_S:g} s)",
         fmt(100 * s_idle / IDLE_S, 2), "n/a", "n/a"],
    ]
    method = (
        f"{len(FREQS)} tone tracks of {TRACK_S:g} s (44.1 kHz stereo WAV) on a null sink of the "
        f"bench's own. soundscape: `soundscape serve --output pulse --device <sink>` (waitress "
        f"with its {THREADS} threads, the engine thread, libVLC), one phase of those tracks with "
        "6 s crossfades (two decks during each); CPU is user + system time from /proc over the "
        f"{PLAY_S:g} s after `start`, peak RSS is VmHWM. Then `pause`, 4 s for its fade, and "
        f"CPU over {IDLE_S:g} s. Baseline: `cvlc -I dummy --aout=pulse --loop` of the same "
        f"files (run as nobody), CPU over {PLAY_S:g} s after a 1 s start-up. 'total CPU' "
        "includes each process's start-up (for soundscape: Python, Flask, libVLC and the paused "
        "time). '% of time audible': 100 ms windows of the recorded sink above -40 dBFS during "
        "the measured minute, which shows both were really playing.")
    return Section("Cost", method,
                   ["process", f"CPU s / {PLAY_S:g} s", "% of one core", "% of time audible", "total CPU s",
                    "peak RSS MiB", f"paused CPU s / {IDLE_S:g} s", "paused % of one core"],
                   rows, headline)

"""Load and soak: many live pages plus steady commands for minutes; a compressed session of
many short tracks in real time; and a four-hour session of them in simulated time."""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path

from bench.kit import (SOUNDSCAPE, Section, Server, bench_sink, fmt, isolated_env, log, pct,
                       proc_mem_kb, write_tone)
from bench.scale import load

LOAD_S = 180.0  # 3 minutes: 10 would not leave `make bench` inside 15 minutes on two cores
LOAD_CLIENTS = 50
TRACK_S = 2.0
CROSSFADE_S = 0.5
REAL_PHASE_S = 20.0  # 4 phases: 80 s of real time
SIM_PHASE_S = 3600.0


def _load(work: Path) -> dict:
    write_tone(work / "s.wav", 440.0, 60.0)
    pl = work / "load.yaml"
    pl.write_text(f"title: Load bench\nmusic_dir: {work}\nphases:\n  - name: Music\n"
                  "    duration: 30m\n    level: 60%\n    tracks: [s.wav]\n")
    with bench_sink(f"bench_soak_{os.getpid()}") as sink:
        server = Server(pl, work / "home", device=sink)
        try:
            server.command("start")
            time.sleep(1.0)
            before = proc_mem_kb(server.proc.pid)["VmRSS"]
            log(f"soak: {LOAD_CLIENTS} live clients + 20 commands/s for {LOAD_S:g} s")
            r = load(server, LOAD_CLIENTS, 20.0, LOAD_S)
            after = proc_mem_kb(server.proc.pid)
            alive = server.state()["status"]
        finally:
            server.close()
    return {**r, "rss_before": before, "rss_after": after["VmRSS"], "peak": after["VmHWM"],
            "status": alive}


def _short_playlist(folder: Path, phase_s: float, absolute: bool) -> Path:
    lines = [f"title: Short tracks\nmusic_dir: {folder}\ndefaults:\n"
             f"  crossfade: {CROSSFADE_S:g}s\n  order: in-order\nphases:"]
    for p in range(4):
        names = ", ".join(f"p{p}-{k}.wav" for k in range(5))
        lines.append(f"  - name: Phase {p + 1}\n    duration: {phase_s:g}s\n    tracks: [{names}]")
    path = folder / "short.yaml"
    path.write_text("\n".join(lines) + "\n")
    return path


def _gaps_from_log(entries: list[dict]) -> tuple[float, float, float]:
    """(worst |actual - planned| of track starts, of phase starts, longest silence) in seconds,
    from the session log: silence is a start later than the previous track's end."""
    starts = [e for e in entries if e["event"] == "track_start"]
    track_err = max((abs(e["actual_s"] - e["planned_s"]) for e in starts
                     if e.get("planned_s") is not None), default=float("nan"))
    phase_err = max((abs(e["actual_s"] - e["planned_s"]) for e in entries
                     if e["event"] == "phase_start" and e.get("planned_s") is not None),
                    default=float("nan"))
    silence = max((b["actual_s"] - (a["actual_s"] + TRACK_S) for a, b in zip(starts, starts[1:])),
                  default=float("nan"))
    return track_err, phase_err, max(0.0, silence)


def _real_time(work: Path) -> dict:
    for p in range(4):
        for k in range(5):
            write_tone(work / f"p{p}-{k}.wav", 300.0 + 100 * k, TRACK_S)
    home = work / "home-short"
    log(f"soak: {4 * REAL_PHASE_S:g} s of 2 s tracks on --output none, in real time")
    proc = subprocess.Popen(
        [SOUNDSCAPE, "play", str(_short_playlist(work, REAL_PHASE_S, True)), "--output", "none",
         "--resume", "no", "--log-dir", str(home / "logs"), "--seed", "1"],
        env=isolated_env(home), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL)
    rss = []
    deadline = time.monotonic() + 4 * REAL_PHASE_S + 20
    while proc.poll() is None and time.monotonic() < deadline:
        try:
            rss.append(proc_mem_kb(proc.pid)["VmRSS"])
        except (OSError, KeyError):
            break
        time.sleep(2.0)
    if proc.poll() is None:
        proc.terminate()
        proc.wait(15)
    entries = [json.loads(line) for p in (home / "logs").glob("*.jsonl")
               for line in p.read_text().splitlines()]
    track_err, phase_err, silence = _gaps_from_log(entries)
    return {"rss_first": rss[2] if len(rss) > 2 else float("nan"),
            "rss_last": rss[-1] if rss else float("nan"), "track_err": track_err,
            "phase_err": phase_err, "silence": silence,
            "tracks": sum(1 for e in entries if e["event"] == "track_start"),
            "ended": any(e["event"] == "session_end" for e in entries)}


def _simulated() -> dict:
    from soundscape.engine.commands import Action, Command
    from soundscape.engine.engine import Engine
    from soundscape.playlist.model import Phase, Playlist, Track
    from soundscape.testing import FakeClock, FakeOutput

    durations, phases = {}, []
    for p in range(4):
        tracks = []
        for k in range(5):
            path = Path(f"/sim/p{p}-{k}.wav")
            durations[path] = TRACK_S
            tracks.append(Track(path, path.stem))
        phases.append(Phase(f"Phase {p + 1}", SIM_PHASE_S, tracks=tuple(tracks),
                            crossfade_s=CROSSFADE_S))
    pl = Playlist(Path("/sim/short.yaml"), "Short tracks, four hours", tuple(phases))
    clock = FakeClock()
    output = FakeOutput(clock, durations)
    engine = Engine(pl, output, clock=clock, durations=durations, seed=1)
    rss_before = proc_mem_kb(os.getpid())["VmRSS"]  # now, not the peak: earlier benches set that
    t = time.perf_counter()
    engine.execute(Command(Action.START, by="bench", source="bench"))
    silent_s, step_s = 0.0, 0.25
    for _ in range(int(4 * SIM_PHASE_S / step_s) - 4):
        engine.run_for(step_s)
        # The fake output keeps every deck it ever made: look at the newest few only.
        if not any(deck.audible() for deck in output.decks[-8:]):
            silent_s += step_s
    engine.run_for(30)
    elapsed = time.perf_counter() - t
    entries = engine.log_entries()
    track_err, phase_err, silence = _gaps_from_log(entries)
    return {"elapsed": elapsed, "track_err": track_err, "phase_err": phase_err,
            "silence": silence, "silent_samples_s": silent_s,
            "tracks": sum(1 for e in entries if e["event"] == "track_start"),
            "log_entries": len(entries), "decks": len(output.decks),
            "rss_growth_mb": (proc_mem_kb(os.getpid())["VmRSS"] - rss_before) / 1024,
            "ended": any(e["event"] == "session_end" for e in entries)}


def run(work: Path) -> Section:
    work.mkdir(parents=True, exist_ok=True)
    ld = _load(work)
    rt = _real_time(work)
    log("soak: 4 hours of 2 s tracks in simulated time")
    sim = _simulated()
    rows = [
        [f"load: {LOAD_CLIENTS} live clients + 20 commands/s, {LOAD_S / 60:g} min",
         f"{len(ld['lat'])} commands, {ld['refused']} refused, p50 "
         f"{fmt(pct(ld['lat'], 50) * 1000)} ms, p99 {fmt(pct(ld['lat'], 99) * 1000)} ms, max "
         f"{fmt(max(ld['lat']) * 1000)} ms; fewest events on a client {ld['min_events']}, "
         f"client errors {ld['errors']}; status after: {ld['status']}",
         f"RSS {fmt(ld['rss_before'] / 1024)} -> {fmt(ld['rss_after'] / 1024)} MiB "
         f"(peak {fmt(ld['peak'] / 1024)} MiB)"],
        [f"real time: {4 * REAL_PHASE_S:g} s of {TRACK_S:g} s tracks, crossfade "
         f"{CROSSFADE_S:g} s, `play --output none`",
         f"{rt['tracks']} track starts; worst track start vs plan {fmt(rt['track_err'] * 1000)} "
         f"ms, phase start {fmt(rt['phase_err'] * 1000)} ms; longest silence between tracks "
         f"{fmt(rt['silence'] * 1000)} ms; ended by itself: {'yes' if rt['ended'] else 'no'}",
         f"RSS {fmt(rt['rss_first'] / 1024)} MiB at 4 s -> {fmt(rt['rss_last'] / 1024)} MiB "
         "at the end"],
        [f"simulated: 4 h of {TRACK_S:g} s tracks, crossfade {CROSSFADE_S:g} s (FakeClock)",
         f"{sim['tracks']} track starts; worst track start vs plan "
         f"{fmt(sim['track_err'] * 1000)} ms, phase start {fmt(sim['phase_err'] * 1000)} ms; "
         f"longest silence between tracks {fmt(sim['silence'] * 1000)} ms; no music deck "
         f"audible for {fmt(sim['silent_samples_s'], 2)} s (sampled every 0.25 s); ended: "
         f"{'yes' if sim['ended'] else 'no'}; {sim['elapsed']:.1f} s of wall time",
         f"RSS of the bench process grew {fmt(sim['rss_growth_mb'])} MiB, holding "
         f"{sim['log_entries']} session-log entries (the engine keeps its log in memory) and "
         f"the {sim['decks']} decks the fake output keeps for tests"],
    ]
    headline = [[f"command p99 under load ({LOAD_CLIENTS} clients, 20/s, {LOAD_S / 60:g} min), ms",
                 fmt(pct(ld["lat"], 99) * 1000), "n/a", "n/a"],
                ["server RSS before -> after the load, MiB",
                 f"{fmt(ld['rss_before'] / 1024)} -> {fmt(ld['rss_after'] / 1024)}", "n/a",
                 "n/a"]]
    method = (
        f"Load: `soundscape serve --output pulse` on a null sink of the bench's own, "
        f"{LOAD_CLIENTS} threads holding live `/api/events` streams, `set_level` at 20/s over "
        f"one keep-alive connection for {LOAD_S / 60:g} minutes (3, not 10, so that the whole "
        "`make bench` stays inside 15 minutes on two cores); RSS from /proc before and after. "
        f"Real time: `soundscape play --output none` of 4 phases x {REAL_PHASE_S:g} s, each "
        f"cycling five {TRACK_S:g} s tracks with {CROSSFADE_S:g} s crossfades; RSS sampled "
        "every 2 s; timing and silences from the session log (a start later than the previous "
        "track's end is silence). Simulated: the same shape over 4 x 60 min on the Engine with "
        "FakeClock/FakeOutput, also checking every 0.25 s that some music deck is audible.")
    return Section("Load and soak", method, ["run", "result", "memory"], rows, headline)

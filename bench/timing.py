"""Timing: phase and track starts, planned against heard, in a real-time compressed session; and
planned against actual in a simulated four-hour session (fake clock and output)."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from bench import analysis
from bench.kit import Section, fmt, log, recorded_session, unnormalised_room, write_tone

PHASES = 4
TRACKS_PER_PHASE = 2
TRACK_S = 8.0
TONE = 0.5
FREQS = [300.0 + 100.0 * i for i in range(PHASES * TRACKS_PER_PHASE)]
SIM_PHASE_S = 3600.0


def _playlist(folder: Path) -> Path:
    lines = [f"title: Timing bench\nmusic_dir: {folder}\ndefaults:\n  crossfade: 0s\n"
             "  order: in-order\n  when_short: silence\n  at_end: finish\nphases:"]
    for p in range(PHASES):
        names = ", ".join(f"t{p * TRACKS_PER_PHASE + k}.wav" for k in range(TRACKS_PER_PHASE))
        lines.append(f"  - name: Phase {p + 1}\n    duration: {TRACK_S * TRACKS_PER_PHASE:g}s\n"
                     f"    level: 100%\n    fade_in: 0s\n    tracks: [{names}]")
    path = folder / "timing.yaml"
    path.write_text("\n".join(lines) + "\n")
    return path


def heard_starts(samples, freqs: list[float], threshold: float = TONE / 2) -> list[float | None]:
    """Recording time at which each tone, in order, first rises above ``threshold``, each
    searched from the previous one's start on."""
    starts, after = [], 0.0
    for f in freqs:
        env, hop_s = analysis.tone_envelope(samples, f, 0.01, 44)
        at = analysis.onset_s(env, hop_s, threshold, after)
        starts.append(at)
        after = at if at is not None else after
    return starts


def _real_time(work: Path) -> tuple[list, dict]:
    for i, f in enumerate(FREQS):
        write_tone(work / f"t{i}.wav", f, TRACK_S, TONE)
    room = work / "room.yaml"
    room.write_text(unnormalised_room(work / "t0.wav", "ceiling: 100%\nrise_rate: 200dB/s\n"))
    total_s = PHASES * TRACKS_PER_PHASE * TRACK_S
    log(f"timing: real-time session, {PHASES} phases x {TRACK_S * TRACKS_PER_PHASE:g} s")
    with recorded_session("timing", _playlist(work), work / "home", room) as (server, rec, t0):
        t_ack = time.monotonic()
        while time.monotonic() < t0 + total_s + 1.0:
            time.sleep(0.5)
        entries = server.log()
    heard = heard_starts(rec.samples, FREQS)
    starts = [e for e in entries if e["event"] == "track_start"]
    phase_at = {round(e["actual_s"], 3) for e in entries if e["event"] == "phase_start"}
    rows, errors = [], []
    for i, at in enumerate(heard):
        entry = starts[i] if i < len(starts) else None
        planned = entry.get("planned_s") if entry else None
        kind = "phase + track" if entry and round(entry["actual_s"], 3) in phase_at else "track"
        heard_s = None if at is None else at + rec.start_s - t0  # session time heard
        error = None if heard_s is None or planned is None else heard_s - planned
        if error is not None:
            errors.append(error)
        rows.append([f"{kind} {i + 1} ({FREQS[i]:g} Hz)", fmt(planned, 2),
                     "n/a" if entry is None else fmt(entry["actual_s"], 3),
                     "not heard" if heard_s is None else fmt(heard_s, 3),
                     "n/a" if error is None else fmt(error * 1000, 0)])
    logged = [e["actual_s"] - e["planned_s"] for e in entries
              if e["event"] in ("track_start", "phase_start") and e.get("planned_s") is not None]
    return rows, {"heard_errors": errors, "logged": logged, "ack_s": t_ack - t0}


def _simulated() -> dict:
    from soundscape.engine.commands import Action, Command
    from soundscape.engine.engine import Engine
    from soundscape.playlist.model import Phase, Playlist, Track
    from soundscape.testing import FakeClock, FakeOutput

    rng = np.random.default_rng(4)
    durations, phases = {}, []
    for p in range(4):
        tracks = []
        for k in range(12):
            path = Path(f"/sim/p{p}-{k}.wav")
            durations[path] = float(rng.uniform(180, 420))
            tracks.append(Track(path, path.stem))
        phases.append(Phase(f"Phase {p + 1}", SIM_PHASE_S, tracks=tuple(tracks), crossfade_s=6.0))
    pl = Playlist(Path("/sim/four-hours.yaml"), "Four hours", tuple(phases))
    clock = FakeClock()
    t = time.perf_counter()
    engine = Engine(pl, FakeOutput(clock, durations), clock=clock, durations=durations, seed=1)
    engine.execute(Command(Action.START, by="bench", source="bench"))
    engine.run_for(4 * SIM_PHASE_S + 60)
    elapsed = time.perf_counter() - t
    entries = engine.log_entries()
    tracks = [e["actual_s"] - e["planned_s"] for e in entries
              if e["event"] == "track_start" and e.get("planned_s") is not None]
    phase_err = [e["actual_s"] - e["planned_s"] for e in entries
                 if e["event"] == "phase_start" and e.get("planned_s") is not None]
    return {"elapsed_s": elapsed, "tracks": tracks, "phases": phase_err,
            "ended": any(e["event"] == "session_end" for e in entries)}


def run(work: Path) -> Section:
    work.mkdir(parents=True, exist_ok=True)
    rows, real = _real_time(work)
    log("timing: simulated 4-hour session")
    sim = _simulated()
    errs = real["heard_errors"]
    worst = max((abs(e) for e in errs), default=float("nan")) * 1000
    # Drift: the trend of the error over the session, from the second start on (the first
    # includes libVLC's cold start), as a least-squares slope in ms per minute.
    later = errs[1:]
    drift = (float(np.polyfit(np.arange(len(later)) * TRACK_S / 60, later, 1)[0]) * 1000
             if len(later) > 2 else float("nan"))
    logged = max((abs(e) for e in real["logged"]), default=float("nan")) * 1000
    rows.append(["**worst heard error** (all starts)", "", "", "", fmt(worst, 0)])
    rows.append(["**drift** after the first start, ms per minute", "", "", "", fmt(drift, 1)])
    rows.append(["engine's own log: worst actual - planned", "", "", "", fmt(logged, 0)])
    sim_worst = max((abs(e) for e in sim["tracks"]), default=float("nan")) * 1000
    sim_phase = max((abs(e) for e in sim["phases"]), default=float("nan")) * 1000
    notes = [
        f"Simulated 4-hour session (4 phases x 60 min, 48 tracks of 180-420 s, crossfade 6 s, "
        f"Engine on FakeClock/FakeOutput): {len(sim['tracks'])} track starts, worst |actual - "
        f"planned| {fmt(sim_worst, 1)} ms; {len(sim['phases'])} phase starts, worst "
        f"{fmt(sim_phase, 1)} ms; session ended: {'yes' if sim['ended'] else 'no'}; simulated in "
        f"{sim['elapsed_s']:.2f} s of wall time."]
    later_worst = max((abs(e) for e in errs[1:]), default=float("nan")) * 1000
    headline = [["first track heard after `start` (libVLC cold start), ms",
                 fmt(errs[0] * 1000 if errs else float("nan"), 0), "n/a", "n/a"],
                ["later phase/track starts, worst heard error vs plan, ms (64 s session)",
                 fmt(later_worst, 0), "n/a", "n/a"],
                ["timing drift after the first start, ms per minute", fmt(drift, 1), "n/a",
                 "n/a"],
                ["4-hour simulated session: worst track start error, ms / wall time s",
                 f"{fmt(sim_worst, 1)} / {sim['elapsed_s']:.2f}", "n/a", "n/a"]]
    method = (
        f"Real time: `soundscape serve --output pulse --device <own null sink>` of {PHASES} phases "
        f"x {TRACK_S * TRACKS_PER_PHASE:g} s, each with {TRACKS_PER_PHASE} tone tracks of "
        f"{TRACK_S:g} s (a different frequency per track, crossfade 0 s so a start is one "
        "instant, `at_end: finish`). A start is heard when that tone's amplitude (10 ms "
        "windows, 1 ms hop) first passes half its full value; session time 0 is when the "
        "`start` request was sent. 'planned' is the engine's own plan (`planned_s` in the "
        "session log, as `soundscape plan` shows it), 'logged' what the engine logged as done. "
        "Simulated: the same Engine on a fake clock and output, comparing the "
        "session log's `actual_s` with `planned_s` for every start.")
    return Section("Timing", method, ["start", "planned s", "logged s", "heard s",
                                      "heard - planned ms"], rows,
                   headline, notes)

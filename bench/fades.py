"""Fade fidelity: the recorded envelope of a 6 s equal-power crossfade and a 10 s fade-out
against the curves the engine intends, in one served session on a null sink of the bench's own."""

from __future__ import annotations

import math
import time
from pathlib import Path

import numpy as np

from bench import analysis
from bench.kit import (Section, fmt, log, one_phase_playlist, recorded_session, unnormalised_room,
                       write_tone)
from soundscape.engine.fades import SILENT_DB, Ramp, db_to_gain

TONE = 0.5
OLD_HZ, NEW_HZ = 400.0, 600.0  # 10 ms windows hold whole cycles of both
WINDOW_S = 0.01
HOP = 441  # back-to-back 10 ms windows
CROSSFADE_S = 6.0
FIRST_S = 12.0  # the first track's length: the crossfade starts at 6 s
FADE_S = 10.0
FADE_AT_S = 14.0  # session time the fade-out is asked for


def _best_fit(measured: dict[float, np.ndarray], ideal, centres_s: np.ndarray,
              offsets_s: np.ndarray) -> tuple[float, float]:
    """(max error, offset) for the time offset that makes the ideal curve fit best; the offset
    is how late the heard curve runs."""
    best = (float("inf"), 0.0)
    for off in offsets_s:
        err = max(analysis.max_error(measured[f], ideal(f, centres_s - off)) for f in measured)
        best = min(best, (err, float(off)))
    return best


def _crossfade_ideal(freq: float, t: np.ndarray) -> np.ndarray:
    x = np.clip((t - (FIRST_S - CROSSFADE_S)) / CROSSFADE_S, 0, 1)
    return TONE * (np.cos(x * math.pi / 2) if freq == OLD_HZ else np.sin(x * math.pi / 2))


def _fade_ideal(t: np.ndarray, fade_at_s: float) -> np.ndarray:
    ramp = Ramp(fade_at_s, fade_at_s + FADE_S, 0.0, SILENT_DB)
    return TONE * np.array([db_to_gain(ramp.db(float(s))) for s in t])


def run(work: Path) -> Section:
    work.mkdir(parents=True, exist_ok=True)
    write_tone(work / "old.wav", OLD_HZ, FIRST_S, TONE)
    write_tone(work / "new.wav", NEW_HZ, 40.0, TONE)
    room = work / "room.yaml"
    room.write_text(unnormalised_room(work / "old.wav", "ceiling: 100%\nrise_rate: 200dB/s\n"))
    log("fades: one session: crossfade at 6-12 s, fade_out 10 s at 14 s")
    playlist = one_phase_playlist(work, "fades", ["old.wav", "new.wav"], crossfade_s=CROSSFADE_S,
                                  when_short="silence")
    with recorded_session("fade", playlist, work / "home", room) as (server, rec, t0):
        time.sleep(max(0.0, t0 + FADE_AT_S - time.monotonic()))
        t_fade = time.monotonic()
        status = server.command("fade_out", seconds=FADE_S)
        if status != 200:
            raise RuntimeError(f"fade_out answered {status}")
        time.sleep(FADE_S + 1.0)
    env = {f: analysis.tone_envelope(rec.samples, f, WINDOW_S, HOP)[0] for f in (OLD_HZ, NEW_HZ)}
    centres_rec = np.arange(len(env[OLD_HZ])) * HOP / analysis.RATE + WINDOW_S / 2
    session_s = centres_rec + rec.start_s - t0  # session time of each window's centre

    xf = (session_s > FIRST_S - CROSSFADE_S - 1) & (session_s < FIRST_S + 1)
    xf_env = {f: env[f][xf] for f in env}
    xf_err, xf_off = _best_fit(xf_env, _crossfade_ideal, session_s[xf],
                               np.arange(-0.5, 0.5, 0.002))
    xf_step = max(analysis.largest_step_db(xf_env[f]) for f in env)
    xf_ideal_step = max(analysis.largest_step_db(_crossfade_ideal(f, session_s[xf] - xf_off))
                        for f in env)

    fade_at = t_fade - t0
    fd = (session_s > fade_at - 0.5) & (session_s < fade_at + FADE_S + 0.5)
    fd_env = {NEW_HZ: env[NEW_HZ][fd]}
    fd_err, fd_off = _best_fit(fd_env, lambda f, t: _fade_ideal(t, fade_at), session_s[fd],
                               np.arange(0.0, 0.2, 0.002))
    fd_step = analysis.largest_step_db(fd_env[NEW_HZ])
    fd_ideal_step = analysis.largest_step_db(_fade_ideal(session_s[fd] - fd_off, fade_at))
    rows = [
        ["equal-power crossfade 6 s (two tones)", fmt(xf_err, 4), fmt(xf_off * 1000, 0),
         fmt(xf_step, 2), fmt(xf_ideal_step, 2)],
        ["fade_out 10 s (0 dB to -60 dB, straight in dB)", fmt(fd_err, 4), fmt(fd_off * 1000, 0),
         fmt(fd_step, 2), fmt(fd_ideal_step, 2)],
    ]
    headline = [["crossfade 6 s: max envelope error, fraction of full scale", fmt(xf_err, 4),
                 "0 (ideal curve)", "n/a"],
                ["fade_out 10 s: max envelope error, fraction of full scale", fmt(fd_err, 4),
                 "0 (ideal curve)", "n/a"]]
    method = (
        "One `soundscape serve --output pulse` session on a null sink of the bench's own: a "
        f"{FIRST_S:g} s {OLD_HZ:g} Hz tone, then a {NEW_HZ:g} Hz tone (both 0.5 full scale), "
        f"crossfade {CROSSFADE_S:g} s, level 100 % under a 100 % room ceiling; at session time "
        f"{FADE_AT_S:g} s `fade_out` with `seconds: {FADE_S:g}` over HTTP. Each tone's amplitude "
        "is measured in back-to-back 10 ms windows (single-bin DFT, whole cycles) and compared "
        "with the intended curve at each window's centre: equal-power sin/cos for the crossfade "
        "(planned start 6 s), a straight line in dB from 0 to -60 dB then silence for the fade. "
        "The ideal curve is shifted by the offset that fits best (searched in 2 ms steps; shown "
        "as 'late by'); max error is the largest amplitude difference in fractions of full "
        "scale. Largest step: the biggest change between consecutive 10 ms windows above "
        "-60 dBFS, measured and for the ideal curve sampled the same way (the start of a sine "
        "fade-in is steep in dB by nature).")
    return Section("Fade fidelity", method,
                   ["fade", "max error (FS)", "late by ms", "largest 10 ms step dB",
                    "ideal curve's largest step dB"], rows, headline)

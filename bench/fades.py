"""Fade fidelity: the recorded envelope of a 6 s equal-power crossfade, a 10 s fade-out and a
10 % -> 90 % rise at 6 dB/s against the curves the engine intends, each in a served session on a
null sink of the bench's own, with the deck's gain on its PulseAudio stream (the default) and on
libVLC's integer volume (``SOUNDSCAPE_GAIN=vlc``) side by side."""

from __future__ import annotations

import math
import time
from pathlib import Path

import numpy as np

from bench import analysis
from bench.kit import (Section, fmt, log, one_phase_playlist, recorded_session, unnormalised_room,
                       write_tone)
from soundscape.engine.fades import (SILENT_DB, Ramp, db_to_gain, fade_in_gain, fade_out_gain,
                                     level_to_db)

TONE = 0.5
OLD_HZ, NEW_HZ = 400.0, 600.0  # 10 ms windows hold whole cycles of both
WINDOW_S = 0.01
HOP = 441  # back-to-back 10 ms windows
CROSSFADE_S = 6.0
FIRST_S = 12.0  # the first track's length: the crossfade starts at 6 s
FADE_S = 10.0
FADE_AT_S = 14.0  # session time the fade-out is asked for
FLOOR = math.sqrt(2) * 10 ** (-50 / 20)  # the amplitude of a -50 dBFS tone: steps judged above
RISE_DB_PER_S = 6.0
SLEW_FROM, SLEW_TO = 10.0, 90.0  # levels, %
SLEW_AT_S = 1.0  # session time set_level is asked for
PATHS = [("stream volume (default)", {}), ("libVLC integer volume", {"SOUNDSCAPE_GAIN": "vlc"})]


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
    """The engine's own halves (fades.fade_in_gain, fade_out_gain) from the planned start."""
    half = fade_out_gain if freq == OLD_HZ else fade_in_gain
    x = (t - (FIRST_S - CROSSFADE_S)) / CROSSFADE_S
    return TONE * np.array([half(float(v), CROSSFADE_S) for v in x])


def _fade_ideal(t: np.ndarray, fade_at_s: float) -> np.ndarray:
    ramp = Ramp(fade_at_s, fade_at_s + FADE_S, 0.0, SILENT_DB)
    return TONE * np.array([db_to_gain(ramp.db(float(s))) for s in t])


def _fades(work: Path, path: str, env: dict) -> tuple[list, list]:
    """One session: the crossfade at 6-12 s, then fade_out over 10 s at 14 s."""
    room = work / "room.yaml"
    room.write_text(unnormalised_room(work / "old.wav", "ceiling: 100%\nrise_rate: 200dB/s\n"))
    log(f"fades ({path}): crossfade at 6-12 s, fade_out 10 s at 14 s")
    playlist = one_phase_playlist(work, "fades", ["old.wav", "new.wav"], crossfade_s=CROSSFADE_S,
                                  when_short="silence")
    with recorded_session("fade", playlist, work / f"home-{len(env)}", room, env) as (
            server, rec, t0):
        time.sleep(max(0.0, t0 + FADE_AT_S - time.monotonic()))
        t_fade = time.monotonic()
        status = server.command("fade_out", seconds=FADE_S)
        if status != 200:
            raise RuntimeError(f"fade_out answered {status}")
        time.sleep(FADE_S + 1.0)
    env_ = {f: analysis.tone_envelope(rec.samples, f, WINDOW_S, HOP)[0] for f in (OLD_HZ, NEW_HZ)}
    centres_rec = np.arange(len(env_[OLD_HZ])) * HOP / analysis.RATE + WINDOW_S / 2
    session_s = centres_rec + rec.start_s - t0  # session time of each window's centre

    xf = (session_s > FIRST_S - CROSSFADE_S - 1) & (session_s < FIRST_S + 1)
    xf_env = {f: env_[f][xf] for f in env_}
    # each half on its own: the incoming deck's half is heard later than the outgoing's
    xf_fit = {f: _best_fit({f: xf_env[f]}, _crossfade_ideal, session_s[xf],
                           np.arange(-0.5, 0.5, 0.002)) for f in env_}
    xf_err = max(err for err, _ in xf_fit.values())
    xf_off = xf_fit[NEW_HZ][1]
    xf_step = max(analysis.largest_step_db(xf_env[f]) for f in env_)
    xf_ideal = {f: _crossfade_ideal(f, session_s[xf] - xf_fit[f][1]) for f in env_}
    xf_ideal_step = max(analysis.largest_step_db(xf_ideal[f]) for f in env_)
    xf_vs = max(analysis.step_error_db(xf_env[f], xf_ideal[f], FLOOR) for f in env_)
    # the same where the curve itself moves at most 0.5 dB in 10 ms (all of it, now that the
    # halves' quiet ends are bounded; the sine's own moved ~2 dB in the first window above -50)
    xf_vs_gentle = max(analysis.step_error_db(xf_env[f], xf_ideal[f], FLOOR, 0.5) for f in env_)

    fade_at = t_fade - t0
    fd = (session_s > fade_at - 0.5) & (session_s < fade_at + FADE_S + 0.5)
    fd_env = {NEW_HZ: env_[NEW_HZ][fd]}
    fd_err, fd_off = _best_fit(fd_env, lambda f, t: _fade_ideal(t, fade_at), session_s[fd],
                               np.arange(0.0, 0.2, 0.002))
    fd_step = analysis.largest_step_db(fd_env[NEW_HZ])
    fd_ideal = _fade_ideal(session_s[fd] - fd_off, fade_at)
    fd_ideal_step = analysis.largest_step_db(fd_ideal)
    fd_vs = analysis.step_error_db(fd_env[NEW_HZ], fd_ideal, FLOOR)
    rows = [
        ["crossfade 6 s (two tones)", path, fmt(xf_err, 4),
         f"{fmt(xf_off * 1000, 0)} (out {fmt(xf_fit[OLD_HZ][1] * 1000, 0)})",
         fmt(xf_step, 2), fmt(xf_ideal_step, 2), fmt(xf_vs, 2), fmt(xf_vs_gentle, 2)],
        ["fade_out 10 s (0 dB to -60 dB, straight in dB)", path, fmt(fd_err, 4),
         fmt(fd_off * 1000, 0), fmt(fd_step, 2), fmt(fd_ideal_step, 2), fmt(fd_vs, 2),
         fmt(analysis.step_error_db(fd_env[NEW_HZ], fd_ideal, FLOOR, 0.5), 2)],
    ]
    return rows, [xf_err, fd_err, xf_vs, fd_vs]


def _slew(work: Path, path: str, env: dict) -> list:
    """One session at level 10 % (silence); set_level 90 % at 1 s rises at the 6 dB/s limit."""
    room = work / "slew-room.yaml"
    room.write_text(unnormalised_room(work / "new.wav",
                                      f"ceiling: 100%\nrise_rate: {RISE_DB_PER_S:g}dB/s\n"))
    log(f"fades ({path}): a rise from {SLEW_FROM:g} % to {SLEW_TO:g} % at {RISE_DB_PER_S:g} dB/s")
    playlist = one_phase_playlist(work, "slew", ["new.wav"], level=f"{SLEW_FROM:g}%")
    rise_s = (level_to_db(SLEW_TO) - level_to_db(SLEW_FROM)) / RISE_DB_PER_S
    with recorded_session("slew", playlist, work / f"slew-home-{len(env)}", room, env) as (
            server, rec, t0):
        time.sleep(max(0.0, t0 + SLEW_AT_S - time.monotonic()))
        t_set = time.monotonic()
        if server.command("set_level", level=SLEW_TO) != 200:
            raise RuntimeError("set_level was refused")
        time.sleep(rise_s + 1.0)
    amp = analysis.tone_envelope(rec.samples, NEW_HZ, WINDOW_S, HOP)[0]
    session_s = np.arange(len(amp)) * HOP / analysis.RATE + WINDOW_S / 2 + rec.start_s - t0
    set_at = t_set - t0
    inside = (session_s > set_at) & (session_s < set_at + rise_s + 0.8)
    a = amp[inside]
    db = 20 * np.log10(np.maximum(a, 1e-9))
    both = (a[50:] > FLOOR) & (a[:-50] > FLOOR)
    half = float((db[50:] - db[:-50])[both].max())  # 50 windows of 10 ms: 0.5 s
    ideal = np.full(len(a), RISE_DB_PER_S * WINDOW_S)
    ok = (a[1:] > FLOOR) & (a[:-1] > FLOOR)
    step_vs = float(np.abs(np.diff(db)[ok] - ideal[1:][ok]).max())
    top = TONE * db_to_gain(level_to_db(SLEW_TO))
    reached = np.nonzero(a > top * 10 ** (-0.1 / 20))[0]
    took = float(session_s[inside][reached[0]] - set_at) if len(reached) else float("nan")
    return [path, fmt(half, 2), fmt(RISE_DB_PER_S * 0.5, 1), fmt(step_vs, 2),
            fmt(took, 2), fmt(rise_s, 2)]


def run(work: Path) -> Section:
    work.mkdir(parents=True, exist_ok=True)
    write_tone(work / "old.wav", OLD_HZ, FIRST_S, TONE)
    write_tone(work / "new.wav", NEW_HZ, 40.0, TONE)
    rows, found, slews = [], {}, []
    for path, env in PATHS:
        got, found[path] = _fades(work, path, env)
        rows += got
        slews.append(_slew(work, path, env))
    rows.sort(key=lambda r: r[0])
    fine, coarse = found[PATHS[0][0]], found[PATHS[1][0]]
    headline = [["crossfade 6 s: max envelope error, fraction of full scale", fmt(fine[0], 4),
                 "0 (ideal curve)", "n/a"],
                ["fade_out 10 s: max envelope error, fraction of full scale", fmt(fine[1], 4),
                 "0 (ideal curve)", "n/a"],
                ["fade_out 10 s: largest 10 ms step away from the curve's, dB (vs libVLC's "
                 "integer volume)", fmt(fine[3], 2), fmt(coarse[3], 2),
                 fmt(fine[3] / coarse[3], 2) if coarse[3] else "n/a"]]
    method = (
        "`soundscape serve --output pulse` sessions on a null sink of the bench's own, each run "
        "twice: with the deck's gain on its PulseAudio stream's volume (the default) and with "
        "`SOUNDSCAPE_GAIN=vlc` (libVLC's integer volume only). Fades: a "
        f"{FIRST_S:g} s {OLD_HZ:g} Hz tone, then a {NEW_HZ:g} Hz tone (both 0.5 full scale), "
        f"crossfade {CROSSFADE_S:g} s, level 100 % under a 100 % room ceiling; at session time "
        f"{FADE_AT_S:g} s `fade_out` with `seconds: {FADE_S:g}` over HTTP. Each tone's amplitude "
        "is measured in back-to-back 10 ms windows (single-bin DFT, whole cycles) and compared "
        "with the intended curve at each window's centre: the engine's crossfade halves for the "
        "crossfade (fades.fade_in_gain and fade_out_gain: sin/cos whose quiet ends rise at most "
        "50 dB/s; planned start 6 s), a straight line in dB from 0 to -60 dB then silence for "
        "the fade. The ideal curve is shifted by the offset that fits best (searched in 2 ms "
        "steps, for each of the crossfade's halves on its own; shown as 'late by', the incoming "
        "half's and in brackets the outgoing's); max error is the largest amplitude difference "
        "in fractions of full scale. Largest step: the biggest change between consecutive 10 ms "
        "windows above -60 dBFS, measured and for the ideal curve sampled the same way. Step vs "
        "the curve's: the largest difference between a measured 10 ms step and the ideal "
        "curve's step there, windows above -50 dBFS (and again only where the curve itself "
        "moves at most 0.5 dB in 10 ms). Slew: "
        f"a {NEW_HZ:g} Hz tone at level {SLEW_FROM:g} % (silence) under a {RISE_DB_PER_S:g} dB/s "
        f"rise limit, `set_level {SLEW_TO:g}` at {SLEW_AT_S:g} s; the largest rise over any "
        "0.5 s (50 windows, both above -50 dBFS), the largest 10 ms step away from the limit's "
        "0.06 dB, and how long the rise took to come within 0.1 dB of the level.")
    slew_table = "\n".join([
        "Slew, 10 % -> 90 % at the rise limit:", "",
        "| gain path | largest rise over 0.5 s dB | limit dB | largest 10 ms step vs the "
        "limit's dB | took s | planned s |",
        "|---|---|---|---|---|---|",
        *("| " + " | ".join(str(c) for c in row) + " |" for row in slews)])
    return Section("Fade fidelity", method,
                   ["fade", "gain path", "max error (FS)", "late by ms", "largest 10 ms step dB",
                    "ideal curve's largest step dB", "largest 10 ms step vs the curve's dB",
                    "same, where the curve moves ≤ 0.5 dB in 10 ms"],
                   rows, headline, notes=[slew_table])

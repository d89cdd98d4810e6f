"""Exact gain, heard: every rise, duck and fade follows its curve to a fraction of a decibel, at
the bottom of the scale too, on real libVLC recorded from the null sink.

One session of a steady 400 Hz tone (10 ms windows hold whole cycles): the level rises from 10 %
to 90 % at the room's 6 dB/s, is hushed (ducked to 25 % over 2 s) and unhushed (back at 6 dB/s),
then fades out over 10 s. Each segment is a straight line in dB, so every 10 ms window above
-50 dBFS must move by the line's own step, within 0.5 dB, and no 0.5 s rises more than the limit
allows plus 0.3 dB. With libVLC's integer volume the same session moved by up to 2.5 dB in one
10 ms window at the bottom (docs/libvlc.md). Two more sessions judge pause and resume the same
way, and a 6 s crossfade against the engine's own halves, quiet ends included.
"""

from __future__ import annotations

import math
import os

import numpy as np
import pytest

from soundscape.engine.commands import Action
from soundscape.engine.deck import DeckStatus
from soundscape.engine.fades import fade_in_gain, fade_out_gain, level_to_db
from soundscape.testing.audio import tone_amplitudes, write_tone

from engine_kit import TONE, dropouts, live_session, phase, playlist, private_sink, settings

pytestmark = pytest.mark.e2e

WINDOW_S = 0.01
FLOOR_DBFS = -50.0  # below this the steps are not judged (the "above -50 dBFS")
STEP_TOLERANCE_DB = 0.5
HALF_S_TOLERANCE_DB = 0.3
TONE_DBFS = 20 * math.log10(TONE / math.sqrt(2))
# How long after a command its curve is judged, and how long before the next (the command's
# delay to the speaker and the first tick; measured 30-60 ms on pulse, docs/libvlc.md)
SETTLE_S = 0.15


@pytest.fixture(scope="module")
def sink(pulse):
    with private_sink() as name:
        yield name


def segment(db: np.ndarray, t: np.ndarray, start_s: float, end_s: float) -> np.ndarray:
    """Steps (dB) between consecutive 10 ms windows inside [start_s, end_s], both above the
    floor."""
    inside = (t >= start_s) & (t <= end_s)
    d = db[inside]
    audible = (d[1:] > FLOOR_DBFS) & (d[:-1] > FLOOR_DBFS)
    return np.diff(d)[audible]


def worst_steps(db: np.ndarray, t: np.ndarray,
                curves: dict[str, tuple[float, float, float]]) -> dict[str, tuple]:
    """For each curve (judged from, to, its step per window in dB): the largest 10 ms step away
    from the curve's, how many steps were judged, and the curve's step."""
    worst = {}
    for name, (a, b, step) in curves.items():
        steps = segment(db, t, a, b)
        assert len(steps) > 50, f"{name}: only {len(steps)} windows above {FLOOR_DBFS} dBFS"
        worst[name] = (float(np.abs(steps - step).max()), len(steps), step)
    return worst


def largest_rise_db(db: np.ndarray, t: np.ndarray, start_s: float, end_s: float) -> float:
    """The largest rise over 0.5 s (50 windows, both above the floor) from a rise's start to
    0.6 s past its planned end."""
    d = db[(t >= start_s) & (t <= end_s + 0.6)]
    both = (d[50:] > FLOOR_DBFS) & (d[:-50] > FLOOR_DBFS)
    return float((d[50:] - d[:-50])[both].max())


def test_rise_hush_unhush_and_fade_out_follow_their_curves(sink, tmp_path, record_property):
    rise = 6.0
    room = settings(rise_db_per_s=rise)
    tone = write_tone(tmp_path / "tone-400.wav", 400, 60.0, TONE)
    pl = playlist(tmp_path, phase("one", 60.0, [tone], level_pct=10.0, crossfade_s=1.0))
    low_db, high_db, hush_db = level_to_db(10.0), level_to_db(90.0), level_to_db(room.hush_pct)
    rise_s = (high_db - low_db) / rise  # 9.5 s
    unhush_s = (high_db - hush_db) / rise
    with live_session(pl, {tone: 60.0}, room, tmp_path, sink) as run:
        run.sleep_until(1.0)
        fine = [deck.fine_gain for deck in run.engine.output.decks
                if deck.status() is DeckStatus.PLAYING]
        set_s = run.submit(Action.SET_LEVEL, level=90.0)
        run.sleep_until(set_s + rise_s + 0.5)
        hush_s = run.submit(Action.HUSH)
        run.sleep_until(hush_s + room.hush_fall_s + 0.5)
        unhush_s_at = run.submit(Action.UNHUSH)
        run.sleep_until(unhush_s_at + unhush_s + 0.5)
        fade_s = run.submit(Action.FADE_OUT, seconds=10.0)
        run.sleep_until(fade_s + 10.3)
    db = run.rms_dbfs(WINDOW_S)
    t = run.centres_s(len(db), WINDOW_S, WINDOW_S)
    curves = {  # name: (judged from, to, the line's step per window in dB)
        "rise 10 % -> 90 % at 6 dB/s": (set_s + SETTLE_S, set_s + rise_s - SETTLE_S,
                                        rise * WINDOW_S),
        "hush (duck to 25 % in 2 s)": (hush_s + SETTLE_S, hush_s + room.hush_fall_s - SETTLE_S,
                                      (hush_db - high_db) / room.hush_fall_s * WINDOW_S),
        "unhush at 6 dB/s": (unhush_s_at + SETTLE_S, unhush_s_at + unhush_s - SETTLE_S,
                             rise * WINDOW_S),
        "fade_out 10 s": (fade_s + SETTLE_S, fade_s + 10.0 - SETTLE_S,
                          (-60.0 - high_db) / 10.0 * WINDOW_S),
    }
    load = os.getloadavg()[0]
    worst = worst_steps(db, t, curves)
    half = [largest_rise_db(db, t, set_s, set_s + rise_s),
            largest_rise_db(db, t, unhush_s_at, unhush_s_at + unhush_s)]
    print("\n  gain: largest 10 ms step away from the curve's: " + "; ".join(
        f"{n} {w:.3f} dB (curve {s:+.3f}, {k} windows)" for n, (w, k, s) in worst.items())
          + f"; largest rise over 0.5 s {max(half):.2f} dB (limit {rise * 0.5:.1f}); fine gain "
          f"{fine}; load {load:.1f}")
    for name, (w, _, _) in worst.items():
        record_property(f"gain_step_error_db {name}", round(w, 3))
    record_property("gain_rise_per_500ms_db", round(max(half), 2))
    assert fine == [True], "the deck's gain did not go to its PulseAudio stream"
    # an underrun's recovery would read as a step: say so rather than blame the gain
    # (up to just before the fade's end: the fade ends in true silence, which is no dropout)
    gaps = [(round(float(set_s + a), 2), round(d * 1000)) for a, d in
            dropouts(run.span(set_s, fade_s + 10.0 - SETTLE_S))]
    assert not gaps, f"the audio dropped out (session s, ms): {gaps}; load {load:.1f}"
    end = db[(t > set_s + rise_s + 0.2) & (t < hush_s - 0.1)].mean()
    assert end == pytest.approx(TONE_DBFS + high_db, abs=0.2)
    for name, (w, k, step) in worst.items():
        assert w <= STEP_TOLERANCE_DB, (
            f"{name}: a 10 ms window moved {w:.2f} dB away from the curve's {step:+.3f} dB "
            f"(load {load:.1f})")
    assert max(half) <= rise * 0.5 + HALF_S_TOLERANCE_DB, (
        f"the level rose {max(half):.2f} dB in 0.5 s (limit {rise * 0.5:.1f} dB)")


def test_a_crossfade_follows_its_curve_down_to_its_quiet_ends(sink, tmp_path, record_property):
    """A 6 s crossfade between a 400 Hz and a 600 Hz tone (10 ms windows hold whole cycles of
    both): each tone, in every pair of 10 ms windows above -50 dBFS, steps as the engine's halves
    do (fades.fade_in_gain, fade_out_gain), within 0.5 dB, the quiet ends included."""
    xf = 6.0
    old = write_tone(tmp_path / "old-400.wav", 400, 12.0, TONE)
    new = write_tone(tmp_path / "new-600.wav", 600, 20.0, TONE)
    pl = playlist(tmp_path, phase("one", 40.0, [old, new], crossfade_s=xf, when_short="silence"))
    with live_session(pl, {old: 12.0, new: 20.0}, settings(), tmp_path, sink) as run:
        planned_s = run.engine.plan.phases[0].tracks[1].start_s
        run.sleep_until(planned_s + xf + 0.5)
    amps = tone_amplitudes(run.rec.samples, [400, 600], WINDOW_S, hop_s=WINDOW_S)
    t = run.centres_s(len(amps[400]), WINDOW_S, WINDOW_S)
    around = (t > planned_s - 0.5) & (t < planned_s + xf + 0.5)
    t, measured = t[around], {f: amps[f][around] for f in amps}

    def ideal(f: int, offset_s: float) -> np.ndarray:
        x = (t - planned_s - offset_s) / xf
        half = fade_out_gain if f == 400 else fade_in_gain
        return TONE * np.array([half(v, xf) for v in x])

    floor = math.sqrt(2) * 10 ** (FLOOR_DBFS / 20)  # the amplitude of a -50 dBFS tone

    def misfit_db(f: int, offset_s: float) -> float:
        """RMS difference in dB from the curve, windows above the floor."""
        c = ideal(f, offset_s)
        ok = (measured[f] > floor) & (c > floor)
        return float(np.sqrt(np.mean((20 * np.log10(measured[f][ok] / c[ok])) ** 2)))

    # how late the room hears each deck's half: the offset that fits it best
    offsets = {f: min(np.arange(-0.3, 0.3, 0.002), key=lambda off: misfit_db(f, off))
               for f in measured}
    curve = {f: ideal(f, offsets[f]) for f in measured}
    fit_fs = max(float(np.abs(measured[f] - curve[f]).max()) for f in curve)
    load = os.getloadavg()[0]
    worst = {}
    for f in curve:
        m, c = measured[f], curve[f]
        ok = (m[1:] > floor) & (m[:-1] > floor) & (c[1:] > floor) & (c[:-1] > floor)
        error = np.abs(20 * np.log10(m[1:][ok] / m[:-1][ok]) - 20 * np.log10(c[1:][ok] /
                                                                             c[:-1][ok]))
        steepest = float(np.abs(20 * np.log10(c[1:][ok] / c[:-1][ok])).max())
        worst[f] = (float(error.max()), int(ok.sum()), steepest)
    print(f"\n  crossfade {xf:g} s: halves heard " + ", ".join(
        f"{f} Hz {offsets[f] * 1000:.0f} ms late (RMS misfit {misfit_db(f, offsets[f]):.2f} dB)"
        for f in offsets) + f", max error {fit_fs:.4f} FS; largest 10 ms step away from the "
          "curve's: " + "; ".join(
              f"{f} Hz {w:.3f} dB ({k} windows, curve's steepest {s:.2f} dB)"
              for f, (w, k, s) in worst.items()) + f"; load {load:.1f}")
    for f, (w, _, _) in worst.items():
        record_property(f"crossfade_step_error_db {f} Hz", round(w, 3))
    for f, (w, k, s) in worst.items():
        assert k > 400, f"{f} Hz: only {k} windows above {FLOOR_DBFS} dBFS"
        assert w <= STEP_TOLERANCE_DB, (
            f"{f} Hz: a 10 ms window moved {w:.2f} dB away from the curve's step (the curve's "
            f"steepest {s:.2f} dB; load {load:.1f})")
    assert fit_fs < 0.02, f"the crossfade strays {fit_fs:.4f} of full scale from its curve"
    # the outgoing half is heard 110-130 ms ahead of the incoming one (docs/libvlc.md; its cause
    # is not yet found): more than that is a new fault
    skew = offsets[600] - offsets[400]
    assert abs(skew) < 0.2, f"the halves are heard {skew * 1000:.0f} ms apart"


def test_pause_and_resume_follow_their_curves(sink, tmp_path, record_property):
    """Pause fades the room out along a straight line in dB over pause_fade_s (3 s); resume brings
    it back from silence at the rise limit: every 10 ms step above -50 dBFS within 0.5 dB of the
    line's own, and no 0.5 s of the resume rising more than the limit plus 0.3 dB."""
    rise = 6.0
    room = settings(rise_db_per_s=rise)
    tone = write_tone(tmp_path / "tone-400.wav", 400, 60.0, TONE)
    pl = playlist(tmp_path, phase("one", 60.0, [tone], level_pct=90.0, crossfade_s=1.0))
    high_db = level_to_db(90.0)
    resume_s = (high_db - (-60.0)) / rise  # from silence: 9.5 s
    with live_session(pl, {tone: 60.0}, room, tmp_path, sink) as run:
        run.sleep_until(resume_s + 0.5)  # the start rises from silence at the limit too
        paused_s = run.submit(Action.PAUSE)
        run.sleep_until(paused_s + room.pause_fade_s + 1.0)
        resumed_s = run.submit(Action.RESUME)
        run.sleep_until(resumed_s + resume_s + 0.5)
    db = run.rms_dbfs(WINDOW_S)
    t = run.centres_s(len(db), WINDOW_S, WINDOW_S)
    curves = {
        "pause (3 s to silence)": (paused_s + SETTLE_S, paused_s + room.pause_fade_s - SETTLE_S,
                                   (-60.0 - high_db) / room.pause_fade_s * WINDOW_S),
        "resume at 6 dB/s": (resumed_s + SETTLE_S, resumed_s + resume_s - SETTLE_S,
                             rise * WINDOW_S),
    }
    load = os.getloadavg()[0]
    worst = worst_steps(db, t, curves)
    half = largest_rise_db(db, t, resumed_s, resumed_s + resume_s)
    silent = db[(t > paused_s + room.pause_fade_s + 0.3) & (t < resumed_s - 0.05)]
    print("\n  pause/resume: largest 10 ms step away from the curve's: " + "; ".join(
        f"{n} {w:.3f} dB (curve {s:+.3f}, {k} windows)" for n, (w, k, s) in worst.items())
          + f"; largest rise over 0.5 s {half:.2f} dB (limit {rise * 0.5:.1f}); loudest window "
          f"while paused {silent.max():.1f} dBFS; load {load:.1f}")
    for name, (w, _, _) in worst.items():
        record_property(f"gain_step_error_db {name}", round(w, 3))
    assert silent.max() < -80.0, f"the paused room was heard at {silent.max():.1f} dBFS"
    for name, (w, k, step) in worst.items():
        assert w <= STEP_TOLERANCE_DB, (
            f"{name}: a 10 ms window moved {w:.2f} dB away from the curve's {step:+.3f} dB "
            f"(load {load:.1f})")
    assert half <= rise * 0.5 + HALF_S_TOLERANCE_DB, (
        f"the level rose {half:.2f} dB in 0.5 s (limit {rise * 0.5:.1f} dB)")

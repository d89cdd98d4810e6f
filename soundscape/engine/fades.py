"""Fade and level maths as pure functions of time: curves, dB/level conversion, slew-limited ramps.

Levels are percentages on the same cubic scale as VLC's and PulseAudio's volume sliders
(amplitude = (level/100)^3), so "level 50" here sounds like 50 on the room's own mixer. Ramps of the
room level move linearly in dB, which is how a fade sounds even; anything at or below SILENT_DB is
treated as silence and sent as gain 0.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

SILENT_DB = -60.0  # level 10 on the cubic scale; quieter than a quiet room's own noise
# The engine ticks at 50 Hz while anything fades: measured on pulse, a crossfade stepped this often
# stays within 0.0063 of full scale of its curve (docs/libvlc.md); it is also the shortest fade.
TICK_S = 0.02
# Where a gain moves faster than STEP_DB per TICK_S (the quiet ends of a crossfade's sin/cos, a
# fast duck), the tick shortens so that each step moves about STEP_DB, down to MIN_TICK_S: the
# 20 ms staircase steps there by several dB. Gains below FOLLOW_FLOOR_DB (under the room's noise
# whatever the music) are not followed more finely. (fades.follow_tick_s, engine/core.py.)
STEP_DB = 0.25
MIN_TICK_S = 0.002
FOLLOW_FLOOR_DB = -50.0


def level_to_db(level_pct: float) -> float:
    """Percent (cubic scale) to dB; 0 and anything below the floor is SILENT_DB."""
    if level_pct <= 0:
        return SILENT_DB
    return max(SILENT_DB, 60.0 * math.log10(level_pct / 100.0))


def db_to_level(db: float) -> float:
    if db <= SILENT_DB + 0.05:  # the floor itself is shown as 0, not as the cubic scale's 10
        return 0.0
    return 100.0 * 10 ** (db / 60.0)


def db_to_gain(db: float) -> float:
    """dB to linear amplitude; the silent floor is exactly 0."""
    if db <= SILENT_DB:
        return 0.0
    return 10 ** (db / 20.0)


def gain_db_to_gain(gain_db: float) -> float:
    """A track's gain in dB (-30..+12) to linear amplitude, with no silent floor."""
    return 10 ** (gain_db / 20.0)


def follow_tick_s(gains: list[tuple[float, ...]]) -> float:
    """How long the next tick may be, given each deck's gain sampled evenly from now to TICK_S
    later (two samples or more): TICK_S, or shorter so that no deck's gain moves more than
    ~STEP_DB in one step (not below MIN_TICK_S). The fastest stretch between two samples decides:
    where a curve bends (a fade's bounded start meeting its sine) the 20 ms average would
    understate the steps before the bend."""
    floor = 10 ** (FOLLOW_FLOOR_DB / 20.0)
    silent = 10 ** (SILENT_DB / 20.0)  # a step down across the floor is judged to silence
    fastest = 0.0  # dB per TICK_S
    for samples in gains:
        per_tick = len(samples) - 1
        for now, later in zip(samples, samples[1:]):
            if max(now, later) <= floor:
                continue
            step = abs(20.0 * math.log10(max(later, silent) / max(now, silent)))
            fastest = max(fastest, step * per_tick)
    if fastest <= STEP_DB:
        return TICK_S
    return max(MIN_TICK_S, TICK_S * STEP_DB / fastest)


# An equal-power crossfade's sine is steep in dB at its quiet end: a 6 s fade-in climbs from -60 to
# -40 dB in its first 38 ms, 5 dB and more in one 10 ms step, faster than any volume control
# follows (docs/libvlc.md). The engine's halves bound it: a fade leaves silence on a straight line
# in dB rising FADE_SLOPE_DB_PER_S, and bends smoothly into the sine (a soft minimum of the two,
# SMOOTH_DB wide) where the sine is gentler: within 0.05 dB of it from 1.13 s into a 6 s fade. A
# fade shorter than FADE_SHAPE_S keeps the shape of a FADE_SHAPE_S fade, squeezed, and so rises
# faster (100 dB/s for 2 s): no curve climbs 60 dB from silence at 50 dB/s in less than 1.2 s. A
# crossfade's two halves sum to within EQUAL_POWER_WITHIN_DB of equal power (0.15 dB for 6 s; a
# linear crossfade dips 3 dB) and never above it; the price is that the incoming track comes in a
# little later: 0.5 s into a 6 s crossfade it is at -35 dB, where the sine is at -18 dB.
FADE_SLOPE_DB_PER_S = 50.0
FADE_SHAPE_S = 4.0
SMOOTH_DB = 2.0
EQUAL_POWER_WITHIN_DB = 0.42  # the pair's largest dip, at FADE_SHAPE_S and shorter
_DB_PER_NEPER = 20.0 / math.log(10.0)


def fade_in_db(x: float, duration_s: float) -> float:
    """The rising half of the engine's crossfade, in dB, at fraction ``x`` of a fade lasting
    ``duration_s``: the sine sin(x*pi/2), but rising no faster than FADE_SLOPE_DB_PER_S for fades
    of FADE_SHAPE_S and longer, and FADE_SHAPE_S / duration_s times that for shorter ones
    (SILENT_DB at x <= 0, 0 at x >= 1; at or below SILENT_DB it is silence)."""
    if x <= 0.0:
        return SILENT_DB
    if x >= 1.0:
        return 0.0
    slope = FADE_SLOPE_DB_PER_S * max(duration_s, FADE_SHAPE_S)  # dB per unit of x
    # where the sine's own slope, 20/ln10 * pi/2 * cot(x*pi/2) per unit of x, falls to the bound;
    # before it, the sine's tangent there (only above the line from silence for fades of ~100 s
    # and more, whose line starts under the tangent)
    theta = math.atan(_DB_PER_NEPER * math.pi / (2.0 * slope))
    x_join = 2.0 * theta / math.pi
    if x < x_join:
        sine = _DB_PER_NEPER * math.log(math.sin(theta)) - slope * (x_join - x)
    else:
        sine = _DB_PER_NEPER * math.log(math.sin(x * math.pi / 2.0))
    line = SILENT_DB + slope * x
    low = min(sine, line)  # the soft minimum: slopes blend, so no kink where they cross
    return low - SMOOTH_DB * math.log(math.exp((low - sine) / SMOOTH_DB)
                                      + math.exp((low - line) / SMOOTH_DB))


def fade_in_gain(x: float, duration_s: float) -> float:
    """``fade_in_db`` as an amplitude; silence is exactly 0."""
    return db_to_gain(fade_in_db(x, duration_s))


def fade_out_gain(x: float, duration_s: float) -> float:
    """The falling half: the rising half backwards, so the two sum to within
    EQUAL_POWER_WITHIN_DB of equal power."""
    return db_to_gain(fade_in_db(1.0 - x, duration_s))


@dataclass(frozen=True)
class Ramp:
    """A straight line in dB from (t0, from_db) to (t1, to_db), flat outside it."""

    t0: float
    t1: float
    from_db: float
    to_db: float

    def db(self, t: float) -> float:
        if t >= self.t1 or self.t1 <= self.t0:
            return self.to_db
        if t <= self.t0:
            return self.from_db
        x = (t - self.t0) / (self.t1 - self.t0)
        return self.from_db + (self.to_db - self.from_db) * x

    def gain(self, t: float) -> float:
        return db_to_gain(self.db(t))

    def moving(self, t: float) -> bool:
        return self.t0 <= t < self.t1 and self.from_db != self.to_db


def steady(db: float, t: float = 0.0) -> Ramp:
    return Ramp(t, t, db, db)


def ramp_to(current: Ramp, t: float, target_db: float, *, rise_db_per_s: float,
            fall_db_per_s: float, min_s: float = 0.0, max_fall_s: float | None = None) -> Ramp:
    """A new ramp from wherever ``current`` is at ``t`` to ``target_db``.

    Rises never exceed ``rise_db_per_s`` (the room's rise-rate limit), whatever ``min_s`` asks;
    falls take ``min_s`` or the fall rate, whichever is slower, capped at ``max_fall_s`` (so "quiet
    now" is quick even from a loud level).
    """
    now_db = current.db(t)
    delta = target_db - now_db
    if delta > 0:
        duration = max(min_s, delta / rise_db_per_s)
    elif delta < 0:
        duration = max(min_s, -delta / fall_db_per_s)
        if max_fall_s is not None:
            duration = min(duration, max_fall_s)
    else:
        duration = 0.0
    return Ramp(t, t + duration, now_db, target_db)


@dataclass(frozen=True)
class Envelope:
    """A deck's own fade: rises over [in_t0, in_t1] and falls over [out_t0, out_t1], along the
    engine's crossfade halves (fade_in_gain, fade_out_gain)."""

    in_t0: float = 0.0
    in_t1: float = 0.0
    out_t0: float = math.inf
    out_t1: float = math.inf

    def gain(self, t: float) -> float:
        g = 1.0
        if self.in_t1 > self.in_t0 and t < self.in_t1:
            length = self.in_t1 - self.in_t0
            g *= fade_in_gain((t - self.in_t0) / length, length)
        if t >= self.out_t0:
            if t >= self.out_t1:
                return 0.0
            length = self.out_t1 - self.out_t0
            g *= fade_out_gain((t - self.out_t0) / length, length)
        return g

    def done(self, t: float) -> bool:
        return t >= self.out_t1

    def moving(self, t: float) -> bool:
        return (self.in_t0 <= t < self.in_t1) or (self.out_t0 <= t < self.out_t1)

    def fading_out(self, t: float) -> bool:
        return t >= self.out_t0

    @property
    def leaving(self) -> bool:
        """A fade-out has been scheduled (the voice is on its way out)."""
        return self.out_t0 != math.inf

    def shifted(self, dt: float) -> Envelope:
        return Envelope(self.in_t0 + dt, self.in_t1 + dt, self.out_t0 + dt, self.out_t1 + dt)

    def with_fade_out(self, t0: float, duration_s: float) -> Envelope:
        if t0 >= self.out_t0:  # already fading: keep the earlier, gentler start
            return self
        return Envelope(self.in_t0, self.in_t1, t0, t0 + duration_s)

"""Fade maths as pure functions of time: the level scale, the crossfade's halves, ramps,
envelopes."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from soundscape.engine.fades import (EQUAL_POWER_WITHIN_DB, FADE_SHAPE_S,
                                     FADE_SLOPE_DB_PER_S, FOLLOW_FLOOR_DB,
                                     MIN_TICK_S, SILENT_DB, STEP_DB, TICK_S, Envelope, Ramp,
                                     db_to_gain, db_to_level, fade_in_db, fade_in_gain,
                                     fade_out_gain, follow_tick_s, gain_db_to_gain, level_to_db,
                                     ramp_to, steady)


def test_levels_are_on_the_cubic_scale_and_silence_is_a_floor():
    assert level_to_db(100) == 0.0
    assert level_to_db(50) == pytest.approx(-18.06, abs=0.01)  # as VLC's and Pulse's sliders
    assert level_to_db(0) == level_to_db(5) == SILENT_DB
    assert db_to_level(level_to_db(70)) == pytest.approx(70)
    assert db_to_level(SILENT_DB) == 0.0  # shown as 0, not as the scale's 10
    assert db_to_gain(SILENT_DB) == 0.0 and db_to_gain(-6.0) == pytest.approx(0.501, abs=1e-3)
    assert gain_db_to_gain(-30.0) == pytest.approx(0.0316, abs=1e-4)  # track gains have no floor


def _curve(duration_s: float, points: int = 20001) -> list[tuple[float, float]]:
    """(seconds, dB) along a fade-in of this length, every duration/(points-1) s."""
    return [(duration_s * i / (points - 1), fade_in_db(i / (points - 1), duration_s))
            for i in range(points)]


@pytest.mark.parametrize("duration_s", [FADE_SHAPE_S, 6.0, 10.0, 30.0, 120.0])
def test_a_fade_never_climbs_faster_than_its_bound_at_its_quiet_end(duration_s):
    curve = _curve(duration_s)
    steepest = max((b - a) / (tb - ta) for (ta, a), (tb, b) in zip(curve, curve[1:])
                   if b > SILENT_DB)
    assert steepest <= FADE_SLOPE_DB_PER_S * (1 + 1e-6)
    # where the sine itself is gentler, the curve is the sine; before, it is below it (but for
    # the sine's tangent, a little above it, at the start of fades of ~100 s and more)
    for t, db in curve:
        sine = 20 * math.log10(math.sin(t / duration_s * math.pi / 2)) if t else SILENT_DB
        if t >= 1.25:  # the line from -60 dB has bent into the sine by then
            assert db == pytest.approx(sine, abs=0.05)
        elif db < SILENT_DB + 5.0:  # near silence (the sine there is steeper than any bound)
            continue
        elif duration_s <= 30.0:
            assert db <= sine + 1e-9
        else:
            assert db_to_gain(db) <= db_to_gain(max(sine, SILENT_DB)) + 0.001


def test_a_fade_rises_monotonically_and_bends_into_the_sine_without_a_kink():
    for duration_s in (0.5, FADE_SHAPE_S, 6.0, 10.0):
        gains = [fade_in_gain(i / 20000, duration_s) for i in range(20001)]
        assert all(b >= a for a, b in zip(gains, gains[1:]))
        curve = [(t, db) for t, db in _curve(duration_s, 2001) if db > -50.0]
        slopes = [(b - a) / (tb - ta) for (ta, a), (tb, b) in zip(curve, curve[1:])]
        # the rate of rise changes by less than 3 dB/s from one 10 ms step... (a 50 -> 9 dB/s
        # corner would change it by 41 at once)
        step = duration_s / 2000
        per_10ms = max(abs(b - a) for a, b in zip(slopes, slopes[1:])) * 0.01 / step
        assert per_10ms < 3.0 * max(1.0, FADE_SHAPE_S / duration_s) ** 2, duration_s


def test_the_sine_alone_would_climb_a_6_s_fade_in_by_dbs_per_10_ms():
    """Why the bound is there: 5 dB and more in one 10 ms step (faster than a volume follows)."""
    assert 20 * math.log10(math.sin(0.02 / 6 * math.pi / 2) / math.sin(0.01 / 6 * math.pi / 2)) \
        == pytest.approx(6.02, abs=0.01)
    assert fade_in_db(0.02 / 6, 6.0) - fade_in_db(0.01 / 6, 6.0) == pytest.approx(0.5)
    assert fade_in_db(0.5 / 6, 6.0) == pytest.approx(-35.0, abs=0.01)  # the sine: -17.7 dB


@pytest.mark.parametrize("duration_s", [0.02, 0.5, 1.0, 2.0, FADE_SHAPE_S, 6.0, 20.0])
def test_the_two_halves_stay_within_half_a_db_of_equal_power(duration_s):
    worst_dip = 0.0
    for i in range(1, 20000):
        x = i / 20000
        power = fade_in_gain(x, duration_s) ** 2 + fade_out_gain(x, duration_s) ** 2
        assert power <= 1.0 + 1e-5  # never louder than the two at full
        worst_dip = max(worst_dip, -10 * math.log10(power))
    assert worst_dip <= EQUAL_POWER_WITHIN_DB
    if duration_s == FADE_SHAPE_S:
        assert worst_dip > EQUAL_POWER_WITHIN_DB - 0.02  # the constant is the true worst
    assert fade_in_gain(0.5, duration_s) == pytest.approx(fade_out_gain(0.5, duration_s))


def test_a_short_fade_keeps_the_shape_of_the_shortest_bounded_one_squeezed():
    for x in (0.001, 0.01, 0.1, 0.3, 0.7):
        assert fade_in_db(x, 1.0) == fade_in_db(x, 0.1) == fade_in_db(x, FADE_SHAPE_S)
    assert fade_in_gain(0.0, 6.0) == 0.0 and fade_in_gain(-1.0, 6.0) == 0.0
    assert fade_in_gain(1.0, 6.0) == 1.0 and fade_in_gain(2.0, 6.0) == 1.0
    assert fade_out_gain(1.0, 6.0) == 0.0 and fade_out_gain(0.0, 6.0) == 1.0


def test_a_ramp_is_a_straight_line_in_db_and_flat_outside():
    ramp = Ramp(10.0, 20.0, -40.0, 0.0)
    assert [ramp.db(t) for t in (0.0, 10.0, 15.0, 20.0, 30.0)] == [-40.0, -40.0, -20.0, 0.0, 0.0]
    assert ramp.moving(10.0) and ramp.moving(19.99) and not ramp.moving(20.0)
    assert not steady(-10.0, 5.0).moving(5.0) and steady(-10.0).db(99.0) == -10.0


@given(st.floats(-60.0, 0.0), st.floats(-60.0, 0.0), st.floats(0.0, 30.0))
def test_rises_never_beat_the_rise_limit_whatever_is_asked(from_db, to_db, min_s):
    ramp = ramp_to(steady(from_db), 0.0, to_db, rise_db_per_s=6.0, fall_db_per_s=15.0,
                   min_s=min_s)
    duration = ramp.t1 - ramp.t0
    if to_db > from_db:
        assert duration >= (to_db - from_db) / 6.0 - 1e-9
    assert duration >= min_s - 1e-9 or to_db == from_db


def test_falls_take_the_fall_rate_or_the_fade_asked_capped_for_quiet_now():
    fall = ramp_to(steady(0.0), 0.0, -30.0, rise_db_per_s=6.0, fall_db_per_s=15.0)
    assert fall.t1 == 2.0
    assert ramp_to(steady(0.0), 0.0, -30.0, rise_db_per_s=6.0, fall_db_per_s=15.0,
                   min_s=5.0).t1 == 5.0
    assert ramp_to(steady(0.0), 0.0, -30.0, rise_db_per_s=6.0, fall_db_per_s=1.0,
                   max_fall_s=2.0).t1 == 2.0
    assert ramp_to(steady(-12.0), 3.0, -12.0, rise_db_per_s=6.0, fall_db_per_s=15.0) == \
        Ramp(3.0, 3.0, -12.0, -12.0)


def test_a_new_ramp_starts_where_the_old_one_is_now():
    halfway = ramp_to(Ramp(0.0, 10.0, -60.0, 0.0), 5.0, -10.0, rise_db_per_s=6.0,
                      fall_db_per_s=15.0)
    assert halfway.from_db == -30.0 and halfway.t0 == 5.0
    assert halfway.t1 == pytest.approx(5.0 + 20.0 / 6.0)


def test_an_envelope_rises_and_falls_along_the_halves_and_keeps_the_earlier_fade_out():
    env = Envelope(0.0, 4.0)
    assert env.gain(0.0) == 0.0 and env.gain(2.0) == pytest.approx(math.sin(math.pi / 4))
    assert env.gain(1.0) == fade_in_gain(0.25, 4.0)
    assert env.gain(4.0) == 1.0 and not env.leaving
    # a 10 s fade's own length is used: it leaves silence at 50 dB/s
    assert 20 * math.log10(Envelope(0.0, 10.0).gain(0.5)) == pytest.approx(-35.0, abs=0.01)
    assert 20 * math.log10(Envelope(0.0, 2.0).gain(0.25)) == pytest.approx(-35.0, abs=0.01)
    out = env.with_fade_out(10.0, 2.0)
    assert out.leaving and out.gain(11.0) == pytest.approx(math.cos(math.pi / 4))
    assert out.gain(11.5) == fade_out_gain(0.75, 2.0)
    assert out.gain(12.0) == pytest.approx(0.0, abs=1e-12) and out.done(12.0)
    assert not out.done(11.9)
    assert out.with_fade_out(11.0, 0.5) is out  # already fading: the gentler start stays
    assert Envelope(0.0, 0.0, 5.0, 5.0).gain(5.0) == 0.0  # a cut is silence at once
    moved = out.shifted(3.0)
    assert (moved.in_t0, moved.in_t1, moved.out_t0, moved.out_t1) == (3.0, 7.0, 13.0, 15.0)


def test_the_tick_shortens_only_where_a_gain_moves_faster_than_a_step():
    assert follow_tick_s([]) == TICK_S
    assert follow_tick_s([(0.5, 0.5 * 10 ** (0.2 / 20))]) == TICK_S  # 0.2 dB a tick: as it was
    one_db = follow_tick_s([(0.5, 0.5 * 10 ** (-1.0 / 20)), (0.3, 0.3)])
    assert one_db == pytest.approx(TICK_S * STEP_DB / 1.0)  # the fastest deck decides
    assert follow_tick_s([(0.0, 1e-4)]) == TICK_S  # below the floor: nobody hears the steps
    assert follow_tick_s([(0.0, 0.1)]) == MIN_TICK_S  # from silence: as fast as it goes
    floor = 10 ** (FOLLOW_FLOOR_DB / 20)
    assert follow_tick_s([(floor, floor * 10 ** (STEP_DB * 4 / 20))]) == pytest.approx(TICK_S / 4)
    # sampled more finely: the fastest stretch decides (a bend inside the 20 ms is seen)
    bend = tuple(0.5 * 10 ** (db / 20) for db in (0.0, 0.4, 0.5, 0.6, 0.7))
    assert follow_tick_s([bend]) == pytest.approx(TICK_S * STEP_DB / 1.6)
    assert follow_tick_s([(bend[0], bend[-1])]) == pytest.approx(TICK_S * STEP_DB / 0.7)

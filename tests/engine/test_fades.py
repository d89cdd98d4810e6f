"""Fade maths as pure functions of time: the level scale, equal-power curves, ramps, envelopes."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from soundscape.engine.fades import (FOLLOW_FLOOR_DB, MIN_TICK_S, SILENT_DB, STEP_DB, TICK_S,
                                     Envelope, Ramp, db_to_gain, db_to_level, equal_power_in,
                                     equal_power_out, follow_tick_s, gain_db_to_gain, level_to_db,
                                     ramp_to, steady)


def test_levels_are_on_the_cubic_scale_and_silence_is_a_floor():
    assert level_to_db(100) == 0.0
    assert level_to_db(50) == pytest.approx(-18.06, abs=0.01)  # as VLC's and Pulse's sliders
    assert level_to_db(0) == level_to_db(5) == SILENT_DB
    assert db_to_level(level_to_db(70)) == pytest.approx(70)
    assert db_to_level(SILENT_DB) == 0.0  # shown as 0, not as the scale's 10
    assert db_to_gain(SILENT_DB) == 0.0 and db_to_gain(-6.0) == pytest.approx(0.501, abs=1e-3)
    assert gain_db_to_gain(-30.0) == pytest.approx(0.0316, abs=1e-4)  # track gains have no floor


@given(st.floats(-1.0, 2.0))
def test_equal_power_halves_keep_the_power(x):
    assert equal_power_in(x) ** 2 + equal_power_out(x) ** 2 == pytest.approx(1.0)
    assert 0.0 <= equal_power_in(x) <= 1.0


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


def test_an_envelope_rises_and_falls_equal_power_and_keeps_the_earlier_fade_out():
    env = Envelope(0.0, 4.0)
    assert env.gain(0.0) == 0.0 and env.gain(2.0) == pytest.approx(math.sin(math.pi / 4))
    assert env.gain(4.0) == 1.0 and not env.leaving
    out = env.with_fade_out(10.0, 2.0)
    assert out.leaving and out.gain(11.0) == pytest.approx(math.cos(math.pi / 4))
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

"""The session's levels: where the music settles, how it gets there, and each deck's gain."""

from __future__ import annotations

from pathlib import Path

import pytest

from soundscape.engine.fades import SILENT_DB, Envelope, level_to_db, steady
from soundscape.engine.levels import Levels
from soundscape.engine.settings import RoomSettings
from soundscape.engine.voices import Kind, Voice

ROOM = RoomSettings(ceiling_pct=90.0, rise_db_per_s=6.0, fall_db_per_s=15.0, hush_pct=25.0)


def test_the_target_is_the_phase_or_the_facilitator_hushed_under_the_ceiling():
    levels = Levels(ROOM)
    assert levels.target_pct(70) == 70
    assert levels.target_pct(100) == 90  # the ceiling
    levels.override_pct = 40
    assert levels.target_pct(70) == 40
    levels.hushed = True
    assert levels.target_pct(70) == 25
    levels.override_pct = 10
    assert levels.target_pct(70) == 10  # hush never raises a quieter level


def test_the_music_rises_from_silence_at_the_rise_limit():
    levels = Levels(ROOM)
    levels.rise_from_silence(0.0, 70)
    end_s = (level_to_db(70) - SILENT_DB) / 6.0
    assert levels.master.t1 == pytest.approx(end_s)
    assert levels.moving(1.0) and not levels.moving(end_s)
    assert levels.level_now(end_s) == 70.0 and levels.level_now(0.0) == 0.0


def test_a_frozen_master_keeps_its_fade_whatever_is_asked():
    levels = Levels(ROOM)
    levels.master = steady(-10.0)
    levels.fade_master(0.0, 3.0)
    assert levels.frozen and levels.master.db(3.0) == SILENT_DB
    levels.retarget(1.0, 70)
    assert levels.master.t1 == 3.0 and levels.master.to_db == SILENT_DB
    levels.frozen = False
    levels.retarget(3.0, 70)
    assert levels.master.to_db == pytest.approx(level_to_db(70))


def test_hush_falls_within_its_time_and_resume_never_rises_at_once():
    levels = Levels(ROOM)
    levels.master = steady(0.0)  # full level
    levels.hushed = True
    levels.retarget(0.0, 90, fall_s=2.0)
    assert levels.master.t1 == 2.0 and levels.master.to_db == pytest.approx(level_to_db(25))
    levels.hold_master(1.0)  # stays where it is now, or lower
    assert not levels.moving(1.0) and levels.master.db(5.0) == pytest.approx(levels.master.from_db)


def test_each_deck_gets_master_times_envelope_times_its_own_gain_never_above_the_ceiling():
    levels = Levels(RoomSettings(ceiling_pct=80.0))
    levels.master = steady(0.0)
    music = Voice(None, Kind.MUSIC, Path("/m/a.wav"), "a", 0, 0.0, 100.0, Envelope(), gain=4.0)
    assert levels.gain(music, 1.0) == pytest.approx(0.8 ** 3)  # +12 dB of track gain, capped
    music.gain = 0.5
    assert levels.gain(music, 1.0) == pytest.approx(0.5)
    bed = Voice(None, Kind.AMBIENCE, Path("/m/bed.wav"), "bed", 0, 0.0, 100.0, Envelope())
    assert levels.gain(bed, 1.0) == 0.0  # the beds' master is still silent
    levels.beds_rise(0.0)
    levels.bed_start(0.0, 30)  # the bed master rises: the bed starts at its own level
    assert levels.bed_level.db(0.0) == pytest.approx(level_to_db(30))
    assert levels.gain(bed, 100.0) == pytest.approx((0.3) ** 3)

"""A voice judges its own deck: failed, stalled, ended far too early, or playing as it should."""

from __future__ import annotations

from pathlib import Path

from soundscape.engine.fades import Envelope
from soundscape.engine.voices import STALL_S, VERIFIED_STALL_S, Kind, Voice, reap
from soundscape.testing import FakeClock, FakeOutput

A = Path("/music/a.wav")


def voice_on(output: FakeOutput, *, length_s=100.0, t_zero=0.0, trim_start_s=0.0) -> Voice:
    deck = output.make_deck("music-1", lambda event: None)
    voice = Voice(deck, Kind.MUSIC, A, "a", 0, t_zero, length_s, trim_start_s=trim_start_s)
    deck.load(A, trim_start_s, 1.0)
    deck.play()
    return voice


def test_position_follows_the_timeline_within_the_trims():
    voice = Voice(None, Kind.MUSIC, A, "a", 0, t_zero=10.0, length_s=30.0, trim_start_s=5.0)
    assert voice.natural_end == 40.0
    assert [voice.position_s(s) for s in (0.0, 10.0, 25.0, 99.0)] == [5.0, 5.0, 20.0, 35.0]
    voice.shift(3.0)  # after a pause of 3 s
    assert voice.natural_end == 43.0 and voice.position_s(13.0) == 5.0


def test_a_deck_that_plays_on_is_fine_and_one_that_fails_says_so():
    clock = FakeClock()
    output = FakeOutput(clock, {A: 100.0}, missing=[A])
    assert voice_on(output).verdict(0.0) == "could not be played"
    ok = voice_on(FakeOutput(clock, {A: 100.0}))
    clock.advance(2.0)
    assert ok.verdict(2.0) == "" and not ok.settled(2.0) and ok.settled(3.5)


def test_a_deck_that_does_not_move_for_1_5_s_has_stalled():
    clock = FakeClock()
    voice = voice_on(FakeOutput(clock, {A: 100.0}, stall=[A]))
    assert voice.stall_check_due() == STALL_S == 1.5
    clock.advance(1.4)
    assert voice.verdict(1.4) == ""
    clock.advance(0.1)
    assert voice.verdict(1.5) == "makes no progress (not audio?)"


def test_an_analysed_file_is_given_longer_before_it_counts_as_stalled():
    """The analysis decoded it whole: it is audio, however slowly libVLC reports its time (Ogg
    files: about once a second, later under load)."""
    clock = FakeClock()
    voice = voice_on(FakeOutput(clock, {A: 100.0}, stall=[A]))
    voice.verified = True
    assert voice.stall_check_due() == VERIFIED_STALL_S
    clock.advance(VERIFIED_STALL_S - 0.1)
    assert voice.verdict(VERIFIED_STALL_S - 0.1) == ""
    clock.advance(0.1)
    assert voice.verdict(VERIFIED_STALL_S) == "makes no progress (not audio?)"


def test_an_end_long_before_the_length_is_a_failure_and_an_unknown_length_is_learnt():
    clock = FakeClock()
    short = voice_on(FakeOutput(clock, {A: 100.0}, short={A: 0.3}))
    clock.advance(0.5)
    assert short.verdict(0.5) == "ended far too early (corrupt?)"
    clock2 = FakeClock()
    unknown = voice_on(FakeOutput(clock2, {A: 40.0}), length_s=None)
    unknown.learn_length()
    assert unknown.length_s == 40.0  # from the deck when nothing else knew it
    clock3 = FakeClock()
    output = FakeOutput(clock3, {}, default_duration_s=None, short={A: 10.0})
    quiet = voice_on(output, length_s=None)
    clock3.advance(10.0)
    assert quiet.verdict(10.0) == "" and quiet.length_s == 10.0  # it ends when the deck says so


def test_a_fade_out_ends_inside_the_file_and_an_earlier_one_stays():
    voice = Voice(None, Kind.MUSIC, A, "a", 0, 0.0, 100.0, Envelope())
    assert voice.fade_left_s(90.0) == 100.0 - 0.25 - 90.0
    assert voice.fade_left_s(99.9) == 0.02  # at least one tick
    voice.fade_out(50.0, 6.0)
    voice.fade_out(52.0, 1.0)
    assert voice.leaving and (voice.env.out_t0, voice.env.out_t1) == (50.0, 56.0)


def test_reaping_lets_go_of_voices_faded_out_or_played_out():
    clock = FakeClock()
    output = FakeOutput(clock, {A: 100.0})
    faded, ended, playing = (voice_on(output) for _ in range(3))
    faded.fade_out(0.0, 2.0)
    ended.length_s = 5.0
    assert reap([faded, ended, playing], 3.0) == [ended, playing]
    assert reap([ended, playing], 7.0, standing_still=True) == [ended, playing]  # paused decks
    assert reap([ended, playing], 7.0) == [playing]
    assert faded.released and ended.released and not playing.released

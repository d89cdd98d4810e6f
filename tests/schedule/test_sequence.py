"""The order tracks play in and how long each plays, shared by the planner and the engine."""

from __future__ import annotations

import itertools
from pathlib import Path

from soundscape.playlist.model import Phase, Track
from soundscape.schedule.sequence import phase_sequence, play_length_s


def tracks(*names: str) -> tuple[Track, ...]:
    return tuple(Track(Path("/music") / n, n) for n in names)


def order(phase: Phase, seed: int = 1, count: int = 12, index: int = 0) -> list[tuple[str, int]]:
    return [(s.track.title, s.cycle) for s in itertools.islice(phase_sequence(phase, seed, index),
                                                                count)]


def test_in_order_once_with_silence_and_cycling_with_repeat():
    once = Phase("p", 60, tracks=tracks("a", "b", "c"), when_short="silence")
    assert order(once) == [("a", 0), ("b", 0), ("c", 0)]
    again = Phase("p", 60, tracks=tracks("a", "b"), when_short="repeat")
    assert order(again, count=5) == [("a", 0), ("b", 0), ("a", 1), ("b", 1), ("a", 2)]
    assert [s.repeat for s in itertools.islice(phase_sequence(again, 1, 0), 3)] == [
        False, False, True]
    assert order(Phase("p", 60)) == []


def test_shuffle_is_the_same_for_the_same_seed_and_fresh_on_each_pass():
    phase = Phase("p", 60, tracks=tracks(*"abcdefgh"), order="shuffle")
    assert order(phase, seed=7) == order(phase, seed=7)
    assert order(phase, seed=7) != order(phase, seed=8)
    assert order(phase, seed=7, index=0) != order(phase, seed=7, index=1)
    passes = [[t for t, c in order(phase, seed=7, count=16) if c == n] for n in (0, 1)]
    assert sorted(passes[0]) == sorted(passes[1]) == list("abcdefgh")
    assert passes[0] != passes[1]


def test_a_new_pass_never_starts_with_the_track_that_ended_the_last():
    phase = Phase("p", 60, tracks=tracks("a", "b", "c"), order="shuffle")
    for seed in range(200):
        seq = order(phase, seed=seed, count=30)
        for end, start in zip(seq[2::3], seq[3::3]):
            assert end[0] != start[0], f"seed {seed}: {seq}"


def test_play_length_applies_the_trims_and_knows_when_it_cannot_tell():
    track = Track(Path("/m/a.wav"), "a", start_s=5.0, end_s=50.0)
    assert play_length_s(track, 100.0) == 45.0
    assert play_length_s(track, 30.0) == 25.0  # the file ends before the trim does
    assert play_length_s(track, None) == 45.0  # the trims alone say how long
    assert play_length_s(Track(Path("/m/b.wav"), "b"), None) is None
    assert play_length_s(Track(Path("/m/c.wav"), "c", start_s=9.0), 5.0) == 0.0

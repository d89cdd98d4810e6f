"""Durations, levels and gains are parsed from the text as written, with the user's words back."""

import pytest

from soundscape.config.values import (format_duration, parse_choice, parse_duration, parse_gain,
                                      parse_level)


@pytest.mark.parametrize("text, seconds", [
    ("90s", 90), ("15m", 900), ("1h", 3600), ("1h30m", 5400), ("2m30s", 150),
    ("1h0m5s", 3605), ("0.5s", 0.5), ("1.5h", 5400), ("0s", 0),
    ("1:30", 90), ("0:05", 5), ("90:00", 5400), ("1:02:30", 3750), ("1:30.5", 90.5),
])
def test_durations(text, seconds):
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", [
    "15 mins", "90", "1h 30m", "m", "", "-5m", "1:60", "1:5", "1:02:60", "30m1h", "1.5", "15M",
    "1::30", "h30m",
])
def test_bad_durations(text):
    with pytest.raises(ValueError) as exc:
        parse_duration(text)
    assert str(exc.value) == f"duration must look like 15m, 90s or 1h30m, not '{text}'"


def test_bare_number_is_refused_and_echoed_without_quotes():
    with pytest.raises(ValueError) as exc:
        parse_duration("90", "crossfade", bare=True)
    assert str(exc.value) == "crossfade must look like 15m, 90s or 1h30m, not 90"


@pytest.mark.parametrize("seconds, text", [
    (0, "0s"), (45, "45s"), (90, "1m30s"), (900, "15m"), (5400, "1h30m"), (3605, "1h5s"),
    (0.5, "0.5s"), (13 * 3600, "13h"),
])
def test_format_duration(seconds, text):
    assert format_duration(seconds) == text


def test_levels():
    assert parse_level("70%", bare=False) == 70
    assert parse_level("70", bare=True) == 70
    assert parse_level("0", bare=True) == 0
    assert parse_level("100%", bare=False) == 100
    assert parse_level("12.5%", bare=False) == 12.5


@pytest.mark.parametrize("text, bare, message", [
    ("loud", False, "level must be a number 0-100 or a percentage like 70%, not 'loud'"),
    ("70", False, "level must be a number 0-100 or a percentage like 70%, not '70'"),
    ("1:30", True, "level must be a number 0-100 or a percentage like 70%, not 1:30"),
    ("0x40", True, "level must be a number 0-100 or a percentage like 70%, not 0x40"),
    ("150%", False, "level must be between 0% and 100%, not 150%"),
    ("101", True, "level must be between 0% and 100%, not 101"),
    ("-5%", False, "level must be between 0% and 100%, not -5%"),
])
def test_bad_levels(text, bare, message):
    with pytest.raises(ValueError) as exc:
        parse_level(text, bare)
    assert str(exc.value) == message


def test_gains():
    assert parse_gain("-3dB", bare=False) == -3
    assert parse_gain("+2dB", bare=False) == 2
    assert parse_gain("0dB", bare=False) == 0
    assert parse_gain("-1.5 dB", bare=False) == -1.5
    assert parse_gain("-6", bare=True) == -6
    assert parse_gain("-30dB", bare=False) == -30
    assert parse_gain("+12dB", bare=False) == 12


@pytest.mark.parametrize("text, bare, message", [
    ("-3", False, "gain must look like -3dB or +2dB, not '-3'"),
    ("loud", False, "gain must look like -3dB or +2dB, not 'loud'"),
    ("-3 decibels", False, "gain must look like -3dB or +2dB, not '-3 decibels'"),
    ("+20dB", False, "gain must be between -30dB and +12dB, not +20dB"),
    ("-31", True, "gain must be between -30dB and +12dB, not -31"),
])
def test_bad_gains(text, bare, message):
    with pytest.raises(ValueError) as exc:
        parse_gain(text, bare)
    assert str(exc.value) == message


def test_choices():
    assert parse_choice("shuffle", ("in-order", "shuffle"), "order") == "shuffle"
    with pytest.raises(ValueError) as exc:
        parse_choice("random", ("in-order", "shuffle"), "order")
    assert str(exc.value) == "order must be one of in-order, shuffle, not 'random'"
    with pytest.raises(ValueError) as exc:  # YAML 1.1's boolean 'no' is not the word 'no'
        parse_choice("no", ("fade", "finish"), "at_end", bare=True)
    assert str(exc.value) == "at_end must be one of fade, finish, not no"

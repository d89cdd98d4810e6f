"""One way of writing times, for every command, the page's report and the log's messages."""

from soundscape.timefmt import clock


def test_minutes_and_seconds_then_hours():
    assert [clock(s) for s in (0, 59.4, 100, 3599.6, 3725)] == [
        "0:00", "0:59", "1:40", "1:00:00", "1:02:05"]


def test_tenths_only_when_there_are_some():
    assert [clock(s, tenths=True) for s in (0.5, 59.96, 100.25, 3725)] == [
        "0:00.5", "1:00", "1:40.2", "1:02:05"]


def test_negative_times_keep_their_sign():
    assert [clock(s) for s in (-5, -65, -3725, -0.2)] == ["-0:05", "-1:05", "-1:02:05", "-0:00"]

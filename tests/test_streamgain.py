"""The fine gain path: the stream-volume mapping at the bottom of the scale, and a deck that uses
its stream's volume when it has one and libVLC's integer volume when it has not.

No sound server is needed: the deck runs on libVLC's discarding output with a stand-in for the
server's stream volumes.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import vlc
from hypothesis import given
from hypothesis import strategies as st

from soundscape.engine.fades import db_to_gain, level_to_db
from soundscape.engine.libvlc.deck import VlcDeck, vlc_volume
from soundscape.engine.libvlc.streamgain import (UNITS, StreamVolumes, stream_tag, stream_units,
                                                 units_gain)
from soundscape.testing.audio import write_tone


def db(gain: float) -> float:
    return 20 * math.log10(gain)


@pytest.mark.parametrize("gain, units", [
    (1.0, UNITS), (0.125, UNITS // 2), (0.0, 0), (-1.0, 0), (math.nan, 0), (8.0, 2 * UNITS),
    (100.0, 2 * UNITS), (1e-16, 0),
])
def test_stream_units_undo_the_cubic_scale(gain, units):
    assert stream_units(gain) == units


@given(st.floats(min_value=-59.9, max_value=18.0))  # -60 dB is the silent floor: 0
def test_any_gain_from_silence_to_the_ceiling_is_reached_within_a_hundredth_of_a_db(level_db):
    gain = db_to_gain(level_db)
    assert abs(db(units_gain(stream_units(gain))) - level_db) < 0.01


def test_the_bottom_of_the_scale_is_fine_where_vlcs_volume_is_coarse():
    # a fade's last 20 dB above the room's silent floor (levels 10 % to 22 %)
    levels = np.linspace(10.05, 22.0, 400)
    gains = [db_to_gain(level_to_db(p)) for p in levels]
    fine = [db(units_gain(stream_units(g))) for g in gains]
    coarse = [db((vlc_volume(g) / 100) ** 3) for g in gains]
    assert max(abs(f - level_to_db(p)) for f, p in zip(fine, levels)) < 0.005
    assert max(abs(c - level_to_db(p)) for c, p in zip(coarse, levels)) > 1.2
    assert max(np.abs(np.diff(coarse))) > 2.4  # libVLC: 10 -> 11 % is 2.5 dB in one step


def test_tags_differ_for_the_same_deck_name():
    assert stream_tag("music-1") != stream_tag("music-1")


class Streams(StreamVolumes):
    """The server's stream volumes, as the deck sees them: found after ``appear`` lookups."""

    def __init__(self, appear: int = 0):
        super().__init__()
        self.appear, self.sets, self.lookups, self.gone = appear, [], 0, False

    def find(self, tag):
        self.lookups += 1
        return (7, 2) if self.lookups > self.appear else None

    def set(self, stream, units):
        if self.gone:
            return False
        self.sets.append(units)
        return True


class Ticking:
    """The deck's clock: 11 ms pass at every look (gain changes of a fade, one per tick)."""

    def __init__(self):
        self.t = 100.0

    def monotonic(self) -> float:
        self.t += 0.011
        return self.t


@pytest.fixture
def deck(tmp_path, monkeypatch):
    from soundscape.engine.libvlc import deck as deck_module

    monkeypatch.setattr(deck_module, "time", Ticking())
    instance = vlc.Instance(["--no-video", "--quiet", "--aout=adummy"])
    streams = Streams(appear=1)
    made = VlcDeck(instance, "music-1", lambda event: None, volumes=streams, tag="t")
    made.load(write_tone(tmp_path / "a.wav", 400, 5.0, 0.5), gain=0.0)
    sent = []
    made._player.audio_set_volume = sent.append  # what libVLC's volume is told
    yield made, streams, sent
    made.release()
    instance.release()


def test_a_deck_uses_its_stream_once_found_and_libvlcs_volume_until_then(deck):
    made, streams, sent = deck
    made.set_gain(0.5)  # not playing yet: no stream to look for
    assert (streams.lookups, sent) == (0, [79])
    made.play()
    made.set_gain(0.25)  # looked for, not there yet
    assert (streams.lookups, sent, made.fine_gain) == (1, [79, 63], False)
    made.set_gain(0.001)  # found: the stream's volume, 1/65536 steps
    assert streams.sets == [stream_units(0.001)] and sent == [79, 63] and made.fine_gain
    made.set_gain(0.001)
    made.set_gain(0.00101)
    assert streams.sets == [stream_units(0.001), stream_units(0.00101)]  # repeats not re-sent


def test_a_stream_that_goes_away_falls_back_to_libvlcs_volume(deck):
    made, streams, sent = deck
    made.play()
    made.set_gain(0.5)
    made.set_gain(0.5)
    assert made.fine_gain and streams.sets == [stream_units(0.5)]
    assert sent == [79]  # before its stream was found
    streams.gone = True
    made.set_gain(0.125)
    assert not made.fine_gain and sent == [79, 50]
    made.set_gain(0.125)  # no stream and no search any more for this file: libVLC's volume
    assert sent == [79, 50] and streams.lookups == 2


def test_a_new_file_looks_for_its_new_stream(deck, tmp_path):
    made, streams, sent = deck
    made.play()
    made.set_gain(0.5)
    made.set_gain(0.4)
    assert made.fine_gain
    made.load(write_tone(tmp_path / "b.wav", 400, 5.0, 0.5), gain=0.4)
    assert not made.fine_gain  # the old player's stream is not this file's


def test_a_file_played_at_one_gain_for_a_while_finds_its_stream_at_its_next_change(deck,
                                                                                  monkeypatch):
    from types import SimpleNamespace

    from soundscape.engine.libvlc import deck as deck_module

    made, streams, sent = deck
    now = [100.0]
    monkeypatch.setattr(deck_module, "time", SimpleNamespace(monotonic=lambda: now[0]))
    streams.appear = 10 ** 6  # the stream is slow to appear: not found in the first seconds
    made.play()
    made.set_gain(0.5)
    assert not made.fine_gain and streams.lookups == 1
    now[0] += 5.0  # a long stretch at one gain, then a change
    streams.appear = streams.lookups
    made.set_gain(0.4)
    assert made.fine_gain and streams.sets == [stream_units(0.4)]
    streams.gone = True
    made.set_gain(0.3)  # gone: libVLC's volume, and not looked for again at once
    made.set_gain(0.2)
    assert not made.fine_gain and streams.lookups == 2
    now[0] += 0.6
    streams.gone = False
    made.set_gain(0.1)
    assert made.fine_gain and streams.lookups == 3


def test_a_stream_slow_to_appear_is_looked_for_at_most_every_10_ms(deck, monkeypatch):
    from types import SimpleNamespace

    from soundscape.engine.libvlc import deck as deck_module

    made, streams, sent = deck
    now = [100.0]
    monkeypatch.setattr(deck_module, "time", SimpleNamespace(monotonic=lambda: now[0]))
    streams.appear = 10 ** 6
    made.play()
    for _ in range(50):  # a fade from silence: a gain every 2 ms for 0.1 s
        made.set_gain(0.5)
        made.set_gain(0.4)
        now[0] += 0.002
    assert 9 <= streams.lookups <= 11

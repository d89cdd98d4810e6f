"""Output choice, the silent output, the gain-to-VLC-volume conversion and `soundscape devices`.

None of these needs a sound server: where one is needed its absence is arranged, by pointing
XDG_RUNTIME_DIR at an empty folder.
"""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from soundscape.cli.main import main
from soundscape.engine.deck import DeckEvent, DeckStatus
from soundscape.engine.libvlc.deck import vlc_volume
from soundscape.engine.outputs import (Device, NullOutput, alsa_cards, open_output, pulse_answers,
                                       pulse_socket_paths)
from soundscape.errors import SoundscapeError
from soundscape.testing import FakeClock
from soundscape.testing.audio import write_silence


@pytest.fixture
def no_pulse(tmp_path, monkeypatch):
    """An environment where no PulseAudio server can be found."""
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path))
    monkeypatch.delenv("PULSE_SERVER", raising=False)
    return tmp_path


silent_wav = write_silence


# -- vlc_volume -----------------------------------------------------------------------------

@pytest.mark.parametrize("gain, volume", [
    (1.0, 100), (0.5, 79), (0.125, 50), (0.25, 63), (0.0, 0), (-0.3, 0), (math.nan, 0),
    (8.0, 200), (100.0, 200), (1e-7, 0), (1e-6, 1),
])
def test_vlc_volume_undoes_vlcs_cubic_curve(gain, volume):
    assert vlc_volume(gain) == volume


@given(st.floats(min_value=0.001, max_value=8.0))
def test_vlc_volume_is_the_nearest_integer_step(gain):
    volume = vlc_volume(gain)
    assert abs(volume - 100 * gain ** (1 / 3)) <= 0.5 + 1e-9
    assert 0 <= volume <= 200


# -- choosing an output -----------------------------------------------------------------------

def test_unknown_output_kind_is_refused_with_the_choices():
    with pytest.raises(SoundscapeError) as err:
        open_output("jack")
    assert str(err.value) == "unknown output 'jack'; expected one of auto, pulse, alsa, snapcast, none"


def test_pulse_without_a_server_says_where_it_looked(no_pulse):
    assert not pulse_answers()
    with pytest.raises(SoundscapeError) as err:
        open_output("pulse")
    assert str(err.value) == (
        f"no PulseAudio server answers (tried {no_pulse}/pulse/native or /run/pulse/native); "
        "start pulseaudio, or use another output (alsa, none)")


def test_pulse_socket_paths_follow_libpulse(monkeypatch):
    monkeypatch.setenv("PULSE_SERVER", "unix:/run/a/native tcp:host:4713 /run/b/native")
    assert pulse_socket_paths() == ["/run/a/native", "/run/b/native"]
    monkeypatch.setenv("PULSE_SERVER", "tcp:host:4713")
    assert pulse_socket_paths() == []
    monkeypatch.delenv("PULSE_SERVER")
    monkeypatch.setenv("XDG_RUNTIME_DIR", "/run/user/1000")
    assert pulse_socket_paths() == ["/run/user/1000/pulse/native", "/run/pulse/native"]


def test_alsa_cards_are_read_from_proc(tmp_path):
    cards = tmp_path / "cards"
    cards.write_text(" 0 [PCH            ]: HDA-Intel - HDA Intel PCH\n"
                     "                      HDA Intel PCH at 0xf7f10000 irq 32\n"
                     " 1 [Device         ]: USB-Audio - USB Audio Device\n")
    assert alsa_cards(str(cards)) == ["PCH", "Device"]
    cards.write_text("--- no soundcards ---\n")
    assert alsa_cards(str(cards)) == []
    assert alsa_cards(str(tmp_path / "missing")) == []


# -- the silent output ------------------------------------------------------------------------

def test_none_output_keeps_time_and_ends_on_time(tmp_path):
    clock, events = FakeClock(), []
    output = open_output("none", clock=clock)
    assert (output.name, output.latency_s, output.healthy()) == ("none", 0.0, True)
    deck = output.make_deck("music", events.append)
    generation = deck.load(silent_wav(tmp_path / "a.wav", 10.0), start_s=2.0, gain=0.5)
    assert (deck.status(), deck.position_s(), deck.duration_s()) == (DeckStatus.IDLE, 2.0, 10.0)
    deck.play()
    clock.advance(3.0)
    assert (deck.status(), deck.position_s()) == (DeckStatus.PLAYING, 5.0)
    deck.pause()
    deck.pause()
    clock.advance(100.0)
    assert (deck.status(), deck.position_s()) == (DeckStatus.PAUSED, 5.0)
    deck.play()
    clock.advance(4.0)
    assert deck.position_s() == 9.0
    assert events == []
    clock.advance(1.5)
    assert (deck.status(), deck.position_s()) == (DeckStatus.ENDED, 10.0)
    assert events == [DeckEvent("music", "ended", generation)]
    deck.stop()
    assert (deck.status(), deck.position_s(), deck.duration_s()) == (DeckStatus.IDLE, None, None)


def test_none_output_reports_missing_and_unreadable_files(tmp_path):
    events = []
    deck = NullOutput(FakeClock()).make_deck("music", events.append)
    missing = tmp_path / "missing.mp3"
    g1 = deck.load(missing)
    assert deck.status() == DeckStatus.FAILED
    corrupt = tmp_path / "corrupt.mp3"
    corrupt.write_bytes(bytes(range(256)) * 100)
    g2 = deck.load(corrupt)
    deck.play()
    assert deck.status() == DeckStatus.FAILED
    assert events == [DeckEvent("music", "error", g1, f"file not found: {missing}"),
                      DeckEvent("music", "error", g2, f"no playable audio in {corrupt}")]


def test_none_output_on_real_time_ends_when_next_asked(tmp_path):
    """No timer of its own: the engine wakes at each voice's end and asks (core.next_wake_s)."""
    import time

    events: list = []
    deck = NullOutput().make_deck("bed", events.append)
    generation = deck.load(silent_wav(tmp_path / "short.wav", 0.2))
    deck.play()
    assert deck.status() == DeckStatus.PLAYING and events == []
    time.sleep(0.25)
    assert deck.status() == DeckStatus.ENDED
    assert events == [DeckEvent("bed", "ended", generation)]


# -- soundscape devices -----------------------------------------------------------------------

def test_devices_lists_name_and_description_aligned(monkeypatch, capsys):
    import soundscape.cli.devices as devices

    asked = []

    def fake_list(kind):
        asked.append(kind)
        return [Device("room", "Null Output"), Device("alsa_output.usb", "USB Speaker")]

    monkeypatch.setattr(devices, "list_devices", fake_list)
    assert main(["devices", "--output", "pulse"]) == 0
    assert asked == ["pulse"]
    assert capsys.readouterr().out == ("room             Null Output\n"
                                       "alsa_output.usb  USB Speaker\n")


def test_devices_without_a_pulse_server_is_an_error(no_pulse, capsys):
    assert main(["devices", "--output", "pulse"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: no PulseAudio server answers (tried ")

"""The room meter's reading of pactl and its rules for putting the volume back, on pactl 16.1 output
captured from the test server (no PulseAudio needed), and the meter itself on stand-in tools."""

from __future__ import annotations

import stat
import time

import numpy as np
import pytest

from soundscape.engine.pulsemeter import (
    FLOOR_PCT,
    MAX_STEP_S,
    PulseMeter,
    Reading,
    SinkState,
    parse_default_sink,
    parse_sinks_json,
    parse_sinks_text,
    peak_to_dbfs,
    restore_action,
)
from soundscape.errors import SoundscapeError

# `LC_ALL=C pactl list sinks` with three null sinks: "room" (stereo), "p51" (six channels set to
# 100 90 80 70 60 50 %) and "pmono" (mono, 33 %, muted).
SINKS_TEXT = (
    'Sink #0\n'
    '\tState: RUNNING\n'
    '\tName: room\n'
    '\tDescription: Null Output\n'
    '\tDriver: module-null-sink.c\n'
    '\tSample Specification: s16le 2ch 44100Hz\n'
    '\tChannel Map: front-left,front-right\n'
    '\tOwner Module: 0\n'
    '\tMute: no\n'
    '\tVolume: front-left: 65536 / 100% / 0.00 dB,   front-right: 65536 / 100% / 0.00 dB\n'
    '\t        balance 0.00\n'
    '\tBase Volume: 65536 / 100% / 0.00 dB\n'
    '\tMonitor Source: room.monitor\n'
    '\tLatency: 831740 usec, configured 1960000 usec\n'
    '\tFlags: DECIBEL_VOLUME LATENCY SET_FORMATS \n'
    '\tProperties:\n'
    '\t\tdevice.description = "Null Output"\n'
    '\t\tdevice.class = "abstract"\n'
    '\t\tdevice.icon_name = "audio-card"\n'
    '\tFormats:\n'
    '\t\tpcm\n'
    '\n'
    'Sink #4\n'
    '\tState: IDLE\n'
    '\tName: p51\n'
    '\tDescription: Surround\n'
    '\tDriver: module-null-sink.c\n'
    '\tSample Specification: s16le 6ch 44100Hz\n'
    '\tChannel Map: front-left,front-right,rear-left,rear-right,front-center,lfe\n'
    '\tOwner Module: 7\n'
    '\tMute: no\n'
    '\tVolume: front-left: 65536 / 100% / 0.00 dB,   front-right: 58982 /  90% / -2.75 dB,   '
    'rear-left: 52428 /  80% / -5.81 dB,   rear-right: 45875 /  70% / -9.29 dB,   '
    'front-center: 39321 /  60% / -13.31 dB,   lfe: 32768 /  50% / -18.06 dB\n'
    '\t        balance -0.11\n'
    '\tBase Volume: 65536 / 100% / 0.00 dB\n'
    '\tMonitor Source: p51.monitor\n'
    '\tLatency: 1977130 usec, configured 2000000 usec\n'
    '\tFlags: DECIBEL_VOLUME LATENCY SET_FORMATS \n'
    '\tProperties:\n'
    '\t\tdevice.description = "Surround"\n'
    '\t\tdevice.class = "abstract"\n'
    '\t\tdevice.icon_name = "audio-card"\n'
    '\tFormats:\n'
    '\t\tpcm\n'
    '\n'
    'Sink #5\n'
    '\tState: IDLE\n'
    '\tName: pmono\n'
    '\tDescription: Null Output\n'
    '\tDriver: module-null-sink.c\n'
    '\tSample Specification: s16le 1ch 44100Hz\n'
    '\tChannel Map: mono\n'
    '\tOwner Module: 8\n'
    '\tMute: yes\n'
    '\tVolume: mono: 21626 /  33% / -28.89 dB\n'
    '\t        balance 0.00\n'
    '\tBase Volume: 65536 / 100% / 0.00 dB\n'
    '\tMonitor Source: pmono.monitor\n'
    '\tLatency: 1993934 usec, configured 2000000 usec\n'
    '\tFlags: DECIBEL_VOLUME LATENCY SET_FORMATS \n'
    '\tProperties:\n'
    '\t\tdevice.description = "Null Output"\n'
    '\t\tdevice.class = "abstract"\n'
    '\t\tdevice.icon_name = "audio-card"\n'
    '\tFormats:\n'
    '\t\tpcm\n'
)

# `pactl --format=json list sinks` at the same moment.
SINKS_JSON = (
    '[{"index":0,"state":"RUNNING","name":"room","description":"Null Output","driver":"module-n'
    'ull-sink.c","sample_specification":"s16le 2ch 44100Hz","channel_map":"front-left,front-rig'
    'ht","owner_module":0,"mute":false,"volume":{"front-left":{"value":65536,"value_percent":"1'
    '00%","db":"0.00 dB"},"front-right":{"value":65536,"value_percent":"100%","db":"0.00 dB"}},'
    '"balance":0.00,"base_volume":{"value":65536,"value_percent":"100%","db":"0.00 dB"},"monito'
    'r_source":"room.monitor","latency":{"actual":825145.00,"configured":1960000.00},"flags":["'
    'DECIBEL_VOLUME","LATENCY","SET_FORMATS"],"properties":{"device.description":"Null Output",'
    '"device.class":"abstract","device.icon_name":"audio-card"},"ports":[],"active_port":null,"'
    'formats":["pcm"]},{"index":4,"state":"IDLE","name":"p51","description":"Surround","driver"'
    ':"module-null-sink.c","sample_specification":"s16le 6ch 44100Hz","channel_map":"front-left'
    ',front-right,rear-left,rear-right,front-center,lfe","owner_module":7,"mute":false,"volume"'
    ':{"front-left":{"value":65536,"value_percent":"100%","db":"0.00 dB"},"front-right":{"value'
    '":58982,"value_percent":"90%","db":"-2.75 dB"},"rear-left":{"value":52428,"value_percent":'
    '"80%","db":"-5.81 dB"},"rear-right":{"value":45875,"value_percent":"70%","db":"-9.29 dB"},'
    '"front-center":{"value":39321,"value_percent":"60%","db":"-13.31 dB"},"lfe":{"value":32768'
    ',"value_percent":"50%","db":"-18.06 dB"}},"balance":-0.11,"base_volume":{"value":65536,"va'
    'lue_percent":"100%","db":"0.00 dB"},"monitor_source":"p51.monitor","latency":{"actual":197'
    '0483.00,"configured":2000000.00},"flags":["DECIBEL_VOLUME","LATENCY","SET_FORMATS"],"prope'
    'rties":{"device.description":"Surround","device.class":"abstract","device.icon_name":"audi'
    'o-card"},"ports":[],"active_port":null,"formats":["pcm"]},{"index":5,"state":"IDLE","name"'
    ':"pmono","description":"Null Output","driver":"module-null-sink.c","sample_specification":'
    '"s16le 1ch 44100Hz","channel_map":"mono","owner_module":8,"mute":true,"volume":{"mono":{"v'
    'alue":21626,"value_percent":"33%","db":"-28.89 dB"}},"balance":0.00,"base_volume":{"value"'
    ':65536,"value_percent":"100%","db":"0.00 dB"},"monitor_source":"pmono.monitor","latency":{'
    '"actual":1987251.00,"configured":2000000.00},"flags":["DECIBEL_VOLUME","LATENCY","SET_FORM'
    'ATS"],"properties":{"device.description":"Null Output","device.class":"abstract","device.i'
    'con_name":"audio-card"},"ports":[],"active_port":null,"formats":["pcm"]}]'
)

INFO_TEXT = (
    "Server String: /tmp/soundscape-pulse/pulse/native\n"
    "Library Protocol Version: 35\n"
    "Server Protocol Version: 35\n"
    "Is Local: yes\n"
    "Client Index: 54\n"
    "Tile Size: 65472\n"
    "User Name: root\n"
    "Host Name: vm\n"
    "Server Name: pulseaudio\n"
    "Server Version: 16.1\n"
    "Default Sample Specification: s16le 2ch 44100Hz\n"
    "Default Channel Map: front-left,front-right\n"
    "Default Sink: room\n"
    "Default Source: room.monitor\n"
    "Cookie: ae62:53c3\n"
)

EXPECTED = [("room", SinkState(False, 100.0)),
            ("p51", SinkState(False, 100.0 * 294910 / 6 / 65536)),  # 75.0 %, the channels' mean
            ("pmono", SinkState(True, 100.0 * 21626 / 65536))]  # 33.0 %, not the base volume


@pytest.mark.parametrize("parse, text", [(parse_sinks_json, SINKS_JSON),
                                         (parse_sinks_text, SINKS_TEXT)], ids=["json", "text"])
@pytest.mark.parametrize("sink, expected", EXPECTED, ids=[name for name, _ in EXPECTED])
def test_each_sink_is_read_from_json_and_from_text(parse, text, sink, expected):
    assert parse(text, sink) == expected


@pytest.mark.parametrize("parse, text", [(parse_sinks_json, SINKS_JSON),
                                         (parse_sinks_text, SINKS_TEXT)], ids=["json", "text"])
@pytest.mark.parametrize("sink", ["nosuch", "roo", "room.monitor", "Null Output"])
def test_a_sink_not_listed_reads_none(parse, text, sink):
    assert parse(text, sink) is None


@pytest.mark.parametrize("text", ["", "Failure: Connection refused\n", '[{"name":"room","mute":fal',
                                  '[{"name":"room","mute":false}]', '{"name":"room"}',
                                  '[{"name":"room","mute":"no","volume":{"mono":{"value":1}}}]'])
def test_json_that_cannot_be_read_is_refused(text):
    with pytest.raises(ValueError):
        parse_sinks_json(text, "room")


def test_text_in_another_locale_or_cut_short_is_none():
    german = SINKS_TEXT.replace("Mute: no", "Stumm: nein")
    assert parse_sinks_text(german, "room") is None
    cut = SINKS_TEXT[:SINKS_TEXT.index("\tVolume: front-left")]
    assert parse_sinks_text(cut, "room") is None


def test_the_default_sink_is_read_from_info():
    assert parse_default_sink(INFO_TEXT) == "room"
    assert parse_default_sink(INFO_TEXT.replace("Default Sink: room\n", "")) is None


def test_peaks_in_dbfs_with_a_floor_for_silence():
    assert peak_to_dbfs(1.0) == 0.0
    assert peak_to_dbfs(0.5) == pytest.approx(-6.0206, abs=1e-4)
    assert peak_to_dbfs(0.0) == -120.0
    assert peak_to_dbfs(1e-9) == -120.0


# -- putting the volume back --------------------------------------------------------------------

def test_a_sink_at_its_own_volume_is_left_alone():
    assert restore_action(SinkState(False, 100.0), 100.0, 20.0, 0.1) == (None, False)
    assert restore_action(SinkState(False, 99.9), 100.0, 20.0, 0.1) == (None, False)


def test_a_sink_above_its_own_volume_is_lowered_at_once():
    assert restore_action(SinkState(False, 120.0), 100.0, 20.0, 0.1) == (100.0, False)


def test_a_sink_below_rises_by_the_limit_times_the_time_since_the_last_step():
    volume, unmute = restore_action(SinkState(False, 40.0), 100.0, 20.0, 0.1)
    assert unmute is False
    assert 60 * np.log10(volume / 40.0) == pytest.approx(2.0)  # 20 dB/s for 0.1 s
    late, _ = restore_action(SinkState(False, 40.0), 100.0, 20.0, 5.0)
    assert 60 * np.log10(late / 40.0) == pytest.approx(20.0 * MAX_STEP_S)  # no catching up
    assert restore_action(SinkState(False, 95.0), 100.0, 20.0, 0.1) == (100.0, False)


def test_a_rise_from_40_to_100_percent_takes_the_cubic_scale_time():
    """40 % is -23.9 dB on PulseAudio's cubic scale: 1.19 s at 20 dB/s, not the 0.40 s that a
    linear reading of the percentage (20 log10(100/40) = 8 dB) would allow."""
    state, steps = SinkState(False, 40.0), 0
    while (action := restore_action(state, 100.0, 20.0, 0.1)[0]) is not None:
        state, steps = SinkState(False, action), steps + 1
    assert state.volume_pct == 100.0
    assert steps == 12  # 23.9 dB in 2 dB steps, the first one at once: 1.1 s of steps


@pytest.mark.parametrize("rise_db_per_s", [3.0, 6.0, 6.5, 12.0, 20.0])
@pytest.mark.parametrize("own_pct", [40.0, 80.0, 100.0, 150.0])
def test_every_rise_ends_exactly_on_the_sinks_own_volume(rise_db_per_s, own_pct):
    """A step landing just short of the volume (within the tolerance that ends the rise) would
    leave the sink there for good: 99.84 % instead of 100 % was seen at 6 dB/s from the floor."""
    state = SinkState(False, FLOOR_PCT)
    for _ in range(1000):
        action = restore_action(state, own_pct, rise_db_per_s, 0.1)[0]
        if action is None:
            break
        state = SinkState(False, action)
    assert state.volume_pct == own_pct


def test_a_muted_sink_is_unmuted_at_the_floor_then_rises_from_it():
    assert restore_action(SinkState(True, 100.0), 100.0, 20.0, 0.1) == (FLOOR_PCT, True)
    assert FLOOR_PCT == pytest.approx(10.0)  # -60 dB, the engine's silence
    assert restore_action(SinkState(True, 5.0), 100.0, 20.0, 0.1) == (None, True)
    volume, _ = restore_action(SinkState(False, 0.0), 100.0, 20.0, 0.1)
    assert volume == pytest.approx(10.0 * 10 ** (2 / 60))  # from silence: the floor plus a step


def test_options_out_of_range_are_refused_with_the_reason():
    with pytest.raises(SoundscapeError, match=r"^own_volume_pct must be above 0 and at most 150, "
                                              r"not 0$"):
        PulseMeter("room", own_volume_pct=0)
    with pytest.raises(SoundscapeError, match=r"^rise_db_per_s must be above 0, not -1.0$"):
        PulseMeter("room", rise_db_per_s=-1.0)


# -- the meter on stand-in tools ----------------------------------------------------------------

def tool(folder, name: str, script: str) -> None:
    path = folder / name
    path.write_text("#!/bin/sh\n" + script)
    path.chmod(path.stat().st_mode | stat.S_IXUSR)


def poll(read, done, timeout_s: float = 10.0):
    start = time.monotonic()
    while not done(value := read()):
        assert time.monotonic() - start < timeout_s, f"still {value!r} after {timeout_s} s"
        time.sleep(0.02)
    return value


@pytest.fixture
def tools(tmp_path):
    """A folder for stand-in pactl and parec, and the env that finds them first."""
    (tmp_path / "bin").mkdir()
    (tmp_path / "sinks.txt").write_text(SINKS_TEXT)
    (tmp_path / "info.txt").write_text(INFO_TEXT)
    block = np.zeros(800, dtype="<f4")
    block[100] = -0.25  # -12.04 dBFS, negative: the peak is of the magnitude
    (tmp_path / "block.f32").write_bytes(block.tobytes())
    return tmp_path, {"PATH": f"{tmp_path / 'bin'}:/usr/bin:/bin"}


# pactl older than 16 has no --format and no get-default-sink; a 16 whose JSON is broken.
OLD_PACTL = """case "$*" in
  --format=json*) echo "pactl: unrecognized option '--format=json'" >&2; exit 1;;
  "list sinks") cat {dir}/sinks.txt;;
  info) cat {dir}/info.txt;;
  *) echo "No valid command specified." >&2; exit 1;;
esac
"""
BROKEN_JSON_PACTL = OLD_PACTL.replace(
    """echo "pactl: unrecognized option '--format=json'" >&2; exit 1;;""",
    """echo '[{"name":"room","mute":fals';;""")


@pytest.mark.parametrize("pactl", [OLD_PACTL, BROKEN_JSON_PACTL], ids=["old", "broken-json"])
def test_the_meter_reads_the_text_when_json_fails(tools, pactl, capfd):
    folder, env = tools
    tool(folder / "bin", "pactl", pactl.replace("{dir}", str(folder)))
    tool(folder / "bin", "parec", f"cat {folder}/block.f32\nexec sleep 30\n")
    meter = PulseMeter(env=env)  # the default sink, found through `pactl info`
    meter.start()
    try:
        reading = poll(meter.take, lambda r: None not in (r.peak_dbfs, r.volume_pct))
        assert reading == Reading(pytest.approx(-12.0412, abs=1e-3), False, 100.0)
    finally:
        meter.close()
    assert meter.take() == Reading(None, None, None)
    assert capfd.readouterr().err == ""


def test_a_recorder_that_keeps_dying_is_started_at_most_once_a_second(tools):
    folder, env = tools
    tool(folder / "bin", "pactl", OLD_PACTL.replace("{dir}", str(folder)))
    tool(folder / "bin", "parec", f"echo started >> {folder}/starts\ncat {folder}/block.f32\n")
    meter = PulseMeter("room", env=env)
    began = time.monotonic()
    meter.start()
    try:
        poll(lambda: (folder / "starts").exists() and (folder / "starts").read_text().count("\n"),
             lambda n: n >= 3)
    finally:
        meter.close()
    elapsed_s = time.monotonic() - began
    starts = (folder / "starts").read_text().count("\n")
    assert starts <= 1 + elapsed_s / 1.0, (starts, elapsed_s)


def test_without_pactl_and_parec_every_reading_is_none(tmp_path, capfd):
    meter = PulseMeter(env={"PATH": str(tmp_path)})
    meter.start()
    try:
        for _ in range(10):
            assert meter.take() == Reading(None, None, None)
            time.sleep(0.05)
    finally:
        meter.close()
        meter.close()  # idempotent
    assert capfd.readouterr().err == ""

"""The room meter on a real PulseAudio server: tone peaks, silence, mute, volume, and putting the
volume back at the rise limit when soundscape owns the sink.

Each test uses a null sink of its own (``soundscape.testing.audio.null_sink``), because these tests
mute the sink and turn it down, and tones other tests play on ``room`` at the same time would be
read as peaks; only the default-sink test looks at ``room``, without changing it. Each sink is put
back to 100 % and unmuted at the end of its test all the same. Every wait is a
poll against a deadline; the times measured are printed (``pytest -s``) and checked against what
the meter promises, not against a sleep.
"""

from __future__ import annotations

import math
import os
import re
import subprocess
import time
from contextlib import contextmanager
from itertools import pairwise

import pytest

from soundscape.engine import pulsemeter
from soundscape.engine.fades import SILENT_DB, level_to_db
from soundscape.engine.pulsemeter import PulseMeter
from soundscape.testing.audio import null_sink

from engine_kit import poll_until

pytestmark = pytest.mark.e2e

TONE_AMPLITUDE = 0.5
TONE_DBFS = 20 * math.log10(round(TONE_AMPLITUDE * 32767) / 32768)  # as write_wav stores it
SILENT_DBFS = -80.0
# Generous bounds for a loaded 2-core CI machine; the assertions that matter are on what was
# measured, these only stop a test that would otherwise wait for ever.
DEADLINE_S = 10.0
SEE_WITHIN_S = 2.0  # a mute or a volume change shows in take() within this (asked for)


def note(what: str, **numbers: float) -> None:
    print(f"\npulsemeter: {what}: " + ", ".join(f"{k}={v:.3f}" for k, v in numbers.items()))


def poll(read, done, timeout_s: float = DEADLINE_S, every_s: float = 0.02):
    return poll_until(read, done, timeout_s, every_s=every_s)


def pactl(env, *args: str) -> str:
    done = subprocess.run(["pactl", *args], env={**env, "LC_ALL": "C"}, capture_output=True,
                          text=True, timeout=10, check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout


def volume_pct(env, sink: str) -> float:
    raw = [int(v) for v in re.findall(r"(\d+) /", pactl(env, "get-sink-volume", sink))]
    return 100.0 * sum(raw) / len(raw) / 65536


def muted(env, sink: str) -> bool:
    return pactl(env, "get-sink-mute", sink).strip() == "Mute: yes"


@pytest.fixture
def sink(pulse):
    """A null sink of this test's own, put back to 100 % and unmuted at the end."""
    name = f"meter{os.getpid()}"
    with null_sink(name):
        try:
            yield name
        finally:
            pactl(pulse, "set-sink-mute", name, "0")
            pactl(pulse, "set-sink-volume", name, "100%")


@pytest.fixture
def meters(pulse):
    """Started meters, closed at the end; each has waited until its first block came in."""
    made = []

    def start(sink: str | None, **options) -> PulseMeter:
        meter = PulseMeter(sink, env=pulse, **options)
        made.append(meter)
        began = time.monotonic()
        meter.start()
        poll(meter.take, lambda r: r.peak_dbfs is not None and r.volume_pct is not None)
        note("started", first_block_s=time.monotonic() - began)
        return meter

    yield start
    for meter in made:
        meter.close()


@contextmanager
def tone(tones, sink: str, env, amplitude: float = TONE_AMPLITUDE, duration_s: float = 20.0):
    """A 440 Hz tone played on ``sink`` until the block ends."""
    path = tones(440, duration_s, amplitude)
    player = subprocess.Popen(["paplay", f"--device={sink}", str(path)], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        yield player
    finally:
        player.terminate()
        player.wait(5)


def peak(meter: PulseMeter) -> float:
    reading = meter.take()
    return -math.inf if reading.peak_dbfs is None else reading.peak_dbfs


def readings_for(meter: PulseMeter, duration_s: float, every_s: float = 0.05) -> list:
    """Every take() over ``duration_s``: a measurement window, not a wait before an action."""
    values, end = [], time.monotonic() + duration_s
    while time.monotonic() < end:
        time.sleep(every_s)
        values.append(meter.take())
    return values


def test_a_tone_reads_its_peak_and_silence_reads_silent(pulse, sink, meters, tones, capfd):
    meter = meters(sink)
    assert peak(meter) < SILENT_DBFS
    with tone(tones, sink, pulse):
        _, onset_s = poll(lambda: peak(meter), lambda db: db > TONE_DBFS - 10)
        steady = [r.peak_dbfs for r in readings_for(meter, 1.0)]
        note("tone", onset_s=onset_s, steady_min_dbfs=min(steady), steady_max_dbfs=max(steady),
             expected_dbfs=TONE_DBFS)
    assert all(abs(db - TONE_DBFS) <= 1.0 for db in steady), steady
    _, tail_s = poll(lambda: peak(meter), lambda db: db < SILENT_DBFS)
    quiet = [r.peak_dbfs for r in readings_for(meter, 0.5)]
    note("silence after the tone", tail_s=tail_s, loudest_dbfs=max(quiet))
    assert max(quiet) < SILENT_DBFS
    captured = capfd.readouterr()
    with capfd.disabled():
        print(captured.out, end="")
    assert captured.err == ""  # no stderr from parec, pactl or the threads


def test_a_quiet_tone_reads_its_own_level(pulse, sink, meters, tones):
    meter = meters(sink)
    expected = 20 * math.log10(round(0.05 * 32767) / 32768)  # -26 dBFS
    with tone(tones, sink, pulse, amplitude=0.05):
        poll(lambda: peak(meter), lambda db: db > expected - 10)
        steady = [r.peak_dbfs for r in readings_for(meter, 0.5)]
    assert all(abs(db - expected) <= 1.0 for db in steady), steady


def test_a_mute_shows_within_two_seconds_and_silences_the_reading(pulse, sink, meters, tones):
    meter = meters(sink)
    with tone(tones, sink, pulse):
        poll(lambda: peak(meter), lambda db: db > TONE_DBFS - 1)
        assert meter.take().muted is False
        pactl(pulse, "set-sink-mute", sink, "1")
        _, seen_s = poll(lambda: meter.take().muted, lambda m: m is True)
        _, silent_s = poll(lambda: peak(meter), lambda db: db < SILENT_DBFS)
        note("mute", seen_s=seen_s, silent_s=seen_s + silent_s)
        assert seen_s < SEE_WITHIN_S
        pactl(pulse, "set-sink-mute", sink, "0")
        _, unmuted_s = poll(lambda: meter.take().muted, lambda m: m is False)
        poll(lambda: peak(meter), lambda db: abs(db - TONE_DBFS) <= 1.0)
    assert unmuted_s < SEE_WITHIN_S


def test_a_volume_change_shows_and_the_room_hears_it(pulse, sink, meters, tones):
    meter = meters(sink)
    with tone(tones, sink, pulse):
        poll(lambda: peak(meter), lambda db: db > TONE_DBFS - 1)
        pactl(pulse, "set-sink-volume", sink, "40%")
        _, seen_s = poll(lambda: meter.take().volume_pct, lambda v: abs(v - 40.0) < 0.1)
        expected = TONE_DBFS + level_to_db(40.0)  # the cubic scale: 40 % is -23.9 dB
        poll(lambda: peak(meter), lambda db: abs(db - expected) <= 1.0)
        steady = [r.peak_dbfs for r in readings_for(meter, 0.5)]
    note("volume 40 %", seen_s=seen_s, expected_dbfs=expected, steady_min_dbfs=min(steady),
         steady_max_dbfs=max(steady))
    assert seen_s < SEE_WITHIN_S
    assert all(abs(db - expected) <= 1.0 for db in steady), steady


def volume_trace(env, sink: str, until, timeout_s: float) -> list[tuple[float, float]]:
    """(monotonic time, volume %) read as fast as pactl answers, until ``until(volume)``."""
    trace, end = [], time.monotonic() + timeout_s
    while time.monotonic() < end:
        before = time.monotonic()
        value = volume_pct(env, sink)
        trace.append(((before + time.monotonic()) / 2, value))
        if until(value):
            return trace
    pytest.fail(f"volume still {trace[-1][1]:.2f} % after {timeout_s} s: {trace[-5:]}")


def test_an_owned_sink_turned_down_rises_back_at_the_rise_limit(pulse, sink, meters):
    rise_db_per_s = 20.0
    meters(sink, own_volume_pct=100.0, rise_db_per_s=rise_db_per_s)
    pactl(pulse, "set-sink-volume", sink, "40%")
    set_at = time.monotonic()
    rise_db = -level_to_db(40.0)  # 23.9 dB on PulseAudio's cubic scale
    timeout_s = pulsemeter.POLL_S + 3 * rise_db / rise_db_per_s + DEADLINE_S
    trace = volume_trace(pulse, sink, lambda v: v >= 99.9, timeout_s)
    steps = [(t, v) for (_, before), (t, v) in pairwise(trace) if abs(v - before) > 0.01]
    gaps = [b - a for (a, _), (b, _) in pairwise(trace)]
    first_t, first_v = steps[0]
    # Each step is set after its due time, and seen at most one read later than it was set.
    least_s = (level_to_db(100.0) - level_to_db(first_v)) / rise_db_per_s - max(gaps)
    note("rise back to 100 %", detected_s=first_t - set_at, rise_s=steps[-1][0] - first_t,
         least_rise_s=least_s, from_set_s=steps[-1][0] - set_at, steps=len(steps),
         largest_read_gap_s=max(gaps))
    print("pulsemeter: steps (s after the set, %): "
          + " ".join(f"{t - set_at:.2f}:{v:.1f}" for t, v in steps))
    assert steps[-1][1] == pytest.approx(100.0, abs=0.1)
    assert steps[-1][0] - first_t >= least_s
    assert steps[-1][0] - set_at >= rise_db / rise_db_per_s - pulsemeter.STEP_S - max(gaps)
    assert all(b >= a for (_, a), (_, b) in pairwise(steps)), steps  # only upwards
    # No jump, nor any stretch faster than the limit: what rose between two reads is at most the
    # time between them plus the one step that may carry time from before the first read.
    slack_s = pulsemeter.MAX_STEP_S + max(gaps)
    too_fast = [(ta, a, tb, b) for i, (ta, a) in enumerate([(set_at, 40.0), *steps])
                for tb, b in steps[i:]
                if level_to_db(b) - level_to_db(a) > rise_db_per_s * (tb - ta + slack_s) + 0.1]
    assert too_fast == []


def test_an_owned_sink_turned_up_is_lowered_at_once(pulse, sink, meters):
    meters(sink, own_volume_pct=100.0)
    pactl(pulse, "set-sink-volume", sink, "120%")
    trace = volume_trace(pulse, sink, lambda v: v <= 100.1, pulsemeter.POLL_S + DEADLINE_S)
    seen = sorted({round(v, 1) for _, v in trace})
    note("lowered from 120 %", after_s=trace[-1][0] - trace[0][0])
    assert set(seen) <= {100.0, 120.0}, seen  # one step down, no ramp


def test_an_owned_sink_muted_is_unmuted_at_the_floor_and_rises(pulse, sink, meters):
    meter = meters(sink, own_volume_pct=100.0)
    pactl(pulse, "set-sink-mute", sink, "1")
    muted_at, trace = time.monotonic(), []
    while not trace or trace[-1][1] or trace[-1][2] < 99.9:
        if time.monotonic() - muted_at > pulsemeter.POLL_S + DEADLINE_S:
            pytest.fail(f"not back at 100 % unmuted: {trace[-5:]}")
        before = time.monotonic()
        state = muted(pulse, sink)  # the mute first: the meter lowers the volume before unmuting
        trace.append((before, state, volume_pct(pulse, sink), time.monotonic()))
    # The meter may answer before our first read (it hears of the mute at once): then the time
    # since the mute is all it had to rise from the floor.
    first_unmuted = next(i for i, (_, m, _, _) in enumerate(trace) if not m)
    at, _, vol, read_end = trace[first_unmuted]
    before = trace[first_unmuted - 1][0] if first_unmuted else muted_at
    floor_db = SILENT_DB + 20.0 * (read_end - before + pulsemeter.MAX_STEP_S)
    note("unmuted", after_s=at - muted_at, volume_when_unmuted_pct=vol,
         back_at_100_s=trace[-1][0] - muted_at)
    assert level_to_db(vol) <= floor_db, trace[max(0, first_unmuted - 2):first_unmuted + 2]
    assert meter.take().muted is False


def test_the_default_sink_is_found_and_read(pulse, meters):
    """``room`` only read, never changed (nor "restored"): other tests may be using it now."""
    meter = meters(None)
    assert meter._sink == "room"
    poll(lambda: (meter.take(), volume_pct(pulse, "room"), muted(pulse, "room")),
         lambda r: r[0].volume_pct == pytest.approx(r[1], abs=0.01) and r[0].muted is r[2])


def test_a_recorder_that_dies_is_started_again(pulse, sink, meters, tones):
    meter = meters(sink)
    with tone(tones, sink, pulse):
        poll(lambda: peak(meter), lambda db: db > TONE_DBFS - 1)
        first = meter._proc
        first.kill()  # our own child, by its pid
        killed_at = time.monotonic()
        _, respawned_s = poll(lambda: meter._proc, lambda p: p is not first)
        _, block_s = poll(lambda: meter._last_block[1], lambda t: t > killed_at)
        poll(lambda: (time.monotonic(), peak(meter)),
             lambda r: r[0] - killed_at > pulsemeter.STALE_S and r[1] > TONE_DBFS - 1)
    note("respawned", respawned_s=respawned_s, first_new_block_s=respawned_s + block_s)

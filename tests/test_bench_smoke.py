"""The benchmarks' analysis on synthetic signals: each figure's arithmetic, not its timing."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # bench/ is not installed
from bench import analysis  # noqa: E402

RATE = analysis.RATE


def tone(freq_hz: float, duration_s: float, amplitude: float = 0.5) -> np.ndarray:
    t = np.arange(int(round(duration_s * RATE))) / RATE
    return amplitude * np.sin(2 * np.pi * freq_hz * t)


def test_tone_envelope_reads_a_steady_tone_exactly():
    env, hop_s = analysis.tone_envelope(tone(1000, 1.0, 0.3), 1000)
    assert hop_s == pytest.approx(44 / RATE)
    assert np.allclose(env, 0.3, atol=1e-9)


def test_tone_envelope_ignores_another_tone():
    env, _ = analysis.tone_envelope(tone(400, 0.5) + tone(600, 0.5, 0.2), 600)
    assert np.allclose(env, 0.2, atol=1e-9)


def test_change_latency_finds_a_step_down_at_its_time():
    x = tone(1000, 2.0)
    step = int(1.230 * RATE)
    x[step:] *= 0.5  # -6 dB at 1.230 s
    env, hop_s = analysis.tone_envelope(x, 1000)
    latency = analysis.change_latency_s(env, hop_s, 0.01, request_s=1.200, direction=-1)
    # The first 10 ms window more than 1 dB down ends a little after the step (at most 10 ms).
    assert 0.030 < latency <= 0.041


def test_change_latency_is_none_when_the_level_moves_the_other_way_or_not_at_all():
    x = tone(1000, 2.0)
    x[int(1.3 * RATE):] *= 0.5
    env, hop_s = analysis.tone_envelope(x, 1000)
    assert analysis.change_latency_s(env, hop_s, 0.01, 1.2, direction=+1) is None
    steady, _ = analysis.tone_envelope(tone(1000, 2.0), 1000)
    assert analysis.change_latency_s(steady, hop_s, 0.01, 1.2, direction=-1) is None


def test_longest_quiet_measures_a_hole_between_tracks():
    x = np.concatenate([tone(300, 1.0), np.zeros(int(0.073 * RATE)), tone(400, 1.0)])
    assert analysis.longest_quiet_s(x) == pytest.approx(0.073, abs=0.002)
    assert analysis.longest_quiet_s(tone(300, 1.0)) == 0.0


def test_largest_step_in_db_and_error_between_envelopes():
    env = np.array([0.5, 0.5, 0.25, 0.25, 0.0005])
    assert analysis.largest_step_db(env) == pytest.approx(6.0206, abs=1e-3)  # 0.0005 is floor
    assert analysis.max_error(env, np.full(5, 0.5)) == pytest.approx(0.4995)


def test_onset_is_the_first_window_above_the_threshold_from_a_time_on():
    env = np.array([0.0, 0.3, 0.0, 0.0, 0.3])
    assert analysis.onset_s(env, 0.01, 0.2) == pytest.approx(0.01)
    assert analysis.onset_s(env, 0.01, 0.2, from_s=0.02) == pytest.approx(0.04)
    assert analysis.onset_s(env, 0.01, 0.5) is None


def test_scale_counts_state_events_split_between_reads_and_never_pings():
    from bench.scale import count_states

    stream = (b"retry: 1000\n\nid: 3\nevent: state\ndata: {}\n\n"
              b'event: ping\ndata: {"epoch":"e","revision":3}\n\nid: 4\nevent: state\ndata: {}\n\n'
              b'event: bye\ndata: {"epoch":"e","revision":4}\n\n')
    for cut in range(len(stream) + 1):
        first, tail = count_states(b"", stream[:cut])
        second, _ = count_states(tail, stream[cut:])
        assert first + second == 2, cut
    assert count_states(b"", b'event: ping\ndata: {}\n\n' * 3)[0] == 0

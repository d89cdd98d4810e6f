"""The audio analysis of the e2e kit, checked on synthetic signals (no sound server needed)."""

from __future__ import annotations

import wave

import numpy as np
import pytest

from soundscape.testing.audio import (RATE, SILENCE_DBFS, first_window_where, longest_quiet_s,
                                      rms_dbfs_windows, tone_amplitudes, write_tone)


def sine(freq_hz: float, duration_s: float, amplitude: float, phase: float = 0.3) -> np.ndarray:
    t = np.arange(int(round(duration_s * RATE))) / RATE
    return amplitude * np.sin(2 * np.pi * freq_hz * t + phase)


def test_each_tone_is_measured_apart_from_the_others():
    mixed = sine(440, 1.0, 0.3) + sine(660, 1.0, 0.1) + sine(880, 1.0, 0.05)
    stereo = np.stack([mixed, mixed], axis=1)
    amps = tone_amplitudes(stereo, [440, 660, 880, 1000])
    assert len(amps[440]) == 20
    np.testing.assert_allclose(amps[440], 0.3, atol=1e-9)
    np.testing.assert_allclose(amps[660], 0.1, atol=1e-9)
    np.testing.assert_allclose(amps[880], 0.05, atol=1e-9)
    np.testing.assert_allclose(amps[1000], 0.0, atol=1e-9)


def test_a_step_in_level_is_located_to_the_hop():
    signal = np.concatenate([sine(440, 0.5, 0.4), sine(440, 0.5, 0.1)])
    amps = tone_amplitudes(signal, [440], hop_s=0.01)[440]
    # A window centred on the step holds half of each level.
    step_s = first_window_where(amps, lambda v: v < 0.2501, hop_s=0.01) + 0.025
    assert step_s == pytest.approx(0.5, abs=0.005 + 1e-9)  # centres lie at 5 ms + 10 ms k
    assert first_window_where(amps, lambda v: v > 0.5, hop_s=0.01) is None
    assert first_window_where(amps, lambda v: v > 0.3, hop_s=0.01, from_s=0.6) is None
    assert first_window_where(amps, lambda v: v > 0.3, hop_s=0.01, from_s=-1.0) == 0.0


def test_rms_levels_in_dbfs():
    full = sine(440, 0.2, 1.0)
    quiet = sine(440, 0.2, 0.01)
    silence = np.zeros(int(0.2 * RATE))
    levels = rms_dbfs_windows(np.concatenate([full, quiet, silence]), 0.05)
    np.testing.assert_allclose(levels[:4], -3.0103, atol=1e-3)
    np.testing.assert_allclose(levels[4:8], -43.0103, atol=1e-3)
    assert list(levels[8:]) == [SILENCE_DBFS] * 4


def test_longest_quiet_finds_the_longest_gap():
    tone = sine(440, 0.5, 0.5)
    gap = lambda s: np.full(int(round(s * RATE)), 1e-4)  # noqa: E731 - -80 dBFS, under -50
    signal = np.concatenate([tone, gap(0.1), tone, gap(0.3), tone])
    assert longest_quiet_s(signal) == pytest.approx(0.3, abs=0.02)
    assert longest_quiet_s(tone) == 0.0
    assert longest_quiet_s(signal, threshold_dbfs=-90) == 0.0


def test_write_tone_makes_a_clickless_stereo_wav(tmp_path):
    path = write_tone(tmp_path / "t.wav", 440, 1.0, amplitude=0.5)
    with wave.open(str(path)) as w:
        assert (w.getnchannels(), w.getsampwidth(), w.getframerate(), w.getnframes()) == \
            (2, 2, RATE, RATE)
        pcm = np.frombuffer(w.readframes(RATE), dtype="<i2").reshape(-1, 2) / 32768.0
    assert np.array_equal(pcm[:, 0], pcm[:, 1])
    assert abs(pcm[0, 0]) < 1e-3 and abs(pcm[-1, 0]) < 1e-3  # starts and ends at zero
    assert np.abs(pcm[: int(0.005 * RATE) // 2, 0]).max() < 0.5 * 0.5  # still ramping up
    np.testing.assert_allclose(tone_amplitudes(pcm, [440])[440][1:-1], 0.5, atol=2e-4)


def test_windows_must_be_whole_frames():
    with pytest.raises(ValueError, match="must be whole frames"):
        tone_amplitudes(np.zeros(RATE), [440], hop_s=0.005)

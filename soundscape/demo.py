"""Built-in demo material: gentle synthesised room music, a loopable noise bed and a test chime.

The shipped playlists (``music_dir: builtin:demo``) and a fresh install play this, so soundscape can
be tried and tested with no music library and no download. Everything is synthesised from fixed
seeds, so two builds give the same bytes, and written once into the user's cache.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import wave
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from soundscape import paths
from soundscape.errors import SoundscapeError

RATE_HZ = 22050  # mono 16-bit: soft pads need no more, and the cache stays ~44 MB
CACHE_NAME = "demo-music-v2"  # bump the suffix whenever the synthesis changes
MUSIC_PEAK_DBFS = -9.0
BED_PEAK_DBFS = -14.0
CHIME_PEAK_DBFS = -12.0
EDGE_S = 1.5  # fade-in/out at each end of a music track, so crossfades blend

D3_HZ = 146.83
# Chords as just-intonation ratios over D3: consonant tones that beat slowly or not at all.
I = (1.0, 5 / 4, 3 / 2)  # D F# A
I_ADD9 = (1.0, 5 / 4, 3 / 2, 9 / 4)  # D F# A E
I_SUS2 = (1.0, 9 / 8, 3 / 2)  # D E A
IV = (4 / 3, 5 / 3, 2.0)  # G B D
IV_ADD9 = (4 / 3, 5 / 3, 2.0, 3.0)  # G B D A
VI = (5 / 6, 1.0, 5 / 4)  # B D F#


@dataclass(frozen=True)
class Piece:
    """How one music track is made; the knobs that set each phase's character."""

    name: str
    duration_s: float
    seed: int
    chords: tuple[tuple[float, ...], ...]
    chord_s: float  # seconds per chord before the next fades in
    octave: float = 1.0  # multiplier on the chord register
    harmonics: int = 3  # overtones per pad tone: more is brighter
    shimmer: float = 0.0  # level of a soft layer two octaves up (peak phases)
    drone: float = 0.6  # level of the low D drone


PIECES: tuple[Piece, ...] = (
    Piece("arrival-1", 75, 11, (I, IV, I_SUS2, IV), 18.0, harmonics=2, drone=0.8),
    Piece("arrival-2", 60, 12, (I_SUS2, VI, IV, I), 15.0, harmonics=2, drone=0.8),
    Piece("onset-1", 80, 21, (I, VI, IV, I_SUS2), 16.0, harmonics=3, shimmer=0.05),
    Piece("onset-2", 80, 22, (VI, IV, I_ADD9, IV), 16.0, octave=1.5, harmonics=3, shimmer=0.05),
    Piece("peak-1", 100, 31, (I_ADD9, IV_ADD9, VI, IV_ADD9), 20.0, octave=2.0, harmonics=4,
          shimmer=0.12, drone=0.5),
    Piece("peak-2", 100, 32, (IV_ADD9, I_ADD9, I_SUS2, VI), 20.0, octave=1.5, harmonics=4,
          shimmer=0.12, drone=0.5),
    Piece("return-1", 80, 41, (IV, I_SUS2, VI, I), 18.0, harmonics=2, shimmer=0.03, drone=0.7),
    Piece("return-2", 70, 42, (VI, IV, I), 20.0, octave=0.75, harmonics=2, drone=0.7),
    Piece("integration-1", 75, 51, (I_SUS2, IV, I), 25.0, octave=0.75, harmonics=1, drone=0.9),
    # The pools either side of a phase's own tracks (intensity 2 and 4), for Softer and Deeper:
    # a low, slow, dark pad for a participant in distress, and a fuller, brighter one.
    Piece("gentle-1", 90, 71, (I_SUS2, IV, I_SUS2, I), 24.0, octave=0.75, harmonics=1, drone=0.9),
    Piece("deep-1", 100, 81, (VI, IV_ADD9, I_ADD9, IV_ADD9), 20.0, octave=2.0, harmonics=5,
          shimmer=0.18, drone=0.6),
)
BED_NAME, BED_DURATION_S, BED_SEED = "ambience-bed", 90.0, 61
CHIME_NAME, CHIME_DURATION_S = "chime", 5.0

# The shipped playlist over this material, the one `soundscape serve` plays when given none.
DEMO_PLAYLIST = Path(__file__).resolve().parent / "playlists" / "demo.yaml"

#: Every file of the demo material and its length in seconds.
DEMO_FILES: dict[str, float] = {
    **{f"{p.name}.wav": float(p.duration_s) for p in PIECES},
    f"{BED_NAME}.wav": BED_DURATION_S,
    f"{CHIME_NAME}.wav": CHIME_DURATION_S,
}


def _samples(duration_s: float) -> int:
    return int(round(duration_s * RATE_HZ))


def _ramp(n: int) -> np.ndarray:
    """0 -> 1 over n samples (raised cosine): starts exactly at 0, so a fade never clicks."""
    return 0.5 - 0.5 * np.cos(np.pi * np.arange(n) / max(n - 1, 1))


def _lfo(t: np.ndarray, rng: np.random.Generator, lo_s: float, hi_s: float) -> np.ndarray:
    """A slow swell between 0 and 1 with a random period in [lo_s, hi_s] and random phase."""
    period_s = rng.uniform(lo_s, hi_s)
    angle = (2 * np.pi / period_s) * t + rng.uniform(0, 2 * np.pi)  # small: float32 is exact enough
    return 0.5 - 0.5 * np.cos(angle.astype(np.float32))


def _osc(f_hz: float, t: np.ndarray, phase: float) -> np.ndarray:
    """sin(2 pi f t + phase), as float32.

    The cycle count is wrapped in float64 first, so float32's fast sine stays accurate even
    minutes into a track (it is ten times faster than float64's here, which keeps a build short).
    """
    cycles = f_hz * t
    frac = (cycles - np.floor(cycles)).astype(np.float32)
    return np.sin(np.float32(2 * np.pi) * frac + np.float32(phase))


def _pad(piece: Piece, n: int, rng: np.random.Generator) -> np.ndarray:
    """Chords of soft sine stacks; each chord crossfades into the next over a few seconds.

    Only the span where a chord sounds is computed, which keeps a whole build to a few seconds.
    """
    out = np.zeros(n, dtype=np.float32)
    seg = _samples(piece.chord_s)
    xfade = _samples(min(8.0, piece.chord_s / 2))
    count = -(-n // seg)
    for k in range(count):
        a, b = max(0, k * seg - xfade // 2), min(n, (k + 1) * seg + xfade // 2)
        t = np.arange(a, b) / RATE_HZ
        sig = np.zeros(b - a, dtype=np.float32)
        for ratio in piece.chords[k % len(piece.chords)]:
            f_hz = D3_HZ * piece.octave * ratio
            swell = 0.6 + 0.4 * _lfo(t, rng, 9.0, 23.0)
            for h in range(1, piece.harmonics + 1):
                if f_hz * h > 4000.0:  # gentle: nothing bright or piercing
                    break
                sig += swell * _osc(f_hz * h, t, rng.uniform(0, 2 * np.pi)) / h**2
            if piece.shimmer:
                sparkle = _lfo(t, rng, 6.0, 14.0) ** 2
                sig += piece.shimmer * sparkle * _osc(4 * f_hz, t, rng.uniform(0, 2 * np.pi))
        env = np.ones(b - a, dtype=np.float32)
        m = min(xfade, b - a)
        if k > 0:  # complementary with the previous chord's fade-out: the sum stays level
            env[:m] = _ramp(xfade)[:m]
        if k < count - 1:
            env[-xfade:] *= 1 - _ramp(xfade)
        out[a:b] += env * sig
    return out


def _drone(n: int, level: float, rng: np.random.Generator) -> np.ndarray:
    """A low D with its fifth; a 0.11 Hz detuned twin makes it breathe."""
    t = np.arange(n) / RATE_HZ
    root_hz = D3_HZ / 2
    sig = np.zeros(n, dtype=np.float32)
    for f_hz, amp in ((root_hz, 1.0), (root_hz + 0.11, 0.7), (root_hz * 3 / 2, 0.35)):
        for h in (1, 2, 3):
            sig += amp * _osc(f_hz * h, t, rng.uniform(0, 2 * np.pi)) / h**2
    return level * sig * (0.7 + 0.3 * _lfo(t, rng, 25.0, 40.0))


def _finish(sig: np.ndarray, peak_dbfs: float, fade_in_s: float, fade_out_s: float) -> np.ndarray:
    """Fade both ends to exactly zero, then scale to the wanted peak."""
    fade_in, fade_out = _samples(fade_in_s), _samples(fade_out_s)
    sig = sig.copy()
    sig[:fade_in] *= _ramp(fade_in)
    sig[-fade_out:] *= _ramp(fade_out)[::-1]
    return sig * (10 ** (peak_dbfs / 20) / np.max(np.abs(sig)))


def synth_piece(piece: Piece) -> np.ndarray:
    """One music track as floats in [-1, 1]."""
    rng = np.random.default_rng(piece.seed)
    n = _samples(piece.duration_s)
    sig = _pad(piece, n, rng) + _drone(n, piece.drone, rng)
    return _finish(sig, MUSIC_PEAK_DBFS, EDGE_S, EDGE_S)


def synth_bed(duration_s: float = BED_DURATION_S, seed: int = BED_SEED) -> np.ndarray:
    """Soft pink/brown noise with a slow sea-like swell, made circular so it loops seamlessly.

    The spectrum is shaped directly and inverted with one FFT, so the noise is periodic over the
    file; the swell makes a whole number of cycles. The file then starts at a zero crossing: its
    last sample flows into its first, and neither end clicks.
    """
    rng = np.random.default_rng(seed)
    n = _samples(duration_s)
    f_hz = np.fft.rfftfreq(n, 1 / RATE_HZ)
    f_safe = np.maximum(f_hz, 1.0)
    shape = (0.4 / np.sqrt(f_safe) + 6.0 / f_safe)  # pink plus brown
    shape *= 1 / (1 + (f_hz / 1500.0) ** 2)  # soften the hiss
    shape *= (f_hz / 40.0) ** 2 / (1 + (f_hz / 40.0) ** 2)  # no rumble
    spectrum = (rng.standard_normal(f_hz.size) + 1j * rng.standard_normal(f_hz.size)) * shape
    spectrum[0] = 0
    noise = np.fft.irfft(spectrum, n)
    t = np.arange(n) / RATE_HZ
    cycles = round(duration_s / 11.0)
    noise *= 0.65 + 0.35 * (0.5 - 0.5 * np.cos(2 * np.pi * cycles * t / duration_s))
    # Start where the wave crosses zero with the smallest step across the seam.
    crossings = np.flatnonzero(np.signbit(noise) != np.signbit(np.roll(noise, 1)))
    seam = crossings[np.argmin(np.maximum(np.abs(noise[crossings]),
                                          np.abs(noise[crossings - 1])))]
    noise = np.roll(noise, -seam)
    return noise * (10 ** (BED_PEAK_DBFS / 20) / np.max(np.abs(noise)))


def synth_chime(duration_s: float = CHIME_DURATION_S) -> np.ndarray:
    """A soft bell on D5: inharmonic partials, each dying away exponentially, higher ones faster."""
    n = _samples(duration_s)
    t = np.arange(n) / RATE_HZ
    sig = np.zeros(n)
    for ratio, amp, tau_s in ((1.0, 1.0, 1.6), (2.01, 0.45, 0.9), (2.76, 0.25, 0.6),
                              (4.07, 0.12, 0.35), (5.40, 0.06, 0.25)):
        sig += amp * np.exp(-t / tau_s) * np.sin(2 * np.pi * 587.33 * ratio * t)
    return _finish(sig, CHIME_PEAK_DBFS, fade_in_s=0.008, fade_out_s=0.3)


def write_wav(path: Path, samples: np.ndarray) -> None:
    """Mono 16-bit PCM; floats are rounded, and were scaled below full scale beforehand."""
    pcm = np.round(np.clip(samples, -1.0, 1.0) * 32767).astype("<i2")
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(RATE_HZ)
        out.writeframes(pcm.tobytes())


def build_demo_music(folder: Path) -> None:
    """Write every demo file into an existing folder."""
    for piece in PIECES:
        write_wav(folder / f"{piece.name}.wav", synth_piece(piece))
    write_wav(folder / f"{BED_NAME}.wav", synth_bed())
    write_wav(folder / f"{CHIME_NAME}.wav", synth_chime())


def demo_music_dir() -> Path:
    """Where the demo material lives: ``$XDG_CACHE_HOME/soundscape/demo-music-v1``."""
    return paths.cache_dir() / CACHE_NAME


def _complete(folder: Path) -> bool:
    return all((folder / name).is_file() for name in DEMO_FILES)


def ensure_demo_music() -> Path:
    """Return the demo material's folder, synthesising it on first use (a few seconds).

    It is built in a temporary folder beside the final one and renamed into place, so a reader
    never sees half a set, and two processes racing both end with the same complete folder.
    """
    final = demo_music_dir()
    if _complete(final):
        return final
    try:
        _build_into_place(final)
    except OSError as exc:
        raise SoundscapeError(
            f"cannot write the demo music to {final}: {exc.strerror or exc}; "
            f"set XDG_CACHE_HOME to a folder you can write to") from exc
    return final


def _build_into_place(final: Path) -> None:
    final.parent.mkdir(parents=True, exist_ok=True)
    building = Path(tempfile.mkdtemp(prefix=f".{CACHE_NAME}.", dir=final.parent))
    try:
        build_demo_music(building)
        building.chmod(0o755)  # mkdtemp makes it private; it is ordinary cache
        if final.exists() and not _complete(final):  # damaged by hand: set it aside
            shutil.rmtree(final, ignore_errors=True)
        try:
            os.rename(building, final)
        except OSError:
            if not _complete(final):  # not a lost race: a real failure
                raise
    finally:
        shutil.rmtree(building, ignore_errors=True)

"""The test-music kit: every format really is what it says, decodes to its shape, and is tagged."""

from pathlib import Path

import mutagen
import numpy as np
import pytest

from soundscape.testing.music import (
    FORMATS,
    HIDDEN_TRACK,
    LFE,
    LIBRARY,
    Shape,
    decode,
    encode,
    samples,
    write_library,
)

SILENT = 1e-4  # -80 dBFS: what "near digital silence" allows a lossy decoder
MARGIN_S = 0.1  # kept from every edge: codecs smear an onset by a few ms (Vorbis by ~20 ms)
# 1 s of lead, then music whose first 4 s are one whole wobble period, a 1 s fade, 1 s of tail.
SHAPE = Shape(lead_s=1.0, music_s=5.0, fade_s=1.0, tail_s=1.0, freq_hz=1000.0)


def _rms_dbfs(pcm: np.ndarray) -> float:
    return float(20 * np.log10(np.sqrt(np.mean(np.square(pcm, dtype=np.float64)))))


def _span(pcm: np.ndarray, rate: int, start_s: float, end_s: float) -> np.ndarray:
    return pcm[round(start_s * rate):round(end_s * rate)]


@pytest.fixture(scope="module")
def encoded(tmp_path_factory) -> dict[str, Path]:
    """SHAPE in every format, titled and with cover art where the format keeps it."""
    folder = tmp_path_factory.mktemp("formats")
    return {name: encode(folder / f"{name}{fmt.suffix}", SHAPE, fmt, title="Tëst title",
                         cover_art=True) for name, fmt in FORMATS.items()}


@pytest.mark.parametrize("name", FORMATS)
def test_each_format_decodes_to_its_shape(encoded, name):
    fmt = FORMATS[name]
    pcm, rate = decode(encoded[name])
    assert (rate, pcm.shape[1]) == (fmt.rate, fmt.channels)
    # Encoder delay and padding are trimmed by the container, except where noted in the report:
    # AAC keeps 616 samples of padding (14 ms), the Xing-less MP3 its 1105-sample delay + padding.
    assert abs(len(pcm) / rate - SHAPE.duration_s) < 0.1


@pytest.mark.parametrize("name", FORMATS)
def test_silences_are_silent_and_music_is_at_its_level(encoded, name):
    pcm, rate = decode(encoded[name])
    lead = _span(pcm, rate, 0.0, SHAPE.audible_start_s - MARGIN_S)
    tail = _span(pcm, rate, SHAPE.audible_end_s + MARGIN_S, SHAPE.duration_s)
    assert np.max(np.abs(lead)) <= SILENT
    assert np.max(np.abs(tail)) <= SILENT
    music = _span(pcm, rate, SHAPE.lead_s + 0.5, SHAPE.lead_s + 4.5)  # one whole wobble
    heard = [c for c in range(music.shape[1]) if not (music.shape[1] == 6 and c == LFE)]
    for channel in heard:
        assert _rms_dbfs(music[:, channel]) == pytest.approx(SHAPE.level_dbfs, abs=1.0)
    fade_end = _span(pcm, rate, SHAPE.audible_end_s - 0.15, SHAPE.audible_end_s - 0.05)
    assert _rms_dbfs(fade_end) < SHAPE.level_dbfs - 40


def _first_mp3_frame(data: bytes) -> bytes:
    """The first 104 bytes of the first MPEG frame (the shortest MPEG-1 Layer III frame at
    44.1 kHz is 104 bytes, so all of them belong to it), after the ID3v2 tag."""
    assert data[:3] == b"ID3"
    size = 10 + sum((b & 0x7F) << (7 * (3 - i)) for i, b in enumerate(data[6:10]))
    assert data[size] == 0xFF and data[size + 1] & 0xE0 == 0xE0, "no frame sync after ID3"
    return data[size:size + 104]


def test_mp3_headers_say_what_the_format_says(encoded):
    assert _first_mp3_frame(encoded["mp3-cbr"].read_bytes())[36:40] == b"Info"
    assert _first_mp3_frame(encoded["mp3-vbr"].read_bytes())[36:40] == b"Xing"
    first = _first_mp3_frame(encoded["mp3-vbr-noxing"].read_bytes())
    assert b"Xing" not in first and b"Info" not in first and b"VBRI" not in first


def test_mutagen_misjudges_a_vbr_mp3_without_xing(tmp_path):
    """Measured: mutagen says ~90 s for this 30 s file. Without a Xing header it multiplies the
    file size by the first frame's bit rate, 32 kbps of silent lead, while the music runs at
    ~96 kbps. With the header it is right to the frame (it counts the encoder's delay and
    padding: 30.04 s)."""
    shape = Shape(lead_s=2.0, music_s=26.0, tail_s=2.0, freq_hz=700.0)
    noxing = encode(tmp_path / "noxing.mp3", shape, FORMATS["mp3-vbr-noxing"])
    xing = encode(tmp_path / "xing.mp3", shape, FORMATS["mp3-vbr"])
    true_s = len(decode(xing)[0]) / 44100
    assert true_s == pytest.approx(30.0, abs=1e-6)
    assert mutagen.File(xing).info.length == pytest.approx(true_s, abs=0.05)
    guessed_s = mutagen.File(noxing).info.length
    assert mutagen.File(noxing).info.bitrate == 32000
    assert 80 < guessed_s < 100


def _pictures(path: Path) -> list[bytes]:
    """The embedded pictures, however the container keeps them."""
    import base64

    from mutagen.flac import Picture

    audio = mutagen.File(path)
    if hasattr(audio, "pictures"):  # FLAC
        return [p.data for p in audio.pictures]
    tags = audio.tags or {}
    if hasattr(tags, "getall"):  # ID3, in MP3 or WAV
        return [apic.data for apic in tags.getall("APIC")]
    if "covr" in tags:  # MP4
        return [bytes(c) for c in tags["covr"]]
    return [Picture(base64.b64decode(b)).data for b in tags.get("metadata_block_picture", [])]


@pytest.mark.parametrize("name", FORMATS)
def test_title_and_cover_art_are_tagged(encoded, name):
    path = encoded[name]
    assert [p[:8] for p in _pictures(path)] == [b"\x89PNG\r\n\x1a\n"]
    if path.suffix == ".wav":  # FFmpeg writes the title as RIFF INFO, which mutagen ignores
        assert b"INAM" in path.read_bytes()[:200]
        assert "Tëst title".encode() in path.read_bytes()[:200]
    else:
        tags = mutagen.File(path, easy=True).tags
        assert tags["title"] == ["Tëst title"]


def test_samples_are_exact_silence_around_the_music():
    pcm = samples(SHAPE, 8000, 2)
    assert pcm.shape == (round(SHAPE.duration_s * 8000), 2) and pcm.dtype == np.float32
    assert not pcm[:8000].any() and not pcm[-8000:].any()
    assert pcm[8000 + 40:8000 + 100].any()  # past the 5 ms edge, the music sounds
    assert np.array_equal(pcm, samples(SHAPE, 8000, 2))  # the same shape, the same samples
    surround = samples(SHAPE, 8000, 6)
    assert not surround[:, LFE].any() and np.array_equal(surround[:, 0], pcm[:, 0])


def test_shapes_refuse_what_cannot_be():
    with pytest.raises(ValueError, match=r"^fade_s 6 is longer than music_s 5$"):
        Shape(music_s=5, fade_s=6)
    with pytest.raises(ValueError, match=r"^gap_at_s 5 must fall inside music_s 5$"):
        Shape(music_s=5, gap_at_s=5, gap_s=1)


def test_the_hidden_track_hides_behind_twenty_silent_seconds(tmp_path):
    pcm, rate = decode(encode(tmp_path / HIDDEN_TRACK.name, HIDDEN_TRACK.shape, HIDDEN_TRACK.fmt))
    assert len(pcm) / rate == pytest.approx(28.0, abs=1e-6)
    assert not _span(pcm, rate, 4.0 + 0.01, 24.0 - 0.01).any()
    assert _rms_dbfs(_span(pcm, rate, 0.5, 3.5)) > -25
    assert _rms_dbfs(_span(pcm, rate, 24.5, 27.5)) > -25


@pytest.fixture(scope="module")
def library(tmp_path_factory) -> list[Path]:
    return write_library(tmp_path_factory.mktemp("library"))


def test_write_library_writes_every_track_in_order(library):
    assert [p.name for p in library] == [t.name for t in LIBRARY]
    assert all(p.is_file() for p in library)
    assert {t.fmt.name for t in LIBRARY} == set(FORMATS)
    assert library[7].name == "Récit — ouverture 01.flac"
    assert mutagen.File(library[7], easy=True)["title"] == ["Récit — ouverture 01"]
    assert [t.name for t in LIBRARY if t.cover_art] == ["02 Breathing.mp3"]
    assert len(_pictures(library[1])) == 1


def test_the_library_is_shaped_for_a_short_session():
    shapes = [t.shape for t in LIBRARY]
    tones = [s.freq_hz for s in shapes + [HIDDEN_TRACK.shape]]
    assert len(set(tones)) == len(tones) and all(f % 20 == 0 for f in tones)
    assert {s.lead_s for s in shapes} == {s.tail_s for s in shapes} == {0.0, 0.5, 2.0, 4.0}
    assert all(3 <= s.fade_s <= 6 for s in shapes if s.fade_s) and sum(s.fade_s > 0
                                                                      for s in shapes) >= 3
    assert all(5 <= s.music_s <= 9 for s in shapes)
    assert 80 < sum(s.duration_s for s in shapes) < 110


def test_each_library_track_decodes_to_its_own_tone(library):
    for track, path in zip(LIBRARY, library):
        pcm, rate = decode(path)
        assert (rate, pcm.shape[1]) == (track.fmt.rate, track.fmt.channels), track.name
        assert abs(len(pcm) / rate - track.shape.duration_s) < 0.1, track.name
        second = _span(pcm, rate, track.shape.lead_s + 1.0, track.shape.lead_s + 2.0)[:, 0]
        spectrum = np.abs(np.fft.rfft(second))
        assert np.argmax(spectrum) * rate / len(second) == pytest.approx(
            track.shape.freq_hz, abs=1.0), track.name

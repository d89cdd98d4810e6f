"""Analysis of real encoded files: decoded length, loudness, cue points, broken files, the cache
and the background analyser.

Every file is encoded by PyAV's own encoders (soundscape/testing/music.py), with their real
encoder delay and padding, once per module. Measured on this test machine (PyAV 18.1, 2 s lead,
6 s of music, 3 s tail; errors are measured - shape):

| format         | duration error | cue-in - lead | cue-out - audible end |
|----------------|----------------|---------------|-----------------------|
| mp3-cbr        | +0.000 s       | -0.200 s      | +0.100 s              |
| mp3-vbr        | +0.000 s       | -0.200 s      | +0.100 s              |
| mp3-vbr-noxing | +0.050 s       | -0.200 s      | +0.200 s              |
| aac-m4a        | +0.006 s       | -0.200 s      | +0.100 s              |
| aac-m4a-5.1    | +0.006 s       | -0.200 s      | +0.100 s              |
| opus, vorbis, flac, flac-24-96, wav-mono-22k, wav-5.1 | 0.000 s | -0.200 s | +0.100 s |

The cue-in is the 0.2 s preroll before the first loud 100 ms part; the cue-out the 0.1 s
postroll after the last one. Without its Xing/LAME header an MP3 keeps LAME's 1105-sample
encoder delay (25 ms) and the padding to a whole 1152-sample frame: 50 ms longer, and every
point 25 ms late, which pushes the end into the next 100 ms part.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import threading
import time
from pathlib import Path

import av
import mutagen
import numpy as np
import pytest

from soundscape.loudness import cache as loudness_cache
from soundscape.loudness import meter
from soundscape.loudness.analyser import Analyser
from soundscape.loudness.cache import CACHE_NAME
from soundscape.loudness.cues import PART_S, POSTROLL_S, PREROLL_S
from soundscape.loudness.meter import Measurement, measure_file
from soundscape.testing.music import FORMATS, HIDDEN_TRACK, Shape, decode, encode

SHAPE = Shape(lead_s=2.0, music_s=6.0, tail_s=3.0, freq_hz=1000.0)
FADE = Shape(lead_s=1.0, music_s=10.0, fade_s=5.0, tail_s=2.0, freq_hz=1000.0)
# Decoded length: the Xing-less MP3 keeps 1105 samples of delay plus padding to a whole frame
# (50 ms, measured); AAC in MP4 keeps 6 ms of its padding; every other format is exact.
LENGTH_SLACK_S = {"mp3-vbr-noxing": 0.06, "aac-m4a": 0.01, "aac-m4a-5.1": 0.01}
EXACT_LENGTH_S = 0.002
# Cue points: the preroll or postroll, plus up to one 100 ms part (an onset or an end anywhere
# in its part), plus 50 ms of codec smear (the Xing-less MP3 is 25 ms late; pre-echo, ringing).
CUE_SLACK_S = PART_S + 0.05
# BS.1770 channel weights: L, R, C 1.0, LFE 0 (it is silent here anyway), surrounds 1.41. The
# same signal in every heard channel of 5.1 is 10*log10(3 + 2*1.41) against stereo's 10*log10(2);
# a mono file counts as dual mono, i.e. as stereo.
SURROUND_GAIN_LU = 10 * math.log10((3 * 1.0 + 2 * 1.41) / 2)  # +4.64 LU
LOSSLESS = {"flac", "flac-24-96", "wav-mono-22k", "wav-5.1"}
LOSSY_LU = 0.5  # measured at most 0.27 LU (mp3-cbr) from the lossless reading
LOSSLESS_LU = 0.1  # measured at most 0.03 LU
# What measure_file says about files it cannot measure, every one of them plain words.
PLAIN_REASONS = {
    "not audio (FFmpeg: Invalid data found when processing input)",
    "not audio (FFmpeg finds no sample rate or channels in it)",
    "it has no audio stream",
    "shorter than one 400 ms measuring block",
}


@pytest.fixture(autouse=True)
def private_cache(tmp_path_factory, monkeypatch):
    """Keep fallback caches (and the analyser worker's, which inherits the environment) out of
    the user's home."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.mktemp("xdg")))


@pytest.fixture(scope="module")
def encoded(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("formats")
    return {name: encode(folder / f"{name}{fmt.suffix}", SHAPE, fmt)
            for name, fmt in FORMATS.items()}


@pytest.fixture(scope="module")
def measured(encoded) -> dict[str, Measurement]:
    return {name: measure_file(path) for name, path in encoded.items()}


@pytest.fixture(scope="module")
def shapes(tmp_path_factory) -> dict[str, Path]:
    """The other files the module needs: a fade, a hidden track, names with cover art."""
    folder = tmp_path_factory.mktemp("shapes")
    files = {
        "fade": encode(folder / "fade.flac", FADE, FORMATS["flac"]),
        "hidden": encode(folder / HIDDEN_TRACK.name, HIDDEN_TRACK.shape, HIDDEN_TRACK.fmt),
    }
    for name in ("mp3-vbr", "aac-m4a", "flac", "opus"):
        fmt = FORMATS[name]
        files[f"cover {name}"] = encode(folder / f"Récit — ouverture ({name}){fmt.suffix}", SHAPE,
                                        fmt, title="Récit — ouverture", cover_art=True)
    return files


def _plain(reason: str | None) -> bool:
    """One short line of words: no traceback, no exception class, no errno, no path."""
    return (reason is not None and "\n" not in reason and len(reason) < 100
            and "Traceback" not in reason and "Errno" not in reason and "Error" not in reason
            and "/" not in reason)


# -- every format -------------------------------------------------------------------------------

@pytest.mark.parametrize("name", FORMATS)
def test_the_decoded_length_is_the_files_true_length(measured, name):
    found = measured[name]
    assert found.error is None and found.stopped is None
    slack = LENGTH_SLACK_S.get(name, EXACT_LENGTH_S)
    assert found.duration_s == pytest.approx(SHAPE.duration_s, abs=slack)


@pytest.mark.parametrize("name", FORMATS)
def test_the_cue_points_bracket_the_music(measured, name):
    found = measured[name]
    lead, end = SHAPE.audible_start_s, SHAPE.audible_end_s
    assert lead - PREROLL_S - CUE_SLACK_S <= found.cue_in_s <= lead
    assert end <= found.cue_out_s <= end + POSTROLL_S + CUE_SLACK_S
    assert (found.fade_s, found.quiet) == (0.0, ())  # it just stops, and has no gap


def test_the_lossless_stereo_reading_is_two_channels_at_the_shapes_level(measured):
    """-18 dBFS RMS in each of two channels: -18 + 3.01 LUFS (a 1 kHz tone is K-weighted by
    +0.69 dB, which BS.1770's -0.691 takes back); the wobble over 6 s (+0.26 dB) and the
    part-filled 400 ms blocks at the edges (-0.2 dB) about cancel: measured +0.06 LU."""
    assert measured["flac"].lufs == pytest.approx(SHAPE.level_dbfs + 10 * math.log10(2), abs=0.3)


@pytest.mark.parametrize("name", FORMATS)
def test_every_format_reads_as_loud_as_bs1770_says_against_the_stereo_flac(measured, name):
    reference = measured["flac"].lufs
    expected = reference + (SURROUND_GAIN_LU if FORMATS[name].channels == 6 else 0.0)
    found = measured[name]
    assert math.isfinite(found.lufs) and math.isfinite(found.true_peak_dbtp)
    slack = LOSSLESS_LU if name in LOSSLESS else LOSSY_LU
    assert found.lufs == pytest.approx(expected, abs=slack)
    # The tone's peak is its RMS + 3.01 dB, + 1 dB at the top of the wobble: -14 dBFS.
    assert found.true_peak_dbtp == pytest.approx(SHAPE.level_dbfs + 3.01 + 1.0, abs=0.6)


def test_a_xing_less_vbr_mp3_gets_its_true_length_where_its_header_guesses_wrong(encoded,
                                                                                measured):
    """Without the Xing frame, a header-based length is the file size over the first frame's
    bit rate (measured: 25.1 s for an 11 s file); the decode knows better."""
    header_s = mutagen.File(encoded["mp3-vbr-noxing"]).info.length
    assert abs(header_s - SHAPE.duration_s) > 5.0
    assert measured["mp3-vbr-noxing"].duration_s == pytest.approx(SHAPE.duration_s, abs=0.06)


# -- shapes -------------------------------------------------------------------------------------

def test_a_natural_fade_is_found_and_its_inaudible_end_cut(shapes):
    """A 5 s fade to -60 dB falls 12 dB/s: it passes the cue-out floor (I-42 LU, about 42.5 dB
    down) about 3.5 s in, and I-6 LU after about 1 s: a fade of about 2.5 s (measured 2.5 s,
    cue-out 9.7 s)."""
    found = measure_file(shapes["fade"])
    fade_starts_s = FADE.audible_end_s - FADE.fade_s
    assert found.cue_in_s == pytest.approx(FADE.lead_s - PREROLL_S, abs=CUE_SLACK_S)
    assert fade_starts_s + 3.0 <= found.cue_out_s <= fade_starts_s + 4.0
    assert 2.0 < found.fade_s < 3.0
    assert found.duration_s == FADE.duration_s


def test_the_hidden_tracks_gap_is_a_quiet_span_where_it_is(shapes):
    shape = HIDDEN_TRACK.shape
    found = measure_file(shapes["hidden"])
    assert (found.cue_in_s, found.cue_out_s) == (0.0, shape.duration_s)
    [(start_s, end_s)] = found.quiet
    assert start_s == pytest.approx(shape.gap_at_s, abs=PART_S)
    assert end_s == pytest.approx(shape.gap_at_s + shape.gap_s, abs=PART_S)


@pytest.mark.parametrize("name", ["mp3-vbr", "aac-m4a", "flac", "opus"])
def test_cover_art_and_a_non_ascii_name_with_spaces_change_nothing(shapes, measured, name):
    path = shapes[f"cover {name}"]
    assert " " in path.name and not path.name.isascii()
    assert measure_file(path) == measured[name]


# -- broken files -------------------------------------------------------------------------------

def _truncated(path: Path, folder: Path, fraction: float = 0.4) -> Path:
    data = path.read_bytes()
    cut = folder / f"cut {path.name}"
    cut.write_bytes(data[:int(len(data) * fraction)])
    return cut


def _heard_until_damage_s(path: Path) -> float:
    """What an FFmpeg-based player decodes before the damage: PyAV's decode, up to its first
    error."""
    frames = 0
    with av.open(str(path)) as container:
        stream = container.streams.audio[0]
        try:
            for frame in container.decode(stream):
                frames += frame.samples
        except av.FFmpegError:
            pass
        return frames / stream.codec_context.sample_rate


def test_a_truncated_mp3_measures_the_part_that_is_there(encoded, measured, tmp_path):
    cut = _truncated(encoded["mp3-cbr"], tmp_path)
    found = measure_file(cut)
    pcm, rate = decode(cut)
    assert found.error is None
    assert found.duration_s == pytest.approx(len(pcm) / rate, abs=0.001)
    # CBR: 40 % of the bytes is 40 % of the time (measured 4.39 s of 11 s).
    assert found.duration_s == pytest.approx(0.4 * SHAPE.duration_s, abs=0.2)
    assert found.cue_out_s == found.duration_s  # it is cut off mid-music
    assert found.lufs == pytest.approx(measured["mp3-cbr"].lufs, abs=0.5)


def test_a_truncated_flac_says_decoding_stopped_and_measures_what_decoded(encoded, tmp_path):
    cut = _truncated(encoded["flac"], tmp_path)
    found = measure_file(cut)
    assert found.error is None
    assert found.stopped == "decoding stopped: Invalid data found when processing input"
    assert found.duration_s == pytest.approx(_heard_until_damage_s(cut), abs=0.001)
    # The silent lead compresses to almost nothing, so 40 % of the bytes is most of the music
    # (measured 4.18 s): shorter than the file, longer than its lead.
    assert SHAPE.lead_s < found.duration_s < SHAPE.duration_s - 1.0
    assert found.cue_out_s == found.duration_s


def _top_level_atoms(data: bytes) -> list[bytes]:
    atoms, at = [], 0
    while at + 8 <= len(data):
        size = int.from_bytes(data[at:at + 4], "big")
        atoms.append(data[at + 4:at + 8])
        if size < 8:
            break
        at += size
    return atoms


def test_a_truncated_m4a_whose_index_was_at_the_end_is_not_audio(encoded, tmp_path):
    atoms = _top_level_atoms(encoded["aac-m4a"].read_bytes())
    assert atoms.index(b"moov") > atoms.index(b"mdat")  # the premise: moov comes last
    found = measure_file(_truncated(encoded["aac-m4a"], tmp_path))
    assert (found.lufs, found.duration_s) == (None, None)
    assert found.error == "not audio (FFmpeg: Invalid data found when processing input)"


def test_random_bytes_named_mp3_are_not_audio(tmp_path):
    path = tmp_path / "noise.mp3"
    path.write_bytes(np.random.default_rng(0).bytes(200_000))
    found = measure_file(path)
    assert found.lufs is None
    assert found.error in PLAIN_REASONS


@pytest.mark.parametrize("suffix", [".mp3", ".flac", ".m4a", ".wav"])
def test_an_empty_file_is_not_audio(tmp_path, suffix):
    path = tmp_path / f"empty{suffix}"
    path.write_bytes(b"")
    found = measure_file(path)
    assert (found.lufs, found.duration_s) == (None, None)
    assert found.error in PLAIN_REASONS


def test_a_folder_and_a_missing_path_say_so(tmp_path):
    folder = tmp_path / "album.flac"
    folder.mkdir()
    assert measure_file(folder).error == "it is a folder, not a file"
    missing = measure_file(tmp_path / "gone.flac")
    assert missing.error == "cannot read it (No such file or directory)"


def test_every_broken_file_gets_a_reason_in_plain_words(encoded, tmp_path):
    (tmp_path / "empty.mp3").write_bytes(b"")
    (tmp_path / "noise.mp3").write_bytes(np.random.default_rng(0).bytes(200_000))
    (tmp_path / "folder").mkdir()
    paths = [tmp_path / "empty.mp3", tmp_path / "noise.mp3", tmp_path / "folder",
             tmp_path / "missing.ogg", _truncated(encoded["aac-m4a"], tmp_path)]
    for path in paths:
        reason = measure_file(path).error
        assert _plain(reason), (path.name, reason)
    assert _plain(measure_file(_truncated(encoded["flac"], tmp_path)).stopped)


# -- the cache ----------------------------------------------------------------------------------

@pytest.fixture
def library(tmp_path, encoded, shapes) -> list[Path]:
    """A folder of its own (the cache is written beside the tracks): a plain track, the fade and
    the hidden track (so fades and quiet spans go through the cache), and a broken file."""
    folder = tmp_path / "music"
    folder.mkdir()
    paths = [Path(shutil.copy2(p, folder)) for p in
             (encoded["flac"], encoded["mp3-vbr"], shapes["fade"], shapes["hidden"])]
    (folder / "broken.m4a").write_bytes(b"\0" * 1000)
    return paths + [folder / "broken.m4a"]


class DecodeRecorder:
    """Stands in for meter.open_decoding: records each path, then decodes it (or refuses)."""

    def __init__(self, refuse: bool = False):
        self.paths: list[Path] = []
        self.refuse = refuse
        self.real = meter.open_decoding

    def __call__(self, path, *args, **kwargs):
        self.paths.append(Path(path))
        if self.refuse:
            raise AssertionError(f"decoded {path} although it is cached")
        return self.real(path, *args, **kwargs)


def test_a_second_measure_reads_the_cache_and_never_decodes(library, monkeypatch):
    first = loudness_cache.measure(library)
    assert first == {path: measure_file(path) for path in library}
    assert (library[0].parent / CACHE_NAME).is_file()
    assert first[library[2]].fade_s > 2.0 and len(first[library[3]].quiet) == 1
    monkeypatch.setattr(meter, "open_decoding", DecodeRecorder(refuse=True))
    assert loudness_cache.measure(library) == first
    assert loudness_cache.cached(library) == first


def test_cached_never_decodes_a_file_not_yet_measured(library, monkeypatch):
    monkeypatch.setattr(meter, "open_decoding", DecodeRecorder(refuse=True))
    assert loudness_cache.cached(library) == {path: None for path in library}


def test_a_changed_file_is_measured_again(library, shapes, monkeypatch):
    track = library[0]
    loudness_cache.measure(library)
    expected = {"same": measure_file(track), "new": measure_file(shapes["fade"])}
    recorder = DecodeRecorder()
    monkeypatch.setattr(meter, "open_decoding", recorder)
    stat = track.stat()
    os.utime(track, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))  # touched, same content
    assert loudness_cache.measure(library)[track] == expected["same"]
    assert recorder.paths == [track]  # and only it: the others are unchanged
    shutil.copyfile(shapes["fade"], track)  # new content under the old name
    os.utime(track, ns=(stat.st_atime_ns, stat.st_mtime_ns + 2 * 10**9))
    again = loudness_cache.measure(library)[track]
    assert recorder.paths == [track, track]
    assert again == expected["new"] and again.fade_s > 2.0


# -- the background analyser --------------------------------------------------------------------

def _children_running(name: str = "soundscape.loudness.analyser") -> set[int]:
    """Processes of ours running the analyser worker (zombies have no command line)."""
    me, found = os.getpid(), set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            cmdline = (entry / "cmdline").read_bytes()
        except (OSError, IndexError, ValueError):
            continue
        if ppid == me and name.encode() in cmdline:
            found.add(int(entry.name))
    return found


def _cached_names(folder: Path) -> list[str]:
    return sorted(json.loads((folder / CACHE_NAME).read_text(encoding="utf-8"))["files"])


class Heard:
    """Records what an Analyser reports, from its reader thread."""

    def __init__(self):
        self.results: list[tuple[Path, Measurement]] = []
        self.done = 0
        self.first = threading.Event()
        self.lock = threading.Lock()

    def on_result(self, path, found):
        with self.lock:
            self.results.append((path, found))
        self.first.set()

    def on_done(self, error=None):
        self.error = error
        with self.lock:
            self.done += 1


def test_the_analyser_reports_every_file_as_measure_file_would_and_caches_them(library):
    paths = [library[0], library[0].parent / "missing.flac", library[3]]
    heard = Heard()
    analyser = Analyser(paths, heard.on_result, heard.on_done).start()
    try:
        assert analyser.wait(30.0)
    finally:
        analyser.close()
    assert heard.done == 1
    assert dict(heard.results) == {path: measure_file(path) for path in paths}
    assert [path for path, _ in heard.results] == paths  # in the order given
    assert analyser.error is None
    files = _cached_names(library[0].parent)
    assert files == sorted([library[0].name, library[3].name])  # not the missing one
    assert not _children_running()


def test_closing_the_analyser_while_it_decodes_a_long_file_stops_it_at_once(tmp_path, encoded):
    folder = tmp_path / "long"
    folder.mkdir()
    short = Path(shutil.copy2(encoded["flac"], folder))
    long = encode(folder / "long.flac", Shape(music_s=120.0, freq_hz=500.0), FORMATS["flac"])
    heard = Heard()
    analyser = Analyser([short, long], heard.on_result, heard.on_done).start()
    try:
        assert heard.first.wait(30.0), "the worker reported nothing"
        workers = _children_running()
        assert len(workers) == 1
        started = time.monotonic()
        analyser.close()  # the worker has just begun the 120 s file (about 1 s of decoding)
        closed_in_s = time.monotonic() - started
    finally:
        analyser.close()
    assert closed_in_s < 1.5
    assert [path for path, _ in heard.results] == [short]
    assert not any(Path(f"/proc/{pid}").exists() for pid in workers)  # gone, and reaped
    assert not _children_running()
    assert analyser.wait(2.0) and heard.done == 1
    # "It saves what it has": the short file's result is in the cache.
    assert _cached_names(folder) == [short.name]


def test_a_damaged_packet_in_the_middle_is_skipped_not_the_end_of_the_track(tmp_path):
    """600 garbage bytes half-way into an MP3: players skip the damage and play on (libVLC
    does), and so does the analysis: the track keeps its length."""
    whole = encode(tmp_path / "whole.mp3", Shape(music_s=40.0), FORMATS["mp3-cbr"])
    data = bytearray(whole.read_bytes())
    middle = len(data) // 2
    data[middle:middle + 600] = bytes(range(256)) * 2 + bytes(88)
    damaged = tmp_path / "damaged.mp3"
    damaged.write_bytes(bytes(data))
    found = measure_file(damaged)
    assert found.error is None and found.duration_s > 39.0, found
    assert found.stopped is None


def test_a_worker_that_dies_says_so_and_the_files_it_left_are_named(tmp_path, monkeypatch):
    """The worker cannot even import its decoder: on_done hears why, with how far it got."""
    path = encode(tmp_path / "a.flac", Shape(music_s=2.0), FORMATS["flac"])
    broken = tmp_path / "broken"
    (broken / "av").mkdir(parents=True)
    (broken / "av" / "__init__.py").write_text("raise SystemExit(3)\n")
    monkeypatch.setenv("PYTHONPATH", str(broken))
    heard = Heard()
    analyser = Analyser([path], heard.on_result, heard.on_done).start()
    assert analyser.wait(30)
    analyser.close()
    assert heard.done == 1
    assert heard.error is not None and heard.error.startswith("the analyser stopped after 0 of 1")

"""Transitions over silent tails, silent leads and a long fade: the longest silence heard and the
overlap, soundscape against MPD (crossfade, MixRamp) and libVLC's MediaListPlayer, same files."""

from __future__ import annotations

import itertools
import json
import os
import re
import shutil
import socket
import subprocess
import time
from pathlib import Path

import numpy as np

from bench import kit
from bench.kit import RATE, Recorder, Section, fmt, log
from soundscape.testing import music as test_music
from soundscape.testing.audio import rms_dbfs_windows
from soundscape.testing.music import FORMATS, LibraryTrack, Shape

SILENCE_DBFS = -50.0
WINDOW_S = 0.1  # "longest silence": back-to-back windows of this length below SILENCE_DBFS
TONE_WINDOW_S, TONE_HOP_S = 0.05, 0.01
LEVEL_DBFS = -9.0  # each tone's RMS
CROSSFADE_S = 4.0
MIXRAMP_DB, MIXRAMP_DELAY_S = -17.0, 1.0  # the values MPD's manual gives as examples
MIXRAMP_LEVELS = (-60, -50, -40, -30, -20, -17, -14, -11)
AFTER_LAST_S = 5.0  # how long the last track is heard before the recording stops


def _track(name: str, freq_hz: float, **shape) -> LibraryTrack:
    return LibraryTrack(name, Shape(freq_hz=freq_hz, level_dbfs=LEVEL_DBFS, **shape),
                        FORMATS["flac"])


# MPD never crossfades a song shorter than 20 s (MIN_TOTAL_TIME in its player/CrossFade.hxx):
# every file is 21 s, and all are 16-bit 44.1 kHz FLAC, because MPD does not crossfade between
# songs of different audio formats either.
TRACKS = (_track("1-tail.flac", 300, music_s=17.0, tail_s=4.0),
          _track("2-lead-fade-tail.flac", 400, lead_s=2.0, music_s=15.0, fade_s=5.0, tail_s=4.0),
          _track("3-plain.flac", 500, music_s=21.0))


def mixramp_tags(signal: np.ndarray) -> tuple[str, str]:
    """MIXRAMP_START and MIXRAMP_END as MPD reads them ("dB seconds;..."): when each level is
    first reached from the start, and last left before the end (50 ms RMS windows)."""
    db = rms_dbfs_windows(signal, 0.05)
    start, end = [], []
    for level in MIXRAMP_LEVELS:
        hits = np.nonzero(db >= level)[0]
        if len(hits):
            start.append(f"{level:.2f} {hits[0] * 0.05:.2f}")
            end.append(f"{level:.2f} {(len(db) - 1 - hits[-1]) * 0.05:.2f}")
    return ";".join(start), ";".join(end)


def _write(folder: Path) -> tuple[Path, Path]:
    """The tracks as FLAC in ``music/`` (the tests' test music), and with MixRamp tags in
    ``tagged/``."""
    from mutagen.flac import FLAC

    music = test_music.write_library(folder / "music", TRACKS)[0].parent
    tagged = folder / "tagged"
    tagged.mkdir(parents=True, exist_ok=True)
    for track in TRACKS:
        start, end = mixramp_tags(test_music.samples(track.shape, RATE, 2))
        copy = shutil.copyfile(music / track.name, tagged / track.name)
        audio = FLAC(copy)
        audio["MIXRAMP_START"], audio["MIXRAMP_END"] = start, end
        audio.save()
    return music, tagged


def tone_levels(samples: np.ndarray, freqs: list[float]) -> dict[float, np.ndarray]:
    """Each tone's amplitude in Hann-windowed TONE_WINDOW_S windows every TONE_HOP_S.

    Not the rectangular single bin of ``tone_amplitudes``: libVLC resamples its output to follow
    the sink's clock, so a 300 Hz tone comes out 1-2 Hz low and, in a rectangular window, leaks
    -35 dB into the next tone's bin, above the -50 dBFS floor. Hann sidelobes do not.
    """
    x = np.asarray(samples, dtype=np.float64)
    x = x.mean(axis=1) if x.ndim == 2 else x
    size, hop = round(TONE_WINDOW_S * RATE), round(TONE_HOP_S * RATE)
    if len(x) < size:
        return {f: np.zeros(0) for f in freqs}
    windows = np.lib.stride_tricks.sliding_window_view(x, size)[::hop]
    hann = np.hanning(size)
    n = np.arange(size)
    return {f: 2.0 / hann.sum() * np.abs(windows @ (hann * np.exp(-2j * np.pi * f * n / RATE)))
            for f in freqs}


def _sustained(mask: np.ndarray, min_s: float = 0.2) -> np.ndarray:
    """``mask`` without its runs shorter than ``min_s``: a click (a track's first or last
    sample, a stop) leaks into every tone's bin for a window or two, and is not that tone."""
    edges = np.diff(np.concatenate(([0], mask.astype(np.int8), [0])))
    out = np.zeros_like(mask, dtype=bool)
    for start, stop in zip(np.nonzero(edges == 1)[0], np.nonzero(edges == -1)[0]):
        if (stop - start) * TONE_HOP_S >= min_s:
            out[start:stop] = True
    return out


def measure(samples: np.ndarray) -> dict:
    """Longest silence between the first and last sound (100 ms windows below -50 dBFS), and per
    transition the silence and overlap of the two tones (each above -50 dBFS for 0.2 s or more, in
    50 ms Hann windows)."""
    db = rms_dbfs_windows(samples, WINDOW_S)
    loud = np.nonzero(db >= SILENCE_DBFS)[0]
    result = {"longest_s": float("nan"), "heard": [], "silence_s": [], "overlap_s": []}
    if not len(loud):
        return result
    quiet = np.concatenate(([0], (db[loud[0]:loud[-1] + 1] < SILENCE_DBFS).astype(np.int8), [0]))
    edges = np.diff(quiet)
    runs = np.nonzero(edges == -1)[0] - np.nonzero(edges == 1)[0]
    result["longest_s"] = float(runs.max() * WINDOW_S) if len(runs) else 0.0
    amps = tone_levels(samples, [t.shape.freq_hz for t in TRACKS])
    floor = np.sqrt(2) * 10 ** (SILENCE_DBFS / 20)  # a sine's peak at -50 dBFS RMS
    audible = [_sustained(amps[t.shape.freq_hz] > floor) for t in TRACKS]
    result["heard"] = [bool(a.any()) for a in audible]
    for a, b in itertools.pairwise(audible):
        if not (a.any() and b.any()):
            result["silence_s"].append(float("nan"))
            result["overlap_s"].append(float("nan"))
            continue
        last_a, first_b = np.nonzero(a)[0][-1], np.nonzero(b)[0][0]
        result["silence_s"].append(max(0.0, (first_b - last_a - 1) * TONE_HOP_S))
        result["overlap_s"].append(float((a & b).sum() * TONE_HOP_S))
    return result


class Mpd:
    """A private ``mpd`` (its own config, database and port in ``folder``) playing to ``sink``,
    driven over its text protocol."""

    def __init__(self, folder: Path, music: Path, sink: str):
        folder.mkdir(parents=True, exist_ok=True)
        self.port = kit.free_port()
        conf = folder / "mpd.conf"
        conf.write_text("\n".join([
            f'music_directory "{music}"', f'db_file "{folder / "db"}"',
            f'state_file "{folder / "state"}"', f'pid_file "{folder / "pid"}"',
            'bind_to_address "127.0.0.1"', f'port "{self.port}"', 'auto_update "no"',
            'zeroconf_enabled "no"', 'replaygain "off"', 'log_level "verbose"',
            'audio_output {', '  type "pulse"', '  name "bench"', f'  sink "{sink}"',
            '  mixer_type "none"', '}']) + "\n")
        self.log = (folder / "mpd.log").open("wb")
        self.proc = subprocess.Popen(["mpd", "--no-daemon", "--stderr", str(conf)],
                                     env=kit.pulse_env(), stdin=subprocess.DEVNULL,
                                     stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 10
        while True:
            try:
                self.sock = socket.create_connection(("127.0.0.1", self.port), timeout=5)
                break
            except OSError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    self.close()
                    raise RuntimeError(f"mpd did not start: {self._log_tail()}") from None
                time.sleep(0.1)
        self.reader = self.sock.makefile("rb")
        greeting = self.reader.readline().decode()
        if not greeting.startswith("OK MPD"):
            raise RuntimeError(f"not an MPD greeting: {greeting!r}")

    def _log_tail(self) -> str:
        self.log.flush()
        return Path(self.log.name).read_text(errors="replace")[-400:]

    def command(self, line: str) -> dict[str, str]:
        self.sock.sendall(line.encode() + b"\n")
        answer = {}
        while True:
            reply = self.reader.readline().decode().rstrip("\n")
            if reply == "OK":
                return answer
            if reply.startswith("ACK") or not reply:
                raise RuntimeError(f"mpd refused {line!r}: {reply or 'connection closed'}")
            key, _, value = reply.partition(": ")
            answer[key] = value

    def load(self, tracks: list[str]) -> None:
        self.command("update")
        deadline = time.monotonic() + 20
        while "updating_db" in self.command("status"):
            if time.monotonic() > deadline:
                raise RuntimeError("mpd's database update took more than 20 s")
            time.sleep(0.1)
        self.command("clear")
        for name in tracks:
            self.command(f'add "{name}"')

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


def _mpd(folder: Path, music: Path, sink: str, settings: list[str]) -> tuple[np.ndarray, str]:
    """MPD playing the tracks in order with ``settings`` (protocol commands), recorded until the
    last track has played AFTER_LAST_S."""
    mpd = Mpd(folder, music, sink)
    try:
        mpd.load([t.name for t in TRACKS])
        for line in ("repeat 0", "random 0", "single 0", "consume 0", *settings):
            mpd.command(line)
        with Recorder(device=f"{sink}.monitor") as rec:
            time.sleep(0.3)
            mpd.command("play 0")
            deadline = time.monotonic() + sum(t.shape.duration_s for t in TRACKS) + 15
            while time.monotonic() < deadline:
                status = mpd.command("status")
                if status.get("state") == "stop" or (
                        status.get("song") == str(len(TRACKS) - 1)
                        and float(status.get("elapsed", 0)) >= AFTER_LAST_S):
                    break
                time.sleep(0.1)
            mpd.command("stop")
            time.sleep(0.2)
    finally:
        mpd.close()
    note = ""
    if any(line.startswith("mixrampdelay") and "nan" not in line for line in settings):
        overlaps = re.findall(r"cross_fade: will overlap \d+ chunks, ([\d.]+)s",
                              (folder / "mpd.log").read_text(errors="replace"))
        note = (f"MPD's log: MixRamp overlap computed at {len(overlaps)} of {len(TRACKS) - 1} "
                f"transitions{': ' if overlaps else ''}"
                f"{', '.join(f'{float(o):.1f} s' for o in overlaps)}")
    return rec.samples, note


def _play_s(crossfade_s: float) -> float:
    """How long a player needs for every track but the last, crossfaded, plus AFTER_LAST_S."""
    heads = sum(t.shape.duration_s for t in TRACKS[:-1])
    return heads - crossfade_s * (len(TRACKS) - 1) + AFTER_LAST_S


def _wait_for_start(logs: Path, proc: subprocess.Popen, timeout_s: float) -> str:
    """Wait for the session log's first track_start: "" then, else why not."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return f"soundscape exited with status {proc.returncode}"
        if any('"event": "track_start"' in p.read_text() for p in logs.glob("*.jsonl")):
            return ""
        time.sleep(0.1)
    return f"no track started within {timeout_s:g} s"


def _soundscape(folder: Path, music: Path, sink: str, crossfade_s: float,
                name: str) -> tuple[np.ndarray, str]:
    """``soundscape play`` of one phase of the tracks, as bench/gaps.py runs it, once
    ``soundscape analyze`` has measured them (as MPD's ``update`` reads them first): the
    recording, and what went wrong ("" if nothing did)."""
    room = folder / "room.yaml"
    room.write_text("ceiling: 100%\nrise_rate: 200dB/s\n")
    home = folder / f"home-{name}"
    env = kit.isolated_env(home)
    analysed = subprocess.run([kit.SOUNDSCAPE, "analyze", "--json", str(music)], env=env,
                              capture_output=True, text=True, timeout=120, check=False)
    lufs = [e["lufs"] for e in json.loads(analysed.stdout or "[]") if e.get("lufs") is not None]
    if lufs:  # played at the level they were made at, as the other players play them
        room.write_text(room.read_text() + f"loudness_target: {np.mean(lufs):.1f}LUFS\n")
    playlist = kit.one_phase_playlist(music, name, [t.name for t in TRACKS],
                                      crossfade_s=crossfade_s, when_short="silence")
    cmd = [kit.SOUNDSCAPE, "play", str(playlist), "--output", "pulse", "--device", sink,
           "--room", str(room), "--resume", "no", "--log-dir", str(home / "logs"), "--seed", "1"]
    (home / "logs").mkdir(parents=True, exist_ok=True)
    stderr = home / "stderr.txt"
    with Recorder(device=f"{sink}.monitor") as rec, stderr.open("wb") as err:
        proc = subprocess.Popen(cmd, env=env, stdin=subprocess.DEVNULL,
                                stdout=subprocess.DEVNULL, stderr=err)
        try:
            problem = _wait_for_start(home / "logs", proc, 30.0)
            if not problem:
                time.sleep(_play_s(crossfade_s) + 1.0)
        finally:
            proc.terminate()
            proc.wait(15)
    if problem:
        problem += ": " + " ".join(stderr.read_text(errors="replace").split())[-300:]
    return rec.samples, problem


def _media_list_player(music: Path, sink: str) -> tuple[np.ndarray, str]:
    """A python-vlc MediaListPlayer of the tracks, as bench/gaps.py runs it."""
    import vlc

    os.environ["PULSE_SINK"] = sink  # every track opens a stream of its own (see bench/gaps.py)
    instance = vlc.Instance(["--aout=pulse", "--no-video", "--quiet"])
    mlp = instance.media_list_player_new()
    player = instance.media_player_new()
    mlp.set_media_player(player)
    mlp.set_media_list(instance.media_list_new([str(music / t.name) for t in TRACKS]))
    try:
        with Recorder(device=f"{sink}.monitor") as rec:
            time.sleep(0.3)
            mlp.play()
            time.sleep(_play_s(0.0) + 1.5)
            mlp.stop()
    finally:
        player.release()
        mlp.release()
        instance.release()
        del os.environ["PULSE_SINK"]
    return rec.samples, ""


def _cells(found: dict | None, missing: str) -> list[str]:
    if found is None:
        return [missing, "", ""]
    if not found["heard"]:
        return [f"nothing heard {found['problem']}".strip(), "n/a", "n/a"]
    cells = [fmt(found["longest_s"], 1)]
    for silence, overlap in zip(found["silence_s"], found["overlap_s"]):
        cells.append(f"{fmt(silence, 2)} / {fmt(overlap, 2)}")
    if not all(found["heard"]):
        cells[0] += f" (tracks heard: {sum(found['heard'])} of {len(TRACKS)})"
    if found["problem"]:
        cells[0] += f" ({found['problem']})"
    return cells


def run(work: Path) -> Section:
    work.mkdir(parents=True, exist_ok=True)
    music, tagged = _write(work)
    have_mpd = shutil.which("mpd") is not None
    if not have_mpd and os.environ.get("CI") == "true":
        raise RuntimeError("mpd is not installed (make bench installs it with apt-get)")
    missing_mpd = "mpd is not installed: not measured (`apt-get install mpd`, or `make bench`)"
    xfade = f"crossfade {CROSSFADE_S:g}"
    mixramp = [xfade, f"mixrampdb {MIXRAMP_DB:g}", f"mixrampdelay {MIXRAMP_DELAY_S:g}"]
    runs = [  # key, player, settings as shown, how, what it is given, the files
        ("mpd", f"MPD crossfade {CROSSFADE_S:g} s", f"`{xfade}`", "mpd",
         [xfade, "mixrampdelay nan"], music),
        ("mpd-mixramp", "MPD MixRamp, files without MixRamp tags",
         ", ".join(f"`{c}`" for c in mixramp), "mpd", mixramp, music),
        ("mpd-mixramp-tags", "MPD MixRamp, files with MixRamp tags (written by the bench)",
         "the same", "mpd", mixramp, tagged),
        ("mlp", "libVLC MediaListPlayer (python-vlc)", "none (plays files back to back)", "mlp",
         [], music),
        ("ss", f"soundscape play, crossfade {CROSSFADE_S:g} s", f"`crossfade: {CROSSFADE_S:g}s`",
         "soundscape", [CROSSFADE_S], music),
        ("ss0", "soundscape play, crossfade 0 s", "`crossfade: 0s`", "soundscape", [0.0], music),
    ]
    found: dict[str, dict | None] = {}
    with kit.bench_sink(f"bench_mpdgap_{os.getpid()}") as sink:
        for key, label, _, how, settings, files in runs:
            if how == "mpd" and not have_mpd:
                found[key] = None
                continue
            log(f"mpd_gaps: {label}")
            if how == "mpd":
                samples, problem = _mpd(work / key, files, sink, settings)
            elif how == "mlp":
                samples, problem = _media_list_player(files, sink)
            else:
                samples, problem = _soundscape(work, files, sink, settings[0], key)
            found[key] = {**measure(samples), "problem": problem}
    rows = [[label, shown, *_cells(found[key], missing_mpd)]
            for key, label, shown, *_ in runs]
    t1, t2, t3 = TRACKS

    def longest(key: str) -> float:
        return found[key]["longest_s"] if found[key] else float("nan")

    ours_xf, ours_0, mpd_xf, mlp = (longest(k) for k in ("ss", "ss0", "mpd", "mlp"))
    headline = [
        [(f"longest silence heard over silent tails/leads, s (soundscape crossfade "
          f"{CROSSFADE_S:g} s vs MPD crossfade {CROSSFADE_S:g} s)"), fmt(ours_xf, 1),
         fmt(mpd_xf, 1) if have_mpd else "mpd missing",
         fmt(ours_xf / mpd_xf, 2) if have_mpd and mpd_xf else "n/a"],
        [("longest silence heard over silent tails/leads, s (soundscape crossfade 0 s vs "
          "MediaListPlayer)"), fmt(ours_0, 1), fmt(mlp, 1),
         fmt(ours_0 / mlp, 2) if mlp else "n/a"],
    ]
    s1, s2, s3 = (t.shape for t in TRACKS)
    quiet_fade_s = s2.fade_s * (1 - (LEVEL_DBFS - SILENCE_DBFS) / -test_music.FADE_FLOOR_DB)
    method = (
        "Three 21 s FLAC tracks (16-bit, 44.1 kHz), made by the tests' test-music kit "
        f"(soundscape/testing/music.py): one tone each at {LEVEL_DBFS:g} dBFS RMS (with its "
        f"slow 1 dB wobble and faint breath of noise): {s1.freq_hz:g} Hz for {s1.music_s:g} s "
        f"then {s1.tail_s:g} s of digital silence; {s2.lead_s:g} s of silence, "
        f"{s2.freq_hz:g} Hz for {s2.music_s:g} s whose last {s2.fade_s:g} s fade out (straight "
        f"in dB to {test_music.FADE_FLOOR_DB:g} dB, so below {SILENCE_DBFS:g} dBFS for the last "
        f"{quiet_fade_s:.1f} s), {s2.tail_s:g} s of silence; {s3.freq_hz:g} Hz throughout. "
        f"Played back to back they hold {s1.tail_s + s2.lead_s:g} s and "
        f"{quiet_fade_s + s2.tail_s:.1f} s of silence. Each player plays them in order on a null "
        "sink of the bench's own, recorded from its monitor until the last track has played "
        f"about {AFTER_LAST_S:g} s. 'Longest silence heard': the longest run of back-to-back "
        f"{WINDOW_S * 1000:g} ms windows below {SILENCE_DBFS:g} dBFS between the first and the "
        "last window above it. Per transition, 'silence / overlap' in seconds: from the last "
        f"window where the outgoing tone is above {SILENCE_DBFS:g} dBFS to the first where the "
        "incoming one is, and how long both are (single-bin DFT in 50 ms Hann windows every "
        "10 ms; runs shorter than 0.2 s, the clicks of a stop or a cut, do not count). "
        "MPD 0.23 runs privately (its own config, database and port; `audio_output` type pulse "
        "on the sink, no mixer, ReplayGain off), driven over its protocol: `update`, `add`, "
        "the settings shown, `play 0`. MPD crossfades only songs of 20 s or more and of the "
        "same audio format (MIN_TOTAL_TIME in player/CrossFade.hxx, hence 21 s FLAC "
        "throughout). MixRamp needs `mixrampdelay` above 0 and MixRamp tags on both songs; "
        "MPD ships no tagger, so the bench writes MIXRAMP_START/END from 50 ms RMS levels. "
        "Without tags MPD overlaps by the crossfade length but, MixRamp being on, adds the two "
        "songs at full level instead of fading them (player/Thread.cxx, pcm/Mix.cxx). With tags "
        "MPD does not always use them (MPD issue #2084, open: the tags are sometimes unset "
        "when it decides), so its "
        "verbose log is read for the overlaps it did compute. libVLC and soundscape as in "
        "'Transition gap'; soundscape is given the tracks' own loudness as the room's "
        "`loudness_target` (from `soundscape analyze`, run first, as MPD's `update` is), so it "
        "plays them within 0.2 dB of how the others do. MediaListPlayer has no crossfade.")
    return Section("Transitions over silent tails and leads", method,
                   ["player", "settings", "longest silence heard s",
                    f"{t1.name} -> {t2.name}: silence / overlap s",
                    f"{t2.name} -> {t3.name}: silence / overlap s"], rows, headline)

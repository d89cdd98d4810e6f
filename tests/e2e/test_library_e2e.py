"""Whole sessions over a library shaped like real music, heard in the room (the issue's acceptance).

The test library (``soundscape.testing.music.LIBRARY``) holds every format a room's library does
(MP3 CBR, VBR and without a Xing header, AAC in .m4a incl. 5.1, Opus, Vorbis, FLAC incl. 24/96,
mono 22 kHz and 5.1 WAV), with silent leads and tails and natural fades. A session goes the way a
facilitator's does: the playlist YAML is opened with ``open_session`` (the files are analysed in
the background, Start waits for the first tracks), started, and recorded from a private null sink
until it ends by itself. Every track is its own tone, so each 100 ms of the recording says which
track the room hears. Judged there:

- every track is heard, in playlist order, for at least its audible length less the crossfade
  overlaps with its neighbours and a tolerance from the measured jitter (docs/libvlc.md); and no
  music is lost: each track is heard until its file's music ends or its window does;
- no 100 ms window is below -50 dBFS for more than 1 s between the first and the last sound, and
  the room waits no more than that for the first sound or for the end after the last;
- no valid track is skipped (nothing in the state's warnings or the session log says so);

on a quiet machine and beside a CPU hog. The numbers measured are printed (``pytest -s``) and kept
as test properties, so a failure says how far off it was.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import subprocess
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from soundscape.engine.commands import Action, Command
from soundscape.engine.fades import fade_in_gain
from soundscape.engine.sessionlog import read_log
from soundscape.loudness.known import known
from soundscape.playlist import load_playlist
from soundscape.room import Room
from soundscape.schedule.handover import END_MARGIN_S, START_LEAD_S
from soundscape.schedule.plan import make_plan
from soundscape.session import open_session
from soundscape.testing.audio import (ALIGNMENT_S, AUDIBLE_WITHIN_S, RATE, Recorder,
                                      rms_dbfs_windows, tone_amplitudes, write_wav)
from soundscape.testing.music import FADE_FLOOR_DB, LIBRARY, WOBBLE_DB, LibraryTrack, write_library

from engine_kit import Run, dropouts, longest_quiet_sliding_s, private_sink, settings

pytestmark = pytest.mark.e2e

WINDOW_S = 0.1  # 100 ms windows hold whole cycles of every tone (multiples of 20 Hz)
QUIET_DBFS = -50.0  # a 100 ms window below this is silence to the room
MAX_SILENCE_S = 1.0  # the longest silence allowed anywhere in a session
# A tone counts as heard in a window when it is the loudest of the library's tones there and its
# amplitude is at least that of a sine at QUIET_DBFS (RMS = amplitude / sqrt 2).
HEARD_AMPLITUDE = math.sqrt(2) * 10 ** (QUIET_DBFS / 20)
MIN_RUN_S = 0.3  # a run of dominance shorter than this (the flicker of a crossover) is no turn
# The library's fades fall linearly in dB to FADE_FLOOR_DB (-60 dB); a fade more than this far
# down is taken as over (it is below the room's noise, and the product cues out at about -42 LU).
FADE_HEARD_DB = 40.0
CROSSFADE_S = 2.0
# Tolerance of a heard length, from the measured jitter (docs/libvlc.md, "Test margins"): one
# 100 ms window of quantisation at each end, a start heard up to AUDIBLE_WITHIN_S late (worst
# seen 101 ms), and a change of track off its schedule by up to ALIGNMENT_S (worst seen 10.2 ms).
TOLERANCE_S = 2 * WINDOW_S + AUDIBLE_WITHIN_S + ALIGNMENT_S
FAILURE_WORDS = ("skipped", "makes no progress", "could not be played", "cannot be played",
                 "too early")
START_WAIT_S = 30.0  # Start is refused while the first tracks are analysed: retry this long
SEED = 1

BY_NAME = {t.name: t for t in LIBRARY}


def overlap_s(crossfade_s: float) -> float:
    """The most two neighbouring tracks may overlap: the crossfade, ended END_MARGIN_S before the
    outgoing file's end (libVLC applies no volume change in a file's last ~100 ms), or the
    START_LEAD_S a cut starts the next deck early. (A cut after a track's own fade starts the next
    one in the fade's last quarter: that part of these fades is below the room's silence, and
    ``audible_s`` does not count it.)"""
    return crossfade_s + END_MARGIN_S if crossfade_s > 0 else START_LEAD_S


def audible_s(track: LibraryTrack, level: float) -> float:
    """How long a track's music is audible in the room, from its shape (what was encoded): from
    the end of its silent lead to the start of its silent tail, its fade counted while it is
    less than FADE_HEARD_DB down and still above the room's silence (a tone of ``level``, the
    amplitude the room hears the track at, falling below HEARD_AMPLITUDE). The wobble of the
    music (WOBBLE_DB) is taken off the level first, so the fade is never credited too long."""
    shape = track.shape
    above_floor_db = 20 * math.log10(max(level, 1e-9) / HEARD_AMPLITUDE) - WOBBLE_DB
    heard_db = min(FADE_HEARD_DB, max(0.0, above_floor_db))
    unheard_fade_s = shape.fade_s * (1 - heard_db / -FADE_FLOOR_DB)
    return shape.audible_end_s - shape.audible_start_s - shape.gap_s - unheard_fade_s


def quiet_edge_s(crossfade_s: float, level: float) -> float:
    """How long a crossfade's half keeps a track heard at ``level`` (its amplitude at full gain,
    less the wobble) below the room's silence: the engine's halves leave silence on a bounded
    line in dB (fades.fade_in_gain), 0.3-0.5 s of a 2 s crossfade for a quiet track."""
    if crossfade_s <= 0:
        return 0.0
    level *= 10 ** (-WOBBLE_DB / 20)
    for i in range(1001):
        if level * fade_in_gain(i / 1000, crossfade_s) >= HEARD_AMPLITUDE:
            return crossfade_s * i / 1000
    return crossfade_s


# ------------------------------------------------------------------ fixtures and helpers

@pytest.fixture(scope="module")
def sink(pulse):
    """A null sink of this module's own: concurrent tests on ``room`` are not recorded here."""
    with private_sink() as name:
        yield name


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """The library encoded once, and analysed once by the test itself (``known``): the lengths
    and cue points the test lays its playlists out with. Each session gets fresh copies, so the
    session's own background analysis has everything to do."""
    folder = tmp_path_factory.mktemp("library")
    paths = write_library(folder)
    found = known(paths, analyse=True)
    problems = {p.name: m.error for p, m in found.analysed.items() if m.error}
    assert not problems and not found.missing, f"the test library did not analyse: {problems}"
    return {p.name: (p, found.durations[p], found.cues.get(p)) for p in paths}


@pytest.fixture
def private_env(tmp_path, monkeypatch):
    """No room file and no shared cache: the session sees only this test's files."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))


@contextmanager
def cpu_hog(on: bool):
    """A busy loop on one core beside the session (a process of the test's own, killed after)."""
    proc = subprocess.Popen([sys.executable, "-c", "while True: pass"]) if on else None
    try:
        yield proc
    finally:
        if proc is not None:
            proc.kill()
            proc.wait(5)


def write_playlist(path: Path, phases: list[tuple[str, float, list[str]]],
                   crossfade_s: float) -> Path:
    """A playlist of the music folder beside it: each phase (name, duration_s, file names) plays
    its tracks once, in order, at full level; a phase whose tracks run out hands over to the next
    at once (``when_short: silence``), and the last track of the last phase plays out and ends the
    session (``at_end: finish``)."""
    lines = ["title: Library e2e", "music_dir: music", "defaults:", "  level: 100%",
             f"  crossfade: {crossfade_s:g}s", "  order: in-order", "  when_short: silence",
             "  at_end: finish", "phases:"]
    for name, duration_s, files in phases:
        lines += [f"  - name: {name}", f"    duration: {duration_s:.1f}s", "    tracks:"]
        lines += [f"      - {json.dumps(f, ensure_ascii=False)}" for f in files]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def reference_plan(path: Path, reference: dict):
    """The plan of the playlist at ``path`` with the reference analysis's lengths and cues."""
    pl = load_playlist(path)
    files = pl.track_files()
    durations = {p: reference[p.name][1] for p in files}
    cues = {p: reference[p.name][2] for p in files if reference[p.name][2] is not None}
    return make_plan(pl, durations, SEED, cues)


def playlist_for(tmp_path: Path, reference: dict, phases: list[tuple[str, list[str]]],
                 crossfade_s: float) -> tuple[Path, list[str], object]:
    """Copy the phases' files into a fresh music folder and write a playlist whose durations let
    every track play once and end the session half-way through its last track (so it ends when
    the music does). Returns the playlist's path, the file names in playing order and the plan."""
    music = tmp_path / "music"
    music.mkdir()
    order = [f for _, files in phases for f in files]
    for name in order:
        shutil.copyfile(reference[name][0], music / name)  # new mtime, no cache: analysed afresh
    path = tmp_path / "library.yaml"
    plan = reference_plan(write_playlist(path, [(n, 1000.0, f) for n, f in phases], crossfade_s),
                          reference)
    # Each phase but the last ends (on the session clock) 5 s after its music has run out, so its
    # tracks run out first and it hands over early; the last ends half-way into its last track.
    ends = [nxt.start_s + 5.0 for nxt in plan.phases[1:]]
    last = plan.phases[-1].tracks[-1]
    ends.append(last.start_s + last.duration_s / 2)
    durations = [round(end - before, 1) for end, before in zip(ends, [0.0] + ends[:-1])]
    plan = reference_plan(write_playlist(path, [(n, d, f) for (n, f), d in zip(phases, durations)],
                                         crossfade_s), reference)
    planned = [(t.path.name, t.cut, t.repeat) for p in plan.phases for t in p.tracks]
    assert planned == [(n, False, False) for n in order], f"the plan is not one pass: {planned}"
    return path, order, plan


@dataclass
class Started:
    run: Run
    refused: int  # Starts refused while the first tracks were analysed
    waited_s: float  # from open_session to the Start accepted
    analysis: dict | None  # the state's analysis when Start was accepted


@contextmanager
def library_session(playlist_path: Path, sink: str, log_dir: Path):
    """Open the playlist as ``play`` does (pulse, routed to ``sink``), record the sink, press
    Start until the analysis lets it, and yield a Started; the recording is complete after the
    ``with`` block. The engine is shut down without its fade (nobody listens after)."""
    opened = time.monotonic()
    engine = open_session(playlist_path, output="pulse", device=sink, log_dir=log_dir, seed=SEED,
                          settings=settings(), room=Room())
    try:
        with Recorder(device=f"{sink}.monitor") as rec:
            time.sleep(0.2)  # some room silence before the start
            refused = 0
            while True:
                result, state = engine.submit(Command(Action.START, by="e2e", source="test"))
                if result.ok:
                    break
                assert "analysed" in (result.reason or ""), f"start refused: {result.reason}"
                assert time.monotonic() - opened < START_WAIT_S, (
                    f"Start still refused after {START_WAIT_S:g} s: {result.reason}")
                refused += 1
                time.sleep(0.05)
            run = Run(engine, rec)
            run.t0 = engine.clock_origin
            yield Started(run, refused, run.t0 - opened, state.analysis)
    finally:
        engine.shutdown(fade=False)


def wait_for_end(run: Run, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while run.engine.snapshot().status != "ended" and time.monotonic() < deadline:
        time.sleep(0.1)
    time.sleep(0.5)  # the last of the sound reaches the sink


@dataclass
class Heard:
    """What the recording says, per 100 ms window."""

    heard_s: dict[str, float]  # file name -> seconds it was the dominant tone
    present_s: dict[str, float]  # file name -> seconds its tone was above the room's silence
    level: dict[str, float]  # file name -> the amplitude it was heard at (its loudest window)
    first_present_s: dict[str, float | None]  # session time its tone was first present
    last_present_s: dict[str, float | None]  # ... and the end of its last window present
    holes: dict[str, list[tuple[float, float]]]  # (session s, s) its tone was absent in between
    turns: list[tuple[str, float, float]]  # (file name, from session s, seconds) in order heard
    first_sound_s: float | None  # session time of the first window at or above QUIET_DBFS
    last_sound_s: float | None  # session time of the end of the last such window
    longest_silence_s: float  # longest run of windows below QUIET_DBFS between them
    silence_at_s: float | None  # where it began (session s)
    longest_quiet_sliding_s: float  # the same judged by 20 ms windows at every frame (not judged)


def hear(run: Run, names: list[str]) -> Heard:
    freqs = [BY_NAME[n].shape.freq_hz for n in names]
    samples = run.rec.samples
    amps = tone_amplitudes(samples, freqs, WINDOW_S)
    matrix = np.stack([amps[f] for f in freqs])
    strongest = matrix.argmax(axis=0)
    dominant = np.where(matrix.max(axis=0) >= HEARD_AMPLITUDE, strongest, -1)
    starts = run.session_of(np.arange(len(dominant)) * WINDOW_S)
    heard_s = {n: float((dominant == i).sum() * WINDOW_S) for i, n in enumerate(names)}
    present_s = {n: float((matrix[i] >= HEARD_AMPLITUDE).sum() * WINDOW_S)
                 for i, n in enumerate(names)}
    present = [np.flatnonzero(matrix[i] >= HEARD_AMPLITUDE) for i in range(len(names))]
    level = {n: float(matrix[i][present[i]].max()) if len(present[i]) else 0.0
             for i, n in enumerate(names)}
    first_present = {n: float(starts[present[i][0]]) if len(present[i]) else None
                     for i, n in enumerate(names)}
    last_present = {n: float(starts[present[i][-1]] + WINDOW_S) if len(present[i]) else None
                    for i, n in enumerate(names)}
    holes = {n: [(round(float(starts[a + 1]), 2), round(float((b - a - 1) * WINDOW_S), 2))
                 for a, b in zip(present[i][:-1], present[i][1:]) if b - a > 1]
             for i, n in enumerate(names)}
    # turns: runs of one dominant tone, the flicker of a crossover dropped, neighbours merged
    edges = np.flatnonzero(np.diff(dominant)) + 1
    runs = [(int(dominant[a]), a, b - a) for a, b in zip(np.r_[0, edges], np.r_[edges,
                                                                                len(dominant)])]
    turns: list[list] = []
    for i, a, n in runs:
        if i < 0 or n * WINDOW_S < MIN_RUN_S:
            continue
        if turns and turns[-1][0] == names[i]:
            turns[-1][2] = float(starts[a] + n * WINDOW_S - turns[-1][1])
        else:
            turns.append([names[i], float(starts[a]), float(n * WINDOW_S)])
    turns = [tuple(t) for t in turns]
    db = rms_dbfs_windows(samples, WINDOW_S)
    loud = np.flatnonzero(db >= QUIET_DBFS)
    if not len(loud):
        return Heard(heard_s, present_s, level, first_present, last_present, holes, turns, None,
                     None, 0.0, None, 0.0)
    first, last = loud[0], loud[-1]
    quiet = db[first:last + 1] < QUIET_DBFS
    longest, at, run_len = 0, None, 0
    for k, q in enumerate(quiet):
        run_len = run_len + 1 if q else 0
        if run_len > longest:
            longest, at = run_len, first + k - run_len + 1
    music = samples[round(first * WINDOW_S * RATE): round((last + 1) * WINDOW_S * RATE)]
    return Heard(heard_s, present_s, level, first_present, last_present, holes, turns,
                 float(starts[first]), float(starts[last] + WINDOW_S), longest * WINDOW_S,
                 None if at is None else float(starts[at]),
                 longest_quiet_sliding_s(music, QUIET_DBFS, 0.02))


def failure_messages(run: Run, state) -> list[str]:
    """Warnings of the state and the session log (in memory and on disk) that a track failed."""
    found = [w for w in state.warnings if any(word in w for word in FAILURE_WORDS)]
    for entries in (run.engine.log_entries(), read_log(run.engine.log_path)):
        found += [f"log: {e.get('message')}" for e in entries if e.get("event") == "warning"
                  and any(word in str(e.get("message")) for word in FAILURE_WORDS)]
        found += [f"log: track_end failed {Path(e['path']).name}" for e in entries
                  if e.get("event") == "track_end" and e.get("reason") == "failed"]
    return found


def judge(run: Run, started: Started, names: list[str], crossfade_s: float, plan, what: str,
          record_property, keep: Path) -> Heard:
    """Everything the acceptance asks of one recorded session; prints the numbers first.

    Two readings of "heard for its audible length": as the dominant tone, for at least its
    audible length less a whole overlap with each neighbour (the acceptance's own words: who
    dominates inside a crossfade depends on the two tracks' levels and fades); and as present
    at all (above the room's silence), for at least its audible length less only what a
    crossfade must take (each fade-out ends END_MARGIN_S before the outgoing track's audible
    end, and a window at each edge of a fade). Both less TOLERANCE_S.

    And where it ends: a track's music must be heard until the file's music ends (its fade below
    the room's silence) or the engine takes it away (the end of its window, less END_MARGIN_S
    when it crossfades), whichever comes first, counted from when the engine started it (the
    session log) and where in the file it started it (the plan's ``from_s``). Music missing there
    was lost: a deck that started later in its file than asked, or ended early.

    When anything fails the recording is kept as a WAV in ``keep`` (the test's tmp_path).
    """
    state = run.engine.snapshot()
    heard = hear(run, names)
    ov = overlap_s(crossfade_s)
    last = len(names) - 1
    audible = {n: audible_s(BY_NAME[n], heard.level[n]) for n in names}
    dominant_min = {n: audible[n] - ov * ((i > 0) + (i < last)) - TOLERANCE_S
                    for i, n in enumerate(names)}
    edge_in, edge_out = (WINDOW_S, END_MARGIN_S + WINDOW_S) if crossfade_s > 0 else (0.0, 0.0)
    quiet = {n: quiet_edge_s(crossfade_s, heard.level[n]) for n in names}
    present_min = {n: audible[n] - (edge_in + quiet[n]) * (i > 0)
                   - (edge_out + quiet[n]) * (i < last) - TOLERANCE_S
                   for i, n in enumerate(names)}
    started_at = {Path(e["path"]).name: e["actual_s"] for e in run.log("track_start")}
    windows = {t.path.name: t for p in run.engine.plan.phases for t in p.tracks}
    expected_end, lost_end, onset = {}, {}, {}
    for i, n in enumerate(names):
        t0, window, shape = started_at.get(n), windows.get(n), BY_NAME[n].shape
        if t0 is None or window is None or heard.last_present_s[n] is None:
            continue
        taken_s = END_MARGIN_S + quiet[n] if crossfade_s > 0 and i < last else 0.0
        expected_end[n] = min(t0 + shape.lead_s + audible[n] - window.from_s,
                              t0 + window.duration_s - taken_s)
        lost_end[n] = expected_end[n] - heard.last_present_s[n]
        onset[n] = (heard.first_present_s[n] - t0, max(0.0, shape.lead_s - window.from_s))
    ends = run.log("session_end")
    ended_s = ends[-1]["actual_s"] if ends else None
    planned = {t.path.name: t.duration_s for p in plan.phases for t in p.tracks}
    final = plan.phases[-1].tracks[-1]
    load = os.getloadavg()[0]
    print(f"\n  {what}: Start accepted after {started.waited_s:.2f} s ({started.refused} refused "
          f"while analysing; analysis then {started.analysis}); load average {load:.1f}")
    print(f"  {'track':30s} {'format':14s} {'Hz':>5s} {'level dB':>8s} {'audible':>7s} "
          f"{'planned':>7s} {'dominant':>8s} {'>=':>5s} {'present':>7s} {'>=':>5s} "
          f"{'onset':>5s} {'file':>4s} {'lost at end':>11s}")
    for n in names:
        t = BY_NAME[n]
        print(f"  {n[:30]:30s} {t.fmt.name:14s} {t.shape.freq_hz:5.0f} "
              f"{20 * math.log10(max(heard.level[n], 1e-9)):8.1f} {audible[n]:7.2f} "
              f"{planned[n]:7.2f} {heard.heard_s[n]:8.2f} {dominant_min[n]:5.2f} "
              f"{heard.present_s[n]:7.2f} {present_min[n]:5.2f} "
              f"{onset.get(n, (math.nan,))[0]:5.2f} {onset.get(n, (0, math.nan))[1]:4.2f} "
              f"{lost_end.get(n, math.nan):11.2f}")
    print("  (level: loudest 100 ms of its tone, dB of full scale amplitude; onset: its tone first "
          "heard, s after the engine started it, where the file's music begins that long after "
          "the point it was started from; lost at end: s of its music not heard before it should "
          "have ended)")
    gaps = {n[:16]: h for n, h in heard.holes.items() if h}
    under = []
    if heard.first_sound_s is not None:
        found = dropouts(run.span(heard.first_sound_s, heard.last_sound_s))
        under = [(round(heard.first_sound_s + float(a), 2), round(d * 1000)) for a, d in found]
    print(f"  holes inside a track (session s, s): {gaps}; digital silence between the first "
          f"and last sound (session s, ms): {under}")
    print(f"  turns heard (file, from session s, s): "
          f"{[(n[:12], round(a, 2), round(d, 2)) for n, a, d in heard.turns]}")
    print(f"  first sound {heard.first_sound_s or 0:.2f} s, last sound "
          f"{heard.last_sound_s or 0:.2f} s, session ended {ended_s} s (planned: last track ends "
          f"{final.start_s + final.duration_s:.2f} s); longest silence "
          f"{heard.longest_silence_s:.1f} s of 100 ms windows below {QUIET_DBFS:g} dBFS (from "
          f"{heard.silence_at_s or 0:.2f} s), {heard.longest_quiet_sliding_s * 1000:.0f} ms of "
          f"20 ms windows at every frame")
    record_property("heard_dominant_s", {n: round(v, 2) for n, v in heard.heard_s.items()})
    record_property("heard_present_s", {n: round(v, 2) for n, v in heard.present_s.items()})
    record_property("lost_at_end_s", {n: round(v, 2) for n, v in lost_end.items()})
    record_property("longest_silence_s", round(heard.longest_silence_s, 2))
    record_property("longest_quiet_sliding_ms", round(heard.longest_quiet_sliding_s * 1000))
    record_property("start_refused", started.refused)

    failures = failure_messages(run, state)
    assert not failures, f"{what}: a valid track was failed or skipped: {failures}"
    assert state.status == "ended", (f"{what}: the session did not end with its music (status "
                                     f"{state.status}, {state.session_elapsed_s:.1f} s in)")
    assert heard.first_sound_s is not None, f"{what}: nothing was heard"
    order = [n for n, _, _ in heard.turns]
    assert order == names, (f"{what}: tracks heard in the order {order}, the playlist's is "
                            f"{names} (turns: {heard.turns})")
    problems = []
    short = {n: (round(heard.heard_s[n], 2), round(dominant_min[n], 2)) for n in names
             if heard.heard_s[n] < dominant_min[n]}
    if short:
        problems.append(f"tracks dominant for less than their audible length less {ov:.2f} s of "
                        f"overlap each side and {TOLERANCE_S:.2f} s (file: (heard s, at least "
                        f"s)): {short}")
    missing = {n: (round(heard.present_s[n], 2), round(present_min[n], 2)) for n in names
               if heard.present_s[n] < present_min[n]}
    if missing:
        problems.append(f"tracks heard for less than their audible length ({QUIET_DBFS:g} dBFS "
                        f"and up) less the crossfades' edges and {TOLERANCE_S:.2f} s: music lost "
                        f"(file: (heard s, at least s)): {missing}")
    lost = {n: (round(v, 2), round(onset[n][0], 2), round(onset[n][1], 2))
            for n, v in lost_end.items() if v > TOLERANCE_S}
    if lost:
        problems.append(f"music lost: tracks whose music stopped being heard more than "
                        f"{TOLERANCE_S:.2f} s before the file's music or the track's window ended "
                        f"(file: (s lost, onset s after its start, where the file's music "
                        f"begins)): {lost}")
    if heard.longest_silence_s > MAX_SILENCE_S:
        problems.append(f"{heard.longest_silence_s:.1f} s of silence (100 ms windows below "
                        f"{QUIET_DBFS:g} dBFS) from session {heard.silence_at_s:.2f} s, between "
                        f"the first sound at {heard.first_sound_s:.2f} s and the last at "
                        f"{heard.last_sound_s:.2f} s")
    if heard.first_sound_s > MAX_SILENCE_S:
        problems.append(f"the first sound came {heard.first_sound_s:.2f} s after Start")
    if ended_s is None or ended_s - heard.last_sound_s > MAX_SILENCE_S:
        problems.append(f"the session ended at {ended_s} s, long after the last sound at "
                        f"{heard.last_sound_s:.2f} s")
    if problems:
        wav = write_wav(keep / "room.wav", run.rec.samples)
        problems.append(f"recording kept at {wav} (session 0 s is {run.rec_s(0.0):.3f} s in)")
    assert not problems, f"{what}: " + "; ".join(problems)
    return heard


# ------------------------------------------------------------------ 1. the whole library

# Two phases, so the session also crosses a phase boundary (when_short: silence hands over as the
# first phase's tracks run out); every format is in it.
PHASES = [("Arrival", [t.name for t in LIBRARY[:6]]), ("Return", [t.name for t in LIBRARY[6:]])]


@pytest.mark.parametrize("hog", [False, True], ids=["quiet", "cpu-hog"])
def test_whole_library_is_heard_in_order_without_silence(sink, reference, private_env, tmp_path,
                                                         record_property, hog):
    path, names, plan = playlist_for(tmp_path, reference, PHASES, CROSSFADE_S)
    assert {BY_NAME[n].fmt.name for n in names} == {t.fmt.name for t in LIBRARY}
    with cpu_hog(hog), library_session(path, sink, tmp_path / "logs") as started:
        wait_for_end(started.run, plan.total_s + 20.0)
    judge(started.run, started, names, CROSSFADE_S, plan,
          f"library, crossfade {CROSSFADE_S:g} s, {'beside a CPU hog' if hog else 'quiet'}",
          record_property, tmp_path)


# ------------------------------------------------------------------ 2. silent leads and tails

# A 4 s silent tail followed by a 4 s silent lead once left 13.8 s of silence in the room. The
# session opens on a 4 s lead (the room must not wait for it) and closes on a 4 s tail (the
# session must not play it); with a cut (crossfade 0 s) no crossfade hides what is left of them,
# nor the end of a long fade that has fallen below the room's silence before the cue-out.
LEAD_TAIL = ["11 Surround.m4a", "04 Tide.m4a", "05 Lanterns.opus", "09 Low tide (mono).wav"]


@pytest.mark.parametrize("crossfade_s", [CROSSFADE_S, 0.0], ids=["crossfade-2s", "cut"])
def test_silent_tail_then_silent_lead_leave_no_silence(sink, reference, private_env, tmp_path,
                                                       record_property, crossfade_s):
    shapes = [BY_NAME[n].shape for n in LEAD_TAIL]
    assert shapes[0].lead_s == 4.0 and shapes[1].tail_s == 4.0 and shapes[2].lead_s == 4.0
    assert shapes[-1].tail_s == 4.0
    path, names, plan = playlist_for(tmp_path, reference, [("Drift", LEAD_TAIL)], crossfade_s)
    with library_session(path, sink, tmp_path / "logs") as started:
        wait_for_end(started.run, plan.total_s + 20.0)
    judge(started.run, started, names, crossfade_s, plan,
          f"silent leads and tails, crossfade {crossfade_s:g} s", record_property, tmp_path)

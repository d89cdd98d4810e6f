"""The dead-air guard and the room meter heard in the room: real libVLC on a null sink of the test's
own, recorded from its monitor.

A hidden track (4 s of music, 20 s of digital silence, 4 s more) must not leave the room in dead
air: about DEAD_AIR_S into its silence the guard warns and the next track fades in, whether the
track was analysed or not. A muted sink is shown and warned but skips nothing (the room cannot
hear any track); a sink soundscape owns (``speaker_volume_pct``), turned down and muted by
someone, comes back unmuted at its volume, rising no faster than the room's rise limit.

Each test has a sink of its own (``null_sink``), because these tests mute it and turn it down,
and other tests play on ``room`` at the same time; it is put back to 100 % and unmuted at the end
all the same. Every wait is a poll against a deadline; the numbers measured are printed
(``pytest -s``) and kept as test properties, so a failure says how far off it was.
"""

from __future__ import annotations

import itertools
import math
import os
import re
import subprocess
import time
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest

from soundscape import library
from soundscape.engine.clock import RealClock
from soundscape.engine.commands import Action, Command
from soundscape.engine.engine import Engine
from soundscape.engine.fades import SILENT_DB
from soundscape.engine.libvlc.output import VlcOutput
from soundscape.engine.pulsemeter import MAX_STEP_S, STEP_S
from soundscape.engine.sessionlog import read_log
from soundscape.engine.settings import RoomSettings
from soundscape.engine.watch import DEAD_AIR_S, LISTEN_EVERY_S, UNANALYSED_LEAD_S
from soundscape.loudness.known import known
from soundscape.testing.audio import (ALIGNMENT_S, AUDIBLE_WITHIN_S, RATE, Recorder, null_sink,
                                      pulse_env, tone_amplitudes, write_tone)
from soundscape.testing.music import HIDDEN_TRACK, encode

from engine_kit import Run, dropouts, phase, playlist, poll_until, settings

pytestmark = pytest.mark.e2e

WINDOW_S = 0.1  # 100 ms windows hold whole cycles of every tone (multiples of 20 Hz)
QUIET_DBFS = -50.0  # a 100 ms window below this is silence to the room
HEARD_AMPLITUDE = math.sqrt(2) * 10 ** (QUIET_DBFS / 20)  # a sine at QUIET_DBFS
SECOND_HZ = 1000.0  # the track after the hidden one (the hidden track is 2500 Hz)
CROSSFADE_S = 2.0  # the skip's crossfade: min(this, settings.skip_crossfade_s)
# How much longer than DEAD_AIR_S + LISTEN_EVERY_S the room's silence may last: the meter's lag
# (parec's 100 ms blocks behind a 100 ms fragment, ~0.2-0.3 s until a silence shows in take()),
# the engine thread's wake-ups, the next deck loaded and heard after its play() (up to 0.17 s
# under load) and the equal-power fade-in's first ~20 ms below -50 dBFS. Measured on the 2-core
# machine, 2026-12-02, as silence - DEAD_AIR_S - LISTEN_EVERY_S of the analysed hidden track,
# while other sessions' tests ran too (load 1.0-4.5): 0.224, 0.221, 0.253, 0.383, 0.358, 0.370,
# 0.465, 0.256, 0.192 s in 9 runs; 0.222, 0.163, 0.367 s in 3 runs beside a CPU hog. 1.5 times
# the worst (0.465 s: the skip's deck took 85 ms to load), as in docs/libvlc.md "Test margins":
LATENCY_MARGIN_S = 0.7
# How much faster than the rise limit the room's level may rise over RISE_SPAN_S. Pulsemeter
# steps the volume every STEP_S plus two pactl calls, each step at most MAX_STEP_S of the rise,
# and applied a pactl call after it is reckoned: a 0.5 s window can hold the rise of about
# 0.5 + MAX_STEP_S s (8.4 dB/s at 6 dB/s) and more when pactl answers unevenly. Measured
# (2026-12-02, the sink's rise alone, 0.5 s between two 50 ms windows): 6.79, 7.60, 6.88, 6.83,
# 7.19, 8.10, 7.87 dB/s in 7 runs, 6.90 and 6.96 beside a CPU hog: the worst is 2.10 dB/s over
# the limit; 1.5 times that:
RISE_MARGIN_DB_PER_S = 3.2
RISE_SPAN_S = 0.5
SEE_WITHIN_S = 1.5  # a mute shows in the state (room.muted and the warning) within this
HOLD_S = 6.0  # a muted sink: no track is skipped over this long (3 times DEAD_AIR_S)
DEADLINE_S = 10.0  # generous bounds that only stop a test that would wait for ever
SEED = 1
TONE = 0.5
TONE_DBFS = 20 * math.log10(round(TONE * 32767) / 32768 / math.sqrt(2))  # RMS of write_tone's

_sinks = itertools.count(1)


def note(what: str, **numbers) -> None:
    print(f"\ndead air: {what}: " + ", ".join(
        f"{k}={v:.3f}" if isinstance(v, float) else f"{k}={v}" for k, v in numbers.items()))


def wait_for(what: str, read, done, timeout_s: float = DEADLINE_S, every_s: float = 0.02):
    return poll_until(read, done, timeout_s, what, every_s)


def pactl(*args: str) -> str:
    done = subprocess.run(["pactl", *args], env={**pulse_env(), "LC_ALL": "C"},
                          capture_output=True, text=True, timeout=10, check=False)
    assert done.returncode == 0, f"pactl {' '.join(args)}: {done.stderr.strip()}"
    return done.stdout


def sink_state(sink: str) -> tuple[bool, float]:
    """(muted, volume %) of ``sink``, as pactl reads them now."""
    muted = pactl("get-sink-mute", sink).strip() == "Mute: yes"
    raw = [int(v) for v in re.findall(r"(\d+) /", pactl("get-sink-volume", sink))]
    return muted, 100.0 * sum(raw) / len(raw) / 65536


@pytest.fixture
def sink(pulse):
    """A null sink of this test's own, put back to 100 % and unmuted at the end."""
    name = f"deadair{os.getpid()}n{next(_sinks)}"
    with null_sink(name):
        try:
            yield name
        finally:
            pactl("set-sink-mute", name, "0")
            pactl("set-sink-volume", name, "100%")


@pytest.fixture
def private_env(tmp_path, monkeypatch):
    """The analysis cache and room config of this test's own."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))


def analysed(paths: list[Path]) -> dict:
    """The Engine's knowledge of ``paths`` from the analysis (``known``): durations, cues, lufs."""
    found = known(paths, analyse=True)
    problems = {p.name: m.error for p, m in found.analysed.items() if m.error}
    assert not problems and not found.missing, f"the files did not analyse: {problems}"
    return {"durations": found.durations, "cues": found.cues,
            "lufs": {p: m.lufs for p, m in found.analysed.items()}, "found": found}


@contextmanager
def session(pl, sink: str, room: RoomSettings, log_dir: Path, **known_kw):
    """Play ``pl`` on libVLC's pulse output routed to ``sink`` (the room meter reads the same
    sink), recording its monitor; yields a Run already started. The recording is complete after
    the ``with`` block; the engine is then shut down without its fade."""
    output = VlcOutput("pulse", device=sink)
    engine = Engine(pl, output, clock=RealClock(), seed=SEED, settings=room, log_dir=log_dir,
                    **known_kw)
    try:
        engine.start_thread()
        with Recorder(device=f"{sink}.monitor") as rec:
            time.sleep(0.2)  # some room silence before the start
            run = Run(engine, rec)
            result, _ = engine.submit(Command(Action.START, by="e2e", source="test"))
            assert result.ok, f"start refused: {result.reason}"
            run.t0 = engine.clock_origin
            yield run
    finally:
        engine.shutdown(fade=False)


def room(run: Run) -> dict:
    return run.engine.snapshot().room or {}


def wait_heard(run: Run, dbfs: float) -> None:
    """Until the engine's meter reads the music (so the guard is listening)."""
    wait_for("the room meter never heard the music", lambda: room(run),
             lambda r: r.get("listening") and (r.get("heard_dbfs") or -math.inf) > dbfs)


# ------------------------------------------------------------------ measuring the recording

def quiet_runs(samples: np.ndarray, threshold_dbfs: float = QUIET_DBFS,
               window_s: float = WINDOW_S) -> list[tuple[float, float]]:
    """(start s, length s) of every stretch covered by ``window_s`` windows quieter than
    ``threshold_dbfs``, with a window starting at every frame (engine_kit's sliding measure: a
    silence straddling two back-to-back windows is not shortened by them)."""
    mono = np.asarray(samples, dtype=np.float64)
    mono = mono.mean(axis=1) if mono.ndim == 2 else mono
    size = round(window_s * RATE)
    if len(mono) < size:
        return []
    power = np.concatenate(([0.0], np.cumsum(mono ** 2)))
    quiet = (power[size:] - power[:-size]) / size < 10 ** (threshold_dbfs / 10)
    edges = np.diff(np.concatenate(([0], quiet.astype(np.int8), [0])))
    starts, ends = np.nonzero(edges == 1)[0], np.nonzero(edges == -1)[0]
    return [(a / RATE, (b - a - 1 + size) / RATE) for a, b in zip(starts, ends)]


def level_dbfs(samples: np.ndarray, window_s: float, hop_s: float) -> np.ndarray:
    """RMS (dBFS) of windows of ``window_s`` every ``hop_s``; -120 for digital silence."""
    mono = np.asarray(samples, dtype=np.float64)
    mono = mono.mean(axis=1) if mono.ndim == 2 else mono
    size, hop = round(window_s * RATE), round(hop_s * RATE)
    power = np.concatenate(([0.0], np.cumsum(mono ** 2)))
    starts = np.arange(0, len(mono) - size + 1, hop)
    mean = np.maximum((power[starts + size] - power[starts]) / size, 1e-12)
    return 10 * np.log10(mean)


def judge_silence(run: Run) -> dict:
    """The hidden gap as the room heard it, and the second track after it."""
    samples = run.rec.samples
    rms = level_dbfs(samples, WINDOW_S, WINDOW_S)
    sound = np.nonzero(rms >= QUIET_DBFS)[0]
    assert len(sound), "the room heard nothing at all"
    first_rec_s, last_rec_s = sound[0] * WINDOW_S, (sound[-1] + 1) * WINDOW_S
    inside = [(a, n) for a, n in quiet_runs(samples) if first_rec_s < a and a + n < last_rec_s]
    assert inside, "no silence at all between the first and the last sound: was the gap played?"
    start_rec_s, silence_s = max(inside, key=lambda r: r[1])
    end_rec_s = start_rec_s + silence_s
    amps = tone_amplitudes(samples, [HIDDEN_TRACK.shape.freq_hz, SECOND_HZ], WINDOW_S)
    after = slice(math.ceil(end_rec_s / WINDOW_S), None)
    second = amps[SECOND_HZ][after]
    heard = np.nonzero((second >= HEARD_AMPLITUDE)
                       & (second > amps[HIDDEN_TRACK.shape.freq_hz][after]))[0]
    # It fades in (equal-power over the skip's crossfade: 90 % of its level 1.43 s into a 2 s
    # fade) rather than cutting in: how long from the first window heard to 90 % of its level
    # (its last second's). Under load the deck is heard up to ~0.25 s into its fade.
    steady = float(np.median(second[-round(1.0 / WINDOW_S):])) if len(second) else 0.0
    up = np.nonzero(second >= 0.9 * steady)[0] if steady else []
    return {"silence_s": silence_s, "gap_heard_s": run.session_of(start_rec_s),
            "gap_end_s": run.session_of(end_rec_s),
            "second_heard_for_s": len(heard) * WINDOW_S,
            "second_to_90_pct_s": float(up[0] * WINDOW_S) if len(up) else math.nan,
            "second_rise": [round(float(v) / steady, 2) for v in second[:30:2]] if steady else [],
            "all_quiet": [(round(float(run.session_of(a)), 2), round(n, 3)) for a, n in inside]}


# ------------------------------------------------------------------ 1. the hidden track

def hidden_files(tmp_path: Path) -> tuple[Path, Path]:
    hidden = encode(tmp_path / "music" / HIDDEN_TRACK.name, HIDDEN_TRACK.shape, HIDDEN_TRACK.fmt,
                    title=Path(HIDDEN_TRACK.name).stem)
    # A steady tone (no wobble), so that its fade-in can be read off its amplitude.
    second = write_tone(tmp_path / "music" / "13 After.wav", SECOND_HZ, 10.0, TONE)
    return hidden, second


def play_hidden(run: Run, second: Path, deadline_s: float) -> None:
    """Until the guard acts (its dead_air entry) and the second track has been heard a while."""
    entry, _ = wait_for("the guard never acted on the hidden track's silence",
                        lambda: run.log("dead_air"), bool,
                        timeout_s=deadline_s - run.now_s())
    wait_for("the second track never became the current one",
             lambda: run.engine.snapshot().track, lambda t: t and t.path == str(second))
    run.sleep_until(entry[0]["session_s"] + CROSSFADE_S + 1.5)  # the end of the recording


def check_hidden(run: Run, hidden: Path, gap_at_s: float, record_property,
                 label: str) -> tuple[dict, dict]:
    """What the room heard of the hidden track's gap, and the guard's act: the warning naming
    the track, one dead_air entry in the session log (kept and on disk)."""
    heard = judge_silence(run)
    entries = run.log("dead_air")
    on_disk = [e for e in read_log(run.engine.log_path) if e["event"] == "dead_air"]
    acted = entries[0]
    starts = [(Path(e["path"]).name, e["session_s"]) for e in run.log("track_start")]
    excess_s = heard["silence_s"] - DEAD_AIR_S - LISTEN_EVERY_S
    note(label, silence_s=heard["silence_s"], excess_over_dead_air_and_listen_s=excess_s,
         gap_heard_at_s=heard["gap_heard_s"], gap_ended_s=heard["gap_end_s"],
         acted_at_s=acted["session_s"], acted_at_position_s=acted["position_s"],
         acted_after_gap_s=acted["position_s"] - gap_at_s,
         acted_after_gap_heard_s=acted["session_s"] - heard["gap_heard_s"],
         second_heard_for_s=heard["second_heard_for_s"],
         second_to_90_pct_s=heard["second_to_90_pct_s"], load=os.getloadavg()[0])
    print(f"dead air: {label}: quiet stretches (session s, s) {heard['all_quiet']}; "
          f"tracks started {starts}; the next track's amplitude every 0.2 s after the gap, of "
          f"its level: {heard['second_rise']}")
    record_property(f"{label}_silence_s", round(heard["silence_s"], 3))
    record_property(f"{label}_acted_after_gap_s", round(acted["position_s"] - gap_at_s, 3))
    title = Path(HIDDEN_TRACK.name).stem
    warning = (f"DEAD AIR: the room heard nothing for {DEAD_AIR_S:.0f} s during {title}; "
               "the next track fades in")
    assert warning in run.engine.snapshot().warnings, run.engine.snapshot().warnings
    assert len(entries) == 1 and entries[0]["path"] == str(hidden), entries
    assert [e["path"] for e in on_disk] == [str(hidden)], on_disk
    return heard, acted


def test_a_hidden_track_analysed_is_cut_short_and_the_next_track_fades_in(
        sink, private_env, tmp_path, record_property):
    hidden, second = hidden_files(tmp_path)
    knowledge = analysed([hidden, second])
    found = knowledge.pop("found")
    gap_at_s = HIDDEN_TRACK.shape.gap_at_s
    # The analysis records the silent span: the music stops 4 s in and comes back at 24 s.
    quiet = found.analysed[hidden].quiet
    note("analysis", quiet=quiet, lufs=found.analysed[hidden].lufs,
         duration_s=found.durations[hidden])
    assert len(quiet) == 1, quiet
    assert quiet[0][0] == pytest.approx(gap_at_s, abs=0.2)
    assert quiet[0][1] == pytest.approx(gap_at_s + HIDDEN_TRACK.shape.gap_s, abs=0.2)
    assert found.durations[hidden] == pytest.approx(HIDDEN_TRACK.shape.duration_s, abs=0.05)
    pl = playlist(tmp_path, phase("music", 120.0, [hidden, second], crossfade_s=CROSSFADE_S))
    with session(pl, sink, settings(), tmp_path, **knowledge) as run:
        play_hidden(run, second, gap_at_s + DEAD_AIR_S + DEADLINE_S)
    heard, acted = check_hidden(run, hidden, gap_at_s, record_property, "analysed")
    bound_s = DEAD_AIR_S + LISTEN_EVERY_S + LATENCY_MARGIN_S
    assert heard["silence_s"] <= bound_s, (
        f"the room heard {heard['silence_s']:.3f} s of silence (from session "
        f"{heard['gap_heard_s']:.2f} s); at most {bound_s:.2f} s allowed")
    acted_after_s = acted["session_s"] - heard["gap_heard_s"]
    assert DEAD_AIR_S - ALIGNMENT_S <= acted_after_s <= bound_s, (
        f"the guard acted {acted_after_s:.3f} s after the room heard the silence begin")
    assert heard["second_heard_for_s"] >= CROSSFADE_S, heard
    # Faded in over the crossfade, not cut in (measured 1.0-1.4 s; a cut is heard within 0.2 s).
    assert 0.5 <= heard["second_to_90_pct_s"] <= CROSSFADE_S + AUDIBLE_WITHIN_S, heard


def test_a_hidden_track_not_analysed_is_cut_short_too(sink, private_env, tmp_path,
                                                      record_property):
    """No cues nor loudness: the guard does not judge the track's first UNANALYSED_LEAD_S (a
    silent lead the cue points would have skipped), but the hidden track's silence begins after
    4 s of music, so it is dead air like any other: acted on about DEAD_AIR_S into it."""
    hidden, second = hidden_files(tmp_path)
    gap_at_s = HIDDEN_TRACK.shape.gap_at_s
    durations = library.durations([hidden, second])  # the headers': what play knows at first
    note("unanalysed", durations=durations, lead_s=UNANALYSED_LEAD_S)
    pl = playlist(tmp_path, phase("music", 120.0, [hidden, second], crossfade_s=CROSSFADE_S))
    # The deadline lets the guard act as late as the end of the lead, so a late act is measured
    # (and reported) rather than waited out at the deadline.
    deadline_s = max(gap_at_s, UNANALYSED_LEAD_S) + DEAD_AIR_S + DEADLINE_S
    with session(pl, sink, settings(), tmp_path, durations=durations) as run:
        play_hidden(run, second, deadline_s)
    heard, acted = check_hidden(run, hidden, gap_at_s, record_property, "unanalysed")
    bound_s = DEAD_AIR_S + LISTEN_EVERY_S + LATENCY_MARGIN_S
    assert heard["second_heard_for_s"] >= CROSSFADE_S, heard
    assert heard["silence_s"] <= bound_s, (
        f"the room heard {heard['silence_s']:.3f} s of silence (from session "
        f"{heard['gap_heard_s']:.2f} s) in a track not analysed; at most {bound_s:.2f} s allowed: "
        f"the guard acted {acted['position_s'] - gap_at_s:.2f} s into the silence, at "
        f"{acted['position_s']:.2f} s into the track (UNANALYSED_LEAD_S is "
        f"{UNANALYSED_LEAD_S:g} s)")
    acted_after_s = acted["session_s"] - heard["gap_heard_s"]
    assert DEAD_AIR_S - ALIGNMENT_S <= acted_after_s <= bound_s, (
        f"the guard acted {acted_after_s:.3f} s after the room heard the silence begin")


# ------------------------------------------------------------------ 2. a muted sink

def test_a_muted_sink_is_shown_and_warned_and_no_track_is_skipped(sink, private_env, tmp_path,
                                                                   record_property):
    track = write_tone(tmp_path / "music" / "tone-440.wav", 440, 30.0, TONE)
    knowledge = analysed([track])
    knowledge.pop("found")
    pl = playlist(tmp_path, phase("music", 60.0, [track], crossfade_s=CROSSFADE_S))
    with session(pl, sink, settings(), tmp_path, **knowledge) as run:
        wait_heard(run, TONE_DBFS - 10)
        run.sleep_until(3.0)
        assert run.log("dead_air") == []
        pactl("set-sink-mute", sink, "1")
        muted_s = run.now_s()
        _, seen_s = wait_for(
            "the mute never showed in the state", run.engine.snapshot,
            lambda st: (st.room or {}).get("muted") is True
            and any(w.startswith("SPEAKER MUTED:") for w in st.warnings))
        # A measurement window: the guard would have acted by now were the mute dead air.
        paths = set()
        while run.now_s() < muted_s + HOLD_S:
            st = run.engine.snapshot()
            paths.add(st.track.path if st.track else None)
            time.sleep(0.05)
        still = run.engine.snapshot()
        skipped = run.log("dead_air") + run.log("track_end")
        pactl("set-sink-mute", sink, "0")
        unmuted_s = run.now_s()
        _, unseen_s = wait_for(
            "the unmute never showed in the state", run.engine.snapshot,
            lambda st: (st.room or {}).get("muted") is False
            and "the speaker is unmuted" in st.warnings)
        wait_heard(run, TONE_DBFS - 10)
        heard_again_s = run.now_s()
        run.sleep_until(heard_again_s + 1.0)  # the end of the recording
    muted_rec = run.span(muted_s + seen_s + ALIGNMENT_S, unmuted_s - ALIGNMENT_S)
    loudest_muted = float(level_dbfs(muted_rec, WINDOW_S, WINDOW_S).max())
    after = run.span(heard_again_s + ALIGNMENT_S, heard_again_s + 1.0 - ALIGNMENT_S)
    note("muted", seen_s=seen_s, unmute_seen_s=unseen_s, held_s=HOLD_S,
         loudest_while_muted_dbfs=loudest_muted,
         level_after_unmute_dbfs=float(np.median(level_dbfs(after, WINDOW_S, WINDOW_S))),
         quietest_window_after_unmute_dbfs=float(level_dbfs(after, WINDOW_S, WINDOW_S).min()),
         underruns_after_unmute_ms=[round(d * 1000, 1) for _, d in dropouts(after)],
         tracks_seen=len(paths))
    record_property("mute_seen_s", round(seen_s, 3))
    assert seen_s <= SEE_WITHIN_S
    assert unseen_s <= SEE_WITHIN_S
    assert (still.room or {}).get("muted") is True, still.room
    assert skipped == [], f"a track was skipped while the sink was muted: {skipped}"
    assert paths == {str(track)}, paths
    assert still.warnings.count(
        "SPEAKER MUTED: the room hears nothing (the sound server's mute is on)") == 1
    assert not any(w.startswith("DEAD AIR") for w in still.warnings), still.warnings
    assert loudest_muted < -90.0, "the mute did not silence the room: the test proves nothing"
    # The tone is back at its level (the median: an underrun beside a CPU hog, seen once, takes
    # a window down by a few dB; the engine e2e tests judge underruns).
    assert float(np.median(level_dbfs(after, WINDOW_S, WINDOW_S))) == pytest.approx(TONE_DBFS,
                                                                                   abs=0.5)
    assert run.log("dead_air") == []


def test_an_owned_sink_turned_down_and_muted_comes_back_at_the_rise_limit(
        sink, private_env, tmp_path, record_property):
    # 60 s: the session's own rise from silence (10 s at 6 dB/s) and the sink's rise back from
    # the floor (10 s) both fit well before the track's end.
    track = write_tone(tmp_path / "music" / "tone-440.wav", 440, 60.0, TONE)
    knowledge = analysed([track])
    knowledge.pop("found")
    owned = RoomSettings(ceiling_pct=100.0, speaker_volume_pct=100.0)
    rise_db_per_s = owned.rise_db_per_s
    pl = playlist(tmp_path, phase("music", 120.0, [track], crossfade_s=CROSSFADE_S))
    with session(pl, sink, owned, tmp_path, **knowledge) as run:
        # The music itself rises from silence at the same limit: let it settle first, so that
        # only the sink's rise is heard.
        wait_for("the music never reached its level", run.engine.snapshot,
                 lambda st: st.level >= 100.0 and st.level_target >= 100.0,
                 timeout_s=-SILENT_DB / rise_db_per_s + DEADLINE_S)
        wait_heard(run, TONE_DBFS - 10)
        pactl("set-sink-volume", sink, "40%")
        pactl("set-sink-mute", sink, "1")
        acted_s = run.now_s()
        trace = []

        def read():
            trace.append((run.now_s(), *sink_state(sink)))
            return trace[-1]

        wait_for("the sink never came back unmuted at 100 %", read,
                 lambda t: not t[1] and t[2] >= 99.9,
                 timeout_s=-SILENT_DB / rise_db_per_s + DEADLINE_S, every_s=0.0)
        back_s = run.now_s()
        run.sleep_until(back_s + 0.5)
        state = run.engine.snapshot()
    unmuted_at = next(t for t, m, _ in trace if not m)
    # What the room heard from acting on: the drop to 40 %, perhaps a moment of the mute (exact
    # zeros: the meter lifts it within a few pactl calls, 0-250 ms heard so far: it may lift it
    # before the sink mixes a muted block), the drop to the floor, then the rise. The rise is
    # judged from where the room is at the floor and the last zeros are over: a window holding
    # part of the mute would read far below the floor and fake a fast rise.
    settle_s = 2.0  # the mute, seen and lifted, is over long before this (measured 0-0.28 s)
    early = run.span(acted_s, acted_s + settle_s)
    holes = dropouts(early)
    early_db = level_dbfs(early, 0.05, 0.01)
    floor_dbfs = TONE_DBFS + SILENT_DB
    at_floor = np.nonzero((early_db > -100.0) & (early_db < floor_dbfs + 3.0))[0]
    assert len(at_floor), (f"the room never heard the music at the floor ({floor_dbfs:.1f} dBFS) "
                           f"after the mute: was it lifted at once? lowest "
                           f"{early_db[early_db > -100].min():.1f} dBFS")
    floor_s = acted_s + at_floor[0] * 0.01
    mute_end_s = max([acted_s + a + d for a, d in holes], default=floor_s)
    rising_from_s = max(floor_s, mute_end_s) + ALIGNMENT_S
    rising = run.span(rising_from_s, back_s + 0.5)
    hop_s, span_s = 0.01, RISE_SPAN_S
    db = level_dbfs(rising, 0.05, hop_s)  # 50 ms windows: whole cycles of 440 Hz
    lag = round(span_s / hop_s)
    rise = db[lag:] - db[:-lag]
    begins_s = rising_from_s + np.arange(len(rise)) * hop_s  # session s of each rise's start
    log = run.log("dead_air")
    ends = run.log("track_end")
    # A skip (the product's fault, asserted below) crossfades the tone with a copy of itself at
    # another phase, which beats: no measure of the sink's rise. Those spans are left out.
    sink_only = np.ones(len(rise), dtype=bool)
    for entry in log:
        near = entry["session_s"] - ALIGNMENT_S - span_s - 0.05
        sink_only &= ~((begins_s > near)
                       & (begins_s < entry["session_s"] + CROSSFADE_S + AUDIBLE_WITHIN_S))
    # An underrun under load (exact zeros: the sink had nothing from the player, seen beside a
    # CPU hog) is a dropout, not a rise: windows touching one are left out too, and reported.
    underruns = [(rising_from_s + a, d) for a, d in dropouts(rising)]
    win_s = 0.05
    clean = np.ones(len(db), dtype=bool)
    for at_s, dur_s in underruns:
        first = int(np.floor((at_s - rising_from_s - win_s) / hop_s))
        clean[max(0, first):max(0, int(np.ceil((at_s + dur_s - rising_from_s) / hop_s)) + 1)] = 0
    sink_only &= clean[lag:] & clean[:-lag]
    worst = int(np.argmax(np.where(sink_only, rise, -np.inf)))
    worst_any = int(np.argmax(rise))
    rate_db_per_s = float(rise[worst]) / span_s
    allowed_db_per_s = rise_db_per_s + RISE_MARGIN_DB_PER_S
    note("owned sink", unmuted_after_s=unmuted_at - acted_s, back_at_100_after_s=back_s - acted_s,
         first_level_dbfs=float(db[0]), expected_floor_dbfs=TONE_DBFS + SILENT_DB,
         final_level_dbfs=float(db[-1]), largest_rise_db_per_0_5s=float(rise[worst]),
         largest_rise_db_per_s=rate_db_per_s, at_s=float(begins_s[worst]),
         allowed_db_per_s=allowed_db_per_s, zeros_heard_s=sum(d for _, d in holes),
         at_floor_after_s=floor_s - acted_s, lufs=knowledge['lufs'][track],
         largest_rise_with_skips_db_per_s=float(rise[worst_any]) / span_s,
         with_skips_at_s=float(begins_s[worst_any]), windows_left_out=int((~sink_only).sum()),
         underruns=[(round(a, 3), round(d * 1000, 1)) for a, d in underruns],
         volume_warnings=[w for w in state.warnings if "volume" in w or "MUTED" in w],
         dead_air=[(e["session_s"], e["position_s"]) for e in log], load=os.getloadavg()[0])
    print("dead air: sink trace (s after acting, muted, %): " + " ".join(
        f"{t - acted_s:.2f}:{int(m)}:{v:.1f}" for t, m, v in trace[::max(1, len(trace) // 40)]))
    record_property("owned_largest_rise_db_per_s", round(rate_db_per_s, 2))
    record_property("owned_back_at_100_s", round(back_s - acted_s, 3))
    muted, volume = sink_state(sink)
    assert not muted and volume == pytest.approx(100.0, abs=0.1)
    assert (state.room or {}).get("muted") is False and state.room.get("volume_pct") == 100
    assert db[-1] == pytest.approx(TONE_DBFS, abs=0.5)
    assert rate_db_per_s <= allowed_db_per_s, (
        f"the room's level rose {rise[worst]:.2f} dB in {span_s} s ({rate_db_per_s:.2f} dB/s) "
        f"from session {begins_s[worst]:.2f} s, faster than the rise limit {rise_db_per_s:g} "
        f"dB/s (allowed {allowed_db_per_s:.2f})")
    # No step up from the mute: it is lifted at the silent floor, and the rise back takes at
    # least the floor's depth at the limit (less one late step).
    assert db[0] <= TONE_DBFS + SILENT_DB + rise_db_per_s * MAX_STEP_S + 1.0, db[0]
    assert back_s - unmuted_at >= -SILENT_DB / rise_db_per_s - MAX_STEP_S - STEP_S
    # A sink rising back from the floor is not dead air (watch.py: "a muted or turned-down sink
    # is not dead air"): the track plays on.
    assert log == [] and ends == [], (
        f"a track was skipped while the owned sink rose back from the floor (unmuted at "
        f"{unmuted_at:.2f} s): dead_air (session s, position s) "
        f"{[(e['session_s'], e['position_s']) for e in log]}, track_end "
        f"{[(e['session_s'], e['reason']) for e in ends]}")

"""Cue points at play time, in simulated time on the fake output: tracks play between their audible
start and end, a track's own fade-out is not faded again, silent tails are never heard, analysis
learnt mid-session is followed, undecodable files are skipped, analysed files get longer to start.
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from engine_rig import Rig, playlist
from soundscape.engine.engine import AnalysisDone, Engine, Learned
from soundscape.engine.fades import (EQUAL_POWER_WITHIN_DB, FOLLOW_FLOOR_DB, MIN_TICK_S, STEP_DB,
                                     TICK_S)
from soundscape.engine.music import FAILED_RETRY_S, SEEK_FADE_S
from soundscape.engine.settings import RoomSettings
from soundscape.engine.state import Status
from soundscape.engine.voices import STALL_S, VERIFIED_STALL_S, WINDOW_END_FADE_S
from soundscape.loudness.cues import Cues
from soundscape.schedule.handover import CUT_INTO_FADE, CUT_INTO_FADE_MAX_S
from soundscape.playlist.model import Phase, Track
from soundscape.schedule.plan import make_plan
from soundscape.testing import FakeClock, FakeOutput

# Level 100 under a ceiling of 100: the master is gain 1.0 once risen, so a deck's gain is its
# envelope (every track gain here is 0 dB); a fast rise keeps the start out of the way.
FLAT = RoomSettings(ceiling_pct=100, rise_db_per_s=100)
EPS = 1e-6
EQUAL_POWER = 10 ** (-EQUAL_POWER_WITHIN_DB / 10)  # the crossfade's lowest summed power


class CueRig(Rig):
    """The engine rig with what analysis tells the engine: cue points, undecodable files, and
    files whose fake deck "plays" without moving (``stall``). Files live in ``music``, which may
    be a real folder (an undecodable file is skipped only if it exists)."""

    def __init__(self, pl, durations: dict, music: Path, *, cues=None, undecodable=None,
                 stall=(), missing=(), seed=1, settings=FLAT, log_dir=None):
        self.music = music
        self.clock = FakeClock()
        durs = {music / k: v for k, v in durations.items()}
        self.output = FakeOutput(self.clock, durs, missing=[music / m for m in missing],
                                 stall=[music / s for s in stall])
        self.engine = Engine(pl, self.output, clock=self.clock, durations=durs, seed=seed,
                             settings=settings, log_dir=log_dir,
                             cues={music / k: v for k, v in (cues or {}).items()},
                             undecodable={music / k: v for k, v in (undecodable or {}).items()})

    def path(self, name: str) -> Path:
        return self.music / name

    def deck(self, name: str):
        (deck,) = [d for d in self.output.decks if d.path == self.path(name)]
        return deck

    def loads(self) -> list[tuple[float, str, float]]:
        """(session time, file name, file position) of every deck loaded."""
        t0 = self.engine.clock_origin
        return [(t - t0, path.name, pos) for t, _, path, pos in self.output.loads]

    def exact_starts(self) -> list[tuple[float, str]]:
        return [(e["actual_s"], Path(e["path"]).name) for e in self.events("track_start")]

    def gains(self, name: str) -> list[tuple[float, float]]:
        """(session time, gain) of every gain the file's deck was sent."""
        t0 = self.engine.clock_origin
        return [(t - t0, g) for t, g in self.deck(name).gains]

    def gain_at(self, name: str, s: float) -> float:
        """The gain the file's deck holds at session time ``s`` (the last one sent by then)."""
        held = [g for t, g in self.gains(name) if t <= s + EPS]
        return held[-1] if held else 0.0

    def learn(self, name: str, duration_s, cues=None, gain_db=None, error=None) -> None:
        self.engine.learn(Learned(self.path(name), duration_s, gain_db, cues, error=error))


@pytest.fixture
def cue_rig(tmp_path):
    music = tmp_path / "music"
    music.mkdir()

    def make(pl_of, durations, *, files=(), **kw):
        """``pl_of(track)`` builds the playlist from a track maker bound to the music folder;
        ``files``: names written to disk (for the skip of undecodable files)."""
        for name in files:
            (music / name).write_bytes(b"RIFF not really")
        kw.setdefault("log_dir", tmp_path / "logs")

        def track(name: str, **t) -> Track:
            return Track(music / name, Path(name).stem, **t)
        return CueRig(pl_of(track), durations, music, **kw)
    return make


def phase(track, name: str, duration_s: float, names, **kw) -> Phase:
    kw.setdefault("level_pct", 100.0)
    return Phase(name, duration_s, tracks=tuple(track(n) if isinstance(n, str) else n
                                                for n in names), **kw)


# -- (a) plan and play agree with cue points ---------------------------------------------------


def test_play_follows_the_plan_track_for_track_with_cue_points(cue_rig):
    def pl(track):
        return playlist(
            phase(track, "onset", 900, ["a.wav", "b.wav", "c.wav", track("d.wav", end_s=150.0)],
                  order="shuffle", crossfade_s=4),
            phase(track, "peak", 900, ["e.wav", "f.wav", "g.wav"], order="shuffle",
                  crossfade_s=0),
            phase(track, "return", 400, ["h.wav", "i.wav"], crossfade_s=6, when_short="silence"))
    durations = {f"{n}.wav": 170 + 10 * i for i, n in enumerate("abcdefghi")}
    cues = {
        "a.wav": Cues(2.5, 168.0, 7.0),  # silent lead and tail, own fade longer than the crossfade
        "b.wav": Cues(0.0, 175.0, 3.0),  # silent tail, own fade shorter than the crossfade
        "c.wav": Cues(1.2, 190.0, 0.0),  # silent lead only
        "d.wav": Cues(0.6, 195.0, 4.0),  # silent lead, its end trimmed before the cue-out
        "e.wav": Cues(3.0, 200.0, 5.0),  # in a phase of cuts
        "g.wav": Cues(0.8, 225.0, 0.0),
        "h.wav": Cues(4.0, 230.0, 8.0),
        "i.wav": Cues(0.0, 235.0, 0.0),
    }
    r = cue_rig(pl, durations, cues=cues, seed=42)
    r.do("start")
    r.run(2300)
    plan = make_plan(r.engine.playlist, r.engine.durations, 42, r.engine.cues)
    planned = [(t.start_s, t.path.name, t.from_s) for p in plan.phases for t in p.tracks]
    assert sum(t.cued_in or t.cued_out for p in plan.phases for t in p.tracks) >= 7
    played = r.exact_starts()
    assert [name for _, name in played] == [name for _, name, _ in planned]
    for (actual, name), (due, _, _) in zip(played, planned):
        assert abs(actual - due) <= TICK_S + EPS, (name, actual, due)
    # every deck is loaded where the plan says the track starts in its file
    assert [(name, pos) for _, name, pos in r.loads()] == [(n, f) for _, n, f in planned]
    # the log's planned time of each track is the plan's
    for event in r.events("track_start"):
        assert abs(event["planned_s"] - event["actual_s"]) <= TICK_S + EPS, event
    assert r.state.status is Status.ENDED
    assert r.state.warnings == ()


# -- (b) a deck starts at the cue-in, fading in -------------------------------------------------


def test_a_deck_is_loaded_at_its_cue_in_and_fades_in_over_the_seek_fade(cue_rig):
    def pl(track):
        return playlist(phase(track, "peak", 600, ["a.wav", "b.wav"], crossfade_s=0))
    r = cue_rig(pl, {"a.wav": 100, "b.wav": 100},
                cues={"a.wav": Cues(1.5, 100.0, 0.0), "b.wav": Cues(2.5, 100.0, 0.0)})
    r.do("start")
    r.run(101)
    (t_a, _, pos_a), (t_b, _, pos_b) = r.loads()
    assert (t_a, pos_a) == (0.0, 1.5)  # the session's first track, at its audible start
    assert pos_b == 2.5
    assert t_b == pytest.approx(98.5 - 0.05)  # a's 98.5 s window, cut 50 ms early
    assert r.gains("a.wav")[0] == (0.0, 0.0)
    gains = r.gains("b.wav")
    assert gains[0] == (pytest.approx(t_b), 0.0)  # loaded silent
    risen = next(t for t, g in gains if g >= 1.0 - EPS)
    # the gain sent at a tick is the one for its middle: the rise is heard over >= SEEK_FADE_S
    assert risen + TICK_S / 2 >= t_b + SEEK_FADE_S - EPS
    rising = [g for t, g in gains if t <= risen]
    assert rising == sorted(rising) and 0.0 < rising[len(rising) // 2] < 1.0


def test_a_crossfade_into_a_cued_track_starts_it_at_its_cue_in_and_fades_it_in_over_the_crossfade(
        cue_rig):
    def pl(track):
        return playlist(phase(track, "onset", 600, ["a.wav", "b.wav"], crossfade_s=4))
    r = cue_rig(pl, {"a.wav": 100, "b.wav": 200}, cues={"b.wav": Cues(3.0, 200.0, 0.0)})
    r.do("start")
    r.run(100)
    assert r.loads()[1] == (pytest.approx(95.75), "b.wav", 3.0)
    assert r.gain_at("b.wav", 95.75) < 0.01
    assert r.gain_at("b.wav", 97.75) == pytest.approx(math.sin(math.pi / 4), abs=0.01)
    assert r.gain_at("b.wav", 99.76) == pytest.approx(1.0)


# -- (c) a track's own fade over the crossfade --------------------------------------------------


@pytest.mark.parametrize("own_fade_s", [4.0, 6.0])
def test_a_track_fading_out_by_itself_over_the_crossfade_is_not_faded_again(cue_rig, own_fade_s):
    def pl(track):
        return playlist(phase(track, "onset", 600, ["a.wav", "b.wav"], crossfade_s=4))
    r = cue_rig(pl, {"a.wav": 100, "b.wav": 200}, cues={"a.wav": Cues(0.0, 100.0, own_fade_s)})
    r.do("start")
    r.run(101)
    assert r.exact_starts()[1] == (95.75, "b.wav")
    # its envelope stays 1 to the end of its window (the file's end): only its own fade is heard
    assert r.gain_at("a.wav", 1.0) == 1.0
    assert all(g == 1.0 for t, g in r.gains("a.wav") if t >= 1.0)
    assert r.gain_at("a.wav", 99.99) == 1.0
    # while the next fades in equal-power over the crossfade
    assert r.gain_at("b.wav", 95.75) < 0.01
    assert r.gain_at("b.wav", 97.75) == pytest.approx(math.sin(math.pi / 4), abs=0.01)
    assert r.gain_at("b.wav", 99.76) == pytest.approx(1.0)
    assert [e["reason"] for e in r.events("track_end")][:1] == ["crossfade"]


def test_a_crossfade_is_sent_in_steps_of_a_quarter_db_down_to_its_quiet_ends(cue_rig):
    """A crossfade's halves are steep in dB near silence (a 4 s one leaves silence at 50 dB/s, a
    dB every 20 ms tick, for its first second): there the engine ticks faster."""
    def pl(track):
        return playlist(phase(track, "onset", 600, ["a.wav", "b.wav"], crossfade_s=4))
    r = cue_rig(pl, {"a.wav": 100, "b.wav": 200})
    r.do("start")
    r.run(100.5)
    floor = 10 ** (FOLLOW_FLOOR_DB / 20)
    for name, (t0, t1) in {"a.wav": (95.75, 99.75), "b.wav": (95.75, 99.75)}.items():
        sent = [(t, g) for t, g in r.gains(name) if t0 - EPS <= t <= t1 + EPS]
        steps = [(t2, t2 - t1_, abs(20 * math.log10(g2 / g1))) for (t1_, g1), (t2, g2)
                 in zip(sent, sent[1:]) if min(g1, g2) >= floor]
        assert steps, name
        # each step a quarter dB (the last one rounds up), or as fast as the engine ticks
        assert all(db <= STEP_DB * 1.2 or dt <= MIN_TICK_S + EPS for _, dt, db in steps), (
            name, max(steps, key=lambda step: step[2]))
        # faster ticks only where one of the two is steep: the halves move 0.25 dB in 20 ms
        # over the first and last 1.3 s of 4 s (the fastest deck sets the tick for both)
        fast = [t for t, dt, _ in steps if dt < TICK_S - EPS]
        assert len(fast) > 10, name
        assert all(t < t0 + 1.3 or t > t1 - 1.3 for t in fast), (name, fast)


@pytest.mark.parametrize("cues", [None, Cues(0.0, 100.0, 0.0), Cues(0.0, 100.0, 3.0)])
def test_a_track_without_an_own_fade_as_long_as_the_crossfade_is_faded_equal_power(cue_rig, cues):
    def pl(track):
        return playlist(phase(track, "onset", 600, ["a.wav", "b.wav"], crossfade_s=4))
    r = cue_rig(pl, {"a.wav": 100, "b.wav": 200}, cues={} if cues is None else {"a.wav": cues})
    r.do("start")
    r.run(95.74)
    assert r.gain_at("a.wav", 95.74) == 1.0
    for _ in range(200):
        r.run(TICK_S)
        s = r.engine.session_s()
        a, b = r.gain_at("a.wav", s), r.gain_at("b.wav", s)
        assert EQUAL_POWER - 1e-3 <= a * a + b * b <= 1.0 + 1e-3, (s, a, b)
    assert r.gain_at("a.wav", 97.75) == pytest.approx(math.cos(math.pi / 4), abs=0.01)
    r.run(2 * TICK_S)
    assert r.gain_at("a.wav", 99.75 + TICK_S) < EPS  # faded by END_MARGIN_S before its end


def test_a_phases_last_track_fading_out_by_itself_is_not_faded_again_into_the_next_phase(cue_rig):
    """when_short: silence, the next phase crossfades in as the last track ends: the same
    hand-over as between two tracks (the plan keeps its own fade, own_fade_s)."""
    def pl(track):
        return playlist(phase(track, "onset", 900, ["a.wav"], crossfade_s=4,
                              when_short="silence"),
                        phase(track, "peak", 300, ["d.wav"], crossfade_s=4))
    r = cue_rig(pl, {"a.wav": 100, "d.wav": 600}, cues={"a.wav": Cues(0.0, 100.0, 6.0)})
    assert r.engine.plan.phases[0].tracks[0].own_fade_s == 6.0
    r.do("start")
    r.run(101)
    assert r.exact_starts() == [(0.0, "a.wav"), (95.75, "d.wav")]
    assert r.gain_at("a.wav", 97.75) == 1.0, "faded a second time over its own fade"
    assert r.gain_at("a.wav", 99.99) == 1.0


# -- (d) a window ending inside its file -------------------------------------------------------


@pytest.mark.parametrize("own_fade_s", [0.0, 6.0])
@pytest.mark.parametrize("crossfade_s", [0.0, 4.0])
def test_a_silent_tail_is_never_heard(cue_rig, crossfade_s, own_fade_s):
    def pl(track):
        return playlist(phase(track, "onset", 600, ["a.wav", "b.wav"], crossfade_s=crossfade_s))
    r = cue_rig(pl, {"a.wav": 110, "b.wav": 200}, cues={"a.wav": Cues(0.0, 100.0, own_fade_s)})
    r.do("start")
    r.run(102)
    end = 100.0
    if crossfade_s and not own_fade_s:  # faded over the crossfade, END_MARGIN_S before the end
        assert r.gain_at("a.wav", end - 0.25 + TICK_S) < EPS
    else:  # played to its window's end, faded over its last 0.1 s
        assert r.gain_at("a.wav", end - WINDOW_END_FADE_S - TICK_S) == 1.0
        assert 0.0 < r.gain_at("a.wav", end - WINDOW_END_FADE_S / 2) < 1.0
    assert r.gain_at("a.wav", end + TICK_S) < EPS  # silent by its window's end
    assert not r.deck("a.wav").audible()
    assert max((g for t, g in r.gains("a.wav") if t >= end), default=0.0) < EPS
    # a cut after a track's own fade starts the next half-way through the fade (at most 3 s)
    lead = (0.05 + min(CUT_INTO_FADE * own_fade_s, CUT_INTO_FADE_MAX_S) if not crossfade_s
            else crossfade_s + 0.25)
    assert r.exact_starts()[1] == (pytest.approx(end - lead), "b.wav")


def test_an_end_trim_in_a_cut_is_faded_over_the_last_tenth_of_a_second(cue_rig):
    def pl(track):
        return playlist(phase(track, "onset", 600, [track("a.wav", end_s=70.0), "b.wav"],
                              crossfade_s=0))
    r = cue_rig(pl, {"a.wav": 200, "b.wav": 200})
    r.do("start")
    r.run(72)
    assert r.gain_at("a.wav", 70.0 - WINDOW_END_FADE_S - TICK_S) == 1.0
    assert r.gain_at("a.wav", 70.0 + TICK_S) < EPS
    assert r.exact_starts()[1] == (pytest.approx(69.95), "b.wav")


def test_a_track_that_ends_with_its_file_is_not_faded_at_a_cut(cue_rig):
    def pl(track):
        return playlist(phase(track, "onset", 600, ["a.wav", "b.wav"], crossfade_s=0))
    r = cue_rig(pl, {"a.wav": 100, "b.wav": 200}, cues={"a.wav": Cues(0.0, 100.0, 0.0)})
    r.do("start")
    r.run(101)
    assert r.gain_at("a.wav", 99.99) == 1.0  # the file ends there: libVLC stops it


def test_a_window_with_nothing_in_it_is_skipped_as_the_plan_skips_it(cue_rig):
    """A start trim past the audible end leaves a window of 0 s: the plan leaves the track out,
    and play must too (not start it and then cut from it into the next track)."""
    def pl(track):
        return playlist(phase(track, "onset", 900,
                              ["a.wav", track("late.wav", start_s=100.0), "b.wav"],
                              crossfade_s=4, when_short="silence"))
    r = cue_rig(pl, {"a.wav": 100, "late.wav": 120, "b.wav": 100},
                cues={"late.wav": Cues(0.0, 90.0, 0.0)})
    assert [t.path.name for t in r.engine.plan.phases[0].tracks] == ["a.wav", "b.wav"]
    r.do("start")
    r.run(100)
    assert [name for _, name in r.exact_starts()] == ["a.wav", "b.wav"]
    assert "late.wav" not in [name for _, name, _ in r.loads()]
    # b crossfades in from a over the 4 s crossfade, as planned
    assert r.gain_at("b.wav", 96.0) < 0.2
    assert r.gain_at("b.wav", 97.75) == pytest.approx(math.sin(math.pi / 4), abs=0.02)


# -- (e) cue points learnt during the session ---------------------------------------------------


def test_cue_points_learnt_mid_session_are_played_and_the_plan_follows(cue_rig):
    def pl(track):
        return playlist(phase(track, "onset", 900, ["a.wav", "b.wav", "c.wav"], crossfade_s=4,
                              when_short="silence"),
                        phase(track, "peak", 300, ["d.wav"]))
    # header lengths: b and c are not analysed yet when the session starts
    r = cue_rig(pl, {"a.wav": 100, "b.wav": 120.4, "c.wav": 90, "d.wav": 600},
                cues={"a.wav": Cues(0.0, 100.0, 0.0)})
    r.do("start")
    r.run(50)
    assert r.engine.plan.phases[0].tracks[1].from_s == 0.0
    r.learn("b.wav", 120.0, Cues(3.0, 110.0, 6.0), gain_db=-2.0)
    r.learn("c.wav", 90.0, Cues(4.0, 85.0, 0.0))
    expected = make_plan(r.engine.playlist, r.engine.durations, r.engine.seed, r.engine.cues)
    assert r.engine.plan == expected and r.engine.core.timeline.plan is r.engine.plan
    b, c = expected.phases[0].tracks[1:]
    assert (b.from_s, b.duration_s, b.own_fade_s) == (3.0, 107.0, 6.0)
    assert (c.from_s, c.duration_s) == (4.0, 81.0)
    r.run(300)
    # b and c start at their audible starts, where the new plan has them
    assert [(name, pos) for _, name, pos in r.loads()][:3] == [
        ("a.wav", 0.0), ("b.wav", 3.0), ("c.wav", 4.0)]
    planned = [(t.start_s, t.path.name) for p in expected.phases for t in p.tracks]
    played = r.exact_starts()
    assert [n for _, n in played] == ["a.wav", "b.wav", "c.wav", "d.wav"]
    assert [n for _, n in played] == [n for _, n in planned[:len(played)]]
    for (actual, name), (due, _) in zip(played, planned):
        assert abs(actual - due) <= TICK_S + EPS, (name, actual, due)
    for event in r.events("track_start"):
        assert abs(event["planned_s"] - event["actual_s"]) <= TICK_S + EPS, event
    # b hands over to c at its audible end (110 s in its file), not its file's end
    assert played[2][0] == pytest.approx(95.75 + 107.0 - 4.25)
    assert r.gain_at("b.wav", 100.0) == pytest.approx(10 ** (-2 / 20))  # its learnt gain


def test_cue_points_learnt_for_the_track_playing_leave_its_window_as_it_started(cue_rig):
    def pl(track):
        return playlist(phase(track, "onset", 900, ["a.wav", "b.wav"], crossfade_s=4))
    r = cue_rig(pl, {"a.wav": 100, "b.wav": 200})
    r.do("start")
    r.run(10)
    r.learn("a.wav", 100.0, Cues(0.0, 80.0, 0.0))
    r.run(90)
    assert r.exact_starts()[1] == (95.75, "b.wav")  # it started as a 100 s window


# -- (f) Start waits for the first tracks' analysis --------------------------------------------


def analysing(cue_rig):
    def pl(track):
        return playlist(phase(track, "onset", 900, ["a.wav", "b.wav", "c.wav"], crossfade_s=4))
    r = cue_rig(pl, {"a.wav": 100, "b.wav": 100, "c.wav": 100})
    r.engine.expect_analysis([r.path(n) for n in ("a.wav", "b.wav", "c.wav")],
                             [r.path("a.wav"), r.path("b.wav")])
    return r


def test_start_waits_for_the_first_tracks_at_most_20_s_and_a_stopped_analysis_frees_it(
        cue_rig):
    from soundscape.engine.intake import FIRST_WAIT_MAX_S, AnalysisDone

    r = analysing(cue_rig)
    r.run(FIRST_WAIT_MAX_S - 1)
    assert not r.do("start").ok
    r.run(1.01)
    assert r.do("start").ok  # a huge file or a slow share must not hold the room for ever
    r2 = analysing(cue_rig)
    r2.engine.learn(AnalysisDone("the analyser stopped after 0 of 3 files (exit status 1)"))
    assert r2.state.analysis["first_pending"] == [] and r2.do("start").ok
    assert any(w.startswith("ANALYSIS STOPPED: the analyser stopped after 0 of 3 files")
               and "3 files play by their headers" in w for w in r2.state.warnings)


def test_start_is_refused_while_the_first_tracks_are_analysed_and_taken_once_they_are(cue_rig):
    r = analysing(cue_rig)
    assert r.state.analysis == {"done": 0, "total": 3, "first_pending": ["a.wav", "b.wav"]}
    result = r.do("start")
    assert (result.ok, result.reason) == (
        False, "the first tracks are still being analysed (a.wav, b.wav); Start in a few seconds")
    assert r.state.status is Status.READY and not r.events("phase_start")
    r.run(5)
    assert r.state.status is Status.READY
    r.learn("a.wav", 100.0, Cues(0.0, 100.0, 0.0))
    assert r.engine.analysis == {"done": 1, "total": 3, "first_pending": ["b.wav"]}
    assert r.do("start").reason == ("the first tracks are still being analysed (b.wav); "
                                    "Start in a few seconds")
    r.learn("b.wav", 100.0, Cues(2.0, 100.0, 0.0))
    assert r.engine.first_analysed()
    assert r.do("start").ok
    assert r.state.status is Status.PLAYING
    assert r.state.analysis == {"done": 2, "total": 3, "first_pending": []}
    r.learn("c.wav", 100.0, None)
    r.run(2)
    assert r.engine.analysis == {"done": 3, "total": 3, "first_pending": []}
    assert r.loads()[0][1:] == ("a.wav", 0.0)


def test_analysis_done_counts_every_file_it_was_given(cue_rig):
    r = analysing(cue_rig)
    r.learn("a.wav", 100.0, None)
    r.engine.learn(AnalysisDone())
    assert r.engine.analysis == {"done": 3, "total": 3, "first_pending": []}
    assert r.do("start").ok  # b was reported done (whatever it held): Start waits no longer


def test_the_state_shows_the_analysis_progress_as_each_file_is_learnt(cue_rig):
    r = analysing(cue_rig)
    r.learn("a.wav", 100.0, Cues(0.0, 100.0, 0.0))
    assert r.state.analysis == {"done": 1, "total": 3, "first_pending": ["b.wav"]}
    r.learn("b.wav", 100.0, Cues(0.0, 100.0, 0.0))
    assert r.state.analysis == {"done": 2, "total": 3, "first_pending": []}


def test_a_start_refused_for_the_analysis_is_in_the_session_log(cue_rig):
    r = analysing(cue_rig)
    r.do("start")
    commands = r.events("command")
    assert [(c["action"], c["ok"], c["reason"]) for c in commands] == [
        ("start", False,
         "the first tracks are still being analysed (a.wav, b.wav); Start in a few seconds")]


# -- (g) files the analysis found undecodable --------------------------------------------------


@pytest.mark.parametrize("crossfade_s", [0.0, 4.0])
def test_an_undecodable_file_is_skipped_at_its_turn_without_a_deck(cue_rig, crossfade_s):
    def pl(track):
        return playlist(phase(track, "onset", 900, ["a.wav", "bad.wav", "b.wav"],
                              crossfade_s=crossfade_s, when_short="silence"))
    r = cue_rig(pl, {"a.wav": 100, "bad.wav": 100, "b.wav": 100}, files=["bad.wav"],
                undecodable={"bad.wav": "no audio stream"})
    r.do("start")
    r.run(101)
    starts = r.exact_starts()
    assert [n for _, n in starts] == ["a.wav", "bad.wav", "b.wav"]
    turn = 100.0 - (0.05 if not crossfade_s else crossfade_s + 0.25)
    assert starts[1][0] == pytest.approx(turn)
    assert starts[2][0] - starts[1][0] <= 0.05 + EPS  # at once: the next tick
    assert [name for _, name, _ in r.loads()] == ["a.wav", "b.wav"]  # no deck for it
    assert all(d.path != r.path("bad.wav") for d in r.output.decks)
    assert r.state.warnings == ("bad.wav cannot be played (no audio stream); skipped",)
    assert r.events("track_start")[1]["undecodable"] == "no audio stream"
    assert [e["reason"] for e in r.events("track_end") if e["path"].endswith("bad.wav")] == [
        "failed"]
    assert "b.wav" in r.heard()


def test_a_track_after_an_undecodable_file_is_planned_where_it_plays(cue_rig):
    """The analysis said the file holds nothing to play, so the plan (and the log's planned
    times) should not keep its header length on the timeline."""
    def pl(track):
        return playlist(phase(track, "onset", 900, ["a.wav", "bad.wav", "b.wav"], crossfade_s=4,
                              when_short="silence"))
    r = cue_rig(pl, {"a.wav": 100, "bad.wav": 100, "b.wav": 100}, files=["bad.wav"])
    r.do("start")
    r.run(10)
    r.learn("bad.wav", None, error="no audio stream")
    r.run(100)
    b = r.events("track_start")[-1]
    assert Path(b["path"]).name == "b.wav"
    assert b["planned_s"] is not None and abs(b["planned_s"] - b["actual_s"]) <= 0.05, b


def test_an_undecodable_file_that_is_not_there_is_left_to_the_deck(cue_rig):
    def pl(track):
        return playlist(phase(track, "onset", 900, ["a.wav", "gone.wav", "b.wav"], crossfade_s=4))
    r = cue_rig(pl, {"a.wav": 100, "gone.wav": 100, "b.wav": 300}, missing=["gone.wav"],
                undecodable={"gone.wav": "no audio stream"})
    r.do("start")
    r.run(97)
    assert [name for _, name, _ in r.loads()] == ["a.wav", "gone.wav", "b.wav"]
    assert r.state.warnings == ("gone.wav could not be played; skipped",)


def test_a_phase_of_only_undecodable_files_retries_later_and_does_not_spin(cue_rig):
    def pl(track):
        return playlist(phase(track, "onset", 600, ["bad1.wav", "bad2.wav"]),
                        phase(track, "peak", 300, ["b.wav"]))
    r = cue_rig(pl, {"bad1.wav": 100, "bad2.wav": 100, "b.wav": 600},
                files=["bad1.wav", "bad2.wav"],
                undecodable={"bad1.wav": "no audio stream", "bad2.wav": "not audio"})
    ticks = []
    tick = r.engine.core.tick
    r.engine.core.tick = lambda s: (ticks.append(s), tick(s))
    r.do("start")
    r.run(95)
    rounds = [round(t / FAILED_RETRY_S) for t, _ in r.exact_starts()]
    assert rounds == [0, 0, 1, 1, 2, 2, 3, 3]  # both files, once every FAILED_RETRY_S
    for (t, _), n in zip(r.exact_starts(), rounds):
        assert abs(t - n * FAILED_RETRY_S) < 0.5
    warnings = [e["message"] for e in r.events("warning")]
    assert len(warnings) == 4 * 3
    assert warnings[:3] == [
        "bad1.wav cannot be played (no audio stream); skipped",
        "bad2.wav cannot be played (not audio); skipped",
        "no track of phase 'onset' could be played; trying again in 30 s"]
    assert r.output.loads == []
    assert len(ticks) < 400, f"{len(ticks)} ticks in 95 s"  # not 50 a second
    assert r.state.status is Status.PLAYING and r.state.phase.name == "onset"


# -- (h) how long a deck may stand still -------------------------------------------------------


def stalling(cue_rig, analysed: bool):
    def pl(track):
        return playlist(phase(track, "onset", 600, ["a.wav", "junk.mp3", "b.wav"], crossfade_s=1))
    cues = {"junk.mp3": Cues(0.0, 30.0, 0.0)} if analysed else {}
    return cue_rig(pl, {"a.wav": 30, "junk.mp3": 30, "b.wav": 300}, cues=cues,
                   stall=["junk.mp3"])


@pytest.mark.parametrize("analysed, limit_s", [(False, STALL_S), (True, VERIFIED_STALL_S)])
def test_a_deck_that_does_not_move_is_judged_failed_after_its_stall_limit(cue_rig, analysed,
                                                                          limit_s):
    r = stalling(cue_rig, analysed)
    r.do("start")
    r.run(28.75 + limit_s - 0.1)
    assert r.state.warnings == () and r.state.track.title == "junk"
    r.run(0.2)
    starts = dict((name, t) for t, name in r.exact_starts())
    assert starts["junk.mp3"] == pytest.approx(28.75)
    assert limit_s - EPS <= starts["b.wav"] - starts["junk.mp3"] <= limit_s + TICK_S + EPS
    assert r.state.warnings == ("junk.mp3 makes no progress (not audio?); skipped",)


def test_an_analysed_file_slow_to_move_is_kept_where_an_unanalysed_one_is_not(cue_rig):
    assert STALL_S < 3.0 < VERIFIED_STALL_S
    for analysed, kept in ((True, True), (False, False)):
        r = stalling(cue_rig, analysed)
        r.do("start")
        r.run(28.75 + 3.0)  # three seconds without moving, then it plays
        r.output.stall.clear()
        r.run(5)
        assert (r.state.track.title == "junk") is kept, analysed
        assert (r.state.warnings == ()) is kept, analysed

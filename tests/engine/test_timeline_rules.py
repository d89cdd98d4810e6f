"""Phase and track timing rules, in simulated time on the fake output."""

from soundscape.engine.state import Status

from engine_rig import MUSIC, phase, playlist, track


def test_tracks_crossfade_ahead_of_their_end_so_there_is_no_gap(rig_factory):
    r = rig_factory(playlist(phase("onset", 300, ["a.wav", "b.wav", "c.wav"], crossfade_s=6)),
                    {"a.wav": 100, "b.wav": 100, "c.wav": 200})
    r.do("start")
    r.run(250)
    assert r.starts() == [(0.0, "a.wav"), (93.75, "b.wav"), (187.5, "c.wav")]  # 6 s fades end 0.25 s early
    # during each crossfade both tracks are heard, and never nothing
    r2 = rig_factory(playlist(phase("onset", 300, ["a.wav", "b.wav"], crossfade_s=6)),
                     {"a.wav": 100, "b.wav": 100})
    r2.do("start")
    r2.run(97)
    assert r2.heard() == ["a.wav", "b.wav"]
    for _ in range(200):
        r2.run(0.5)
        assert r2.heard(), f"silence at {r2.state.session_elapsed_s}"


def test_at_end_fade_crossfades_into_the_next_phase_on_time(rig_factory):
    r = rig_factory(playlist(phase("onset", 120, ["a.wav"], at_end="fade"), phase("peak", 120, ["b.wav"])),
                    {"a.wav": 300, "b.wav": 300})
    r.do("start")
    r.run(119.9)
    assert r.state.phase.name == "onset"
    r.run(0.2)
    assert r.state.phase.name == "peak"
    assert r.starts() == [(0.0, "a.wav"), (120.0, "b.wav")]
    assert r.heard() == ["a.wav", "b.wav"]  # crossfading, not cut
    r.run(7)
    assert r.heard() == ["b.wav"]


def test_at_end_finish_lets_the_track_play_out_and_keeps_later_phases_on_time(rig_factory):
    pl = playlist(phase("onset", 120, ["a.wav"], at_end="finish", crossfade_s=4),
                  phase("peak", 120, ["b.wav"]), phase("return", 60, ["c.wav"]))
    r = rig_factory(pl, {"a.wav": 150, "b.wav": 300, "c.wav": 300})
    r.do("start")
    r.run(140)
    assert r.state.phase.name == "onset"  # still finishing a.wav
    r.run(10)
    assert r.starts()[1] == (145.75, "b.wav")  # a.wav ends at 150: its 4 s crossfade ends 0.25 s early
    assert r.state.phase.name == "peak"
    assert [s.start_s for s in r.state.phases] == [0.0, 145.75, 240.0]  # return still at 4:00


def test_when_short_repeat_cycles_the_tracks(rig_factory):
    r = rig_factory(playlist(phase("peak", 300, ["a.wav", "b.wav"], crossfade_s=0, when_short="repeat")),
                    {"a.wav": 60, "b.wav": 60})
    r.do("start")
    r.run(299)
    assert [name for _, name in r.starts()] == ["a.wav", "b.wav", "a.wav", "b.wav", "a.wav"]
    repeats = [e["repeat"] for e in r.events("track_start")]
    assert repeats == [False, False, True, True, True]


def test_when_short_silence_ends_the_phase_early_and_the_next_begins(rig_factory):
    pl = playlist(phase("onset", 300, ["a.wav"], when_short="silence", crossfade_s=5),
                  phase("peak", 300, ["b.wav"]))
    r = rig_factory(pl, {"a.wav": 100, "b.wav": 600})
    r.do("start")
    r.run(96)
    assert r.state.phase.name == "peak"
    assert r.starts() == [(0.0, "a.wav"), (94.75, "b.wav")]
    assert r.state.phases[1].start_s == 94.75
    assert r.state.phases[1].duration_s == 505.25  # the boundary moved, the end did not


def test_session_ends_after_the_last_phase_with_its_fade_out(rig_factory):
    pl = playlist(phase("return", 120, ["a.wav"], fade_out_s=30))
    r = rig_factory(pl, {"a.wav": 600})
    r.do("start")
    r.run(60)
    assert r.state.level > 60
    r.run(45)  # 15 s into the fade-out
    assert 0 < r.state.level < 60
    r.run(16)
    assert r.state.status == Status.ENDED
    assert r.heard() == []
    assert r.events("session_end")[0]["reason"] == "completed"


def test_a_90_minute_session_runs_whole_in_simulated_time(rig_factory):
    pl = playlist(phase("arrival", 600, ["a.wav"], fade_in_s=30),
                  phase("onset", 1200, ["b.wav", "c.wav"], order="shuffle"),
                  phase("peak", 2400, ["d.wav", "e.wav", "f.wav"]),
                  phase("return", 1200, ["g.wav"], fade_out_s=60))
    r = rig_factory(pl, {f"{n}.wav": 250 for n in "abcdefg"})
    r.do("start")
    r.run(5500)  # how fast this runs is measured in bench/, not asserted here
    assert r.state.status == Status.ENDED
    assert [e["phase"] for e in r.events("phase_start")] == ["arrival", "onset", "peak", "return"]
    assert [e["actual_s"] for e in r.events("phase_start")] == [0.0, 600.0, 1800.0, 4200.0]


def test_play_follows_the_plan_track_for_track(rig_factory):
    from soundscape.schedule.plan import make_plan
    pl = playlist(phase("onset", 900, ["a.wav", "b.wav", "c.wav", "d.wav"], order="shuffle"),
                  phase("peak", 900, ["e.wav", "f.wav", "g.wav"], order="shuffle"))
    durations = {f"{n}.wav": 170 + 10 * i for i, n in enumerate("abcdefg")}
    r = rig_factory(pl, durations, seed=42)
    r.do("start")
    r.run(1790)
    plan = make_plan(pl, r.engine.durations, 42)
    planned = [(round(t.start_s, 2), t.path.name) for p in plan.phases for t in p.tracks]
    assert r.starts() == planned
    assert r.events("session_open")[0]["seed"] == 42


def test_track_trims_and_gain_are_applied(rig_factory):
    pl = playlist(phase("onset", 300, [track("a.wav", start_s=10, end_s=70, gain_db=-6.0), "b.wav"],
                        crossfade_s=0, level_pct=100))
    from soundscape.engine.settings import RoomSettings
    r = rig_factory(pl, {"a.wav": 200, "b.wav": 200}, settings=RoomSettings(ceiling_pct=100, rise_db_per_s=100))
    r.do("start")
    r.run(30)
    deck = r.output.decks[0]
    assert r.output.loads[0][3] == 10  # loaded at the trim start
    assert abs(deck.gain - 10 ** (-6 / 20)) < 1e-6
    r.run(31)
    assert r.starts() == [(0.0, "a.wav"), (59.95, "b.wav")]  # 70 - 10 s played; a cut starts 50 ms early


def test_phase_without_tracks_plays_only_its_ambience(rig_factory):
    from soundscape.playlist.model import Ambience
    bed = Ambience(MUSIC / "bed.wav", 40)
    pl = playlist(phase("arrival", 120, [], ambience=bed), phase("onset", 60, ["a.wav"], ambience=bed))
    r = rig_factory(pl, {"bed.wav": 30, "a.wav": 100})
    r.do("start")
    r.run(60)
    assert r.heard() == ["bed.wav"] or r.heard() == ["bed.wav", "bed.wav"]
    r.run(61)
    assert "a.wav" in r.heard()
    assert r.state.status == Status.PLAYING


def test_loudness_normalisation_gain_adds_to_the_track_gain(rig_factory):
    from soundscape.engine.settings import RoomSettings
    pl = playlist(phase("onset", 300, [track("a.wav", gain_db=-3.0)], level_pct=100))
    r = rig_factory(pl, {"a.wav": 400}, settings=RoomSettings(ceiling_pct=100, rise_db_per_s=100),
                    gains_db={"a.wav": -4.0})
    r.do("start")
    r.run(5)
    assert abs(r.output.decks[0].gain - 10 ** (-7 / 20)) < 1e-6


def test_late_wake_ups_do_not_add_up_from_track_to_track(rig_factory):
    """The thread wakes a few ms late in real life; each track is placed where it was due."""
    names = [f"t{i}.wav" for i in range(30)]
    r = rig_factory(playlist(phase("peak", 400, names, crossfade_s=0, when_short="silence")),
                    {n: 10.0 for n in names})
    r.do("start")
    for _ in range(int(310 / 0.013)):
        r.engine.run_for(0.013)  # ticks only every 13 ms: every start is up to 13 ms late
    planned = [round(9.95 * i, 2) for i in range(30)]
    late = [round(t - p, 3) for (t, _), p in zip(r.starts(), planned)]
    assert max(late) < 0.014, late  # each start at most one wake-up late, never accumulating

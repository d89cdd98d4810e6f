"""Faults at play time, and the room-safety rules that apply to every level change."""

from soundscape.engine.fades import EQUAL_POWER_WITHIN_DB, fade_in_gain, fade_out_gain
from soundscape.engine.settings import RoomSettings
from soundscape.engine.state import Status
from soundscape.engine.voices import STALL_S

from engine_rig import MUSIC, phase, playlist


def test_a_missing_file_is_skipped_within_a_second_and_the_music_goes_on(rig_factory):
    r = rig_factory(playlist(phase("onset", 600, ["a.wav", "gone.wav", "b.wav"], crossfade_s=6)),
                    {"a.wav": 100, "gone.wav": 100, "b.wav": 300}, missing=["gone.wav"])
    r.do("start")
    r.run(94.5)
    starts = r.starts()
    assert [n for _, n in starts] == ["a.wav", "gone.wav", "b.wav"]
    assert starts[2][0] - starts[1][0] <= 1.0
    assert r.state.warnings == ("gone.wav could not be played; skipped",)
    assert r.events("warning")[0]["message"] == "gone.wav could not be played; skipped"
    assert r.state.status == Status.PLAYING
    r.run(1)
    assert "b.wav" in r.heard()


def test_a_track_that_ends_far_too_early_counts_as_failed(rig_factory):
    r = rig_factory(playlist(phase("onset", 600, ["a.wav", "b.wav"], crossfade_s=6)),
                    {"a.wav": 100, "b.wav": 300}, short={"a.wav": 0.05})
    r.do("start")
    r.run(1)
    assert r.starts() == [(0.0, "a.wav"), (0.06, "b.wav")]
    assert r.state.warnings == ("a.wav ended far too early (corrupt?); skipped",)


def test_a_dead_output_is_shown_as_a_loud_warning_and_the_clock_goes_on(rig_factory):
    r = rig_factory(playlist(phase("onset", 600, ["a.wav"])), {"a.wav": 700})
    r.do("start")
    r.run(5)
    r.output.dead = True
    r.run(2)
    assert r.state.warnings[-1] == "AUDIO OUTPUT LOST: the speaker or sound server is not answering"
    assert r.state.extras["output_ok"] is False
    r.run(600)
    assert r.state.status == Status.ENDED
    r2 = rig_factory(playlist(phase("onset", 600, ["a.wav"])), {"a.wav": 700})
    r2.do("start")
    r2.output.dead = True
    r2.run(2)
    r2.run(60)
    r2.output.dead = False
    r2.run(1.5)
    assert r2.state.warnings[-1] == "the audio output is back"
    assert r2.state.track.title == "a" and 59 < r2.state.track.position_s < 64
    assert r2.state.level < 30  # the fresh decks fade in from silence, at the rise limit
    assert r2.heard() == ["a.wav"]


def test_an_exception_in_a_deck_is_logged_and_the_engine_keeps_running(rig_factory):
    r = rig_factory(playlist(phase("onset", 300, ["a.wav", "b.wav"], crossfade_s=2)),
                    {"a.wav": 50, "b.wav": 300})
    r.do("start")
    r.run(10)
    deck = r.output.decks[0]

    def broken(gain):
        raise RuntimeError("device busy")
    deck.set_gain = broken
    r.run(1)
    assert any("device busy" in w for w in r.state.warnings)
    deck.set_gain = lambda gain: None
    r.run(60)
    assert "b.wav" in r.heard()


def _master_db_series(rig, seconds, step=0.02):
    out = []
    for _ in range(int(seconds / step)):
        rig.run(step)
        out.append(rig.engine.core.levels.master.db(rig.engine.session_s()))
    return out


def test_no_level_rise_is_faster_than_the_rise_limit_from_any_cause(rig_factory):
    settings = RoomSettings(rise_db_per_s=6.0, ceiling_pct=100)
    pl = playlist(phase("onset", 60, ["a.wav"], level_pct=30), phase("peak", 60, ["b.wav"], level_pct=100),
                  phase("return", 60, ["c.wav"], level_pct=50, fade_in_s=1))
    r = rig_factory(pl, {"a.wav": 200, "b.wav": 200, "c.wav": 200}, settings=settings)
    r.do("start")  # from silence
    series = _master_db_series(r, 50)
    r.do("set_level", level=100.0)
    series += _master_db_series(r, 5)
    r.do("pause")
    series += _master_db_series(r, 5)
    r.do("resume")  # back from silence
    series += _master_db_series(r, 30)
    r.do("hush")
    series += _master_db_series(r, 5)
    r.do("unhush")
    series += _master_db_series(r, 90)  # through the louder phase and the fade-in of the next
    rises = [b - a for a, b in zip(series, series[1:])]
    assert max(rises) <= 6.0 * 0.02 + 1e-9, f"fastest rise {max(rises) / 0.02:.2f} dB/s"


def test_crossfades_are_equal_power(rig_factory):
    settings = RoomSettings(ceiling_pct=100, rise_db_per_s=100)
    r = rig_factory(playlist(phase("onset", 300, ["a.wav", "b.wav"], crossfade_s=6, level_pct=100)),
                    {"a.wav": 60, "b.wav": 200}, settings=settings)
    r.do("start")
    r.run(54.01)
    a, b = r.output.decks[0], r.output.decks[1]
    # the 6 s pair's own lowest power (0.15 dB down), not the bound for all lengths
    lowest = min(fade_in_gain(i / 1000, 6.0) ** 2 + fade_out_gain(i / 1000, 6.0) ** 2
                 for i in range(1001))
    assert lowest > 10 ** (-EQUAL_POWER_WITHIN_DB / 10)
    for _ in range(30):
        r.run(0.2)
        power = a.gain ** 2 + b.gain ** 2 if a.audible() else b.gain ** 2
        assert lowest - 1e-3 <= power <= 1.0 + 1e-3, power


def test_ambience_loops_with_overlapping_decks_and_never_stops(rig_factory):
    from soundscape.playlist.model import Ambience
    bed = Ambience(MUSIC / "bed.wav", 40)
    r = rig_factory(playlist(phase("arrival", 200, [], ambience=bed)), {"bed.wav": 20})
    r.do("start")
    for _ in range(180):
        r.run(1)
        assert r.heard(), f"no bed at {r.state.session_elapsed_s}"
    loads = [entry for entry in r.output.loads if entry[2].name == "bed.wav"]
    assert [round(t - 1000, 2) for t, *_ in loads] == [15.75 * n for n in range(12)]  # 20 s bed, 4 s overlap ending 0.25 s early


def test_when_every_track_fails_the_engine_retries_every_30_s_not_every_tick(rig_factory):
    r = rig_factory(playlist(phase("onset", 600, ["a.wav", "b.wav"])), {}, missing=["a.wav", "b.wav"])
    r.do("start")
    r.run(65)
    assert [round(t) for t, _ in r.starts()] == [0, 0, 30, 30, 60, 60]
    assert r.state.warnings[-1] == "no track of phase 'onset' could be played; trying again in 30 s"
    assert r.state.status == Status.PLAYING


def test_a_file_of_unknown_length_that_ends_at_once_counts_as_failed(rig_factory):
    r = rig_factory(playlist(phase("onset", 600, ["noise.mp3", "b.wav"], crossfade_s=6)),
                    {"b.wav": 300}, short={"noise.mp3": 0.3},
                    unknown=["noise.mp3"])  # mutagen could not read its length
    r.output.default_duration_s = None  # nor can the deck tell
    r.do("start")
    r.run(1)
    assert r.state.warnings == ("noise.mp3 ended far too early (corrupt?); skipped",)
    assert "b.wav" in r.heard()


def test_a_deck_that_plays_without_moving_is_skipped_within_1_5_s(rig_factory):
    r = rig_factory(playlist(phase("onset", 600, ["a.wav", "junk.mp3", "b.wav"], crossfade_s=1)),
                    {"a.wav": 30, "junk.mp3": 30, "b.wav": 300})
    r.output.stall = {MUSIC / "junk.mp3"}
    r.do("start")
    r.run(31)
    starts = dict((name, t) for t, name in r.starts())
    assert STALL_S - 0.01 <= starts["b.wav"] - starts["junk.mp3"] <= STALL_S + 0.1 <= 1.6
    assert r.state.warnings == ("junk.mp3 makes no progress (not audio?); skipped",)

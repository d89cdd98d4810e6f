"""Ambience beds on their own: start, loop on overlapping decks, change, fail once, fade away."""

from __future__ import annotations

from pathlib import Path

from soundscape.engine.beds import AMBIENCE_CHANGE_S, Beds
from soundscape.engine.levels import Levels
from soundscape.engine.settings import RoomSettings
from soundscape.playlist.model import Ambience
from soundscape.testing import FakeClock, FakeOutput

RAIN, SEA = Path("/music/rain.wav"), Path("/music/sea.wav")


class Rig:
    def __init__(self, durations, **fake):
        self.clock = FakeClock()
        self.output = FakeOutput(self.clock, durations, **fake)
        self.levels = Levels(RoomSettings())
        self.warnings: list[str] = []
        self.count = 0
        self.beds = Beds(self.levels, self._deck, durations, self.warnings.append,
                         loop_overlap_s=4.0)

    def _deck(self, kind):
        self.count += 1
        return self.output.make_deck(f"{kind}-{self.count}", lambda event: None)

    def run(self, until_s, want, step_s=0.5):
        s = self.clock.now() - 1000.0
        while s < until_s:
            self.beds.rules(s, want, 0)
            self.clock.advance(step_s)
            s += step_s


def test_a_bed_starts_rising_and_loops_on_a_fresh_deck_before_its_file_ends():
    rig = Rig({RAIN: 20.0})
    rig.run(60.0, Ambience(RAIN, 30))
    starts = [round(t - 1000.0, 2) for t, name, path, _ in rig.output.loads]
    assert starts[:3] == [0.0, 16.0, 32.0]  # 20 s file: each loop 4.25 s before the end (ticks)
    assert rig.levels.bed_level.from_db < rig.levels.bed_level.to_db  # it rose into the room
    live = [v for v in rig.beds.voices if not v.released]
    assert len(live) >= 1 and all(v.path == RAIN for v in live)


def test_a_new_phase_bed_crossfades_in_over_the_change_time():
    rig = Rig({RAIN: 100.0, SEA: 100.0})
    rig.run(10.0, Ambience(RAIN, 30))
    rig.run(11.0, Ambience(SEA, 30))
    rain, sea = rig.beds.voices[0], rig.beds.voices[-1]
    assert rain.leaving and rain.env.out_t1 - rain.env.out_t0 == AMBIENCE_CHANGE_S
    assert (sea.env.in_t0, sea.env.in_t1) == (10.0, 10.0 + AMBIENCE_CHANGE_S)


def test_a_bed_that_cannot_play_is_warned_about_once_and_not_tried_again():
    rig = Rig({RAIN: 100.0}, missing=[RAIN])
    rig.run(30.0, Ambience(RAIN, 30))
    assert rig.warnings == ["ambience rain.wav could not be played"]
    assert len(rig.output.loads) == 1


def test_no_bed_wanted_fades_the_playing_one_out():
    rig = Rig({RAIN: 100.0})
    rig.run(5.0, Ambience(RAIN, 30))
    rig.run(6.0, None)
    assert rig.beds.voices[0].leaving
    rig.beds.release()
    assert rig.beds.voices == [] and rig.output.released == ["ambience-1"]

"""What soundscape's tests (and benchmarks) drive it with: simulated time, a fake output, test audio.

- ``FakeClock``: time that moves only when a test says so.
- ``FakeOutput``: decks that keep time on that clock, record every gain, and can be told that a
  file is missing, corrupt or junk.
- ``soundscape.testing.audio``: tone and noise files, and recording what a PulseAudio null sink
  hears (needs PulseAudio's ``parec``; imported on its own).

It ships with the package so that the benchmarks use the same kit as the tests without path tricks;
nothing in a session imports it.
"""

from soundscape.testing.clock import FakeClock
from soundscape.testing.fake_output import FakeDeck, FakeOutput

__all__ = ["FakeClock", "FakeDeck", "FakeOutput"]

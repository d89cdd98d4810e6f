"""Fine gain on PulseAudio: each deck's own server stream volume, set to 1/65536 of a step.

libVLC's volume is an integer percent on a cubic scale, so one step near the bottom of a fade is
large (10 -> 11 % is 2.5 dB). On the pulse output libVLC only passes that percent on as the
volume of its PulseAudio stream (a sink input), which the server applies as it mixes, with the
stream's buffer still ahead of it: a change is heard within the sink's latency (docs/libvlc.md).
That volume is a 16-bit integer on the same cubic scale, so setting it ourselves gives the same
path and the same delay with steps of ~0.004 dB at 10 %. libVLC follows (it reads the new volume
back from the server) and never puts its own back while it is not told to.

Which stream is a deck's: libVLC names a player's PulseAudio connection, and so its stream's
``application.name``, by the instance's user agent at the moment the player is made; a deck sets it
to its tag, ``soundscape <pid> <n> <deck>``, just before making each player. A fresh player makes a
new stream ~10-20 ms after ``play()``; until it is found, and if the server cannot be asked, the
deck uses libVLC's integer volume as before.

One connection per output, used from the engine thread only (pulsectl is not thread-safe).
"""

from __future__ import annotations

import itertools
import os

UNITS = 65536  # PA_VOLUME_NORM: a stream volume of 1.0 in the server's units
MAX_FLAT = 2.0  # the same ceiling as libVLC's 200 %: (2.0)^3 = 8x amplitude
GAIN_ENV = "SOUNDSCAPE_GAIN"  # "vlc": libVLC's integer volume only (for side-by-side measures)


def stream_units(gain: float) -> int:
    """The stream volume (server units, cubic: amplitude = (units / 65536)^3) for linear
    ``gain``, rounded to the nearest unit; non-positive and NaN gains are 0 (silence)."""
    if not gain > 0:
        return 0
    return min(round(MAX_FLAT * UNITS), round(UNITS * gain ** (1 / 3)))


def units_gain(units: int) -> float:
    """The linear amplitude a stream volume gives."""
    return (units / UNITS) ** 3


_TAGS = itertools.count(1)


def stream_tag(deck_name: str) -> str:
    """A tag no other deck of any process has (two outputs of one process count apart)."""
    return f"soundscape {os.getpid()} {next(_TAGS)} {deck_name}"


def fine_gain_wanted() -> bool:
    return os.environ.get(GAIN_ENV, "").strip().lower() != "vlc"


class StreamVolumes:
    """Finds a deck's stream by its tag and sets its volume; every failure reads as "not now"
    (None / False), so a deck falls back to libVLC's volume and nothing raises into the engine."""

    def __init__(self, server: str | None = None):
        self._server = server
        self._pulse = None
        self._broken = False

    def _connection(self):
        if self._pulse is None and not self._broken:
            try:
                import pulsectl

                self._pulse = pulsectl.Pulse("soundscape-gain", server=self._server)
            except Exception:  # noqa: BLE001 - no library, no server: libVLC's volume it is
                self._broken = True
        return self._pulse

    def find(self, tag: str) -> tuple[int, int] | None:
        """(index, channels) of the newest stream tagged ``tag``, or None."""
        pulse = self._connection()
        if pulse is None:
            return None
        try:
            found = [(si.index, len(si.volume.values)) for si in pulse.sink_input_list()
                     if si.proplist.get("application.name") == tag]
        except Exception:  # noqa: BLE001
            self._drop()
            return None
        return max(found) if found else None

    def set(self, stream: tuple[int, int], units: int) -> bool:
        """Set the stream (index, channels) to ``units`` on every channel; False if it is gone."""
        pulse = self._connection()
        if pulse is None:
            return False
        try:
            import pulsectl

            index, channels = stream
            pulse.sink_input_volume_set(index, pulsectl.PulseVolumeInfo(units / UNITS, channels))
            return True
        except Exception:  # noqa: BLE001 - the stream ended, or the server went away
            if self._pulse is not None and not self._pulse.connected:
                self._drop()
            return False

    def _drop(self) -> None:
        try:
            if self._pulse is not None:
                self._pulse.close()
        finally:
            self._pulse = None

    def close(self) -> None:
        self._drop()
        self._broken = True

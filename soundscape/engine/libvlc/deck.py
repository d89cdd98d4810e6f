"""The libVLC deck: plays one file at a time on a fresh MediaPlayer, with cubic-corrected gain:
on pulse through its stream's own volume, 1/65536 of a step (streamgain.py), else libVLC's
integer volume.

Facts it relies on (docs/libvlc.md): VLC volume is cubic, volume set before ``play()`` on a fresh
player applies from the first sample, a stopped player cannot be given a volume again, the time is
reported only every ~250 ms, and libVLC must never be called from its own event callbacks (they run
on libVLC threads and it is not reentrant).
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import vlc

from soundscape.engine.deck import DeckEvent, DeckStatus, Notify
from soundscape.engine.libvlc.streamgain import StreamVolumes, stream_units

MAX_VOLUME = 200  # VLC's ceiling: (200/100)^3 = 8x amplitude
# libVLC reports the time only every ~250 ms; between reports the position is extrapolated on the
# monotonic clock, but never further than this past the last report (a stalled stream).
MAX_EXTRAPOLATION_S = 0.5
# A fresh player's PulseAudio stream appears ~10-20 ms after play(); until it is found it is
# looked for at a gain change at most every FIND_EVERY_S for FIND_SOON_S (a fade from silence
# ticks every 2 ms: one round trip each would be too many), then at most every FIND_LATER_S (a
# file that plays at one gain for a while still gets the fine path at its next change);
# libVLC's volume serves meanwhile.
FIND_SOON_S = 2.0
FIND_EVERY_S = 0.01
FIND_LATER_S = 0.5


# libVLC's own FLAC demuxer seeks a file without a seek table by its average bit rate: into a
# silent lead (which takes almost no bytes) it lands 1.1-1.4 s late, and the start of the music is
# lost. FFmpeg's demuxer (libVLC's avformat module) lands within 0.2 s (docs/libvlc.md).
SEEK_BY_AVFORMAT = (".flac",)


def vlc_volume(gain: float) -> int:
    """The VLC volume (0-200) whose amplitude is closest to linear ``gain``.

    VLC's amplitude is (v/100)^3, so v = 100 * g^(1/3). Non-positive and NaN gains are silence.
    """
    if not gain > 0:
        return 0
    return min(MAX_VOLUME, round(100 * gain ** (1 / 3)))


class VlcDeck:
    """One deck of the deck protocol on a libVLC instance; driven from the engine thread only."""

    def __init__(self, instance: vlc.Instance, name: str, notify: Notify,
                 device: str | None = None, volumes: StreamVolumes | None = None,
                 tag: str | None = None):
        self.name = name
        self._volumes = volumes if tag else None  # fine gain: the stream tagged ``tag``
        self._tag = tag
        self._stream: tuple[int, int] | None = None  # (index, channels) of this player's stream
        self._units: int | None = None  # the stream volume last set
        self._played_at: float | None = None  # monotonic time of play() (None: not playing)
        self._next_find = 0.0  # monotonic time the stream may be looked for again
        self._instance = instance
        self._notify = notify
        self._device = device
        self._player: vlc.MediaPlayer | None = None
        self._events: vlc.EventManager | None = None
        self._callbacks: list = []  # keeps the callables handed to libVLC alive
        self._generation = 0
        self._volume: int | None = None
        self._path: Path | None = None
        self._lock = threading.Lock()  # guards _status and _audio_seen against libVLC threads
        self._status = DeckStatus.IDLE
        self._audio_seen = False
        self._start_s = 0.0
        self._anchor: tuple[float, float] | None = None  # (position_s, monotonic s) last known
        self._last_position_s: float | None = None  # positions never go back while playing

    # -- protocol ---------------------------------------------------------------------------

    def load(self, path: Path, start_s: float = 0.0, gain: float = 0.0) -> int:
        """Prepare ``path`` on a fresh player with the volume already set: the first sample is
        at ``gain`` (a reused, stopped player would start at 100)."""
        self._drop_player()
        self._generation += 1
        generation = self._generation
        self._path = Path(path)
        media = self._instance.media_new_path(str(self._path))
        if start_s > 0:
            media.add_option(f":start-time={start_s:.3f}")
            if self._path.suffix.lower() in SEEK_BY_AVFORMAT:
                media.add_option(":demux=avformat,any")
        if self._tag:  # the player's PulseAudio stream is named by the user agent at its making
            self._instance.set_user_agent(self._tag, self._tag)
        player = self._instance.media_player_new()
        player.set_media(media)
        # The player holds the media now; an unreleased media keeps the whole instance (and its
        # PulseAudio connection) alive after the output is closed.
        media.release()
        if self._device:
            player.audio_output_device_set(None, self._device)
        self._volume = vlc_volume(gain)
        player.audio_set_volume(self._volume)
        self._stream, self._units, self._played_at = None, None, None
        events = player.event_manager()
        callbacks = [
            (vlc.EventType.MediaPlayerEndReached, self._on_end),
            (vlc.EventType.MediaPlayerEncounteredError, self._on_error),
            (vlc.EventType.MediaPlayerLengthChanged, self._on_length),
            (vlc.EventType.MediaPlayerTimeChanged, self._on_time),
        ]
        for event_type, callback in callbacks:
            events.event_attach(event_type, callback, generation)
        with self._lock:
            self._status = DeckStatus.IDLE
            self._audio_seen = False
        self._player, self._events = player, events
        self._callbacks = callbacks
        self._start_s = max(0.0, start_s)
        self._anchor, self._last_position_s = None, None
        return generation

    def play(self) -> None:
        """Start, or resume after pause. Does nothing without a loaded file or after its end."""
        with self._lock:
            status = self._status
            if self._player is None or status in (DeckStatus.ENDED, DeckStatus.FAILED,
                                                   DeckStatus.PLAYING):
                return
            self._status = DeckStatus.PLAYING
        resume_s = self._last_position_s if status == DeckStatus.PAUSED else self._start_s
        self._anchor = (resume_s or 0.0, time.monotonic())
        if status == DeckStatus.PAUSED:
            self._player.set_pause(0)
        else:
            self._player.play()
            self._played_at = self._next_find = time.monotonic()

    def pause(self) -> None:
        """Pause now (set_pause(1), idempotent). A pause is a hard cut: the engine fades first."""
        if self._player is None or self._status != DeckStatus.PLAYING:
            return
        self._last_position_s = self.position_s()
        with self._lock:
            if self._status != DeckStatus.PLAYING:
                return
            self._status = DeckStatus.PAUSED
        self._player.set_pause(1)

    def stop(self) -> None:
        """Stop and unload; the next ``load`` makes a fresh player."""
        self._drop_player()
        with self._lock:
            self._status = DeckStatus.IDLE

    def set_gain(self, gain: float) -> None:
        """Set linear gain: on the stream's own volume once it is found, else libVLC's integer
        volume; identical values are not re-sent (a fade sends many)."""
        if self._player is not None and self._fine(stream_units(gain)):
            return
        volume = vlc_volume(gain)
        if volume == self._volume:
            return
        self._volume = volume
        if self._player is not None:
            self._player.audio_set_volume(volume)

    def _fine(self, units: int) -> bool:
        """Set the stream volume; False when there is no stream to set (yet, or any more)."""
        if self._volumes is None:
            return False
        if self._stream is None:
            now = time.monotonic()
            if self._played_at is None or now < self._next_find:
                return False
            self._stream = self._volumes.find(self._tag)
            if self._stream is None:
                soon = now - self._played_at < FIND_SOON_S
                self._next_find = now + (FIND_EVERY_S if soon else FIND_LATER_S)
                return False
        if units == self._units:
            return True
        if not self._volumes.set(self._stream, units):  # gone: look again later
            self._stream, self._units = None, None
            self._next_find = time.monotonic() + FIND_LATER_S
            return False
        self._units = units
        self._volume = None  # libVLC now follows the stream: its own volume is not ours to trust
        return True

    @property
    def fine_gain(self) -> bool:
        """Whether the gain goes to the stream's own volume now (for tests and the bench)."""
        return self._stream is not None

    def position_s(self) -> float | None:
        """Where playback is: libVLC's time report (every ~250 ms) extrapolated on the clock.

        Measured on pulse it ran ~30 ms ahead of the clock started at play(), so ~50 ms ahead of
        what is heard: early rather than late, which suits scheduling crossfades."""
        if self._player is None:
            return None
        status, anchor = self._status, self._anchor
        if status == DeckStatus.PAUSED:
            return self._last_position_s
        if status == DeckStatus.PLAYING and anchor is not None:
            position_s, at_s = anchor
            position_s += min(max(0.0, time.monotonic() - at_s), MAX_EXTRAPOLATION_S)
            duration_s = self.duration_s()
            if duration_s is not None:
                position_s = min(position_s, duration_s)
            if self._last_position_s is not None:
                position_s = max(position_s, self._last_position_s)
            self._last_position_s = position_s
            return position_s
        ms = self._player.get_time()
        return ms / 1000 if ms >= 0 else None

    def duration_s(self) -> float | None:
        if self._player is None:
            return None
        ms = self._player.get_length()
        return ms / 1000 if ms > 0 else None

    def status(self) -> DeckStatus:
        return self._status

    def release(self) -> None:
        self._drop_player()
        with self._lock:
            self._status = DeckStatus.IDLE

    # -- internals --------------------------------------------------------------------------

    def _drop_player(self) -> None:
        """Stop and free the current player; events it still sends carry a stale generation."""
        player, events, callbacks = self._player, self._events, self._callbacks
        self._player = self._events = None
        self._stream, self._units, self._played_at = None, None, None
        if player is None:
            return
        for event_type, _ in callbacks:
            events.event_detach(event_type)
        player.stop()
        player.release()

    # libVLC threads: these only update plain fields and enqueue, never call libVLC.

    def _on_length(self, event, generation: int) -> None:
        if generation == self._generation and event.u.new_length > 0:
            with self._lock:
                self._audio_seen = True

    def _on_time(self, event, generation: int) -> None:
        if generation != self._generation:
            return
        if self._status == DeckStatus.PLAYING:
            self._anchor = (event.u.new_time / 1000, time.monotonic())
        if event.u.new_time > self._start_s * 1000:
            with self._lock:
                self._audio_seen = True

    def _on_end(self, event, generation: int) -> None:
        if generation != self._generation:
            return
        with self._lock:
            if not self._audio_seen:
                # A file libVLC opened but found no audio in (random bytes, a truncated file):
                # it "ends" at once. Report it as the failure it is.
                self._status = DeckStatus.FAILED
            else:
                self._status = DeckStatus.ENDED
            status = self._status
        if status == DeckStatus.FAILED:
            self._notify(DeckEvent(self.name, "error", generation,
                                   f"no playable audio in {self._path}"))
        else:
            self._notify(DeckEvent(self.name, "ended", generation))

    def _on_error(self, event, generation: int) -> None:
        if generation != self._generation:
            return
        with self._lock:
            self._status = DeckStatus.FAILED
        path = self._path
        detail = (f"file not found: {path}" if path is not None and not os.path.exists(path)
                  else f"cannot open or decode {path}")
        self._notify(DeckEvent(self.name, "error", generation, detail))

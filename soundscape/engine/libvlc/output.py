"""A libVLC audio output (pulse or alsa): one vlc.Instance that makes VlcDecks and lists devices.

Whether the output is usable at all (server answering, device present) is decided in
``engine.outputs`` without libVLC, because libVLC silently falls back from pulse to alsa when no
PulseAudio server answers.
"""

from __future__ import annotations

from typing import Callable

import vlc

from soundscape.engine.deck import Notify
from soundscape.engine.libvlc.deck import VlcDeck
from soundscape.engine.libvlc.streamgain import StreamVolumes, fine_gain_wanted, stream_tag
from soundscape.errors import SoundscapeError

# How long after a volume change it is heard (measured with the e2e kit on a null sink,
# docs/libvlc.md): pulse applies volume at the server stream; alsa in software before the
# read-ahead.
LATENCY_S = {"pulse": 0.03, "alsa": 0.35}


def _instance(kind: str) -> vlc.Instance:
    # --file-caching=0 shortens the alsa read-ahead (~1.2 s -> ~0.35 s) and costs nothing on local
    # files; --no-volume-save stops a new player inheriting the last volume of another.
    args = ["--no-video", "--quiet", "--no-volume-save", "--file-caching=0", f"--aout={kind}"]
    instance = vlc.Instance(args)
    if instance is None:
        raise SoundscapeError(f"libVLC could not start with the {kind} output "
                              "(are the vlc-plugin-base packages installed?)")
    return instance


def vlc_devices(kind: str) -> list[tuple[str, str]]:
    """(device id, description) of each device libVLC can play on with the ``kind`` output.

    Asked through a player (``audio_output_device_enum``) because the instance-level list is empty
    for pulse. The C list is walked through ``.contents.next``: iterating it segfaults.
    """
    instance = _instance(kind)
    player = instance.media_player_new()
    try:
        head = player.audio_output_device_enum()
        devices = []
        node = head
        while node:
            item = node.contents
            devices.append((_text(item.device), _text(item.description)))
            node = item.next
        if head:
            vlc.libvlc_audio_output_device_list_release(head)
        return devices
    finally:
        player.release()
        instance.release()


def _text(value) -> str:
    if value is None:
        return ""
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


class VlcOutput:
    """Decks on one libVLC instance, all routed to ``device`` (None: the output's default). On
    pulse each deck tags its players' streams so that their volume can be set finely
    (streamgain.py; ``SOUNDSCAPE_GAIN=vlc`` keeps libVLC's integer volume, for comparison).

    PulseAudio connections: the instance holds one and each live player one (docs/libvlc.md);
    an instance is only freed once every media made on it is released, which the deck does."""

    def __init__(self, kind: str = "pulse", device: str | None = None,
                 health_check: Callable[[], bool] | None = None):
        if kind not in LATENCY_S:
            raise SoundscapeError(f"unknown libVLC output {kind!r}; expected pulse or alsa")
        self.name = kind
        self.device = device
        self.latency_s = LATENCY_S[kind]
        self._health_check = health_check
        self._instance = _instance(kind)
        self._decks: list[VlcDeck] = []
        self._volumes = StreamVolumes() if kind == "pulse" and fine_gain_wanted() else None

    def make_deck(self, name: str, notify: Notify) -> VlcDeck:
        if self._instance is None:
            raise SoundscapeError(f"the {self.name} output is closed")
        if self._volumes is None:
            deck = VlcDeck(self._instance, name, notify, self.device)
        else:
            deck = VlcDeck(self._instance, name, notify, self.device, volumes=self._volumes,
                           tag=stream_tag(name))
        self._decks.append(deck)
        return deck

    @property
    def decks(self) -> tuple[VlcDeck, ...]:
        return tuple(self._decks)

    def meter(self, settings):
        """What the room hears: a PulseAudio sink's peak, mute and volume (engine/pulsemeter.py);
        None on ALSA, which has no monitor to listen to."""
        if self.name != "pulse":
            return None
        from soundscape.engine.pulsemeter import PulseMeter

        meter = PulseMeter(self.device, own_volume_pct=settings.speaker_volume_pct,
                           rise_db_per_s=settings.rise_db_per_s)
        meter.start()
        return meter

    def healthy(self) -> bool:
        """Cheap and bounded (no libVLC call): the check ``outputs`` built for this kind."""
        if self._instance is None:
            return False
        return self._health_check() if self._health_check else True

    def close(self) -> None:
        for deck in self._decks:
            deck.release()
        self._decks.clear()
        if self._volumes is not None:
            self._volumes.close()
        if self._instance is not None:
            self._instance.release()
            self._instance = None

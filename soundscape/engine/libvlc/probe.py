"""Asking libVLC itself whether files open, how long they are, and whether they decode, silently.

mutagen reads headers; only libVLC can say whether the room's player will play a file (a codec
plugin may be missing, a file may be truncated). Probing runs on its own libVLC instance with the
``adummy`` output, so nothing is heard. Players are polled from the calling thread: libVLC is never
called from one of its own callbacks.
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import vlc

from soundscape.errors import SoundscapeError

PARSE_TIMEOUT_S = 2.0  # per file; local parsing takes 1-60 ms
DECODE_TIMEOUT_S = 3.0  # per batch: a file must reach a nonzero time within this
DECODE_BATCH = 8  # files decoded at once on the silent output


@dataclass(frozen=True)
class Probed:
    """What libVLC made of one file."""

    opened: bool  # libVLC found and parsed it
    duration_s: float | None  # libVLC's parsed length (None: it found none)
    decoded: bool  # it played on the silent output and its time moved past 0
    problem: str = ""  # why not, in words, when it did not open or decode


def _instance() -> vlc.Instance:
    instance = vlc.Instance(["--no-video", "--quiet", "--aout=adummy", "--no-volume-save",
                             "--file-caching=0"])
    if instance is None:
        raise SoundscapeError("libVLC could not start (are the vlc-plugin-base packages "
                              "installed?)")
    return instance


def _parse(instance: vlc.Instance, path: Path, timeout_s: float) -> tuple[bool, float | None]:
    """(opened, duration_s) from libVLC's local parse, waiting for MediaParsedChanged."""
    media = instance.media_new_path(str(path))
    parsed = threading.Event()

    def on_parsed(event) -> None:  # a libVLC thread: only signal
        parsed.set()

    events = media.event_manager()
    events.event_attach(vlc.EventType.MediaParsedChanged, on_parsed)
    try:
        media.parse_with_options(vlc.MediaParseFlag.local, int(timeout_s * 1000))
        parsed.wait(timeout_s + 0.5)
        status = media.get_parsed_status()
        duration_ms = media.get_duration()
    finally:
        events.event_detach(vlc.EventType.MediaParsedChanged)
        media.release()
    opened = status == vlc.MediaParsedStatus.done
    return opened, (duration_ms / 1000 if opened and duration_ms > 0 else None)


def _decode_batch(instance: vlc.Instance, paths: list[Path],
                  timeout_s: float) -> dict[Path, str]:
    """Play each file muted until its time moves; path -> problem ("" when it decoded)."""
    players = {}
    for path in paths:
        player = instance.media_player_new()
        media = instance.media_new_path(str(path))
        player.set_media(media)
        media.release()
        player.audio_set_volume(0)
        player.play()
        players[path] = player
    result: dict[Path, str] = {}
    deadline = time.monotonic() + timeout_s
    try:
        while len(result) < len(players) and time.monotonic() < deadline:
            for path, player in players.items():
                if path in result:
                    continue
                state = player.get_state()
                if player.get_time() > 0:
                    result[path] = ""
                elif state == vlc.State.Error:
                    result[path] = "libVLC reports an error playing it"
                elif state == vlc.State.Ended:
                    result[path] = "it ends at once: libVLC finds no audio to decode"
            time.sleep(0.02)
        for path in players:
            result.setdefault(path, f"it did not start playing within {timeout_s:g}s")
    finally:
        for player in players.values():
            player.stop()
            player.release()
    return result


def probe_files(paths: list[Path], parse_timeout_s: float = PARSE_TIMEOUT_S,
                decode_timeout_s: float = DECODE_TIMEOUT_S,
                batch: int = DECODE_BATCH) -> dict[Path, Probed]:
    """Open, parse and briefly decode each file on a silent libVLC instance.

    Bounded: parsing waits at most ``parse_timeout_s`` per file, decoding ``decode_timeout_s``
    per batch of ``batch`` files (a good file takes ~0.3 s, so a 100-file playlist ~5 s).
    """
    instance = _instance()
    try:
        parsed: dict[Path, tuple[bool, float | None]] = {}
        for path in paths:
            if not os.path.isfile(path):
                parsed[path] = (False, None)
            else:
                parsed[path] = _parse(instance, path, parse_timeout_s)
        playable = [p for p in paths if parsed[p][0]]
        decoded: dict[Path, str] = {}
        for start in range(0, len(playable), batch):
            decoded.update(_decode_batch(instance, playable[start:start + batch],
                                         decode_timeout_s))
    finally:
        instance.release()
    out = {}
    for path in paths:
        opened, duration_s = parsed[path]
        if not opened:
            problem = ("file not found" if not os.path.isfile(path)
                       else "libVLC cannot open or parse it")
            out[path] = Probed(False, None, False, problem)
        else:
            problem = decoded.get(path, "")
            out[path] = Probed(True, duration_s, problem == "", problem)
    return out

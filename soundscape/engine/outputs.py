"""Choosing the audio output (pulse, alsa, none, fake), listing its devices, and the silent output.

libVLC is imported only when a libVLC output is asked for, so ``none`` works without it. Whether an
output is usable is decided here before libVLC sees it, because libVLC quietly falls back from a
missing PulseAudio server to ALSA, and the room would hear nothing with no error anywhere.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import threading
from pathlib import Path
from typing import Callable, NamedTuple

from soundscape.engine.clock import Clock, RealClock
from soundscape.engine.deck import ENDED, FAILED, IDLE, PAUSED, PLAYING, DeckEvent, Notify, Output
from soundscape.errors import SoundscapeError

KINDS = ("auto", "pulse", "alsa", "none", "fake")
PROBE_TIMEOUT_S = 2.0  # bound on asking a PulseAudio server whether it answers


class Device(NamedTuple):
    name: str  # what --device takes
    description: str


def open_output(kind: str = "auto", device: str | None = None,
                clock: Clock | None = None) -> Output:
    """The output to play on; raises SoundscapeError saying why when it cannot be used.

    ``clock`` drives the outputs that only keep time (none, fake); libVLC outputs keep their own.
    """
    if kind == "none":
        return NullOutput(clock)
    if kind == "fake":
        from soundscape.engine.fake import FakeOutput

        return FakeOutput(clock or RealClock())
    if kind == "auto":
        kind = "pulse" if pulse_answers() else "alsa"
    if kind == "pulse":
        return _open_pulse(device)
    if kind == "alsa":
        return _open_alsa(device)
    raise SoundscapeError(f"unknown output {kind!r}; expected one of {', '.join(KINDS)}")


def list_devices(kind: str = "auto") -> list[Device]:
    """Devices the ``kind`` output can play on; empty for outputs without devices."""
    if kind in ("none", "fake"):
        return []
    if kind == "auto":
        kind = "pulse" if pulse_answers() else "alsa"
    if kind == "pulse":
        _require_pulse()
    elif kind != "alsa":
        raise SoundscapeError(f"unknown output {kind!r}; expected one of {', '.join(KINDS)}")
    from soundscape.engine.vlcoutput import vlc_devices

    return [Device(name, description) for name, description in vlc_devices(kind)]


# -- PulseAudio ---------------------------------------------------------------------------------

def pulse_socket_paths() -> list[str]:
    """Unix sockets a PulseAudio client would try, in libpulse's order (none for a TCP server)."""
    server = os.environ.get("PULSE_SERVER")
    if server:
        paths = []
        for part in server.split():
            if part.startswith("unix:"):
                paths.append(part[len("unix:"):])
            elif part.startswith("/"):
                paths.append(part)
        return paths
    runtime = os.environ.get("XDG_RUNTIME_DIR") or f"/run/user/{os.getuid()}"
    return [os.path.join(runtime, "pulse", "native"), "/run/pulse/native"]


def pulse_socket_open(paths: list[str] | None = None, timeout_s: float = 0.2) -> bool:
    """True when a PulseAudio socket accepts a connection: microseconds, never blocks long."""
    for path in pulse_socket_paths() if paths is None else paths:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(timeout_s)
            try:
                sock.connect(path)
                return True
            except OSError:
                continue
    return False


def pulse_answers(timeout_s: float = PROBE_TIMEOUT_S) -> bool:
    """True when a PulseAudio server answers ``pactl info`` within ``timeout_s``.

    The socket is knocked on first: when nothing listens, pactl is not run at all, so asking can
    never autospawn a server with some default configuration.
    """
    if pulse_socket_paths() and not pulse_socket_open():
        return False
    if not shutil.which("pactl"):
        return True
    try:
        done = subprocess.run(["pactl", "info"], capture_output=True, timeout=timeout_s)
    except (subprocess.TimeoutExpired, OSError):
        return False
    return done.returncode == 0


def _require_pulse() -> None:
    if not pulse_answers():
        where = " or ".join(pulse_socket_paths()) or os.environ.get("PULSE_SERVER", "")
        raise SoundscapeError(f"no PulseAudio server answers (tried {where}); start pulseaudio, "
                              "or use another output (alsa, none)")


def _pulse_health_check() -> Callable[[], bool]:
    """A check of the server found now (its sockets are fixed at open, whatever the env later)."""
    paths = pulse_socket_paths()
    # When only a TCP server is configured there is no socket to knock on; trust libVLC then.
    return (lambda: pulse_socket_open(paths)) if paths else (lambda: True)


def _open_pulse(device: str | None) -> Output:
    _require_pulse()
    from soundscape.engine.vlcoutput import VlcOutput

    if device:
        _require_device("pulse", device)
    return VlcOutput("pulse", device, health_check=_pulse_health_check())


# -- ALSA ---------------------------------------------------------------------------------------

def alsa_cards(path: str = "/proc/asound/cards") -> list[str]:
    """Names of the sound cards the kernel knows (``/proc/asound/cards``), [] without any."""
    try:
        text = Path(path).read_text()
    except OSError:
        return []
    return re.findall(r"^\s*\d+\s+\[(\w+)\s*\]", text, flags=re.MULTILINE)


def _alsa_default_via_pulse(devices: list[Device]) -> bool:
    return any(d.name == "default" and "pulseaudio" in d.description.lower() for d in devices)


def _open_alsa(device: str | None) -> Output:
    from soundscape.engine.vlcoutput import VlcOutput

    devices = list_devices("alsa")
    if device:
        _require_device("alsa", device, devices)
    pulse_up = _pulse_health_check() if _alsa_default_via_pulse(devices) else (lambda: False)

    def health() -> bool:
        return bool(alsa_cards()) or pulse_up()

    if not health():
        raise SoundscapeError("no ALSA sound card found (/proc/asound/cards lists none) and no "
                              "PulseAudio server behind ALSA's default device")
    return VlcOutput("alsa", device, health_check=health)


def _require_device(kind: str, device: str, devices: list[Device] | None = None) -> None:
    devices = list_devices(kind) if devices is None else devices
    names = [d.name for d in devices]
    if device not in names:
        raise SoundscapeError(f"no {kind} device named {device!r}; available: "
                              f"{', '.join(names) or 'none'} "
                              f"(see `soundscape devices --output {kind}`)")


# -- the silent output --------------------------------------------------------------------------

def _file_duration_s(path: Path) -> float | None:
    """The file's length from its headers (mutagen), None when it cannot be read as audio."""
    import mutagen

    try:
        info = mutagen.File(str(path))
    except Exception:  # noqa: BLE001 - mutagen raises many types for files that are not audio
        return None
    length = getattr(getattr(info, "info", None), "length", None)
    return float(length) if length and length > 0 else None


class NullDeck:
    """A deck that makes no sound but keeps time like a playing one: position advances with the
    clock while playing and it ends (with an "ended" event) at the file's length, so a session
    runs its course on a machine without audio."""

    def __init__(self, name: str, notify: Notify, clock: Clock):
        self.name = name
        self._notify = notify
        self._now = clock.now
        # Only on real time can a timer announce the end unasked; on a test clock the end is
        # noticed when the engine next asks for status or position.
        self._timed = isinstance(clock, RealClock)
        self._lock = threading.Lock()
        self._generation = 0
        self._status = IDLE
        self._duration_s: float | None = None
        self._offset_s = 0.0  # position at _since (or while not playing)
        self._since = 0.0
        self._timer: threading.Timer | None = None
        self._loaded = False

    def load(self, path: Path, start_s: float = 0.0, gain: float = 0.0) -> int:
        self._cancel()
        self._generation += 1
        self._loaded = True
        self._status = IDLE
        self._offset_s = max(0.0, start_s)
        if not Path(path).is_file():
            self._fail(f"file not found: {path}")
        else:
            self._duration_s = _file_duration_s(Path(path))
            if self._duration_s is None:
                self._fail(f"no playable audio in {path}")
        return self._generation

    def play(self) -> None:
        with self._lock:
            if not self._loaded or self._status not in (IDLE, PAUSED):
                return
            self._status, self._since = PLAYING, self._now()
            remaining_s = max(0.0, (self._duration_s or 0.0) - self._offset_s)
            if self._timed:
                self._timer = threading.Timer(remaining_s, self._check_end)
                self._timer.daemon = True
                self._timer.start()

    def pause(self) -> None:
        with self._lock:
            if self._status == PLAYING:
                self._offset_s = self._position_locked()
                self._status = PAUSED
        self._cancel()

    def stop(self) -> None:
        self._cancel()
        with self._lock:
            self._loaded, self._status, self._duration_s, self._offset_s = False, IDLE, None, 0.0

    def set_gain(self, gain: float) -> None:
        """Nothing to hear; accepted so the engine's fades run the same as on a real output."""

    def position_s(self) -> float | None:
        self._check_end()
        with self._lock:
            return self._position_locked() if self._loaded else None

    def duration_s(self) -> float | None:
        return self._duration_s if self._loaded else None

    def status(self) -> str:
        self._check_end()
        return self._status

    def release(self) -> None:
        self.stop()

    def _position_locked(self) -> float:
        position = self._offset_s
        if self._status == PLAYING:
            position += self._now() - self._since
        return min(position, self._duration_s) if self._duration_s is not None else position

    def _check_end(self) -> None:
        with self._lock:
            if self._status != PLAYING or self._duration_s is None:
                return
            if self._offset_s + self._now() - self._since < self._duration_s - 1e-6:
                return
            self._offset_s, self._status = self._duration_s, ENDED
            generation = self._generation
        self._notify(DeckEvent(self.name, "ended", generation))

    def _fail(self, detail: str) -> None:
        self._status, self._duration_s = FAILED, None
        self._notify(DeckEvent(self.name, "error", self._generation, detail))

    def _cancel(self) -> None:
        timer, self._timer = self._timer, None
        if timer is not None:
            timer.cancel()


class NullOutput:
    """The "none" output: decks that keep time and end on time, without sound."""

    name = "none"
    latency_s = 0.0

    def __init__(self, clock: Clock | None = None):
        self._clock = clock or RealClock()

    def make_deck(self, name: str, notify: Notify) -> NullDeck:
        return NullDeck(name, notify, self._clock)

    def healthy(self) -> bool:
        return True

    def close(self) -> None:
        pass

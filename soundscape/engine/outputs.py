"""Choosing the audio output (pulse, alsa, snapcast or none) and listing its devices.

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
from pathlib import Path
from typing import Callable, NamedTuple

from soundscape.engine.clock import Clock
from soundscape.engine.deck import Output
from soundscape.engine.null import NullOutput
from soundscape.engine.settings import OUTPUT_KINDS as KINDS
from soundscape.errors import SoundscapeError

PROBE_TIMEOUT_S = 2.0  # bound on asking a PulseAudio server whether it answers


class Device(NamedTuple):
    name: str  # what --device takes
    description: str


def open_output(kind: str = "auto", device: str | None = None,
                clock: Clock | None = None, snapcast=None) -> Output:
    """The output to play on; raises SoundscapeError saying why when it cannot be used.

    ``clock`` drives the silent output, which only keeps time; libVLC outputs keep their own.
    ``snapcast``: the room's SnapcastSettings (engine/snapcast.py) for the snapcast output.
    """
    if kind == "none":
        return NullOutput(clock)
    if kind == "snapcast":
        return _open_snapcast(device, snapcast)
    if kind == "auto":
        kind = "pulse" if pulse_answers() else "alsa"
    if kind == "pulse":
        return _open_pulse(device)
    if kind == "alsa":
        return _open_alsa(device)
    raise SoundscapeError(f"unknown output {kind!r}; expected one of {', '.join(KINDS)}")


def list_devices(kind: str = "auto") -> list[Device]:
    """Devices the ``kind`` output can play on; empty for outputs without devices."""
    if kind in ("none", "snapcast"):  # snapcast's device is the server's FIFO
        return []
    if kind == "auto":
        kind = "pulse" if pulse_answers() else "alsa"
    if kind == "pulse":
        _require_pulse()
    elif kind != "alsa":
        raise SoundscapeError(f"unknown output {kind!r}; expected one of {', '.join(KINDS)}")
    from soundscape.engine.libvlc.output import vlc_devices  # libVLC only when asked for

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
    from soundscape.engine.libvlc.output import VlcOutput

    if device:
        _require_device("pulse", device)
    return VlcOutput("pulse", device, health_check=_pulse_health_check())


def _open_snapcast(fifo: str | None, settings) -> Output:
    from soundscape.engine.snapcast import SnapcastOutput, SnapcastSettings

    if not fifo:
        raise SoundscapeError("the snapcast output needs --device: the FIFO the Snapcast "
                              "server's pipe source reads (e.g. /tmp/snapfifo)")
    _require_pulse()
    return SnapcastOutput(fifo, settings or SnapcastSettings(),
                          health_check=_pulse_health_check())


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
    from soundscape.engine.libvlc.output import VlcOutput

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

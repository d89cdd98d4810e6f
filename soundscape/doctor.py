"""``soundscape doctor``'s checks: is this box ready to run the room, and if not, what to do.

Each check looks at one thing the room needs (libVLC, FFmpeg's decoders, the sound server, the
speaker, the room config, the token, the service, the port, the room's name on the network) and
says ``ok``, ``warn`` (works, but not as a clinic box should) or ``FAIL`` (a session would not
play as it should), with the fix in one line. Nothing here changes anything on the box.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import urllib.request
from dataclasses import dataclass

from soundscape.errors import PlaylistError, SoundscapeError
from soundscape.room import Room

APT_VLC = "sudo apt install vlc-bin vlc-plugin-base"


@dataclass(frozen=True)
class Finding:
    name: str
    level: str  # "ok", "warn" or "FAIL"
    detail: str
    fix: str = ""

    def lines(self) -> list[str]:
        first = f"{self.level:<5} {self.name}: {self.detail}"
        return [first] + ([f"      fix: {self.fix}"] if self.fix else [])


def _ok(name: str, detail: str) -> Finding:
    return Finding(name, "ok", detail)


def libvlc() -> Finding:
    try:
        import vlc

        version = vlc.libvlc_get_version().decode()
        instance = vlc.Instance("--no-video", "--quiet")
        if instance is None:
            return Finding("libVLC", "FAIL", f"libVLC {version} is there but would not start "
                                             "(its plugins are missing)", APT_VLC)
        instance.release()
        return _ok("libVLC", version)
    except (ImportError, OSError, NameError, AttributeError) as exc:
        return Finding("libVLC", "FAIL", f"not found ({exc})", APT_VLC)


def decoders() -> Finding:
    try:
        import av

        return _ok("decoders", f"FFmpeg's, through PyAV {av.__version__} (MP3, AAC/M4A, Opus, "
                               "FLAC, Ogg, WAV)")
    except ImportError as exc:
        return Finding("decoders", "FAIL", f"PyAV is missing ({exc})",
                       "reinstall soundscape (pipx reinstall soundscape, or make setup)")


def sound_server(room: Room) -> Finding:
    from soundscape.engine import outputs

    kind = room.output or "auto"
    if kind in ("none", "alsa"):
        return _ok("sound server", f"not needed (the room's output is {kind})")
    if not shutil.which("pactl"):
        return Finding("sound server", "FAIL" if kind == "pulse" else "warn",
                       "pactl is missing: soundscape cannot listen to the room or keep the "
                       "speaker's volume", "sudo apt install pulseaudio-utils")
    if outputs.pulse_answers():
        info = subprocess.run(["pactl", "info"], capture_output=True, text=True, timeout=5)
        name = next((line.split(":", 1)[1].strip() for line in info.stdout.splitlines()
                     if line.startswith("Server Name:")), "PulseAudio")
        return _ok("sound server", name)
    level = "FAIL" if kind == "pulse" else "warn"
    return Finding("sound server", level,
                   "no PulseAudio or PipeWire server answers"
                   + ("" if kind == "pulse" else ": sound would go straight to ALSA"),
                   "sudo apt install pipewire-pulse (or pulseaudio), then log in once; on a box "
                   "with no desktop, soundscape service install turns lingering on so it starts "
                   "at boot")


def speaker(room: Room) -> Finding:
    from soundscape.engine import outputs
    from soundscape.preflight import output_check

    output, check = output_check(room.output or "auto", room.device, outputs.open_output)
    if output is None:
        return Finding("speaker", "FAIL", check.detail,
                       "soundscape devices lists the devices; set device: in the room config")
    try:
        if output.name != "pulse" or not shutil.which("pactl"):
            return _ok("speaker", check.detail)
        sink = room.device or "@DEFAULT_SINK@"
        mute = subprocess.run(["pactl", "get-sink-mute", sink], capture_output=True, text=True,
                              timeout=5).stdout.strip()
        volume = subprocess.run(["pactl", "get-sink-volume", sink], capture_output=True,
                                text=True, timeout=5).stdout.split("/")
        pct = volume[1].strip() if len(volume) > 1 else "?"
        if mute.endswith("yes"):
            return Finding("speaker", "warn", f"{check.detail}: muted (volume {pct})",
                           f"pactl set-sink-mute {sink} 0, or set speaker_volume: in the room "
                           "config so soundscape keeps it unmuted")
        return _ok("speaker", f"{check.detail}, volume {pct}")
    finally:
        output.close()


def room_config(path: str | None) -> tuple[Room, Finding]:
    from soundscape.room import default_room_path, load_room

    shown = path or str(default_room_path())
    try:
        room = load_room(path)
    except PlaylistError as exc:
        return Room(), Finding("room config", "FAIL", "; ".join(str(p) for p in exc.problems),
                               f"correct {shown} (soundscape preflight shows every problem)")
    except SoundscapeError as exc:
        return Room(), Finding("room config", "FAIL", str(exc), f"correct or remove {shown}")
    if room.path is None:
        return room, _ok("room config", f"none ({shown} does not exist): the defaults apply")
    return room, _ok("room config", str(room.path))


def token() -> Finding:
    from soundscape import roomtoken

    path = roomtoken.default_path()
    if not path.exists():
        return _ok("token", f"not made yet: the first soundscape serve (or token, or card) makes "
                            f"{path}")
    if path.stat().st_mode & 0o077:
        return Finding("token", "warn", f"{path} is readable by others",
                       f"chmod 600 {path} (serve does it at its next start)")
    return _ok("token", f"{path}, owner-only: phones stay joined through restarts")


def service_state() -> Finding:
    from soundscape import service

    if not shutil.which("systemctl"):
        return Finding("service", "warn", "no systemd here: nothing starts soundscape at boot",
                       "start soundscape serve from the box's own start-up")
    lines, ok = service.status()
    detail = "; ".join(line for line in lines if not line.startswith(("fix:", "its last")))
    if ok:
        return _ok("service", detail)
    if "running: failed" in lines or any(line.startswith("its last") for line in lines):
        return Finding("service", "FAIL", detail,
                       "its last words: journalctl --user -u soundscape -n 30")
    fix = next((line[5:] for line in lines if line.startswith("fix: ")),
               "soundscape service install")
    return Finding("service", "warn", detail, fix)


def port_state(port: int) -> Finding:
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("0.0.0.0", port))
            return _ok("port", f"{port} is free (soundscape serve is not running)")
        except OSError:
            pass
    if _soundscape_answers(port):
        return _ok("port", f"{port}: soundscape is serving")
    return Finding("port", "FAIL", f"{port} is taken by another program",
                   "set port: in the room config to a free port (or stop that program)")


def _soundscape_answers(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/manifest.webmanifest",
                                    timeout=3) as response:
            return response.headers.get("Server", "").startswith("soundscape")
    except OSError:
        return False


def who_answers(host: str, timeout_ms: int = 1500) -> list[str]:
    """The addresses devices on the LAN give for ``host`` (an mDNS query; empty when none)."""
    from zeroconf import AddressResolver, Zeroconf

    zc = Zeroconf()
    try:
        resolver = AddressResolver(f"{host}.")
        resolver.request(zc, timeout_ms)
        return sorted(set(resolver.parsed_addresses()))
    finally:
        zc.close()


def room_name_state(room: Room, serving: bool, ask=who_answers) -> Finding:
    from soundscape import announce, roomlink

    host = roomlink.mdns_host(room)
    try:
        answers = ask(host)
    except Exception as exc:  # noqa: BLE001 - zeroconf's errors and the OS's: said, not raised
        return Finding("room name", "warn", f"mDNS cannot be used here ({exc}): phones open the "
                                            "room by its address", "allow multicast (UDP 5353)")
    ours = set(announce.own_addresses())
    others = [a for a in answers if a not in ours]
    if others:
        return Finding("room name", "FAIL", f"another device answers to {host} "
                                            f"({', '.join(others)})",
                       "give this room another name: name: in the room config")
    if serving and not answers:
        return Finding("room name", "warn", f"soundscape is serving but {host} does not answer",
                       "allow multicast (UDP 5353) on this network, or open the room by address")
    if serving:
        return _ok("room name", f"{host} answers ({', '.join(answers)})")
    return _ok("room name", f"{host} is free: soundscape serve announces it")


def run_all(room_path: str | None, ask=who_answers) -> list[Finding]:
    """Every check, in the order a person would fix them."""
    from soundscape import roomlink

    room, config = room_config(room_path)
    port = roomlink.room_port(room)
    port_found = port_state(port)
    serving = port_found.detail.endswith("soundscape is serving")
    checks = [("libVLC", libvlc), ("decoders", decoders), ("room config", lambda: config),
              ("sound server", lambda: sound_server(room)), ("speaker", lambda: speaker(room)),
              ("token", token), ("service", service_state), ("port", lambda: port_found),
              ("room name", lambda: room_name_state(room, serving, ask))]
    return [_guarded(name, check) for name, check in checks]


def _guarded(name: str, check) -> Finding:
    """One check; whatever it raises is its FAIL line, and the other checks still run."""
    try:
        return check()
    except Exception as exc:  # noqa: BLE001 - a broken check must not hide the others
        return Finding(name, "FAIL", f"could not be checked ({type(exc).__name__}: {exc})")


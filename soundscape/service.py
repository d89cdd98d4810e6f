"""The systemd unit that starts the room's session on boot, restarts it, and watches the engine.

A **user** unit, with lingering, rather than a system unit: the sound server (PipeWire or
PulseAudio) runs in the user's own session, and so do the room config, the token, the checkpoint
and the logs (the XDG folders); a system service would need a system-wide sound server and root
to install. ``loginctl enable-linger`` starts the user's manager, and with it the sound server and
soundscape, at boot without anyone logging in.

The unit runs ``serve`` with ``--resume auto`` (a restart carries the session on), is restarted
whatever ended it (``Restart=always``, never given up on), and is killed and restarted when the
engine loop stops beating (``WatchdogSec``, fed by watchdog.py). It is ordered after the sound
server; it needs no network to start (it listens on every interface, and the mDNS announcement
follows the addresses as they come).
"""

from __future__ import annotations

import getpass
import os
import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from soundscape.errors import SoundscapeError

UNIT = "soundscape.service"
WATCHDOG_S = 30  # systemd kills a process silent this long; the engine asks sooner (STALL_S)
RESTART_S = 2
STOP_TIMEOUT_S = 20  # serve fades out (stop_fade, 3 s by default) before it exits
# The folders the service must see as the installing shell did: the same token, room, logs.
XDG_VARIABLES = ("XDG_CONFIG_HOME", "XDG_STATE_HOME", "XDG_DATA_HOME", "XDG_CACHE_HOME")

Runner = Callable[[Sequence[str]], "Ran"]


@dataclass(frozen=True)
class Ran:
    code: int
    out: str
    err: str


def run_command(cmd: Sequence[str]) -> Ran:
    try:
        done = subprocess.run(list(cmd), capture_output=True, text=True, timeout=60)
    except FileNotFoundError:
        return Ran(127, "", f"{cmd[0]}: command not found")
    except subprocess.TimeoutExpired:
        return Ran(124, "", f"{cmd[0]} did not answer within 60 s")
    return Ran(done.returncode, done.stdout, done.stderr)


def unit_path() -> Path:
    """``~/.config/systemd/user/soundscape.service``: where systemd's user manager looks (its own
    environment, not the installing shell's, decides, and it leaves XDG_CONFIG_HOME unset)."""
    return Path(os.path.expanduser("~")) / ".config" / "systemd" / "user" / UNIT


def _quote(arg: str) -> str:
    """One ExecStart argument, as systemd.service(5) reads it: % and $ doubled, quoted if needed."""
    arg = arg.replace("%", "%%").replace("$", "$$")
    if arg and not any(c in arg for c in ' \t"\'\\;'):
        return arg
    return '"' + arg.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _quote_env(assignment: str) -> str:
    """An Environment= assignment: specifiers (%) are expanded there, variables ($) are not."""
    assignment = assignment.replace("%", "%%")
    if not any(c in assignment for c in ' \t"\'\\'):
        return assignment
    return '"' + assignment.replace("\\", "\\\\").replace('"', '\\"') + '"'


def serve_command(playlist: Path | None) -> list[str]:
    """``serve`` run by this installation's own Python (a venv's or pipx's): absolute paths.

    The port, the speaker and the room's name come from the room config, read at each start, so
    ``soundscape card``, ``token`` and ``doctor`` see the same values as the service."""
    cmd = [sys.executable, "-m", "soundscape", "serve"]
    if playlist is not None:
        cmd.append(os.path.abspath(playlist))  # a symlink stays one: repointing it still counts
    return cmd + ["--resume", "auto"]


def unit_text(command: Sequence[str], environ=None, made: datetime | None = None) -> str:
    environ = os.environ if environ is None else environ
    made = made or datetime.now().astimezone()
    env_lines = "".join(f"Environment={_quote_env(f'{name}={environ[name]}')}\n"
                        for name in XDG_VARIABLES if os.path.isabs(environ.get(name, "")))
    return f"""\
# Written by `soundscape service install` on {made:%Y-%m-%d %H:%M}; `soundscape service uninstall`
# removes it. A user unit: it runs with this user's sound server and files (see docs/box.md).
[Unit]
Description=soundscape: the session room's music and its control page
# Ordered after the user's sound server; serve itself waits (up to 60 s) until it and the
# room's speaker answer, since a server's start does not mean its devices are there yet.
After=pipewire.service pipewire-pulse.service wireplumber.service pulseaudio.service
# Restarted however often it fails: a room is never left without its controller.
StartLimitIntervalSec=0

[Service]
Type=notify
NotifyAccess=main
ExecStart={" ".join(_quote(arg) for arg in command)}
Restart=always
RestartSec={RESTART_S}
# serve pings while its engine loop runs; a hung engine is killed and the session resumes.
WatchdogSec={WATCHDOG_S}
TimeoutStopSec={STOP_TIMEOUT_S}
SyslogIdentifier=soundscape
Environment=PYTHONUNBUFFERED=1
{env_lines}
[Install]
WantedBy=default.target
"""


def _write(path: Path, text: str) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(f".{path.name}.tmp")
        temporary.write_text(text, encoding="utf-8")
        os.replace(temporary, path)
    except OSError as exc:
        raise SoundscapeError(f"cannot write {path}: {exc.strerror or exc}") from None


def _user() -> str:
    return getpass.getuser()


def _systemctl(runner: Runner, *args: str) -> Ran:
    return runner(["systemctl", "--user", *args])


def _no_manager(what: str, ran: Ran, user: str) -> SoundscapeError:
    said = (ran.err or ran.out).strip().splitlines()
    return SoundscapeError(
        f"{what}: systemd's user manager did not answer ({said[-1] if said else ran.code}). "
        f"It runs while {user} is logged in, or always once lingering is on: run "
        f"`sudo loginctl enable-linger {user}`, log in as {user} (not with su), then run "
        "soundscape service install again")


def install(text: str, runner: Runner = run_command, path: Path | None = None) -> list[str]:
    """Write the unit, turn lingering on, enable and start it. Returns what was done, line by line.

    A service already running is not restarted (that would end a session under way): it takes the
    new unit at its next start, and the lines say so.
    """
    path = path or unit_path()
    user = _user()
    changed = not path.is_file() or path.read_text(encoding="utf-8") != text
    _write(path, text)
    done = [f"wrote {path}"]
    linger = runner(["loginctl", "enable-linger", user])
    if linger.code == 0:
        done.append(f"lingering on for {user}: the service starts at boot, before anyone logs in")
    else:
        done.append(f"WARNING: lingering could not be turned on ({(linger.err or '').strip()}): "
                    f"the service starts only once {user} logs in; fix: "
                    f"sudo loginctl enable-linger {user}")
    was_active = _systemctl(runner, "is-active", "--quiet", UNIT).code == 0
    ran = _systemctl(runner, "daemon-reload")
    if ran.code != 0:
        raise _no_manager("systemctl --user daemon-reload failed", ran, user)
    ran = _systemctl(runner, "enable", "--now", UNIT)
    if ran.code != 0:  # the manager answered: the service itself would not start
        said = (ran.err or ran.out).strip().splitlines()
        raise SoundscapeError(f"the unit is installed and enabled, but it did not start "
                              f"({said[-1] if said else ran.code}); why: journalctl --user -u "
                              "soundscape -n 30, then soundscape doctor")
    done.append(f"enabled and started {UNIT}")
    if was_active and changed:
        done.append("it was already running and keeps its old settings until its next start: "
                    "systemctl --user restart soundscape (ends a session under way)")
    return done


def uninstall(runner: Runner = run_command, path: Path | None = None) -> list[str]:
    path = path or unit_path()
    if not path.is_file():
        return [f"not installed ({path} does not exist)"]
    ran = _systemctl(runner, "disable", "--now", UNIT)
    done = ["stopped (the music faded out) and disabled" if ran.code == 0 else
            f"WARNING: systemctl --user disable --now failed ({ran.err.strip()}); "
            "the unit file is removed anyway"]
    try:
        path.unlink()
    except OSError as exc:
        raise SoundscapeError(f"cannot remove {path}: {exc.strerror or exc}") from None
    done.append(f"removed {path}")
    _systemctl(runner, "daemon-reload")
    done.append(f"lingering is left as it was (loginctl disable-linger {_user()} turns it off)")
    return done


def status(runner: Runner = run_command, path: Path | None = None) -> tuple[list[str], bool]:
    """What the box would do at boot and what it does now; True when all is as it should be."""
    path = path or unit_path()
    user = _user()
    if not path.is_file():
        return [f"unit: not installed ({path}); soundscape service install installs it"], False
    enabled = _systemctl(runner, "is-enabled", UNIT).out.strip() or "unknown"
    active = _systemctl(runner, "is-active", UNIT).out.strip() or "unknown"
    linger = runner(["loginctl", "show-user", user, "--property=Linger", "--value"]).out.strip()
    lines = [f"unit: {path}", f"enabled: {enabled}", f"running: {active}",
             f"starts at boot without a login: {'yes' if linger == 'yes' else 'no'}"]
    ok = enabled == "enabled" and active == "active" and linger == "yes"
    if active not in ("active", "activating", "reloading"):
        lines.append("its last words: journalctl --user -u soundscape -n 30")
    if linger != "yes":
        lines.append(f"fix: sudo loginctl enable-linger {user}")
    return lines, ok

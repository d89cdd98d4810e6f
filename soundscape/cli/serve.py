"""``soundscape serve``: run a session and serve the facilitators' control page on the LAN.

Prints the link (with its token) and a QR code of it, so each facilitator's phone joins with one
scan. The server is waitress: each open page holds one thread for its live event stream, so the
pool is sized for many phones and tabs (``THREADS``), not for request throughput, and a closed
page gives its thread back within a second (``WAITRESS_OPTIONS``).
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
from pathlib import Path
from typing import Any

from waitress.wasyncore import ExitNow

from soundscape import roomlink, roomtoken
from soundscape.cli.options import add_session_arguments
from soundscape.demo import DEMO_PLAYLIST
from soundscape.errors import SoundscapeError

COMMAND = "serve"
HELP = "run a session and serve the control page for facilitators' phones"

DEFAULT_PORT = roomlink.DEFAULT_PORT
THREADS = 128  # one per live page (SSE), pages being reloaded, and commands

# waitress runs a connection's requests one at a time on a pool thread, and an event stream keeps
# its thread while it is open. With at least as many threads as connections accepted (the limit
# counts waitress's own two sockets too), a command on an accepted connection never queues behind
# streams for a thread; waitress's default limit, 100, would also leave threads unused.
# Lookahead keeps reading a connection while its request runs, so a page that goes away is seen
# at once and its stream ends at its next write (a ping within 1 s); without it the thread was
# held until the third write after the close, 2-3 s. Issue 12: 20 closed streams plus 50 new ones
# ran 64 threads out and one command waited 1.5-2.7 s.
WAITRESS_OPTIONS = {"threads": THREADS, "connection_limit": THREADS,
                    "channel_request_lookahead": 1}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("playlist", nargs="?", type=Path,
                        help="playlist YAML file (default: the built-in demo)")
    add_server_arguments(parser)


def add_server_arguments(parser: argparse.ArgumentParser) -> None:
    """Everything but the playlist (``soundscape demo`` takes the same)."""
    parser.add_argument("--host", default="0.0.0.0",
                        help="address to listen on (default: 0.0.0.0, every interface)")
    parser.add_argument("--port", type=int,
                        help=f"port to listen on (default: the room config's, else {DEFAULT_PORT})")
    parser.add_argument("--no-announce", action="store_true",
                        help="do not announce the room on the LAN by name (mDNS)")
    parser.add_argument("--token", help="access token for the page (default: $SOUNDSCAPE_TOKEN, "
                                        "else the room's lasting token, see soundscape token)")
    add_session_arguments(parser)


def resolve_token(flag: str | None, environ: dict[str, str] | None = None,
                  lasting: Path | None = None) -> str:
    """--token, else $SOUNDSCAPE_TOKEN, else the room's lasting token (made on first use), so
    phones that joined stay joined through every restart (soundscape/roomtoken.py)."""
    environ = os.environ if environ is None else environ
    given = flag or environ.get("SOUNDSCAPE_TOKEN")
    if given:
        return given
    return roomtoken.load(lasting)[0]


def page_url(host: str, port: int, token: str) -> str:
    """The link facilitators open by address (kept here for the commands that print it)."""
    return roomlink.address_url(host, port, token)


def print_qr(url: str, out: Any) -> None:
    import segno

    segno.make(url).terminal(out=out, compact=True)


def print_invitation(url: str, out: Any = None, name_url: str | None = None) -> None:
    out = out or sys.stdout
    print("\nsoundscape is serving the control page. Open on each facilitator's phone:", file=out)
    print(f"\n  {url}\n", file=out)
    if name_url:
        print(f"  or by the room's name: {name_url}\n", file=out)
    print_qr(url, out)
    print("\nAnyone with this link controls the room: share it only with facilitators. Phones "
          "stay joined through restarts; soundscape token --rotate makes a new link.", file=out)
    print("Ctrl-C fades out and stops.\n", file=out, flush=True)


def print_keyless_invitation(url: str, out: Any = None) -> None:
    """Under systemd the terminal is the journal, kept on disk and readable by more than the
    room's user (the adm group): the link goes there without its token."""
    out = out or sys.stdout
    print(f"soundscape is serving the control page at {url.split('?', 1)[0]} (the link with the "
          "room's key: soundscape token, or the card soundscape card prints)", file=out, flush=True)


def _ask(question: str) -> bool:
    return input(f"{question} [Y/n] ").strip().lower() in ("", "y", "yes")


class _Stop(ExitNow):
    """Raised from the Ctrl-C / SIGTERM handler to leave the serving loop.

    An ``ExitNow`` because waitress's loop hands any other exception raised while it serves a
    socket to ``handle_error`` and carries on: a signal landing mid-request would be swallowed and
    the server would keep running.
    """


def run(args: argparse.Namespace) -> int:
    # The session's machinery and the web server: imported only when a session runs.
    from waitress import create_server

    from soundscape.announce import Announcement
    from soundscape.engine import checkpoint
    from soundscape.room import load_room
    from soundscape.session import open_session
    from soundscape.watchdog import Notifier, Supervision
    from soundscape.web import create_app

    token = resolve_token(args.token)
    lasting = None if (args.token or os.environ.get("SOUNDSCAPE_TOKEN")) else \
        roomtoken.default_path()
    playlist = args.playlist or DEMO_PLAYLIST
    room = load_room(args.room)
    args.port = args.port or room.port or DEFAULT_PORT
    supervised = Notifier().enabled or to_journal()
    if Notifier().enabled:
        wait_for_sound(room, args.output, args.device, Notifier())
    engine = open_session(playlist, output=args.output, device=args.device,
                          log_dir=args.log_dir, seed=args.seed, resume=args.resume,
                          checkpoint_path=checkpoint.default_path(),
                          ask=_ask if sys.stdin.isatty() else None, room=room)
    server = None
    serving = False  # until then a failure must not end (and forget) a session being resumed
    announcement = Announcement(on_warning=engine.tell)  # its warnings reach every phone
    supervision = Supervision(engine.heartbeat)  # systemd's: ready, alive, stopping (watchdog.py)
    try:
        # The page's pre-flight opens an output of its own, as the session's was chosen.
        app = create_app(engine, {"TOKEN": token, "TOKEN_FILE": lasting,
                                  "PREFLIGHT_OUTPUT": args.output,
                                  "PREFLIGHT_DEVICE": args.device, "PREFLIGHT_ROOM": room,
                                  "ROOM_NAME": roomlink.room_name(room)})
        # waitress logs no URLs (so never the token); no access log is added here on purpose.
        try:
            server = create_server(app, host=args.host, port=args.port, ident="soundscape",
                                   **WAITRESS_OPTIONS)
        except OSError as exc:
            raise SoundscapeError(f"cannot listen on {args.host}:{args.port}: "
                                  f"{exc.strerror or exc} (is another soundscape running? "
                                  f"try --port)") from None
        if not (args.no_announce or _loopback(args.host)):  # by name, never its token (announce.py)
            for warning in announcement.start(room, args.port, args.host):
                print(f"warning: {warning}", file=sys.stderr, flush=True)
        url = page_url(args.host, args.port, token)
        if supervised:
            print_keyless_invitation(url)
        else:
            named = announcement.announced
            print_invitation(url, name_url=(roomlink.name_url(room, args.port, token)
                                            if named else None))
        supervision.ready(f"serving the control page on port {args.port}")  # never the token

        def on_term(signum, frame):
            raise _Stop

        # Our own SIGINT handler too: waitress would catch KeyboardInterrupt and first wait for
        # its threads, delaying the fade-out.
        previous = {sig: signal.signal(sig, on_term) for sig in (signal.SIGINT, signal.SIGTERM)}
        serving = True
        try:
            server.run()
        except _Stop:
            pass
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        print("\nStopping: fading out…", flush=True)
    finally:
        supervision.stopping()
        # A served session fades out and ends; one that never got served (the port taken, an
        # error on the way) stops where it is, its checkpoint kept for the next start to resume.
        engine.shutdown(fade=serving)
        announcement.close()  # goodbyes: phones' lists drop the room at once
        if server is not None:
            server.close()
    return 0


def to_journal(environ=None, out=None) -> bool:
    """True when standard output is the journal's stream: systemd names it in $JOURNAL_STREAM
    (``device:inode``), which a terminal started from a desktop session inherits too, hence the
    comparison with what stdout really is (systemd.exec(5))."""
    environ = os.environ if environ is None else environ
    device, _, inode = environ.get("JOURNAL_STREAM", "").partition(":")
    try:
        st = os.fstat((out or sys.stdout).fileno())
        return (int(device), int(inode)) == (st.st_dev, st.st_ino)
    except (ValueError, OSError, AttributeError):
        return False


def _loopback(host: str) -> bool:
    """Listening on loopback only (tests, a kiosk): no phone can reach it, nothing to announce."""
    import ipaddress

    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


SOUND_WAIT_S = 60.0  # at boot, how long serve waits for the sound server and the room's device


def wait_for_sound(room, output: str | None, device: str | None, notifier,
                   timeout_s: float = SOUND_WAIT_S, sleep=None, clock=None) -> bool:
    """Under systemd at boot the sound server (and a USB speaker) may come up after soundscape:
    a session opened then would play silently for its whole life. So wait for them, at most
    ``timeout_s``, saying so in the unit's status; True when they answered."""
    import time

    from soundscape.engine import outputs

    import shutil

    kind = output or room.output or "auto"
    device = device or room.device
    # auto on a box with no sound server installed plays on ALSA: nothing to wait for
    installed = any(shutil.which(name) for name in ("pipewire-pulse", "pulseaudio"))
    if kind == "none" or kind == "alsa" or (kind == "auto" and not installed):
        return True
    sleep = sleep or time.sleep
    clock = clock or time.monotonic
    deadline = clock() + timeout_s
    notifier.send("STATUS=waiting for the sound server" + (f" and {device}" if device else ""))
    while True:
        try:
            ready = outputs.pulse_answers() and (
                not device or kind == "snapcast"  # its device is a FIFO, not a sink
                or any(d.name == device for d in outputs.list_devices("pulse")))
        except Exception:  # noqa: BLE001 - not ready yet, whatever it said
            ready = False
        if ready or clock() >= deadline:
            return ready
        sleep(1.0)

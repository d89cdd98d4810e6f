"""``soundscape service``: start the room's session on boot under systemd, supervised.

``install`` writes a user unit (soundscape/service.py says why a user unit), turns lingering on and
starts it; ``show`` prints the unit without installing anything; ``status`` says whether the box
will start the room at boot and whether it runs now; ``uninstall`` stops and removes it.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

COMMAND = "service"
HELP = "start the session on boot under systemd (install, uninstall, status, show)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    for name, text in (("install", "write the unit, turn lingering on, enable and start it"),
                       ("show", "print the unit install would write")):
        p = sub.add_parser(name, help=text, description=text)
        p.add_argument("playlist", nargs="?", type=Path,
                       help="the playlist the room plays (default: the built-in demo)")
    sub.add_parser("status", help="is it installed, enabled, running, started at boot?")
    sub.add_parser("uninstall", help="stop it (fading out) and remove the unit")


def _unit(args: argparse.Namespace) -> str:
    from soundscape import service
    from soundscape.errors import SoundscapeError
    from soundscape.playlist import load_playlist
    from soundscape.room import load_room

    if args.playlist is not None:
        if not args.playlist.is_file():
            raise SoundscapeError(f"{args.playlist}: no such playlist")
        load_playlist(args.playlist)  # a playlist with mistakes is refused now, not at boot
    load_room()  # the room config is read at each start: one with mistakes is refused now
    return service.unit_text(service.serve_command(args.playlist))


def run(args: argparse.Namespace) -> int:
    from soundscape import service
    from soundscape.errors import SoundscapeError

    if args.action == "show":
        print(_unit(args), end="")
        return 0
    if args.action == "install":
        unit = _unit(args)  # a playlist or room config with mistakes is said first
        if os.geteuid() == 0:
            raise SoundscapeError("run soundscape service install as the user who runs the room, "
                                  "not as root: the service is that user's (their sound server, "
                                  "token and room config)")
        for line in service.install(unit):
            print(line)
        print("The room's link for phones: soundscape token; a card to print: soundscape card.")
        return 0
    if args.action == "uninstall":
        for line in service.uninstall():
            print(line)
        return 0
    lines, ok = service.status()
    for line in lines:
        print(line)
    return 0 if ok else 1

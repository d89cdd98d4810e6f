"""``soundscape token``: the room's lasting token, its link and QR code, and making a new one.

The token (soundscape/roomtoken.py) is what keeps every phone joined through restarts; this shows
the link a new facilitator opens once, with no server running, and ``--rotate`` replaces it when a
phone is lost or someone should no longer control the room.
"""

from __future__ import annotations

import argparse
import sys

COMMAND = "token"
HELP = "show the room's lasting link and QR code for phones, or make a new token (--rotate)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--rotate", action="store_true",
                        help="make a new token: every phone must open the new link once")
    parser.add_argument("--port", type=int,
                        help="the port serve listens on (default: the room config's, else 8700)")
    parser.add_argument("--room", help="room config (default: ~/.config/soundscape/room.yaml)")


def run(args: argparse.Namespace) -> int:
    from soundscape import roomlink, roomtoken
    from soundscape.cli.serve import DEFAULT_PORT, page_url, print_qr
    from soundscape.room import load_room

    room = load_room(args.room)
    port = args.port or room.port or DEFAULT_PORT
    path = roomtoken.default_path()
    if args.rotate:
        token = roomtoken.rotate(path)
        print(f"A new token is saved in {path}.")
        print("Every phone must open the new link (or scan the new QR code, or a new room card) "
              "once to rejoin; the old link stops working within a second, also in a session "
              "under way (unless serve was given --token or $SOUNDSCAPE_TOKEN).")
    else:
        token, made = roomtoken.load(path)
        print(f"{'A new token was made and saved' if made else 'The room token is'} in {path}.")
    url = page_url("0.0.0.0", port, token)
    print(f"\n  {url}\n")
    print(f"  or by the room's name: {roomlink.name_url(room, port, token)}\n")
    print_qr(url, sys.stdout)
    print("\nAnyone with this link controls the room: share it only with facilitators.")
    return 0

"""``soundscape card``: write the room card, a printable key to stick on the box.

The card is made from the room's lasting token (soundscape/roomtoken.py) with no server running,
so it can be printed before the first session and stays good through restarts, until
``soundscape token --rotate``. ``-o`` is required: the file is a key to the room, so it is written
only where it was asked for (never silently into whatever folder the command ran in), owner-only
like the token file; its name also picks the format.
"""

from __future__ import annotations

import argparse
import os
import tempfile
from datetime import date
from pathlib import Path

from soundscape.errors import SoundscapeError

COMMAND = "card"
HELP = "write the room card to print and stick on the box (PDF, PNG or HTML): the room's key"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-o", "--output", required=True, metavar="FILE",
                        help="card.pdf, card.png or card.html: the format follows the name "
                             "(written owner-only: the card holds the room's token)")
    parser.add_argument("--port", type=int,
                        help="the port serve listens on (default: the room config's, else 8700)")
    parser.add_argument("--room", help="room config (default: ~/.config/soundscape/room.yaml)")


def run(args: argparse.Namespace) -> int:
    from soundscape import roomlink, roomtoken
    from soundscape.card import HEIGHT_MM, KEY_WARNING, WIDTH_MM, Card, renderer
    from soundscape.room import load_room

    target = Path(args.output)
    render = renderer(target)  # an unknown suffix is refused before a token is made
    room = load_room(args.room)
    port = roomlink.room_port(room, args.port)
    path = roomtoken.default_path()
    token, made = roomtoken.load(path)
    card = Card(room=roomlink.room_name(room), name_url=roomlink.name_url(room, port, token),
                address_url=roomlink.address_url("0.0.0.0", port, token), made=date.today())
    write_private(target, render(card), shown=args.output)
    if made:
        print(f"A new token was made and saved in {path}.")
    print(f"Wrote the room card for {card.room} to {args.output} "
          f"({WIDTH_MM:g} x {HEIGHT_MM:g} mm, A6): print it at actual size (100%).")
    print(f"Its small code holds this box's current address "
          f"({card.address_url.split('/')[2]}): print a new card if that changes.")
    print(KEY_WARNING)
    return 0


def write_private(path: Path, data: bytes, shown: str) -> None:
    """Owner-only (0600, like the token) and atomic: a failed write leaves any old card whole."""
    try:
        fd, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp",
                                         dir=path.parent)
    except OSError as exc:
        raise SoundscapeError(f"cannot write {shown}: {exc.strerror or exc}") from None
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        os.replace(temporary, path)
    except OSError as exc:
        Path(temporary).unlink(missing_ok=True)
        raise SoundscapeError(f"cannot write {shown}: {exc.strerror or exc}") from None

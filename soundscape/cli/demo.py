"""``soundscape demo``: serve the built-in demo session, to try the room with nothing written yet.

The same as ``soundscape serve`` with no playlist: a short arc of generated music (made on first
use, see ``soundscape demo-music``) and the control page, with the room's lasting link.
"""

from __future__ import annotations

import argparse

COMMAND = "demo"
HELP = "serve the built-in demo session (the same as serve with no playlist)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from soundscape.cli.serve import add_server_arguments

    add_server_arguments(parser)


def run(args: argparse.Namespace) -> int:
    from soundscape.cli import serve

    args.playlist = None
    return serve.run(args)

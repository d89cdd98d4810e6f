"""``soundscape demo-music``: create the built-in demo material if needed and print its folder."""

from __future__ import annotations

import argparse

from soundscape.demo import DEMO_FILES, ensure_demo_music

COMMAND = "demo-music"
HELP = "create the built-in demo music (builtin:demo) if needed and print its folder"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--list", action="store_true",
                        help="also list each file with its length in seconds")


def run(args: argparse.Namespace) -> int:
    """Print the folder, so scripts can use it and people can find and play the files."""
    folder = ensure_demo_music()
    print(folder)
    if args.list:
        for name, duration_s in sorted(DEMO_FILES.items()):
            print(f"  {name:20} {duration_s:6.1f} s")
    return 0

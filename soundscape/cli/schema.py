"""``soundscape schema``: print the playlist JSON Schema, for editors that check as you type."""

from __future__ import annotations

import argparse
from importlib import resources

COMMAND = "schema"
HELP = "print the JSON Schema of the playlist format (save it and point your editor at it)"


def schema_text() -> str:
    """The schema as shipped in the package (soundscape/schema.json)."""
    return resources.files("soundscape").joinpath("schema.json").read_text(encoding="utf-8")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    del parser  # no options


def run(args: argparse.Namespace) -> int:
    del args
    print(schema_text(), end="")
    return 0

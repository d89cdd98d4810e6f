"""``soundscape`` entry point: dispatches to one module per subcommand.

Each module in this package that defines ``COMMAND`` (its name), ``HELP`` (one line),
``add_arguments(parser)`` and ``run(args) -> int`` is a subcommand. Errors of our own type print as
``error: ...`` with exit status 1; anything else is a bug, printed the same way (with the traceback
only under ``--debug``), never as a bare traceback.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys
import traceback

import soundscape.cli as cli_pkg
from soundscape import __version__
from soundscape.errors import PlaylistError, SoundscapeError


def _subcommands() -> list:
    modules = []
    for info in pkgutil.iter_modules(cli_pkg.__path__):
        if info.name == "main":
            continue
        module = importlib.import_module(f"soundscape.cli.{info.name}")
        if hasattr(module, "COMMAND"):
            modules.append(module)
    return sorted(modules, key=lambda m: m.COMMAND)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="soundscape",
        description="Music and ambience controller for group ketamine-assisted therapy sessions.",
    )
    parser.add_argument("--version", action="version", version=f"soundscape {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks of unexpected errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in _subcommands():
        p = sub.add_parser(module.COMMAND, help=module.HELP, description=module.HELP)
        module.add_arguments(p)
        p.set_defaults(run=module.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "run", None):
        parser.print_help()
        return 2
    try:
        return int(args.run(args) or 0)
    except PlaylistError as exc:  # every located problem on its own line, as `check` prints them
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        return 1
    except SoundscapeError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # noqa: BLE001 - any other exception is a bug; never a bare traceback
        if args.debug:
            traceback.print_exc()
        print(f"error: internal error: {type(exc).__name__}: {exc} (run with --debug for details)",
              file=sys.stderr)
        return 1

"""``soundscape check``: validate playlists before a session, every problem located."""

from __future__ import annotations

import argparse
import json

from soundscape.playlist.checker import check_paths

COMMAND = "check"
HELP = "check playlists (files, or every *.yaml below folders) and list every problem"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("paths", nargs="+", metavar="PATH", help="playlist files or folders")
    parser.add_argument("--strict", action="store_true", help="fail on warnings too")
    parser.add_argument("--json", action="store_true",
                        help="print a JSON list of {path, line, col, severity, message}")


def run(args: argparse.Namespace) -> int:
    results = check_paths(args.paths)
    failed = any(r.errors or (args.strict and r.warnings) for r in results)
    if args.json:
        records = [{"path": p.path, "line": p.line, "col": p.col, "severity": p.severity,
                    "message": p.message} for r in results for p in r.problems]
        print(json.dumps(records, indent=2, ensure_ascii=False))
        return 1 if failed else 0
    for result in results:
        for problem in result.problems:
            print(problem)
        if not result.errors and not (args.strict and result.warnings):
            print(f"{result.path}: ok")
    return 1 if failed else 0

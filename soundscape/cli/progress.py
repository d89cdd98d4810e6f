"""Progress of an analysis on the terminal: one line, rewritten in place, gone when done."""

from __future__ import annotations

import sys


def analysis_progress(total: int | None = None, out=None):
    """``on_result(path, found)`` for an analysis (of ``total`` files, when known); silent when
    not a terminal."""
    out = out or sys.stderr
    seen = []

    def show(path, found) -> None:
        seen.append(path)
        if not out.isatty():
            return
        count = f"{len(seen)}/{total}" if total else f"{len(seen)}"
        print(f"\ranalysing {count} {path.name[:40]:<40}", end="", file=out, flush=True)
        if total and len(seen) >= total:
            print("\r" + " " * 60 + "\r", end="", file=out, flush=True)
    return show

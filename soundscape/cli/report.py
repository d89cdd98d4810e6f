"""``soundscape report``: turn a session log into an HTML or Markdown record of the session."""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

from soundscape.errors import SoundscapeError
from soundscape.report import read_session, render_html, render_markdown

COMMAND = "report"
HELP = "write a report of a session from its log (HTML or Markdown)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("log", type=Path, metavar="SESSION_LOG", help="the session's .jsonl log")
    parser.add_argument("-o", "--output", default="-", metavar="FILE",
                        help="report.html or report.md (by extension); '-' or none: Markdown on stdout")


def run(args: argparse.Namespace) -> int:
    entries, torn = read_session(args.log)
    target = args.output
    if target == "-":
        sys.stdout.write(render_markdown(entries, torn=torn))
        return 0
    suffix = Path(target).suffix.lower()
    if suffix in (".html", ".htm"):
        content = render_html(entries, torn=torn)
    elif suffix in (".md", ".markdown"):
        content = render_markdown(entries, torn=torn)
    else:
        raise SoundscapeError(f"cannot tell the report format from {target!r}; "
                              "name it .html or .md, or use - for Markdown on stdout")
    write_atomically(Path(target), content)
    print(f"wrote {target}", file=sys.stderr)
    return 0


def write_atomically(path: Path, content: str) -> None:
    """Temp file in the same folder, then rename: a half-written report never replaces a good one."""
    folder = path.parent if str(path.parent) else Path(".")
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=folder)
    except OSError as exc:
        raise SoundscapeError(f"cannot write {path}: {exc.strerror}") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(content)
        os.replace(tmp, path)
    except OSError as exc:
        os.unlink(tmp)
        raise SoundscapeError(f"cannot write {path}: {exc.strerror}") from None

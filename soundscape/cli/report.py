"""``soundscape report``: turn a session log into an HTML or Markdown record of the session.

``--tracks-only`` writes instead what a participant may be given: the music that played and
when, and nothing clinical (soundscape/report/tracks_only.py).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

from soundscape.errors import SoundscapeError
from soundscape.report import (read_session, render_html, render_markdown, render_tracks_html,
                               render_tracks_markdown)

COMMAND = "report"
HELP = "write a report of a session from its log (HTML or Markdown)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("log", type=Path, metavar="SESSION_LOG", help="the session's .jsonl log")
    parser.add_argument("-o", "--output", default="-", metavar="FILE",
                        help="report.html or report.md (by extension); '-' or none: Markdown on stdout")
    parser.add_argument("--tracks-only", action="store_true",
                        help="only the music that played and when, to give a participant: "
                             "no notes, cues, dose, warnings, names or file paths")


def run(args: argparse.Namespace) -> int:
    entries, torn = read_session(args.log)
    html, markdown = ((render_tracks_html, render_tracks_markdown) if args.tracks_only
                      else (render_html, render_markdown))
    target = args.output
    if target == "-":
        sys.stdout.write(markdown(entries, torn=torn))
        return 0
    suffix = Path(target).suffix.lower()
    if suffix in (".html", ".htm"):
        content = html(entries, torn=torn)
    elif suffix in (".md", ".markdown"):
        content = markdown(entries, torn=torn)
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

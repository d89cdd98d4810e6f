"""``soundscape import``: add the tracks of an M3U/M3U8 playlist as a phase of a soundscape playlist."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from soundscape.errors import PlaylistError, SoundscapeError
from soundscape.playlist.m3u import (insert_into, new_playlist_text, phase_duration_min, read_m3u,
                                     write_checked)

COMMAND = "import"
HELP = "import an M3U/M3U8 playlist as a phase, into a new or an existing playlist YAML"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("m3u", metavar="PLAYLIST.m3u", help="an .m3u or .m3u8 file")
    parser.add_argument("--phase", required=True, metavar="NAME",
                        help="the phase the tracks go to (added at the end if it does not exist)")
    target = parser.add_mutually_exclusive_group(required=True)
    target.add_argument("--into", metavar="EXISTING.yaml",
                        help="add to this playlist, keeping its comments and layout")
    target.add_argument("-o", "--output", metavar="NEW.yaml", help="write a new playlist")


def run(args: argparse.Namespace) -> int:
    if not args.phase.strip():
        raise SoundscapeError("--phase needs a name")
    try:
        m3u = read_m3u(args.m3u)
    except PlaylistError as exc:
        _print_problems(exc, f"nothing written: {len(exc.problems)} line(s) of {args.m3u} "
                             "cannot be imported")
        return 1
    minutes, unknown = phase_duration_min(m3u.entries)
    if unknown:
        print(f"warning: cannot read the length of {', '.join(unknown)}; the phase duration "
              f"counts only the known lengths", file=sys.stderr)
    if args.output:
        target, shown = Path(args.output), args.output
        if target.exists():
            raise SoundscapeError(f"{shown} already exists; use --into {shown} to add to it")
        folder = Path(os.path.abspath(shown)).parent
        if not folder.is_dir():
            raise SoundscapeError(f"no such folder: {folder}")
        content = new_playlist_text(m3u, args.phase, minutes, folder, args.m3u)
    else:
        target, shown = Path(args.into), args.into
        try:
            text = target.read_bytes().decode("utf-8")
        except OSError as exc:
            raise SoundscapeError(f"cannot read {shown}: {exc.strerror}") from None
        except UnicodeDecodeError:
            raise SoundscapeError(f"{shown} is not UTF-8 text; run soundscape check on it") from None
        content = insert_into(text, m3u, args.phase, minutes, target)
    try:
        write_checked(target, content, shown)
    except PlaylistError as exc:
        _print_problems(exc, f"{shown} left unchanged: with the imported tracks it would not load")
        return 1
    except OSError as exc:
        raise SoundscapeError(f"cannot write {shown}: {exc.strerror}") from None
    print(f"{shown}: {len(m3u.entries)} track(s) added to phase '{args.phase}'", file=sys.stderr)
    return 0


def _print_problems(exc: PlaylistError, summary: str) -> None:
    for problem in exc.problems:
        print(problem, file=sys.stderr)
    print(f"error: {summary}", file=sys.stderr)

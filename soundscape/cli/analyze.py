"""``soundscape analyze``: measure each track's loudness and true peak, cached beside the tracks."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from soundscape import loudness
from soundscape.library import is_audio_name
from soundscape.loudness.cache import to_entry
from soundscape.timefmt import clock

COMMAND = "analyze"
HELP = ("decode audio files (or every track below folders): true length, loudness (LUFS), "
        "true peak (dBTP) and where the sound starts and ends")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("paths", nargs="+", metavar="PATH", help="audio files or music folders")
    parser.add_argument("--json", action="store_true",
                        help="print a JSON list of {path, lufs, true_peak_dbtp, error, duration_s, "
                             "cue_in_s, cue_out_s, fade_s, quiet, stopped}")


def audio_files(paths: list[str]) -> tuple[list[Path], list[str]]:
    """The files to measure, in name order below each folder, and the paths that do not exist.

    A file named explicitly is measured whatever its name; below folders only audio names count.
    """
    files: list[Path] = []
    missing: list[str] = []
    for given in paths:
        if os.path.isdir(given):
            for folder, dirs, names in os.walk(given):
                dirs.sort()
                files.extend(Path(folder, n) for n in sorted(names) if is_audio_name(n))
        elif os.path.exists(given):
            files.append(Path(given))
        else:
            missing.append(given)
    return list(dict.fromkeys(files)), missing  # a file named twice is measured once


def _line(path: Path, found: loudness.Measurement) -> str:
    line = (f"{found.lufs:6.1f} LUFS  {found.true_peak_dbtp:5.1f} dBTP  "
            f"{clock(found.duration_s or 0):>7}  {path}")
    notes = []
    if found.cue_in_s:
        notes.append(f"music from {clock(found.cue_in_s, tenths=True)}")
    if found.cue_out_s is not None and found.duration_s and found.cue_out_s < found.duration_s:
        notes.append(f"music to {clock(found.cue_out_s, tenths=True)}")
    if found.fade_s:
        notes.append(f"fades out over {found.fade_s:.1f} s")
    if found.stopped:
        notes.append(found.stopped)
    return line + (f"  ({'; '.join(notes)})" if notes else "")


def run(args: argparse.Namespace) -> int:
    files, missing = audio_files(args.paths)
    for given in missing:
        print(f"error: no such file or folder: {given}", file=sys.stderr)

    def show(path: Path, found: loudness.Measurement) -> None:
        if not args.json and found.error is None:
            print(_line(path, found), flush=True)

    results = loudness.measure(files, on_result=None if args.json else show)
    failed = {path: found.error for path, found in results.items() if found.error is not None}
    if args.json:
        print(json.dumps([{"path": str(path), **{k: v for k, v in to_entry(0, 0, found).items()
                                                 if k not in ("size", "mtime_ns")}}
                          for path, found in results.items()], indent=2, ensure_ascii=False))
    elif failed:
        print(f"cannot measure {len(failed)} file{'s' if len(failed) != 1 else ''}:")
        for path, reason in failed.items():
            print(f"  {path}: {reason}")
    if not files and not missing:
        print(f"error: no audio files in {', '.join(args.paths)}", file=sys.stderr)
    measured = len(results) - len(failed)
    return 1 if missing or measured == 0 else 0

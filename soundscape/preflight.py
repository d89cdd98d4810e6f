"""Pre-flight: before anyone doses, prove that every file plays and the room hears the output.

``soundscape check`` proves a playlist is well written; pre-flight proves this machine can play
it now: every track and bed opens and decodes in libVLC with the length mutagen planned with, the
output device is there, and a soft chime goes out through it at a level people can barely hear.
A failure here costs a minute before the session instead of a silence in the middle of it.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from soundscape import library
from soundscape.config.values import format_duration
from soundscape.engine.clock import Clock, RealClock
from soundscape.engine.deck import DeckEvent, DeckStatus, Output
from soundscape.errors import SoundscapeError
from soundscape.playlist.loader import check_file
from soundscape.room import Room
from soundscape.timefmt import clock

DEFAULT_CHIME_LEVEL_PCT = 25.0
CHIME_NAME = "chime.wav"
CHIME_GRACE_S = 3.0  # beyond the chime's length, how long it may take to finish
POLL_S = 0.05
MIN_TOLERANCE_S = 1.0  # mutagen and libVLC may disagree by this much (or 2%) on a good file


@dataclass(frozen=True)
class Check:
    """One line of the pre-flight list: what was checked, whether it passed, and what was seen."""

    name: str
    ok: bool
    detail: str

    def __str__(self) -> str:
        return f"{'PASS' if self.ok else 'FAIL'}  {self.name}  {self.detail}"


def summary(checks: list[Check]) -> str:
    """The last line: all passed, or how many failed and the names of what failed."""
    failed = [c for c in checks if not c.ok]
    if not failed:
        return f"PASS  all {len(checks)} checks passed"
    names = list(dict.fromkeys(c.name for c in failed))
    return f"FAIL  {len(failed)} of {len(checks)} checks failed: {', '.join(names)}"


# -- the playlist and its files -----------------------------------------------------------------

def playlist_checks(path: str | os.PathLike) -> tuple[list[Path], Path | None, list[Check]]:
    """(files to play-test, their base folder, checks): one check that the playlist loaded, or
    one per loader error, a file's named after the file.

    A refused playlist still yields the files that passed the loader, so one run reports every
    file that will not play, not only the first kind of problem.
    """
    resolvers: list = []
    try:
        playlist, problems = check_file(path, resolvers)
    except SoundscapeError as exc:
        return [], None, [Check("playlist", False, str(exc))]
    errors = [p for p in problems if p.severity == "error"]
    if playlist is not None and not errors:
        files = playlist.files()
        return files, playlist.music_dir, [Check(
            "playlist", True, f"{os.fspath(path)}: '{playlist.title}', "
                              f"{_count(len(playlist.phases), 'phase')}, "
                              f"{format_duration(playlist.duration_s)}, "
                              f"{_count(len(files), 'file')}")]
    resolver = resolvers[0] if resolvers else None
    bad = {problem: (written, reason) for problem, written, reason in
           (resolver.bad if resolver else [])}
    checks = []
    for p in errors:
        if p in bad:
            written, reason = bad[p]
            checks.append(Check(written, False, f"{reason} ({p.path}:{p.line}:{p.col})"))
        else:
            checks.append(Check("playlist", False, str(p)))
    return (resolver.good, resolver.base, checks) if resolver else ([], None, checks)


def _count(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _shown(path: Path, base: Path | None) -> str:
    if base is not None:
        try:
            return str(path.relative_to(base))
        except ValueError:
            pass
    return str(path)


def file_checks(files: list[Path], base: Path | None, probe: Callable) -> list[Check]:
    """One check per file: libVLC opens and decodes it, with the length mutagen reads."""
    expected = library.durations(files)
    probed = probe(files)
    checks = []
    for path in files:
        name, seen = _shown(path, base), probed[path]
        planned_s = expected.get(path)
        if not seen.opened:
            checks.append(Check(name, False, f"cannot open: {seen.problem}"))
        elif not seen.decoded:
            checks.append(Check(name, False, f"cannot decode: {seen.problem}"))
        elif seen.duration_s is None:
            checks.append(Check(name, False, "libVLC finds no length in it"
                                + (f" (mutagen reads {clock(planned_s)})"
                                   if planned_s else "")))
        elif planned_s is None:
            checks.append(Check(name, True, f"libVLC {clock(seen.duration_s)} "
                                            "(mutagen cannot tell its length)"))
        elif abs(planned_s - seen.duration_s) > max(MIN_TOLERANCE_S, 0.02 * planned_s):
            checks.append(Check(name, False, f"{clock(planned_s, True)}, but libVLC reads "
                                             f"{clock(seen.duration_s, True)}: the file may "
                                             "be truncated or damaged"))
        else:
            checks.append(Check(name, True, f"{clock(planned_s)} "
                                            f"(libVLC {clock(seen.duration_s)})"))
    return checks


# -- the output and the chime -------------------------------------------------------------------

def output_check(kind: str, device: str | None,
                 opener: Callable[..., Output]) -> tuple[Output | None, Check]:
    """The opened output, or None and a failed check saying why (no server, no such device)."""
    try:
        output = opener(kind, device)
    except SoundscapeError as exc:
        return None, Check("output", False, str(exc))
    where = f"device {device}" if device else "its default device"
    if output.name == "none":
        return output, Check("output", True, "none: the silent output (nothing will be heard)")
    return output, Check("output", True, f"{output.name}, {where}")


def chime_check(output: Output, chime: Path | None, level_pct: float, clock: Clock,
                wait: Callable[[float], None]) -> Check:
    """Play the chime to its end at ``level_pct`` (VLC volume == level: the cubic scale)."""
    if output.name == "none":
        return Check("chime", True, "not played: the none output is silent")
    events: list[DeckEvent] = []
    deck = output.make_deck("chime", events.append)
    try:
        deck.load(chime, 0.0, (level_pct / 100) ** 3)
        deck.play()
        planned_s = library.durations([chime]).get(chime) or 5.0
        deadline = clock.now() + planned_s + CHIME_GRACE_S
        furthest_s = 0.0
        status = deck.status()
        while status not in (DeckStatus.ENDED, DeckStatus.FAILED) and clock.now() < deadline:
            wait(POLL_S)
            furthest_s = max(furthest_s, deck.position_s() or 0.0)
            status = deck.status()
    finally:
        deck.release()
    level = f"{level_pct:g}%"
    errors = [e.detail for e in events if e.kind == "error"]
    if status == DeckStatus.FAILED or errors:
        return Check("chime", False, f"did not play on {output.name}: "
                                     f"{errors[0] if errors else 'the output refused it'}")
    if status != DeckStatus.ENDED:
        return Check("chime", False, f"did not finish within {format_duration(planned_s)} + "
                                     f"{CHIME_GRACE_S:g}s on {output.name} (status {status})")
    if furthest_s <= 0:
        return Check("chime", False, f"ended on {output.name} without playing any of it")
    return Check("chime", True, f"played {chime.name} ({format_duration(planned_s)}) at {level} "
                                f"on {output.name}")


# -- all of it ----------------------------------------------------------------------------------

def run_preflight(playlist_path: str | os.PathLike, output: str | None = None,
                  device: str | None = None, room: Room | None = None,
                  chime_level: float | None = None, *,
                  on_check: Callable[[Check], None] | None = None,
                  probe: Callable | None = None, opener: Callable | None = None,
                  chime: Path | None = None, clock: Clock | None = None,
                  wait: Callable[[float], None] = time.sleep) -> list[Check]:
    """Every pre-flight check, in order: playlist, each file, the output, the chime.

    ``output``/``device`` default to the room's, then ``auto`` and the default device; the chime
    level to ``chime_level``, else the room's hush level, else 25%, never above the ceiling.
    ``on_check`` sees each check as soon as it is made (the CLI prints them as they come).
    The keyword-only arguments replace libVLC, the output and time in tests.
    """
    room = room or Room()
    checks: list[Check] = []

    def add(new: list[Check]) -> None:
        for check in new:
            checks.append(check)
            if on_check is not None:
                on_check(check)

    files, base, loaded = playlist_checks(playlist_path)
    add(loaded)
    if files:
        try:
            if probe is None:
                from soundscape.engine.libvlc.probe import probe_files as probe
            add(file_checks(files, base, probe))
        except (SoundscapeError, ImportError, OSError) as exc:  # no libVLC: nothing can play
            add([Check("libVLC", False, f"cannot check the files: {exc}")])
    if opener is None:
        from soundscape.engine.outputs import open_output as opener
    opened, check = output_check(output or room.output or "auto", device or room.device, opener)
    add([check])
    if opened is not None:
        try:
            level_pct = chime_level if chime_level is not None else (
                room.hush_pct if room.hush_pct is not None else DEFAULT_CHIME_LEVEL_PCT)
            level_pct = min(level_pct, room.settings().ceiling_pct)
            if chime is None and opened.name != "none":  # made on first use: a few seconds
                from soundscape.demo import ensure_demo_music
                chime = ensure_demo_music() / CHIME_NAME
            add([chime_check(opened, chime, level_pct, clock or RealClock(), wait)])
        finally:
            opened.close()
    return checks

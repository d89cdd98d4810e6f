"""Pre-flight: before anyone doses, prove that every file plays and the room hears the output.

``soundscape check`` proves a playlist is well written; pre-flight proves this machine can play
it now: every track and bed decodes whole (its analysis: true length, cue points, loudness) and
opens and plays in libVLC, the output device is there, and a soft chime goes out through it at a
level people can barely hear.
A failure here costs a minute before the session instead of a silence in the middle of it.
"""

from __future__ import annotations

import functools

import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from soundscape import library
from soundscape.loudness import TARGET_LUFS, measure, normalisation_gain_db
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
MIN_TOLERANCE_S = 1.0  # a header and the decoded length may disagree this much (or 2%)


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


def file_checks(files: list[Path], base: Path | None, probe: Callable,
                playlist=None, target_lufs: float | None = None,
                analysed: dict | None = None) -> list[Check]:
    """One check per file, from its analysis (decoded whole) and libVLC's probe of it.

    What a line passes, the session plays: the decoded length (the header's when it differs),
    the cue points that move, the loudness and the gain it will get. A file fails when nothing in
    it decodes, libVLC cannot open or decode it, it decodes short of what its header promises
    (truncated), or it holds nothing to hear.
    """
    headers = library.probe(files)
    found = analysed if analysed is not None else measure(files)
    probed = probe(files)
    beds = set() if playlist is None else set(playlist.files()) - set(playlist.track_files())
    checks = []
    for path in files:
        name, seen, m = _shown(path, base), probed[path], found.get(path)
        header = headers.get(path)
        header_s = header.duration_s if header is not None else None
        if m is not None and m.duration_s is None and m.error:
            checks.append(Check(name, False, f"cannot decode: {m.error}"))
        elif not seen.opened:
            checks.append(Check(name, False, f"cannot open in libVLC: {seen.problem}"))
        elif not seen.decoded:
            checks.append(Check(name, False, f"cannot decode in libVLC: {seen.problem}"))
        elif m is None or m.duration_s is None:
            checks.append(Check(name, False, "cannot be analysed"))
        elif m.error and m.error.startswith("silent"):
            checks.append(Check(name, False, f"{clock(m.duration_s)} of silence: "
                                             "nothing in it to hear"))
        elif m.error:  # decoded, but too little of it to play
            checks.append(Check(name, False, f"cannot play: {m.error}"))
        elif (truncated := _truncated(m, header_s, header)) is not None:
            checks.append(Check(name, False, truncated))
        else:
            checks.append(Check(name, True, _played(m, header_s, path in beds,
                                                    target_lufs if playlist else None)))
    return checks


def _truncated(m, header_s: float | None, header) -> str | None:
    """Why the file looks cut short, or None: it decodes as long as its header says."""
    short = (header_s is not None and not header.estimated
             and header_s - m.duration_s > max(MIN_TOLERANCE_S, 0.02 * header_s))
    if m.stopped and (short or header_s is None):
        return (f"decodes only {clock(m.duration_s, True)}"
                + (f" of the {clock(header_s, True)} its header says" if header_s else "")
                + f" ({m.stopped}): truncated or damaged")
    if short:
        return (f"plays {clock(m.duration_s, True)}, but its header says "
                f"{clock(header_s, True)}: truncated or damaged")
    return None


def _played(m, header_s: float | None, bed: bool, target_lufs: float | None) -> str:
    """What the room will hear of a file that passes: length, cue points, loudness, gain."""
    parts = [clock(m.duration_s)]
    if header_s is not None and abs(header_s - m.duration_s) > max(MIN_TOLERANCE_S,
                                                                    0.02 * m.duration_s):
        parts[0] += f" (its header says {clock(header_s, True)}; the decoded length is used)"
    cues = []
    if not bed and m.cue_in_s:
        cues.append(f"music from {clock(m.cue_in_s, True)}")
    if not bed and m.cue_out_s is not None and m.cue_out_s < m.duration_s:
        cues.append(f"music to {clock(m.cue_out_s, True)} (the silent "
                    f"{m.duration_s - m.cue_out_s:.1f} s after it not played)")
    if not bed and m.fade_s:
        cues.append(f"fades out by itself over {m.fade_s:.1f} s")
    for start_s, end_s in m.quiet:
        cues.append(f"silent for {end_s - start_s:.0f} s from {clock(start_s, True)} (the "
                    "room's dead-air guard moves on to the next track after 2 s of it)")
    loud = f"{m.lufs:.1f} LUFS"
    if target_lufs is None:  # a refused playlist: which files are beds is not known
        pass
    elif bed:
        loud += " (a bed: at its own loudness)"
    elif target_lufs is not None and m.true_peak_dbtp is not None:
        loud += f", played at {normalisation_gain_db(m.lufs, m.true_peak_dbtp, target_lufs):+.1f} dB"
    return "; ".join([", ".join(parts + cues)] + [loud])


def _load(path):
    from soundscape.playlist import load_playlist

    try:
        return load_playlist(path)
    except SoundscapeError:
        return None


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
                  on_analysed: Callable | None = None,
                  probe: Callable | None = None, opener: Callable | None = None,
                  chime: Path | None = None, clock: Clock | None = None,
                  wait: Callable[[float], None] = time.sleep) -> list[Check]:
    """Every pre-flight check, in order: playlist, each file, the output, the chime.

    ``output``/``device`` default to the room's, then ``auto`` and the default device; the chime
    level to ``chime_level``, else the room's hush level, else 25%, never above the ceiling.
    ``on_check`` sees each check as soon as it is made (the CLI prints them as they come);
    ``on_analysed(path, measurement)`` each file's analysis (files not analysed before are
    decoded first: seconds each).
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
        playlist = _load(playlist_path) if loaded and loaded[0].ok else None
        target = room.loudness_target_lufs or TARGET_LUFS
        try:
            analysed = measure(files, on_result=on_analysed)  # files not analysed yet: now
            if probe is None:
                from soundscape.engine.libvlc.probe import probe_files as probe
            add(file_checks(files, base, probe, playlist, target, analysed))
        except (SoundscapeError, ImportError, OSError) as exc:  # no libVLC: nothing can play
            add([Check("libVLC", False, f"cannot check the files: {exc}")])
    if opener is None:
        from soundscape.engine.outputs import open_output as opener
    kind = output or room.output or "auto"
    if kind == "snapcast":
        opener = functools.partial(opener, snapcast=room.snapcast())
    opened, check = output_check(kind, device or room.device, opener)
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

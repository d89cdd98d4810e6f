"""What the room did: cues, notes, intensity changes, play-next and bans, in time order.

Facilitators steer a session from their phones (softer, deeper, play next, ban, a note) and the
playlist's cues remind them of checks; the engine logs each as its own entry. Here each becomes a
``Happening``: one line a clinician can read back, the phase, the track that was playing, who did
it, and the mark it gets on the timeline picture. A cue's line also says whether and when it was
acknowledged, because a check that nobody confirmed is what the record must show.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from soundscape.report.values import clock, num, text, wall_time

KINDS = ("intensity", "play_next", "ban", "cue_due", "cue_ack", "note")
# the timeline's marks, in the legend's order, with the legend's words
MARKS = {"deeper": "deeper", "softer": "softer", "next": "play next", "ban": "ban",
         "note": "note", "cue": "cue", "missed": "cue never acknowledged"}
# each kind's mark (an intensity change's is the way it went)
MARK_OF = {"play_next": "next", "ban": "ban", "note": "note", "cue_due": "cue"}


@dataclass
class Happening:
    kind: str  # one of KINDS
    session_s: float | None
    wall: str
    phase: str
    what: str
    playing: str  # the title of the track that was playing; "" when none
    by: str
    mark: str = ""  # its shape on the timeline (a key of MARKS); "" for none
    css: str = ""  # "warning": a cue never acknowledged
    cue: str = ""  # a cue's id, to pair its due entry with its acknowledgement
    due_s: float | None = None  # a cue's: when it fell due
    # a due cue's: "acknowledged", "early" (before it was due), "missed", "pending" (live)
    outcome: str = ""


def title_of(title, path) -> str:
    """A track as the report names it: its title, else its file's name."""
    return text(title) or Path(text(path)).name


def _level(value) -> str:
    n = num(value)
    return "?" if n is None else f"{n:g}"


def _direction(entry: dict) -> str:
    direction = text(entry.get("direction"))
    if direction in ("softer", "deeper"):
        return direction
    before, after = num(entry.get("from")), num(entry.get("to"))
    return "softer" if before is not None and after is not None and after < before else "deeper"


def describe(entry: dict) -> str:
    """One line for an entry of these kinds (without a cue's outcome, which comes later)."""
    kind = entry.get("event")
    subject = title_of(entry.get("title"), entry.get("path")) or "(unknown track)"
    if kind == "intensity":
        when = "now" if entry.get("now") is True else "from the next track"
        return (f"{_direction(entry)}: intensity {_level(entry.get('from'))} → "
                f"{_level(entry.get('to'))}, {when}")
    if kind == "play_next":
        return f"play next: {subject}"
    if kind == "ban":
        away = "; it was playing and crossfaded away" if entry.get("playing") is True else ""
        return f"ban: {subject}, for the rest of the session{away}"
    if kind == "cue_due":
        at = text(entry.get("at"))
        return f"cue due{f' ({at})' if at else ''}: {text(entry.get('text'))}"
    if kind == "cue_ack":
        due = num(entry.get("due_s"))
        here = num(entry.get("session_s"))
        if entry.get("early") is True or due is None:
            when = " before it was due"
        elif here is None:
            when = f" (due {clock(due)})"
        else:
            when = f" (due {clock(due)}, {_delay(here - due)})"
        return f"cue acknowledged{when}: {text(entry.get('text'))}"
    if kind == "note":
        return f"note: {text(entry.get('text'))}"
    return text(kind)


def _delay(seconds: float) -> str:
    return "at once" if seconds < 1 else f"{clock(seconds)} later"


def _resolve(row: Happening, ack: dict | None, live: bool) -> None:
    """A due cue's line gets its outcome: acknowledged (how long after, by whom) or not."""
    if ack is None:
        row.outcome = "pending" if live else "missed"
        row.what += "; not acknowledged yet" if live else "; never acknowledged"
        if not live:
            row.mark, row.css = "missed", "warning"
        return
    by = text(ack.get("by"))
    who = f" by {by}" if by else ""
    here = num(ack.get("session_s"))
    if ack.get("early") is True or num(ack.get("due_s")) is None:
        row.outcome, row.what = "early", row.what + f"; acknowledged before it was due{who}"
    elif here is None or row.due_s is None:
        row.outcome, row.what = "acknowledged", row.what + f"; acknowledged{who}"
    else:
        row.outcome = "acknowledged"
        row.what += f"; acknowledged {_delay(here - row.due_s)}{who}"


def gather(entries: list[dict], *, live: bool = False) -> list[Happening]:
    """The room's entries in log order (which is time order), with what was playing at each."""
    out: list[Happening] = []
    phase = ""
    playing: list[tuple[str, str]] = []  # (path, title) of the tracks sounding, newest last
    waiting: dict[str, list[Happening]] = {}  # a cue's due rows not yet acknowledged, by id
    early: dict[str, dict] = {}  # cues acknowledged before they fell due, by id
    for entry in entries:
        if not isinstance(entry, dict):
            continue
        kind = entry.get("event")
        if kind == "phase_start":
            phase = text(entry.get("phase"))
        elif kind == "track_start":
            playing.append((text(entry.get("path")), title_of(entry.get("title"),
                                                              entry.get("path"))))
        elif kind == "track_end":
            path = text(entry.get("path"))
            ended = next((i for i, (p, _) in enumerate(playing) if p == path), None)
            if ended is not None:
                del playing[ended]
        elif kind == "session_end":
            playing = []
        if kind not in KINDS:
            continue
        sounding = playing[-1][1] if playing else ""
        if kind in ("intensity", "note"):  # they name the track themselves (none: silence)
            sounding = title_of(entry.get("title"), entry.get("path"))
        elif kind == "ban" and entry.get("playing") is True:
            sounding = title_of(entry.get("title"), entry.get("path"))
        row = Happening(kind, num(entry.get("session_s")), wall_time(entry.get("t")),
                        text(entry.get("phase")) or phase, describe(entry), sounding,
                        text(entry.get("by")) or "–", cue=text(entry.get("id")))
        row.mark = _direction(entry) if kind == "intensity" else MARK_OF.get(kind, "")
        if kind == "cue_due":
            row.by = "–"  # it fell due: nobody did it
            due = num(entry.get("due_s"))
            row.due_s = due if due is not None else row.session_s
            if row.cue in early:
                _resolve(row, early.pop(row.cue), live)
            else:
                waiting.setdefault(row.cue, []).append(row)
        elif kind == "cue_ack":
            due_rows = waiting.pop(row.cue, [])
            for due in due_rows:
                _resolve(due, entry, live)
            if not due_rows and (entry.get("early") is True or num(entry.get("due_s")) is None):
                row.mark = "cue"  # the cue never showed as due: the acknowledgement is its mark
                early[row.cue] = entry
        out.append(row)
    for rows in waiting.values():
        for row in rows:
            _resolve(row, None, live)
    return out


def totals(room: list[Happening]) -> list[tuple[str, str]]:
    """The room's counts for the report's totals; nothing for a session with none of it."""
    out = []
    dues = [r for r in room if r.kind == "cue_due"]
    early = [r for r in room if r.kind == "cue_ack" and r.mark == "cue"]
    if dues or early:
        outcomes = [r.outcome for r in dues]
        acked = outcomes.count("acknowledged") + outcomes.count("early")
        missed = outcomes.count("missed")
        line = f"{len(dues)} due, {acked} acknowledged, {missed} never acknowledged"
        if outcomes.count("pending"):
            line += f", {outcomes.count('pending')} not yet"
        if early:
            line += f"; {len(early)} acknowledged before it was due"
        out.append(("Cues", line))
    counts = [(sum(1 for r in room if r.kind == kind), one, many) for kind, one, many in (
        ("intensity", "intensity change", "intensity changes"),
        ("play_next", "play next", "play next"), ("ban", "ban", "bans"),
        ("note", "note", "notes"))]
    if any(n for n, _, _ in counts):
        out.append(("What the room did",
                    ", ".join(f"{n} {one if n == 1 else many}" for n, one, many in counts)))
    return out

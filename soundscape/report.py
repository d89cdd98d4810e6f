"""Session reports: what a session log says happened, as HTML or Markdown for the clinic's records.

A clinic documents each session after it ends, so the report reads the JSON Lines log the engine
wrote (or the live ``engine.log_entries()``) and lays out the arc as planned and as played, every
track, every facilitator action and every warning. Log content is untrusted: the renderers escape
all of it. ``render_html(entries)`` is the entry point the web layer can call for a live session.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from datetime import datetime
from html import escape
from pathlib import Path

from soundscape.engine.sessionlog import read_log
from soundscape.errors import SoundscapeError
from soundscape.report_svg import STYLE, timeline_svg

ABRUPT_NOTE = "the log ends abruptly (the session was interrupted)"
RUNNING_NOTE = "the session is still running; this report shows it so far"
ENDINGS = {"crossfade": "crossfade", "skipped": "skipped", "failed": "failed",
           "phase ended": "phase ended"}


@dataclass
class PhaseRow:
    name: str
    planned_start_s: float | None
    planned_end_s: float | None
    start_s: float | None
    end_s: float | None = None

    @property
    def planned_length_s(self) -> float | None:
        if self.planned_start_s is None or self.planned_end_s is None:
            return None
        return self.planned_end_s - self.planned_start_s

    @property
    def length_s(self) -> float | None:
        if self.start_s is None or self.end_s is None:
            return None
        return self.end_s - self.start_s


@dataclass
class TrackRow:
    phase: str
    title: str
    path: str
    start_s: float | None
    start_wall: str
    planned_start_s: float | None
    repeat: bool
    end_s: float | None = None
    end_wall: str = ""
    ending: str = ""  # crossfade, skipped, failed, phase ended, session ended, interrupted


@dataclass
class Session:
    """Everything the renderers show, gathered from the log entries in one pass."""

    title: str = "(untitled session)"
    playlist: str = ""
    seed: str = ""
    output: str = ""
    started_wall: str = ""
    ended_wall: str = ""  # the last entry's wall clock
    planned_total_s: float | None = None
    actual_total_s: float | None = None
    end_reason: str = ""
    note: str = ""  # shown when the log ends without session_end
    phases: list[PhaseRow] = field(default_factory=list)
    tracks: list[TrackRow] = field(default_factory=list)
    actions: list[dict] = field(default_factory=list)
    warnings: list[dict] = field(default_factory=list)
    events: list[dict] = field(default_factory=list)


def num(value) -> float | None:
    """A finite number from the log, or None (the log is untrusted and may hold anything)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return None
    return float(value)


def text(value) -> str:
    return "" if value is None else value if isinstance(value, str) else json.dumps(value)


def clock(seconds: float | None) -> str:
    """Session time as m:ss or h:mm:ss (the way the control page shows it)."""
    if seconds is None:
        return "–"
    sign, total = ("-" if seconds < 0 else ""), round(abs(seconds))
    h, rest = divmod(total, 3600)
    m, s = divmod(rest, 60)
    return f"{sign}{h}:{m:02d}:{s:02d}" if h else f"{sign}{m}:{s:02d}"


def difference(actual: float | None, planned: float | None) -> str:
    if actual is None or planned is None:
        return "–"
    delta = actual - planned
    return "on time" if abs(delta) < 1 else ("+" if delta > 0 else "-") + clock(abs(delta))


def wall_time(stamp) -> str:
    """HH:MM:SS of an ISO wall-clock stamp, or the stamp as written when it does not parse."""
    try:
        return datetime.fromisoformat(text(stamp)).strftime("%H:%M:%S")
    except ValueError:
        return text(stamp)


def wall_date(stamp) -> str:
    try:
        moment = datetime.fromisoformat(text(stamp))
    except ValueError:
        return text(stamp)
    offset = moment.utcoffset()
    zone = ""
    if offset is not None:
        minutes = round(offset.total_seconds() / 60)
        zone = f" (UTC{'-' if minutes < 0 else '+'}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d})"
    return moment.strftime("%A %d %B %Y, %H:%M") + zone


def action_label(entry: dict) -> str:
    """``set_level`` with ``{level: 55}`` reads as 'set level 55%'."""
    action = text(entry.get("action")).replace("_", " ") or "?"
    params = entry.get("params") if isinstance(entry.get("params"), dict) else {}
    units = {"level": "%", "minutes": " min", "seconds": " s"}
    shown = [f"{num(v):g}{units.get(k, '')}" if num(v) is not None else f"{k}={text(v)}"
             for k, v in params.items()]
    return " ".join([action] + shown)


def event_summary(entry: dict) -> str:
    """One line for the event list; unknown events show their fields as key=value."""
    kind = entry.get("event")
    if kind == "session_open":
        return f"session opened: {text(entry.get('title'))}"
    if kind in ("phase_start", "phase_end"):
        return f"phase {text(entry.get('phase'))} {'starts' if kind == 'phase_start' else 'ends'}"
    if kind == "track_start":
        again = " (again)" if entry.get("repeat") is True else ""
        return f"track {text(entry.get('title'))}{again} starts"
    if kind == "track_end":
        return f"track {Path(text(entry.get('path'))).name} ends: {text(entry.get('reason'))}"
    if kind == "command":
        who = text(entry.get("by")) or f"({text(entry.get('source'))})"
        result = "done" if entry.get("ok") is True else f"refused: {text(entry.get('reason'))}"
        return f"{action_label(entry)} by {who}: {result}"
    if kind == "warning":
        return f"warning: {text(entry.get('message'))}"
    if kind == "session_end":
        return f"session ended: {text(entry.get('reason'))}"
    rest = [f"{k}={text(v)}" for k, v in entry.items() if k not in ("t", "event", "session_s")]
    return " ".join([text(kind) or "(no event name)"] + rest)


def summarize(entries: list[dict], *, torn: bool = False, live: bool = False) -> Session:
    """Gather a report from log entries. ``live``: a running session, so no end is not a crash."""
    session = Session()
    open_tracks: list[TrackRow] = []
    last_s = None
    for entry in entries:
        if not isinstance(entry, dict):
            continue
        session.events.append(entry)
        session.ended_wall = text(entry.get("t")) or session.ended_wall
        kind, here = entry.get("event"), num(entry.get("session_s"))
        last_s = here if here is not None else last_s
        if kind == "session_open":
            session.title = text(entry.get("title")) or session.title
            session.playlist, session.output = text(entry.get("playlist")), text(entry.get("output"))
            session.seed = text(entry.get("seed"))
            session.started_wall = text(entry.get("t"))
            session.planned_total_s = num(entry.get("planned_total_s"))
        elif kind == "phase_start":
            at = num(entry.get("actual_s"))
            session.phases.append(PhaseRow(text(entry.get("phase")), num(entry.get("planned_s")),
                                           None, at if at is not None else here))
        elif kind == "phase_end" and session.phases:
            row = session.phases[-1]
            at = num(entry.get("actual_s"))
            row.end_s, row.planned_end_s = (at if at is not None else here), num(entry.get("planned_s"))
        elif kind == "track_start":
            at = num(entry.get("actual_s"))
            row = TrackRow(text(entry.get("phase")), text(entry.get("title")), text(entry.get("path")),
                           at if at is not None else here, wall_time(entry.get("t")),
                           num(entry.get("planned_s")), entry.get("repeat") is True)
            session.tracks.append(row)
            open_tracks.append(row)
        elif kind == "track_end":
            match = next((r for r in open_tracks if r.path == text(entry.get("path"))), None)
            if match is not None:
                open_tracks.remove(match)
                match.end_s, match.end_wall = here, wall_time(entry.get("t"))
                reason = text(entry.get("reason"))
                match.ending = ENDINGS.get(reason, reason or "ended")
        elif kind == "command":
            session.actions.append(entry)
        elif kind == "warning":
            session.warnings.append(entry)
        elif kind == "session_end":
            session.end_reason = text(entry.get("reason")) or "ended"
            session.actual_total_s = num(entry.get("actual_s"))
            if session.actual_total_s is None:
                session.actual_total_s = here
            for row in open_tracks:
                row.end_s, row.end_wall, row.ending = here, wall_time(entry.get("t")), "session ended"
            open_tracks = []
    if not session.end_reason:
        session.note = RUNNING_NOTE if live and not torn else ABRUPT_NOTE
        session.actual_total_s = last_s
        for row in open_tracks:
            row.ending = "still playing" if live else "interrupted"
        for row in session.phases:
            if row.end_s is None and not live:
                row.end_s = last_s
    if live and session.phases and session.phases[-1].end_s is None:
        session.phases[-1].end_s = last_s
    return session


def read_session(path) -> tuple[list[dict], bool]:
    """The log's entries, and whether its last line was torn (the session crashed mid-write)."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise SoundscapeError(f"cannot read session log {path}: {exc.strerror}") from None
    try:
        lines = [line for line in raw.decode("utf-8").splitlines() if line.strip()]
    except UnicodeDecodeError:
        raise SoundscapeError(f"{path} is not a session log (it is not UTF-8 text)") from None
    if not lines:
        raise SoundscapeError(f"{path} is empty, not a session log")
    entries = read_log(path)
    torn = len(entries) < len(lines)
    if not entries or not all(isinstance(e, dict) for e in entries) \
            or entries[0].get("event") != "session_open":
        raise SoundscapeError(f"{path} is not a session log (it does not start with session_open)")
    return entries, torn


# ---------------------------------------------------------------------------- tables for both formats


@dataclass
class Table:
    """One section as plain strings; each renderer escapes for its own format."""

    title: str
    headers: tuple[str, ...]
    rows: list[tuple[str, ...]]
    classes: list[str] = field(default_factory=list)  # per row: "", "warning", "fault", "refused"
    empty: str = "None."


def facts(session: Session) -> list[tuple[str, str]]:
    span = f"{wall_time(session.started_wall)} – {wall_time(session.ended_wall)}"
    return [("Date", wall_date(session.started_wall)), ("Wall clock", span),
            ("Playlist", session.playlist),
            ("Seed", session.seed), ("Output", session.output)]


def tables(session: Session) -> list[Table]:
    phases = Table("Phases: planned and played",
                   ("Phase", "Planned start", "Planned length", "Start", "Length", "Difference"),
                   [(p.name, clock(p.planned_start_s), clock(p.planned_length_s), clock(p.start_s),
                     clock(p.length_s), difference(p.length_s, p.planned_length_s))
                    for p in session.phases], empty="No phase started.")
    tracks = Table("Tracks",
                   ("#", "Phase", "Track", "File", "Start", "End", "Start (clock)", "End (clock)",
                    "Played", "How it ended"),
                   [(str(n), t.phase, t.title + (" (again)" if t.repeat else ""),
                     Path(t.path).name, clock(t.start_s), clock(t.end_s), t.start_wall, t.end_wall or "–",
                     clock(None if t.end_s is None or t.start_s is None else t.end_s - t.start_s),
                     t.ending or "–")
                    for n, t in enumerate(session.tracks, 1)],
                   ["fault" if t.ending == "failed" else "" for t in session.tracks],
                   empty="No track played.")
    actions = Table("Facilitator actions", ("Session time", "Wall clock", "By", "Action", "Result"),
                    [(clock(num(a.get("session_s"))), wall_time(a.get("t")),
                      text(a.get("by")) or f"({text(a.get('source'))})", action_label(a),
                      "done" if a.get("ok") is True else f"refused: {text(a.get('reason'))}")
                     for a in session.actions],
                    ["" if a.get("ok") is True else "refused" for a in session.actions],
                    empty="No facilitator action.")
    warnings = Table("Warnings and faults", ("Session time", "Wall clock", "Message"),
                     [(clock(num(w.get("session_s"))), wall_time(w.get("t")), text(w.get("message")))
                      for w in session.warnings], ["warning"] * len(session.warnings),
                     empty="No warnings.")
    events = Table("Every event", ("Session time", "Wall clock", "Event"),
                   [(clock(num(e.get("session_s"))), wall_time(e.get("t")), event_summary(e))
                    for e in session.events],
                   ["warning" if e.get("event") == "warning" else
                    "refused" if e.get("event") == "command" and e.get("ok") is not True else ""
                    for e in session.events])
    return [phases, tracks, actions, warnings, events]


def totals(session: Session) -> list[tuple[str, str]]:
    endings = [t.ending for t in session.tracks]
    refused = sum(1 for a in session.actions if a.get("ok") is not True)
    return [
        ("Planned length", clock(session.planned_total_s)),
        ("Played length", clock(session.actual_total_s)),
        ("Difference", difference(session.actual_total_s, session.planned_total_s)),
        ("Ended", session.end_reason or session.note),
        ("Tracks", f"{len(endings)} started, {endings.count('skipped')} skipped, "
                   f"{endings.count('failed')} failed"),
        ("Facilitator actions", f"{len(session.actions)} ({refused} refused)"),
        ("Warnings", str(len(session.warnings))),
    ]


# ---------------------------------------------------------------------------- HTML


def _html_table(table: Table, numeric: int = 0) -> str:
    if not table.rows:
        return f"<p>{escape(table.empty)}</p>"
    head = "".join(f"<th>{escape(h)}</th>" for h in table.headers)
    body = []
    for i, row in enumerate(table.rows):
        css = table.classes[i] if i < len(table.classes) and table.classes[i] else ""
        cells = "".join(f"<td>{escape(c)}</td>" for c in row)
        body.append(f'<tr class="{css}">{cells}</tr>' if css else f"<tr>{cells}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _html_facts(pairs: list[tuple[str, str]]) -> str:
    items = "".join(f"<dt>{escape(k)}</dt><dd>{escape(v or '–')}</dd>" for k, v in pairs)
    return f'<dl class="facts">{items}</dl>'


def render_html(entries: list[dict], *, torn: bool = False, live: bool = False) -> str:
    """The report as one HTML page: inline CSS and SVG, no scripts, nothing fetched.

    The web layer can call this with ``engine.log_entries()`` and ``live=True`` for a session
    that is still running.
    """
    session = summarize(entries, torn=torn, live=live)
    phases, tracks, actions, warnings, events = tables(session)
    note = f'<p class="note" role="status">{escape(session.note)}</p>' if session.note else ""
    body = [
        f"<header><h1>{escape(session.title)}</h1>{_html_facts(facts(session))}</header>", note,
        "<section><h2>Timeline</h2>", timeline_svg(session.phases, session.planned_total_s),
        _html_table(phases), "</section>",
        *(f"<section><h2>{escape(t.title)}</h2>{_html_table(t)}</section>"
          for t in (tracks, actions, warnings)),
        f"<section><h2>Totals</h2>{_html_facts(totals(session))}</section>",
        f"<section><h2>{escape(events.title)}</h2>{_html_table(events)}</section>",
    ]
    return ('<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>Session report: {escape(session.title)}</title><style>{STYLE}</style></head>"
            f"<body><main>{''.join(body)}</main></body></html>\n")


# ---------------------------------------------------------------------------- Markdown

_MD_SPECIAL = str.maketrans({c: "\\" + c for c in "\\|<>`[]*"})


def md(value: str) -> str:
    """Cell text that cannot break a table or smuggle HTML into a rendered page."""
    return " ".join(value.split()).translate(_MD_SPECIAL) or "–"


def _md_table(table: Table) -> list[str]:
    if not table.rows:
        return [table.empty]
    lines = ["| " + " | ".join(table.headers) + " |", "|" + "---|" * len(table.headers)]
    lines += ["| " + " | ".join(md(c) for c in row) + " |" for row in table.rows]
    return lines


def render_markdown(entries: list[dict], *, torn: bool = False, live: bool = False) -> str:
    """The same report as Markdown tables (the timeline as planned vs played starts and lengths)."""
    session = summarize(entries, torn=torn, live=live)
    lines = [f"# {md(session.title)}", ""]
    lines += [f"- **{k}:** {md(v)}" for k, v in facts(session)]
    if session.note:
        lines += ["", f"> **Note:** {md(session.note)}"]
    for table in tables(session):
        lines += ["", f"## {table.title}", "", *_md_table(table)]
        if table.title == "Warnings and faults":
            lines += ["", "## Totals", ""] + [f"- **{k}:** {md(v)}" for k, v in totals(session)]
    return "\n".join(lines) + "\n"

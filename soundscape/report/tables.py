"""The report's sections as plain-string tables, shared by the HTML and the Markdown renderer."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from soundscape.report.summary import (Session, action_label, clock, difference, event_summary, num,
                                       text, wall_date, wall_time)


@dataclass
class Table:
    """One section as plain strings; each renderer escapes for its own format."""

    title: str
    headers: tuple[str, ...]
    rows: list[tuple[str, ...]]
    classes: list[str] = field(default_factory=list)  # per row: "", "warning", "fault", "refused"
    empty: str = "None."
    # columns of text from the log, which may break anywhere so that no long title or path widens
    # the page; the rest (times, counts, this module's words) break only between words
    free: frozenset[str] = frozenset()


FREE = frozenset({"Phase", "Track", "File", "By", "Action", "Result", "Message", "Event"})


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
                    for p in session.phases], empty="No phase started.", free=FREE)
    tracks = Table("Tracks",
                   ("#", "Phase", "Track", "File", "Start", "End", "Start (clock)", "End (clock)",
                    "Played", "How it ended"),
                   [(str(n), t.phase, t.title + (" (again)" if t.repeat else ""),
                     Path(t.path).name, clock(t.start_s), clock(t.end_s), t.start_wall, t.end_wall or "–",
                     clock(None if t.end_s is None or t.start_s is None else t.end_s - t.start_s),
                     t.ending or "–")
                    for n, t in enumerate(session.tracks, 1)],
                   ["fault" if t.ending == "failed" else "" for t in session.tracks],
                   empty="No track played.", free=FREE)
    actions = Table("Facilitator actions", ("Session time", "Wall clock", "By", "Action", "Result"),
                    [(clock(num(a.get("session_s"))), wall_time(a.get("t")),
                      text(a.get("by")) or f"({text(a.get('source'))})", action_label(a),
                      "done" if a.get("ok") is True else f"refused: {text(a.get('reason'))}")
                     for a in session.actions],
                    ["" if a.get("ok") is True else "refused" for a in session.actions],
                    empty="No facilitator action.", free=FREE)
    warnings = Table("Warnings and faults", ("Session time", "Wall clock", "Message"),
                     [(clock(num(w.get("session_s"))), wall_time(w.get("t")), text(w.get("message")))
                      for w in session.warnings], ["warning"] * len(session.warnings),
                     empty="No warnings.", free=FREE)
    events = Table("Every event", ("Session time", "Wall clock", "Event"),
                   [(clock(num(e.get("session_s"))), wall_time(e.get("t")), event_summary(e))
                    for e in session.events],
                   ["warning" if e.get("event") == "warning" else
                    "refused" if e.get("event") == "command" and e.get("ok") is not True else ""
                    for e in session.events], free=FREE)
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

"""The report's sections as plain-string tables, shared by the HTML and the Markdown renderer."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from soundscape.report import steering
from soundscape.report.summary import Session, TrackRow, action_label, event_summary
from soundscape.report.values import clock, difference, num, text, wall_date, wall_time


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


FREE = frozenset({"Phase", "Track", "File", "By", "Action", "Result", "Message", "Event", "What",
                  "Playing"})


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
    tracks = tracks_table(session)
    room = Table("What the room did",
                 ("Session time", "Wall clock", "Phase", "What", "Playing", "By"),
                 [(clock(r.session_s), r.wall, r.phase or "–", r.what, r.playing or "–", r.by)
                  for r in session.room], [r.css for r in session.room],
                 empty="No cue, note, intensity change, play next or ban.", free=FREE)
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
    return [phases, tracks, room, actions, warnings, events]


def tracks_table(session: Session) -> Table:
    """Every track in playing order; with its intensity when the session moved between them."""
    several = len(session.intensities) > 1
    headers = ("#", "Phase", "Track", *(("Intensity",) if several else ()), "File", "Start", "End",
               "Start (clock)", "End (clock)", "Played", "How it ended")
    rows = []
    for n, t in enumerate(session.tracks, 1):
        level = (("–" if t.intensity is None else str(t.intensity)),) if several else ()
        rows.append((str(n), t.phase, track_name(t), *level, Path(t.path).name, clock(t.start_s),
                     clock(t.end_s), t.start_wall, t.end_wall or "–", clock(played_s(t)),
                     t.ending or "–"))
    return Table("Tracks", headers, rows,
                 ["fault" if t.ending == "failed" else "" for t in session.tracks],
                 empty="No track played.", free=FREE)


def track_name(track: TrackRow) -> str:
    """Its title, marked when it came round again or was put next by a facilitator."""
    queued = f" (queued by {track.queued_by})" if track.queued_by else " (queued)"
    return track.title + (" (again)" if track.repeat else "") + (queued if track.queued else "")


def played_s(track: TrackRow) -> float | None:
    return None if track.end_s is None or track.start_s is None else track.end_s - track.start_s


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
        *steering.totals(session.room),
    ]

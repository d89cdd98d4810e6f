"""The participant-safe export (``report --tracks-only``): what played and when, nothing clinical.

A participant may ask for the music of their session. This is a list a clinic can hand over as it
is: each track's title, the phase it played in, when it began (session time and clock) and how
long it played. It is built from the tracks' titles and times alone and never from the rest of
the log, so nothing else the log holds can reach it: no session title (clinicians write it), no
notes, cues, dose or booster, warnings, facilitators' names, intensity changes or bans, and no
file paths, which may name people. A track that could not be played is left out: it never
sounded, and its failure is a fault for the clinical report.
"""

from __future__ import annotations

import re
from datetime import datetime
from html import escape

from soundscape.report.html import html_facts, html_page, html_table
from soundscape.report.markdown import md, md_table
from soundscape.report.summary import Session, TrackRow, summarize
from soundscape.report.tables import Table, played_s
from soundscape.report.values import clock, wall_date

_CLOCK = re.compile(r"\d\d:\d\d:\d\d\Z")  # a stamp that did not parse is shown as "–"
TITLE = "Music of the session"
INTRO = ("This lists the music that played in the session: each track's title, the part of the "
         "session it played in, when it began and how long it played. It holds nothing else from "
         "the session's record.")


def _table(session: Session) -> Table:
    played = [t for t in session.tracks if t.ending != "failed"]
    return Table("Tracks", ("#", "Phase", "Track", "Start", "Start (clock)", "Played"),
                 [_row(n, t) for n, t in enumerate(played, 1)],
                 empty="No track played.", free=frozenset({"Phase", "Track"}))


def _row(number: int, track: TrackRow) -> tuple[str, ...]:
    title = (track.title or "(untitled)") + (" (again)" if track.repeat else "")
    wall = track.start_wall if _CLOCK.match(track.start_wall) else "–"
    return (str(number), track.phase or "–", title, clock(track.start_s), wall,
            clock(played_s(track)))


def _facts(session: Session) -> list[tuple[str, str]]:
    """The date, when the log's stamp is one (the report's readers show an odd one as written)."""
    try:
        datetime.fromisoformat(session.started_wall)
    except ValueError:
        return []
    return [("Date", wall_date(session.started_wall))]


def render_tracks_html(entries: list[dict], *, torn: bool = False) -> str:
    """The tracks of a session as one standalone HTML page, for a participant."""
    session = summarize(entries, torn=torn)
    facts = _facts(session)
    body = [f"<header><h1>{TITLE}</h1><p>{escape(INTRO)}</p>"
            f"{html_facts(facts) if facts else ''}</header>",
            f"<section><h2>Tracks</h2>{html_table(_table(session))}</section>"]
    return html_page(TITLE, body)


def render_tracks_markdown(entries: list[dict], *, torn: bool = False) -> str:
    """The same list as Markdown."""
    session = summarize(entries, torn=torn)
    lines = [f"# {TITLE}", "", INTRO, ""]
    lines += [f"- **{k}:** {md(v)}" for k, v in _facts(session)]
    lines += ["", "## Tracks", "", *md_table(_table(session))]
    return "\n".join(lines) + "\n"

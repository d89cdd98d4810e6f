"""The report as one HTML page: inline CSS and SVG, no scripts, nothing fetched, all escaped."""

from __future__ import annotations

from html import escape

from soundscape.report.style import STYLE
from soundscape.report.summary import summarize
from soundscape.report.svg import timeline_svg
from soundscape.report.tables import Table, facts, tables, totals

# A table of this many columns or more does not fit a phone's width: there its rows become cards.
CARD_COLUMNS = 4


def html_table(table: Table) -> str:
    """A table whose every cell also carries its column name, shown before it on a phone."""
    if not table.rows:
        return f"<p>{escape(table.empty)}</p>"
    kinds = [' class="free"' if h in table.free else "" for h in table.headers]
    head = "".join(f'<th scope="col">{escape(h)}</th>' for h in table.headers)
    cells_of = [f'<td{k} data-label="{escape(h)}">' for h, k in zip(table.headers, kinds)]
    body = []
    for i, row in enumerate(table.rows):
        css = table.classes[i] if i < len(table.classes) and table.classes[i] else ""
        cells = "".join(f"{cells_of[n] if n < len(cells_of) else '<td>'}{escape(c)}</td>"
                        for n, c in enumerate(row))
        body.append(f'<tr class="{css}">{cells}</tr>' if css else f"<tr>{cells}</tr>")
    layout = ' class="cards"' if len(table.headers) >= CARD_COLUMNS else ""
    return (f"<table{layout}><thead><tr>{head}</tr></thead>"
            f"<tbody>{''.join(body)}</tbody></table>")


def html_facts(pairs: list[tuple[str, str]]) -> str:
    items = "".join(f"<dt>{escape(k)}</dt><dd>{escape(v or '–')}</dd>" for k, v in pairs)
    return f'<dl class="facts">{items}</dl>'


def render_html(entries: list[dict], *, torn: bool = False, live: bool = False) -> str:
    """The report as one HTML page: inline CSS and SVG, no scripts, nothing fetched.

    The web layer can call this with ``engine.log_entries()`` and ``live=True`` for a session
    that is still running.
    """
    session = summarize(entries, torn=torn, live=live)
    phases, tracks, room, actions, warnings, events = tables(session)
    note = f'<p class="note" role="status">{escape(session.note)}</p>' if session.note else ""
    body = [
        f"<header><h1>{escape(session.title)}</h1>{html_facts(facts(session))}</header>", note,
        # the picture scrolls inside its own box on a phone, never the page
        ('<section><h2>Timeline</h2><div class="figure" role="region" tabindex="0" '
         'aria-label="Timeline picture">'),
        timeline_svg(session.phases, session.planned_total_s, session.room),
        "</div>",
        html_table(phases), "</section>",
        *(f"<section><h2>{escape(t.title)}</h2>{html_table(t)}</section>"
          for t in (tracks, room, actions, warnings)),
        f"<section><h2>Totals</h2>{html_facts(totals(session))}</section>",
        f"<section><h2>{escape(events.title)}</h2>{html_table(events)}</section>",
    ]
    return html_page(f"Session report: {session.title}", body)


def html_page(title: str, body: list[str]) -> str:
    """A standalone page: dark on screen whatever the device's setting (the style says so),
    light in print."""
    return ('<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            '<meta name="color-scheme" content="dark light">'
            f"<title>{escape(title)}</title><style>{STYLE}</style></head>"
            f"<body><main>{''.join(body)}</main></body></html>\n")


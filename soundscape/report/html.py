"""The report as one HTML page: inline CSS and SVG, no scripts, nothing fetched, all escaped."""

from __future__ import annotations

from html import escape

from soundscape.report.summary import summarize
from soundscape.report.svg import timeline_svg
from soundscape.report.tables import Table, facts, tables, totals


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


# Dark on screen like the control page; light in print.
STYLE = """
/* dark on screen whatever the device's setting (it may be opened in the session room); light in print */
:root { color-scheme: dark; --fg: #d9d9d6; --bg: #111213; --muted: #a4a7ab;
  --line: #3b3d40; --warn-bg: #3d3112; --warn-fg: #ffd98a; --bad-bg: #44201c; --bad-fg: #ffb4a8; }
body { font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
  color: var(--fg); background: var(--bg); margin: 0; }
main { max-width: 62rem; margin: 0 auto; padding: 1.5rem 1rem 3rem; }
h1 { font-size: 1.6rem; margin: 0 0 .5rem; } h2 { font-size: 1.15rem; margin: 2rem 0 .5rem; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: .15rem 1rem; margin: 0; }
dl.facts dt { color: var(--muted); } dl.facts dd { margin: 0; overflow-wrap: anywhere; }
table { border-collapse: collapse; width: 100%; font-size: .9rem; }
th, td { text-align: left; padding: .3rem .5rem; border-bottom: 1px solid var(--line); vertical-align: top; }
th { color: var(--muted); font-weight: 600; } td.num, th.num { text-align: right; white-space: nowrap; }
td.path { color: var(--muted); overflow-wrap: anywhere; font-size: .8rem; }
tr.warning td, li.warning { background: var(--warn-bg); color: var(--warn-fg); }
tr.fault td, tr.refused td { background: var(--bad-bg); color: var(--bad-fg); }
.note { padding: .6rem .8rem; border-left: 4px solid var(--bad-fg); background: var(--bad-bg);
  color: var(--bad-fg); font-weight: 600; }
ul.warnings { padding: 0; list-style: none; } ul.warnings li { padding: .3rem .6rem; margin: .2rem 0; }
svg.timeline { display: block; margin: .5rem 0; }
svg.timeline text { font: 12px system-ui, sans-serif; fill: var(--fg); }
svg.timeline text.label { fill: #fff; font-weight: 600; } svg.timeline text.tick { text-anchor: middle; }
svg.timeline rect.planned { fill-opacity: .35; }
svg.timeline rect.planned + text.label { fill: var(--fg); }
svg.timeline rect.rest { fill: none; stroke: var(--muted); stroke-dasharray: 4 3; }
svg.timeline text.rest { fill: var(--muted); font-style: italic; }
svg.timeline line.axis { stroke: var(--muted); }
@media print { :root { --fg: #000; --bg: #fff; --muted: #444; --line: #bbb; --warn-bg: #fff4d6;
  --warn-fg: #000; --bad-bg: #fde3e1; --bad-fg: #000; color-scheme: light; }
  body { font-size: 10.5pt; } main { max-width: none; padding: 0; }
  h2 { break-after: avoid; } tr, li, svg { break-inside: avoid; }
  * { -webkit-print-color-adjust: exact; print-color-adjust: exact; } }
"""

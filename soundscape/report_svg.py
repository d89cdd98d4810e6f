"""The HTML report's visual pieces: the planned-vs-played timeline picture and the stylesheet.

Both are inline (an SVG element and a style block) so a report is one file that opens anywhere,
prints, and never fetches anything. Every label comes from the log and is escaped here.
"""

from __future__ import annotations

from html import escape

WIDTH = 900
GUTTER = 80  # room for the row names on the left
ROW_H = 34
TOP = 8
CHAR_W = 7.0  # rough width of one 12px system-font character, to shorten labels that do not fit
STEPS_MIN = (0.25, 0.5, 1, 2, 5, 10, 15, 20, 30, 60)
COLOURS = ("#4e79a7", "#59a14f", "#b07aa1", "#f28e2b", "#76b7b2", "#edc948", "#e15759", "#9c755f")


def axis_step_min(total_min: float) -> float:
    """The smallest tick step (minutes) that keeps the axis to ten ticks or fewer."""
    return next((s for s in STEPS_MIN if total_min / s <= 10), 60 * (int(total_min // 600) + 1))


def _fit(label: str, width_px: float) -> str:
    room = int((width_px - 8) // CHAR_W)
    if room >= len(label):
        return label
    return "" if room < 2 else label[: room - 1] + "…"


def timeline_svg(phases, planned_total_s: float | None) -> str:
    """Two rows of bars, one bar per phase in each: as planned (planned_s) and as played."""
    ends = [x for p in phases for x in (p.planned_end_s, p.end_s, p.start_s, p.planned_start_s)
            if x is not None] + [planned_total_s or 0.0]
    span_s = max(ends + [1.0])
    scale = (WIDTH - GUTTER - 10) / span_s
    height = TOP + 2 * ROW_H + 40
    out = [f'<svg class="timeline" viewBox="0 0 {WIDTH} {height}" width="100%" role="img" '
           f'aria-label="Phases as planned and as played">']
    rows = (("planned", "Planned", lambda p: (p.planned_start_s, p.planned_length_s)),
            ("played", "Played", lambda p: (p.start_s, p.length_s)))
    for row, (kind, name, span) in enumerate(rows):
        y = TOP + row * ROW_H
        out.append(f'<text class="row" x="0" y="{y + 20}">{name}</text>')
        for index, phase in enumerate(phases):
            start, length = span(phase)
            if start is None or length is None:
                continue
            x, w = GUTTER + start * scale, max(length * scale, 1.0)
            label = escape(phase.name)
            colour = COLOURS[index % len(COLOURS)]
            out.append(f'<g><title>{label}: {name.lower()} {_mins(start)}–{_mins(start + length)} min'
                       f'</title><rect class="bar {kind}" x="{x:.1f}" y="{y + 4}" width="{w:.1f}" '
                       f'height="{ROW_H - 8}" fill="{colour}"/>'
                       f'<text class="label" x="{x + 4:.1f}" y="{y + 22}">{escape(_fit(phase.name, w))}'
                       f'</text></g>')
    planned_ends = [p.planned_end_s or p.planned_start_s or 0.0 for p in phases]
    rest_from = max(planned_ends, default=0.0)
    if planned_total_s is not None and planned_total_s - rest_from > 0.5:
        x, w = GUTTER + rest_from * scale, (planned_total_s - rest_from) * scale
        out.append(f'<g><title>the rest of the plan, not reached</title><rect class="rest" '
                   f'x="{x:.1f}" y="{TOP + 4}" width="{w:.1f}" height="{ROW_H - 8}"/>'
                   f'<text class="rest" x="{x + 4:.1f}" y="{TOP + 22}">'
                   f'{escape(_fit("rest of the plan", w))}</text></g>')
    axis_y = TOP + 2 * ROW_H + 4
    out.append(f'<line class="axis" x1="{GUTTER}" y1="{axis_y}" x2="{WIDTH - 10}" y2="{axis_y}"/>')
    step = axis_step_min(span_s / 60)
    tick = 0.0
    while tick * 60 <= span_s + 1e-9:
        x = GUTTER + tick * 60 * scale
        out.append(f'<line class="axis" x1="{x:.1f}" y1="{axis_y}" x2="{x:.1f}" y2="{axis_y + 5}"/>'
                   f'<text class="tick" x="{x:.1f}" y="{axis_y + 18}">{tick:g}</text>')
        tick += step
    out.append(f'<text class="unit" x="{GUTTER}" y="{axis_y + 34}">minutes</text>')
    out.append("</svg>")
    return "".join(out)


def _mins(seconds: float) -> str:
    return f"{seconds / 60:.1f}"


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

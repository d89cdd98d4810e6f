"""The HTML report's timeline picture: phases as planned and as played, as an inline SVG.

Inline, so a report is one file that opens anywhere, prints, and never fetches anything. Every
label comes from the log and is escaped here.
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

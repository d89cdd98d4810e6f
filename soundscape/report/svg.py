"""The HTML report's timeline picture: phases as planned and as played, as an inline SVG.

Inline, so a report is one file that opens anywhere, prints, and never fetches anything. Every
label comes from the log and is escaped here.

When the room steered the session, a third row marks each cue, note, intensity change, play next
and ban at its time, a shape per kind (explained by a legend under the axis, so it reads on
paper), with the whole line as the mark's tooltip. The words stay in the table under the picture:
a mark carries no text, so a busy half hour cannot pile labels over each other.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from soundscape.report.steering import MARKS, Happening
from soundscape.report.values import clock

WIDTH = 900
GUTTER = 80  # room for the row names on the left
ROW_H = 34
TOP = 8
CHAR_W = 7.0  # rough width of one 12px system-font character, to shorten labels that do not fit
STEPS_MIN = (0.25, 0.5, 1, 2, 5, 10, 15, 20, 30, 60)
COLOURS = ("#4e79a7", "#59a14f", "#b07aa1", "#f28e2b", "#76b7b2", "#edc948", "#e15759", "#9c755f")
MARK_R = 4.5  # half a mark's size
# a mark's centre below the room row's top: level with its name, then above, then below for marks
# closer than a mark's width (more than three at once overlap)
LANES = (17, 8, 26)


def axis_step_min(total_min: float) -> float:
    """The smallest tick step (minutes) that keeps the axis to ten ticks or fewer."""
    return next((s for s in STEPS_MIN if total_min / s <= 10), 60 * (int(total_min // 600) + 1))


def _fit(label: str, width_px: float) -> str:
    room = int((width_px - 8) // CHAR_W)
    if room >= len(label):
        return label
    return "" if room < 2 else label[: room - 1] + "…"


def shape(kind: str, x: float, y: float, r: float = MARK_R) -> str:
    """A mark centred on (x, y): triangles up and down for deeper and softer, one pointing on
    for play next, a cross for a ban, a dot for a note, a diamond for a cue (hollow: missed)."""
    if kind == "note":
        return f'<circle class="mark note" cx="{x:.1f}" cy="{y:.1f}" r="{r - 0.5:.1f}"/>'
    left, right, top, bottom = (f"{x - r:.1f}", f"{x + r:.1f}", f"{y - r:.1f}", f"{y + r:.1f}")
    mid_x, mid_y = f"{x:.1f}", f"{y:.1f}"
    path = {"deeper": f"M{mid_x} {top}L{right} {bottom}H{left}Z",
            "softer": f"M{left} {top}H{right}L{mid_x} {bottom}Z",
            "next": f"M{left} {top}L{right} {mid_y}L{left} {bottom}Z",
            "ban": f"M{left} {top}L{right} {bottom}M{right} {top}L{left} {bottom}",
            }.get(kind, f"M{mid_x} {top}L{right} {mid_y}L{mid_x} {bottom}L{left} {mid_y}Z")
    return f'<path class="mark {kind}" d="{path}"/>'


def _room_row(marks: Sequence[Happening], y: float, scale: float) -> list[str]:
    """Each mark at its time; one that would cover the one before it takes another lane."""
    out = [f'<text class="row" x="0" y="{y + 20}">Room</text>']
    last = [float("-inf")] * len(LANES)  # each lane's latest mark
    for m in marks:
        x = GUTTER + m.session_s * scale
        lane = next((i for i, before in enumerate(last) if x - before >= 2 * MARK_R + 1),
                    min(range(len(LANES)), key=lambda i: last[i]))
        last[lane] = x
        who = f" ({m.by})" if m.by and m.by != "–" else ""
        out.append(f'<g><title>{escape(clock(m.session_s))} {escape(m.what)}{escape(who)}</title>'
                   f'{shape(m.mark, x, y + LANES[lane])}</g>')
    return out


def _legend(kinds: set[str], y: float) -> list[str]:
    out, x = [], GUTTER + 80.0
    for kind, words in MARKS.items():
        if kind in kinds:
            out.append(f'{shape(kind, x + 5, y - 4)}<text class="legend" x="{x + 14:.1f}" '
                       f'y="{y}">{words}</text>')
            x += 14 + len(words) * CHAR_W + 16
    return out


def timeline_svg(phases, planned_total_s: float | None,
                 room: Sequence[Happening] = ()) -> str:
    """Two rows of bars, one bar per phase in each: as planned (planned_s) and as played; and
    under them, when the room steered the session, a row of its marks."""
    marks = [m for m in room if m.mark in MARKS and m.session_s is not None and m.session_s >= 0]
    ends = [x for p in phases for x in (p.planned_end_s, p.end_s, p.start_s, p.planned_start_s)
            if x is not None] + [planned_total_s or 0.0] + [m.session_s for m in marks]
    span_s = max(ends + [1.0])
    scale = (WIDTH - GUTTER - 10) / span_s
    count = 3 if marks else 2
    height = TOP + count * ROW_H + 40
    label = "Phases as planned and as played" + (", and what the room did" if marks else "")
    out = [f'<svg class="timeline" viewBox="0 0 {WIDTH} {height}" width="100%" role="img" '
           f'aria-label="{label}">']
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
    if marks:
        out += _room_row(marks, TOP + 2 * ROW_H, scale)
    axis_y = TOP + count * ROW_H + 4
    out.append(f'<line class="axis" x1="{GUTTER}" y1="{axis_y}" x2="{WIDTH - 10}" y2="{axis_y}"/>')
    step = axis_step_min(span_s / 60)
    tick = 0.0
    while tick * 60 <= span_s + 1e-9:
        x = GUTTER + tick * 60 * scale
        out.append(f'<line class="axis" x1="{x:.1f}" y1="{axis_y}" x2="{x:.1f}" y2="{axis_y + 5}"/>'
                   f'<text class="tick" x="{x:.1f}" y="{axis_y + 18}">{tick:g}</text>')
        tick += step
    out.append(f'<text class="unit" x="{GUTTER}" y="{axis_y + 34}">minutes</text>')
    out += _legend({m.mark for m in marks}, axis_y + 34)
    out.append("</svg>")
    return "".join(out)


def _mins(seconds: float) -> str:
    return f"{seconds / 60:.1f}"

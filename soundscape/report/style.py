"""The HTML report's one stylesheet: dark like the control page on screen, a plain page in print.

It sits in the report's single ``<style>`` block, which the live ``/report`` admits by its hash
(soundscape/web/report.py), so every rule lives here: no ``style=""`` attribute anywhere.

On screen the report may be opened on a facilitator's phone in the darkened session room, so it
is black with dim grey text in the control page's colours (soundscape/web/static/app.css)
whatever the device's light or dark setting, and every text meets WCAG AA (4.5:1) on what it sits
on: body #9a9a9a on #000 is 7.5:1, labels #808080 5.3:1, warnings #b39255 on #120f08 6.5:1,
faults #c8806f on #1c0806 6.2:1, bar names #b8b8b8 on the dimmed bars at least 5.2:1; the lines
#6b6b6b are 3.9:1. The timeline's marks of what the room did are #b8b8b8 (10.6:1), a cue never
acknowledged a hollow #b39255 (7.2:1); in print both are black.

Below 40rem (a phone) each row of a table too wide for it becomes a card whose cells carry their
column's name (the ``data-label`` the renderer writes) and the narrow tables stay tables; text
from the log breaks anywhere while times and counts never break; the timeline picture scrolls
sideways inside its own box. So the page itself never scrolls sideways. Print is black on white
with ordinary tables.
"""

STYLE = """
/* the control page's palette (soundscape/web/static/app.css) */
:root { color-scheme: dark; --bg: #000; --fg: #9a9a9a; --strong: #b8b8b8; --muted: #808080;
  --line: #6b6b6b; --warn-bg: #120f08; --warn-fg: #b39255; --bad-bg: #1c0806; --bad-fg: #c8806f;
  --label: #b8b8b8; --bar-opacity: .32; --planned-opacity: .16; }
html { background: var(--bg); -webkit-text-size-adjust: 100%; text-size-adjust: 100%; }
body { font: 15px/1.5 -apple-system, system-ui, "Segoe UI", Roboto, "Helvetica Neue", Arial,
  sans-serif; color: var(--fg); background: var(--bg); margin: 0; }
main { max-width: 62rem; margin: 0 auto; padding: 1.25rem max(.9rem, env(safe-area-inset-right))
  3rem max(.9rem, env(safe-area-inset-left)); }
h1, h2 { color: var(--strong); font-weight: 500; }
h1 { font-size: 1.5rem; line-height: 1.25; margin: 0 0 .6rem; }
h2 { font-size: 1.15rem; margin: 2rem 0 .5rem; }
h1, h2, dd, td.free, .note { overflow-wrap: anywhere; }
dl.facts { display: grid; grid-template-columns: max-content minmax(0, 1fr); gap: .15rem 1rem;
  margin: 0; }
dl.facts dt { color: var(--muted); } dl.facts dd { margin: 0; }
table { border-collapse: collapse; width: 100%; font-size: .9rem; }
th, td { text-align: left; padding: .3rem .5rem; border-bottom: 1px solid var(--line);
  vertical-align: top; }
th { color: var(--muted); font-weight: 600; border-bottom-color: var(--muted); }
td { overflow-wrap: break-word; font-variant-numeric: tabular-nums; }
tr.warning, tr.warning td { background: var(--warn-bg); color: var(--warn-fg); }
tr.fault, tr.fault td, tr.refused, tr.refused td { background: var(--bad-bg);
  color: var(--bad-fg); }
.note { padding: .6rem .8rem; border-left: 4px solid var(--bad-fg); background: var(--bad-bg);
  color: var(--bad-fg); font-weight: 600; }
.figure { max-width: 100%; overflow-x: auto; margin: .5rem 0; }
svg.timeline { display: block; }
svg.timeline text { font: 12px system-ui, sans-serif; fill: var(--fg); }
svg.timeline text.label { fill: var(--label); font-weight: 600; }
svg.timeline text.tick { text-anchor: middle; }
svg.timeline rect.bar { fill-opacity: var(--bar-opacity); }
svg.timeline rect.planned { fill-opacity: var(--planned-opacity); }
svg.timeline rect.rest { fill: none; stroke: var(--muted); stroke-dasharray: 4 3; }
svg.timeline text.rest { fill: var(--muted); font-style: italic; }
svg.timeline line.axis { stroke: var(--muted); }
/* what the room did: shapes, never text, so marks close together stay legible */
svg.timeline .mark { fill: var(--strong); stroke: var(--strong); stroke-width: 1; }
svg.timeline .mark.ban { fill: none; stroke-width: 2; }
svg.timeline .mark.missed { fill: none; stroke: var(--warn-fg); stroke-width: 1.5; }
/* a phone: a wide table's rows as cards, each value after its column's name */
@media screen and (max-width: 40rem) {
  body { font-size: 16px; }
  table.cards, .cards tbody, .cards tr, .cards td { display: block; width: auto; }
  .cards thead { position: absolute; width: 1px; height: 1px; overflow: hidden;
    clip-path: inset(50%); }
  .cards tr { border: 1px solid var(--line); border-radius: 8px; margin: .5rem 0;
    padding: .35rem .7rem; }
  .cards td { display: grid; grid-template-columns: 7.5rem minmax(0, 1fr); gap: .75rem;
    border: 0; padding: .1rem 0; }
  .cards td::before { content: attr(data-label); color: var(--muted); }
  .cards tr.warning td::before, .cards tr.fault td::before,
  .cards tr.refused td::before { color: inherit; }
  svg.timeline { min-width: 44rem; }
}
@media print {
  :root { color-scheme: light; --bg: #fff; --fg: #000; --strong: #000; --muted: #444;
    --line: #bbb; --warn-bg: #fff4d6; --warn-fg: #000; --bad-bg: #fde3e1; --bad-fg: #000;
    --label: #000; --bar-opacity: 1; --planned-opacity: .45; }
  body { font-size: 10.5pt; } main { max-width: none; padding: 0; }
  h1, h2 { font-weight: 600; } h2 { break-after: avoid; } tr, svg { break-inside: avoid; }
  .figure { overflow: visible; }
  * { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
}
"""

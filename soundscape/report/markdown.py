"""The report as Markdown tables (the timeline as planned vs played starts and lengths)."""

from __future__ import annotations

from soundscape.report.summary import summarize
from soundscape.report.tables import Table, facts, tables, totals

_MD_SPECIAL = str.maketrans({c: "\\" + c for c in "\\|<>`[]*"})


def md(value: str) -> str:
    """Cell text that cannot break a table or smuggle HTML into a rendered page."""
    return " ".join(value.split()).translate(_MD_SPECIAL) or "–"


def md_table(table: Table) -> list[str]:
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
        lines += ["", f"## {table.title}", "", *md_table(table)]
        if table.title == "Warnings and faults":
            lines += ["", "## Totals", ""] + [f"- **{k}:** {md(v)}" for k, v in totals(session)]
    return "\n".join(lines) + "\n"

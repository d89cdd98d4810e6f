"""``soundscape report``: a session log becomes a readable, printable, self-contained record.

The fixture tests/data/session-recorded.jsonl is a real 77-second session played by the engine on
PulseAudio (recorded with tests/data/record_session.py, temporary paths rewritten to /music): three
phases, Peak extended by half a minute, a broken file that fails each time it comes round, and
commands from three facilitators, one of them refused.
"""

from __future__ import annotations

import json
import re
from html import unescape
from html.parser import HTMLParser
from pathlib import Path

import pytest

from soundscape.cli.main import main
from soundscape.engine.sessionlog import read_log
from soundscape.report import ABRUPT_NOTE, RUNNING_NOTE, render_html, render_markdown
from soundscape.report.svg import COLOURS

RECORDED = Path(__file__).parent / "data" / "session-recorded.jsonl"
VOID = {"meta", "link", "br", "hr", "img", "input"}


class Page(HTMLParser):
    """What a reader sees: each section's table rows as cell texts, the SVG bars, every tag."""

    def __init__(self, html: str):
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.errors: list[str] = []
        self.tags: list[tuple[str, dict]] = []
        self.tables: dict[str, list[list[str]]] = {}
        self.heading = ""
        self._text: list[str] | None = None
        self._row: list[str] | None = None
        self.text: list[str] = []
        self.feed(html)
        self.close()
        if self.stack:
            self.errors.append(f"unclosed: {self.stack}")

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        if tag not in VOID:
            self.stack.append(tag)
        if tag in ("h2", "td", "th"):
            self._text = []
        elif tag == "tr":
            self._row = []

    def handle_startendtag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_endtag(self, tag):
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes {self.stack[-1:] or 'nothing'}")
            return
        self.stack.pop()
        if tag == "h2":
            self.heading = "".join(self._text)
        elif tag in ("td", "th") and self._row is not None:
            self._row.append("".join(self._text))
        elif tag == "tr":
            self.tables.setdefault(self.heading, []).append(self._row)
            self._row = None

    def handle_data(self, data):
        self.text.append(data)
        if self._text is not None:
            self._text.append(data)

    def bars(self, kind: str) -> list[dict]:
        return [a for t, a in self.tags if t == "rect" and a.get("class") == f"bar {kind}"]


@pytest.fixture
def recorded_html(tmp_path) -> str:
    assert main(["report", str(RECORDED), "-o", str(tmp_path / "report.html")]) == 0
    return (tmp_path / "report.html").read_text(encoding="utf-8")


def test_the_html_is_well_formed_and_self_contained(recorded_html):
    page = Page(recorded_html)
    assert page.errors == []
    assert recorded_html.startswith("<!DOCTYPE html>")
    assert "http://" not in recorded_html and "https://" not in recorded_html
    assert not [t for t, a in page.tags if t in ("script", "link", "img", "iframe")]
    assert not [a for _, a in page.tags if "src" in a or "href" in a]
    assert "@media print" in recorded_html


def contrast(a: str, b: str) -> float:
    """The WCAG 2 contrast ratio of two #rgb / #rrggbb colours."""
    def luminance(colour: str) -> float:
        digits = colour.lstrip("#")
        digits = "".join(c * 2 for c in digits) if len(digits) == 3 else digits
        rgb = [int(digits[i:i + 2], 16) / 255 for i in (0, 2, 4)]
        r, g, b = (c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in rgb)
        return 0.2126 * r + 0.7152 * g + 0.0722 * b
    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def over(colour: str, opacity: float, background: str) -> str:
    """``colour`` drawn at ``opacity`` over ``background``, as #rrggbb."""
    c, g = (colour.lstrip("#"), background.lstrip("#"))
    g = "".join(x * 2 for x in g) if len(g) == 3 else g
    mixed = (int(c[i:i + 2], 16) * opacity + int(g[i:i + 2], 16) * (1 - opacity) for i in (0, 2, 4))
    return "#" + "".join(f"{round(x):02x}" for x in mixed)


def themes(html: str) -> tuple[str, dict[str, str], dict[str, str]]:
    """The report's one style block, and its colours on screen (the default) and in print."""
    [style] = re.findall(r"<style>(.*?)</style>", html, re.S)
    screen = re.search(r"^:root \{(.*?)\}", style, re.M | re.S)  # print's is indented
    printed = re.search(r"@media print \{\s*:root \{(.*?)\}", style, re.S)
    assert screen and printed, "the dark default and the print theme are both set on :root"
    props = [dict(re.findall(r"(--[\w-]+|color-scheme):\s*([^;]+?)\s*(?:;|$)", block.group(1)))
             for block in (screen, printed)]
    return style, props[0], props[1]


def test_dark_on_screen_like_the_control_page_and_light_in_print(recorded_html):
    style, screen, printed = themes(recorded_html)
    assert screen["color-scheme"] == "dark" and screen["--bg"] == "#000"
    assert printed["color-scheme"] == "light" and printed["--bg"] == "#fff"
    assert printed["--fg"] == "#000"
    assert "@media (prefers-color-scheme" not in style  # dark whatever the phone's setting
    assert '<meta name="color-scheme" content="dark light">' in recorded_html
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in recorded_html
    for theme in (screen, printed):
        for fg, bg in (("--fg", "--bg"), ("--strong", "--bg"), ("--muted", "--bg"),
                       ("--warn-fg", "--warn-bg"), ("--bad-fg", "--bad-bg")):
            assert contrast(theme[fg], theme[bg]) >= 4.5, (fg, bg, theme)
        for opacity in ("--bar-opacity", "--planned-opacity"):  # the names on the bars
            for colour in COLOURS:
                bar = over(colour, float(theme[opacity]), theme["--bg"])
                assert contrast(theme["--label"], bar) >= 4.5, (colour, opacity, theme)
    # the lines between rows and round cards show on black (WCAG's 3:1 for graphics)
    assert contrast(screen["--line"], screen["--bg"]) >= 3
    assert contrast(screen["--fg"], screen["--bg"]) == pytest.approx(7.46, abs=0.01)


def test_on_a_phone_wide_tables_become_cards_labelled_by_their_columns(recorded_html):
    """The CSP admits style blocks only, so the phone layout is CSS over data-label attributes."""
    page = Page(recorded_html)
    assert not [a for _, a in page.tags if "style" in a]
    style = themes(recorded_html)[0]
    assert "@media screen and (max-width: 40rem)" in style
    assert ".cards td::before { content: attr(data-label);" in style
    tables = re.findall(r"<table([^>]*)>(.*?)</table>", recorded_html, re.S)
    assert len(tables) == 5
    for attrs, table in tables:
        headers = [unescape(h) for h in re.findall(r"<th(?: [^>]*)?>(.*?)</th>", table)]
        assert (attrs == ' class="cards"') == (len(headers) >= 4), headers
        for row in re.findall(r"<tr[^>]*>(.*?)</tr>", table.split("<tbody>")[1]):
            cells = re.findall(r"<td([^>]*)>", row)
            labels = [re.search(r'data-label="([^"]*)"', c) for c in cells]
            assert [unescape(label.group(1)) for label in labels if label] == headers
            free = [h for h, c in zip(headers, cells) if 'class="free"' in c]
            assert free == [h for h in headers if h in ("Phase", "Track", "File", "By", "Action",
                                                         "Result", "Message", "Event", "What",
                                                         "Playing")]

def test_the_header_says_what_session_this_was(recorded_html):
    page = Page(recorded_html)
    text = "".join(page.text)
    assert "Recorded <test> & session" in text  # shown as written...
    assert "Recorded <test>" not in recorded_html  # ...because it was escaped
    for fact in ("Thursday 26 November 2026, 22:55 (UTC+00:00)", "/music/session.yaml", "pulse"):
        assert fact in text


def test_the_timeline_has_one_bar_per_phase_in_each_row(recorded_html):
    page = Page(recorded_html)
    planned, played = page.bars("planned"), page.bars("played")
    assert len(planned) == len(played) == 3
    widths = {kind: [float(b["width"]) for b in bars]
              for kind, bars in (("planned", planned), ("played", played))}
    # Peak was planned at 20 s and played for 50 s (extended by half a minute).
    assert widths["played"][1] == pytest.approx(widths["planned"][1] * 50 / 20, rel=0.01)
    assert widths["played"][0] == pytest.approx(widths["planned"][0], rel=0.01)
    assert [t for t, a in page.tags if t == "text" and a.get("class") == "tick"]  # a minute axis
    assert page.tables["Timeline"] == [
        ["Phase", "Planned start", "Planned length", "Start", "Length", "Difference"],
        ["Arrival", "0:00", "0:15", "0:00", "0:15", "on time"],
        ["Peak", "0:15", "0:20", "0:15", "0:50", "+0:30"],
        ["Return", "0:35", "0:12", "1:05", "0:12", "on time"],
    ]


def test_every_track_appears_with_its_times_and_how_it_ended(recorded_html):
    rows = Page(recorded_html).tables["Tracks"]
    assert rows[0] == ["#", "Phase", "Track", "File", "Start", "End", "Start (clock)",
                       "End (clock)", "Played", "How it ended"]
    assert rows[1:4] == [
        ["1", "Arrival", "Open <sky> & sea", "tone-440.wav", "0:00", "0:09", "22:55:51", "22:56:00",
         "0:09", "skipped"],
        ["2", "Arrival", "tone-550", "tone-550.wav", "0:09", "0:15", "22:56:00", "22:56:06", "0:06",
         "phase ended"],
        ["3", "Peak", "broken", "broken.wav", "0:15", "0:16", "22:56:06", "22:56:07", "0:01",
         "failed"],
    ]
    assert rows[-1] == ["15", "Return", "tone-550 (again)", "tone-550.wav", "1:12", "1:17",
                        "22:57:03", "22:57:08", "0:05", "session ended"]
    starts = [e for e in read_log(RECORDED) if e["event"] == "track_start"]
    assert len(rows) - 1 == len(starts)
    assert [r[2].removesuffix(" (again)") for r in rows[1:]] == [e["title"] for e in starts]
    assert {r[-1] for r in rows[1:]} == {"skipped", "phase ended", "failed", "crossfade",
                                         "session ended"}


def test_failed_tracks_and_warnings_are_highlighted(recorded_html):
    page = Page(recorded_html)
    faults = [a for t, a in page.tags if t == "tr" and a.get("class") == "fault"]
    assert len(faults) == 4  # broken.wav, each time it came round
    assert page.tables["Warnings and faults"][1:] == [
        ["0:16", "22:56:07", "broken.wav ended far too early (corrupt?); skipped"],
        ["0:30", "22:56:22", "broken.wav ended far too early (corrupt?); skipped"],
        ["0:45", "22:56:36", "broken.wav ended far too early (corrupt?); skipped"],
        ["0:59", "22:56:51", "broken.wav ended far too early (corrupt?); skipped"],
    ]
    assert len([a for t, a in page.tags if t == "tr" and a.get("class") == "warning"]) == 8


def test_every_facilitator_action_with_who_when_and_the_result(recorded_html):
    page = Page(recorded_html)
    assert page.tables["Facilitator actions"] == [
        ["Session time", "Wall clock", "By", "Action", "Result"],
        ["0:00", "22:55:51", "Ana", "start", "done"],
        ["0:04", "22:55:55", "Ben", "pause", "done"],
        ["0:06", "22:55:57", "Ana", "resume", "done"],
        ["0:07", "22:55:58", "Ben", "resume", "refused: the music is not paused"],
        ["0:09", "22:56:00", "Ben", "skip", "done"],
        ["0:15", "22:56:06", "Ana", "set level 55%", "done"],
        ["0:17", "22:56:08", "Chloé", "hush", "done"],
        ["0:20", "22:56:11", "Chloé", "unhush", "done"],
        ["0:21", "22:56:12", "Ana", "extend 0.5 min", "done"],
    ]
    assert [a for t, a in page.tags if t == "tr" and a.get("class") == "refused"]


def test_totals_compare_planned_and_played_length(recorded_html):
    text = "".join(Page(recorded_html).text)
    for line in ("Planned length0:47", "Played length1:17", "Difference+0:30", "Endedcompleted",
                 "Tracks15 started, 1 skipped, 4 failed", "Facilitator actions9 (1 refused)",
                 "Warnings4"):
        assert line in text


def test_markdown_goes_to_stdout_with_the_same_content_as_tables(capsys):
    assert main(["report", str(RECORDED)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("# Recorded \\<test\\> & session\n")
    assert ("| Phase | Planned start | Planned length | Start | Length | Difference |\n"
            "|---|---|---|---|---|---|\n"
            "| Arrival | 0:00 | 0:15 | 0:00 | 0:15 | on time |\n"
            "| Peak | 0:15 | 0:20 | 0:15 | 0:50 | +0:30 |\n"
            "| Return | 0:35 | 0:12 | 1:05 | 0:12 | on time |\n") in out
    assert ("| 1 | Arrival | Open \\<sky\\> & sea | tone-440.wav | 0:00 | 0:09 | 22:55:51 | "
            "22:56:00 | 0:09 | skipped |\n") in out
    assert "| 0:07 | 22:55:58 | Ben | resume | refused: the music is not paused |\n" in out
    assert "| 0:16 | 22:56:07 | broken.wav ended far too early (corrupt?); skipped |\n" in out
    assert "- **Played length:** 1:17\n" in out
    assert "<" not in out.replace("\\<", "")  # nothing from the log can open an HTML tag


def test_markdown_file_by_extension(tmp_path):
    assert main(["report", str(RECORDED), "-o", str(tmp_path / "r.md")]) == 0
    assert (tmp_path / "r.md").read_text(encoding="utf-8").startswith("# Recorded")


def test_a_torn_last_line_still_renders_with_a_note(tmp_path, capsys):
    lines = RECORDED.read_text(encoding="utf-8").splitlines(keepends=True)
    torn = tmp_path / "crash.jsonl"
    torn.write_text("".join(lines[:30]) + lines[30][:25], encoding="utf-8")
    assert main(["report", str(torn), "-o", str(tmp_path / "crash.html")]) == 0
    page = Page((tmp_path / "crash.html").read_text(encoding="utf-8"))
    assert page.errors == []
    assert ABRUPT_NOTE == "the log ends abruptly (the session was interrupted)"
    assert ABRUPT_NOTE in "".join(page.text)
    assert page.tables["Tracks"][-1][-1] == "interrupted"
    assert len(page.bars("played")) == 2  # Arrival, and Peak up to the last line written
    assert main(["report", str(torn)]) == 0
    assert f"> **Note:** {ABRUPT_NOTE}\n" in capsys.readouterr().out


def test_a_live_session_report_says_it_is_still_running():
    entries = read_log(RECORDED)[:20]
    html = render_html(entries, live=True)
    assert RUNNING_NOTE in html and ABRUPT_NOTE not in html
    assert "still playing" in html
    assert len(Page(html).bars("played")) == 2


def test_log_content_is_escaped_and_unknown_events_are_listed():
    entries = read_log(RECORDED)
    entries[0] = {**entries[0], "title": "<script>alert(1)</script>", "output": "<b>x</b>"}
    entries.insert(5, {"t": "2026-11-26T22:55:56.000+00:00", "event": "dose", "session_s": 5.0,
                       "by": "Dr <img src=x onerror=alert(1)>", "route": "im"})
    entries.insert(6, {"t": "2026-11-26T22:55:56.200+00:00", "event": "command", "session_s": 5.2,
                       "action": "hold", "params": {}, "by": "Eve | <i>", "source": "api",
                       "ok": False, "reason": "</td></tr></table><script>x</script>"})
    html = render_html(entries)
    page = Page(html)
    assert page.errors == []
    assert not [t for t, _ in page.tags if t in ("script", "img", "b", "i")]
    events = [row[2] for row in page.tables["Every event"][1:]]
    assert "dose by=Dr <img src=x onerror=alert(1)> route=im" in events
    assert page.tables["Facilitator actions"][3] == [
        "0:05", "22:55:56", "Eve | <i>", "hold", "refused: </td></tr></table><script>x</script>"]
    md = render_markdown(entries)
    assert "| 0:05 | 22:55:56 | Eve \\| \\<i\\> | hold |" in md
    assert "dose by=Dr \\<img src=x onerror=alert(1)\\> route=im" in md


def test_odd_values_in_a_log_do_not_break_the_report():
    entries = [{"t": "yesterday", "event": "session_open", "title": 42, "seed": None,
                "planned_total_s": "long"},
               {"t": "x", "event": "phase_start", "session_s": "soon", "phase": ["a"]},
               {"t": "x", "event": "track_end", "path": None, "reason": None},
               {"event": "command", "action": None, "params": "none", "ok": "yes"}]
    page = Page(render_html(entries))
    assert page.errors == []
    assert "42" in "".join(page.text)


@pytest.mark.parametrize("content, message", [
    (None, "cannot read session log {p}: No such file or directory"),
    ("", "{p} is empty, not a session log"),
    ("title: Tuesday\nphases: []\n", "{p}:1: not a session log line"),
    ('{"event": "warning"}\n{"event": "session_end"}\n',
     "{p} is not a session log (it does not start with session_open)"),
    (b"\xff\xfe\x00binary", "{p} is not a session log (it is not UTF-8 text)"),
])
def test_files_that_are_not_session_logs_are_clear_errors(tmp_path, capsys, content, message):
    path = tmp_path / "log.jsonl"
    if isinstance(content, bytes):
        path.write_bytes(content)
    elif content is not None:
        path.write_text(content, encoding="utf-8")
    assert main(["report", str(path), "-o", str(tmp_path / "r.html")]) == 1
    assert capsys.readouterr().err == f"error: {message.format(p=path)}\n"
    assert not (tmp_path / "r.html").exists()


def test_an_unknown_report_extension_is_refused(tmp_path, capsys):
    assert main(["report", str(RECORDED), "-o", str(tmp_path / "r.txt")]) == 1
    assert capsys.readouterr().err == (
        f"error: cannot tell the report format from '{tmp_path / 'r.txt'}'; name it .html or .md, "
        "or use - for Markdown on stdout\n")


def test_the_fixture_is_a_real_engine_log():
    entries = [json.loads(line) for line in RECORDED.read_text(encoding="utf-8").splitlines()]
    assert entries[0]["event"] == "session_open" and entries[-1]["event"] == "session_end"
    assert {e["event"] for e in entries} == {"session_open", "phase_start", "phase_end",
                                             "track_start", "track_end", "command", "warning",
                                             "session_end"}
    assert (RECORDED.parent / "record_session.py").exists()

"""``soundscape report --tracks-only``: the music a participant may be given, and nothing clinical.

Read from the same synthetic steered session as tests/test_report_steering.py (a dose, a booster,
cues, notes naming a participant, facilitators' names, intensity changes, a ban, a broken file,
files under a folder named after the participant) and from the real recorded session.
"""

from __future__ import annotations

import json
import re

import pytest

from soundscape.cli.main import main
from soundscape.report import render_tracks_html, render_tracks_markdown

from test_report import RECORDED, Page
from test_report_steering import SCRIPT_NOTE, TITLE, steered_session, write_log

INTRO = ("This lists the music that played in the session: each track's title, the part of the "
         "session it played in, when it began and how long it played. It holds nothing else from "
         "the session's record.")
PLAYED = [
    ["#", "Phase", "Track", "Start", "Start (clock)", "Played"],
    ["1", "Arrival", "Low Tide", "0:00", "19:00:00", "5:01"],
    ["2", "Onset", "Salt Marsh", "5:01", "19:05:01", "2:00"],
    ["3", "Onset", "Harbour Light", "7:01", "19:07:01", "7:59"],
    ["4", "Onset", "Open Sky", "15:00", "19:15:00", "6:42"],
    ["5", "Onset", "Deep Water", "21:42", "19:21:42", "3:18"],
    ["6", "Peak", "Still", "25:00", "19:25:00", "15:00"],
]
# everything clinical the steered log holds: notes, cues, names, the medicine, the session's own
# title and playlist, steering, faults, file paths (the folder is named after the participant)
CLINICAL = [SCRIPT_NOTE, "alert", "Maria", "maria", "Blood pressure", "Check in with the group",
            "Offer the booster", "Ana", "Ben", "Chloé", "Eve", TITLE, "ketamine", "mg/kg",
            "/home/clinic", "/music", ".flac", "broken", "corrupt", "queued", "pulse"]
CLINICAL_WORDS = ["dose", "booster", "medicine", "intensity", "deeper", "softer", "ban", "cue",
                  "note", "warning", "fault", "skipped", "failed", "seed", "playlist"]


@pytest.fixture
def log(tmp_path) -> str:
    return write_log(tmp_path, steered_session())


def visible(html: str) -> str:
    """The page's text as a reader sees it (the stylesheet's class names are not text)."""
    return " ".join(Page(re.sub(r"<style>.*?</style>", "", html, flags=re.S)).text)


def assert_nothing_clinical(shown: str) -> None:
    found = [s for s in CLINICAL if s in shown]
    found += [w for w in CLINICAL_WORDS if re.search(rf"\b{w}", shown, re.I)]
    assert found == []


def test_html_lists_what_played_and_when_under_a_sentence_saying_so(tmp_path, log):
    assert main(["report", log, "--tracks-only", "-o", str(tmp_path / "music.html")]) == 0
    html = (tmp_path / "music.html").read_text(encoding="utf-8")
    page = Page(html)
    assert page.errors == []
    assert page.tables["Tracks"] == PLAYED  # the broken file never sounded: it is left out
    assert "<h1>Music of the session</h1>" in html
    assert INTRO in page.text
    assert "Thursday 26 November 2026, 19:00 (UTC+00:00)" in page.text
    assert not [t for t, a in page.tags if t in ("script", "link", "img", "svg")]
    assert not [a for _, a in page.tags if "src" in a or "href" in a]


def test_markdown_on_stdout_and_by_extension(tmp_path, log, capsys):
    assert main(["report", log, "--tracks-only"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"# Music of the session\n\n{INTRO}\n\n"
                          "- **Date:** Thursday 26 November 2026, 19:00 (UTC+00:00)\n")
    assert ("| # | Phase | Track | Start | Start (clock) | Played |\n|---|---|---|---|---|---|\n"
            + "".join(f"| {' | '.join(row)} |\n" for row in PLAYED[1:])) in out
    assert main(["report", log, "--tracks-only", "-o", str(tmp_path / "music.md")]) == 0
    assert (tmp_path / "music.md").read_text(encoding="utf-8") == out


def test_neither_format_holds_anything_clinical(tmp_path, log, capsys):
    assert main(["report", log, "--tracks-only"]) == 0
    assert_nothing_clinical(capsys.readouterr().out)
    assert main(["report", log, "--tracks-only", "-o", str(tmp_path / "music.html")]) == 0
    html = (tmp_path / "music.html").read_text(encoding="utf-8")
    assert_nothing_clinical(visible(html))
    assert [s for s in CLINICAL if s in html] == []  # nor anywhere in the file
    # the full report of the same log does hold them: the test would see them if they leaked
    full = tmp_path / "full.md"
    assert main(["report", log, "-o", str(full)]) == 0
    shown = full.read_text(encoding="utf-8")
    # (Markdown escapes the note's markup, and the report names files without their folder)
    assert [s for s in CLINICAL if s not in shown] == [SCRIPT_NOTE, "/music"]
    assert [w for w in CLINICAL_WORDS if not re.search(rf"\b{w}", shown, re.I)] == ["medicine"]


def test_the_recorded_session_keeps_its_titles_and_drops_the_rest(capsys):
    assert main(["report", str(RECORDED), "--tracks-only"]) == 0
    out = capsys.readouterr().out
    starts = [json.loads(line) for line in RECORDED.read_text(encoding="utf-8").splitlines()]
    titles = {e["title"] for e in starts if e["event"] == "track_start" and e["title"] != "broken"}
    rows = [line.split(" | ")[2] for line in out.splitlines() if re.match(r"\| \d+ \|", line)]
    assert {r.removesuffix(" (again)") for r in rows} == {t.replace("<", "\\<").replace(">", "\\>")
                                                          for t in titles}
    assert rows[0] == "Open \\<sky\\> & sea"
    for leak in ("/music", ".wav", "Ana", "Ben", "Chloé", "Recorded", "broken", "skipped"):
        assert leak not in out
    html = render_tracks_html([json.loads(line) for line in
                               RECORDED.read_text(encoding="utf-8").splitlines()])
    assert "Open &lt;sky&gt; &amp; sea" in html and "<sky>" not in html


def test_a_stamp_that_is_not_a_time_is_not_shown():
    entries = steered_session()
    entries[0]["t"] = "Maria's first session"
    entries[2]["t"] = "Maria, 19:00"
    md = render_tracks_markdown(entries)
    assert "Maria" not in md and "Date" not in md
    assert "| 1 | Arrival | Low Tide | 0:00 | – | 5:01 |" in md


@pytest.mark.parametrize("content, message", [
    (None, "cannot read session log {p}: No such file or directory"),
    ("", "{p} is empty, not a session log"),
    ("not json\n{}\n", "{p}:1: not a session log line"),
    ('{"event": "note", "text": "Maria cried"}\n',
     "{p} is not a session log (it does not start with session_open)"),
    (b"\xff\xfe\x00binary", "{p} is not a session log (it is not UTF-8 text)"),
])
def test_a_bad_log_is_a_clear_error(tmp_path, capsys, content, message):
    path = tmp_path / "log.jsonl"
    if isinstance(content, bytes):
        path.write_bytes(content)
    elif content is not None:
        path.write_text(content, encoding="utf-8")
    assert main(["report", str(path), "--tracks-only", "-o", str(tmp_path / "m.html")]) == 1
    assert capsys.readouterr().err == f"error: {message.format(p=path)}\n"
    assert not (tmp_path / "m.html").exists()


def test_an_unknown_extension_is_refused(tmp_path, log, capsys):
    assert main(["report", log, "--tracks-only", "-o", str(tmp_path / "m.pdf")]) == 1
    assert capsys.readouterr().err == (
        f"error: cannot tell the report format from '{tmp_path / 'm.pdf'}'; name it .html or .md, "
        "or use - for Markdown on stdout\n")

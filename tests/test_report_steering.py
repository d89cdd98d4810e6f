"""The report shows how the room steered the music: cues, notes, intensity, play next and bans.

The log is synthetic (the entries the engine writes for issue 14, with their contract's field
names), written to a file and read back through ``soundscape report`` as a clinic would: a
40-minute session with a dose, a booster, intensity moved both ways, a track put next and later
banned while it played, three cues (one acknowledged late, one early, one never) and two notes,
one of them markup typed on a phone.
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta, timezone

import pytest

from soundscape.cli.main import main
from soundscape.report import render_html, render_markdown

from test_report import Page

T0 = datetime(2026, 11, 26, 19, 0, tzinfo=timezone.utc)
TITLE = "Thursday group: ketamine 0.5 mg/kg IM"
SCRIPT_NOTE = "<script>alert('x')</script> & Maria laughed"


def at(s: float, event: str, **fields) -> dict:
    """One log entry as the engine writes it, ``s`` seconds into the session."""
    stamp = (T0 + timedelta(seconds=s)).isoformat(timespec="milliseconds")
    return {"t": stamp, "event": event, "session_s": s, **fields}


def track(s, phase, name, intensity, queued=False, **extra):
    return at(s, "track_start", phase=phase, path=f"/music/maria/{name}.flac", title=name,
              planned_s=None, actual_s=s, repeat=False, intensity=intensity, queued=queued,
              **extra)


def end(s, name, reason):
    return at(s, "track_end", path=f"/music/maria/{name}.flac", reason=reason)


def steered_session() -> list[dict]:
    path = "/music/maria/{}.flac".format
    return [
        {"t": T0.isoformat(timespec="milliseconds"), "event": "session_open",
         "playlist": "/home/clinic/playlists/maria-thursday.yaml", "title": TITLE, "seed": 3,
         "output": "pulse", "planned_total_s": 2400.0},
        at(0.0, "phase_start", phase="Arrival", index=0, actual_s=0.0, planned_s=0.0),
        track(0.0, "Arrival", "Low Tide", 3),
        at(0.0, "command", action="start", params={}, by="Ana", source="api", ok=True, reason=""),
        at(300.0, "dose", route="im", actual_s=300.0, by="Ana"),
        at(300.0, "phase_end", phase="Arrival", actual_s=300.0, planned_s=300.0),
        at(300.0, "phase_start", phase="Onset", index=1, actual_s=300.0, planned_s=300.0),
        end(301.0, "Low Tide", "phase ended"),
        track(301.0, "Onset", "Salt Marsh", 3),
        at(420.0, "intensity", phase="Onset", direction="deeper", **{"from": 3}, to=4, now=True,
           by="Ben", path=path("Salt Marsh"), title="Salt Marsh"),
        end(421.0, "Salt Marsh", "crossfade"),
        track(421.0, "Onset", "Harbour Light", 4),
        at(600.0, "note", text="Maria asked for water", by="Chloé", phase="Onset",
           path=path("Harbour Light"), title="Harbour Light"),
        at(700.0, "play_next", phase="Onset", path=path("Open Sky"), title="Open Sky", by="Ana"),
        end(900.0, "Harbour Light", "crossfade"),
        track(900.0, "Onset", "Open Sky", 4, queued=True),
        at(1200.0, "cue_due", id="c1", text="Blood pressure", at="dose+15m", due_s=1200.0),
        at(1290.0, "cue_ack", id="c1", text="Blood pressure", by="Ben", due_s=1200.0,
           early=False),
        at(1300.0, "ban", phase="Onset", path=path("Open Sky"), title="Open Sky", by="Ben",
           playing=True),
        end(1302.0, "Open Sky", "crossfade"),
        track(1302.0, "Onset", "broken", 4),
        at(1302.5, "warning", message="broken.flac ended far too early (corrupt?); skipped"),
        end(1302.5, "broken", "failed"),
        track(1302.5, "Onset", "Deep Water", 4),
        at(1400.0, "intensity", phase="Onset", direction="softer", **{"from": 4}, to=3,
           now=False, by="Chloé", path=path("Deep Water"), title="Deep Water"),
        at(1500.0, "phase_end", phase="Onset", actual_s=1500.0, planned_s=1500.0),
        at(1500.0, "phase_start", phase="Peak", index=2, actual_s=1500.0, planned_s=1500.0),
        end(1500.0, "Deep Water", "phase ended"),
        track(1500.0, "Peak", "Still", 3),
        at(1550.0, "cue_ack", id="c2", text="Check in with the group", by="Ana", due_s=None,
           early=True),
        at(1800.0, "cue_due", id="c3", text="Offer the booster", at="peak+5m", due_s=1800.0),
        at(1900.0, "booster", phase="Peak", extend_s=600.0, actual_s=1900.0, by="Ana"),
        at(2100.0, "note", text=SCRIPT_NOTE, by="Dr <b>Eve</b>", phase="Peak", path=None,
           title=None),
        at(2400.0, "phase_end", phase="Peak", actual_s=2400.0, planned_s=2400.0),
        at(2400.0, "session_end", reason="completed", actual_s=2400.0),
    ]


def write_log(folder, entries) -> str:
    log = folder / "steered.jsonl"
    log.write_text("".join(json.dumps(e, ensure_ascii=False) + "\n" for e in entries),
                   encoding="utf-8")
    return str(log)


@pytest.fixture
def log(tmp_path) -> str:
    return write_log(tmp_path, steered_session())


@pytest.fixture
def html(tmp_path, log) -> str:
    assert main(["report", log, "-o", str(tmp_path / "report.html")]) == 0
    return (tmp_path / "report.html").read_text(encoding="utf-8")


ROOM = [
    ["Session time", "Wall clock", "Phase", "What", "Playing", "By"],
    ["7:00", "19:07:00", "Onset", "deeper: intensity 3 → 4, now", "Salt Marsh", "Ben"],
    ["10:00", "19:10:00", "Onset", "note: Maria asked for water", "Harbour Light", "Chloé"],
    ["11:40", "19:11:40", "Onset", "play next: Open Sky", "Harbour Light", "Ana"],
    ["20:00", "19:20:00", "Onset", "cue due (dose+15m): Blood pressure; acknowledged 1:30 later "
                                   "by Ben", "Open Sky", "–"],
    ["21:30", "19:21:30", "Onset", "cue acknowledged (due 20:00, 1:30 later): Blood pressure",
     "Open Sky", "Ben"],
    ["21:40", "19:21:40", "Onset", "ban: Open Sky, for the rest of the session; it was playing "
                                   "and crossfaded away", "Open Sky", "Ben"],
    ["23:20", "19:23:20", "Onset", "softer: intensity 4 → 3, from the next track", "Deep Water",
     "Chloé"],
    ["25:50", "19:25:50", "Peak", "cue acknowledged before it was due: Check in with the group",
     "Still", "Ana"],
    ["30:00", "19:30:00", "Peak", "cue due (peak+5m): Offer the booster; never acknowledged",
     "Still", "–"],
    ["35:00", "19:35:00", "Peak", f"note: {SCRIPT_NOTE}", "–", "Dr <b>Eve</b>"],
]


def test_what_the_room_did_is_one_table_in_time_order_with_who_and_what_played(html):
    page = Page(html)
    assert page.errors == []
    assert page.tables["What the room did"] == ROOM
    section = html.split("<h2>What the room did</h2>")[1].split("</section>")[0]
    rows = re.findall(r"<tr(?: class=\"(\w+)\")?>", section.split("<tbody>")[1])
    assert rows == [""] * 8 + ["warning", ""]  # the cue nobody acknowledged stands out
    # on a phone its rows are cards, each cell after its column's name; the log's text may wrap
    assert section.startswith('<table class="cards">')
    assert section.count('data-label="What"') == section.count('data-label="By"') == 10
    assert section.count('class="free" data-label="Playing"') == 10


def test_the_same_table_in_markdown(log, capsys):
    assert main(["report", log]) == 0
    out = capsys.readouterr().out
    assert ("## What the room did\n\n| Session time | Wall clock | Phase | What | Playing | By |\n"
            "|---|---|---|---|---|---|\n"
            "| 7:00 | 19:07:00 | Onset | deeper: intensity 3 → 4, now | Salt Marsh | Ben |\n"
            ) in out
    assert ("| 20:00 | 19:20:00 | Onset | cue due (dose+15m): Blood pressure; acknowledged 1:30 "
            "later by Ben | Open Sky | – |\n") in out
    assert ("| 30:00 | 19:30:00 | Peak | cue due (peak+5m): Offer the booster; never acknowledged "
            "| Still | – |\n") in out
    assert ("| 35:00 | 19:35:00 | Peak | note: \\<script\\>alert('x')\\</script\\> & Maria laughed "
            "| – | Dr \\<b\\>Eve\\</b\\> |\n") in out
    assert "<" not in out.replace("\\<", "")
    # it sits after the tracks and before the facilitators' commands
    assert out.index("## Tracks") < out.index("## What the room did") < out.index(
        "## Facilitator actions")


def test_a_note_typed_on_a_phone_is_escaped(html):
    page = Page(html)
    assert not [t for t, _ in page.tags if t in ("script", "b")]
    assert "<script>" not in html and "<b>Eve" not in html
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &amp; Maria laughed" in html
    assert SCRIPT_NOTE in "".join(page.text)  # and read as typed


def test_played_tracks_show_their_intensity_and_which_were_queued_by_hand(html):
    rows = Page(html).tables["Tracks"]
    assert rows[0] == ["#", "Phase", "Track", "Intensity", "File", "Start", "End",
                       "Start (clock)", "End (clock)", "Played", "How it ended"]
    assert [(r[2], r[3]) for r in rows[1:]] == [
        ("Low Tide", "3"), ("Salt Marsh", "3"), ("Harbour Light", "4"),
        ("Open Sky (queued by Ana)", "4"), ("broken", "4"), ("Deep Water", "4"), ("Still", "3")]


def test_one_intensity_all_session_long_needs_no_column(tmp_path):
    entries = [e for e in steered_session() if e["event"] != "intensity"]
    for e in entries:
        if e["event"] == "track_start":
            e["intensity"] = 3
    harbour = next(i for i, e in enumerate(entries) if e.get("title") == "Harbour Light")
    entries[harbour]["queued"] = True  # queued, but no play_next entry says by whom
    rows = Page(render_html(entries)).tables["Tracks"]
    assert "Intensity" not in rows[0]
    assert rows[3][2] == "Harbour Light (queued)"


def test_the_timeline_marks_each_kind_with_a_legend_and_the_line_as_tooltip(html):
    page = Page(html)
    marks = [a["class"] for t, a in page.tags if "mark" in a.get("class", "").split()]
    legend = {kind: marks.count(f"mark {kind}") - 1 for kind in
              ("deeper", "softer", "next", "ban", "note", "cue", "missed")}
    assert legend == {"deeper": 1, "softer": 1, "next": 1, "ban": 1, "note": 2,
                      "cue": 2,  # acknowledged late, and the one acknowledged before it was due
                      "missed": 1}
    words = [text for text in page.text if text in ("deeper", "softer", "play next", "ban", "note",
                                                    "cue", "cue never acknowledged")]
    assert words == ["deeper", "softer", "play next", "ban", "note", "cue",
                     "cue never acknowledged"]
    assert "Room" in page.text
    assert "35:00 note: <script>alert('x')</script> & Maria laughed (Dr <b>Eve</b>)" in page.text
    assert ('aria-label="Phases as planned and as played, and what the room did"' in html)


def test_the_recorded_session_without_steering_has_no_room_row(tmp_path):
    from test_report import RECORDED
    assert main(["report", str(RECORDED), "-o", str(tmp_path / "r.html")]) == 0
    html = (tmp_path / "r.html").read_text(encoding="utf-8")
    assert 'class="mark' not in html and ">Room<" not in html
    page = Page(html)
    assert "What the room did" in page.text
    assert "No cue, note, intensity change, play next or ban." in page.text


def test_totals_count_the_cues_and_what_the_room_did(html):
    text = "".join(Page(html).text)
    assert ("Cues2 due, 1 acknowledged, 1 never acknowledged; 1 acknowledged before it was due"
            in text)
    assert "What the room did2 intensity changes, 1 play next, 1 ban, 2 notes" in text


def test_every_event_lists_them_in_words():
    events = [r[2] for r in Page(render_html(steered_session())).tables["Every event"][1:]]
    assert "deeper: intensity 3 → 4, now (by Ben)" in events
    assert "cue due (dose+15m): Blood pressure" in events
    assert "play next: Open Sky (by Ana)" in events


def test_live_a_cue_not_yet_acknowledged_is_not_yet_a_fault():
    entries = steered_session()[:-4]  # before the second note, the booster and the end
    page = Page(render_html(entries, live=True))
    row = page.tables["What the room did"][-1]
    assert row[3] == "cue due (peak+5m): Offer the booster; not acknowledged yet"
    assert "mark missed" not in render_html(entries, live=True)
    assert "Cues2 due, 1 acknowledged, 0 never acknowledged, 1 not yet" in "".join(page.text)


def test_odd_values_in_the_rooms_entries_do_not_break_the_report():
    entries = steered_session()[:3] + [
        {"t": "x", "event": "intensity", "session_s": "soon", "from": "three", "to": None,
         "now": "yes", "by": 5, "path": ["a"], "title": {"b": 1}},
        {"event": "cue_ack", "id": None, "due_s": "late", "early": 1},
        {"event": "cue_due", "session_s": 5.0, "due_s": None, "text": None},
        {"event": "ban", "session_s": -3.0, "playing": "true"},
        {"event": "note", "session_s": float("1e308"), "text": ["x"], "phase": 7},
        {"event": "play_next"},
        at(9.0, "track_start", path=None, intensity="loud", queued=True),
    ]
    for render in (render_html, render_markdown):
        render(entries)
        render(entries, live=True)
    page = Page(render_html(entries))
    assert page.errors == []
    assert len(page.tables["What the room did"]) == 7


def test_steering_done_is_listed_once_and_a_refused_one_under_the_commands(tmp_path, capsys):
    entries = steered_session() + [
        at(2300, "command", action="note", params={"text": "asleep"}, by="Ben", source="page",
           ok=True),
        at(2300, "note", text="asleep", by="Ben", phase="Peak", path=None, title=None),
        at(2310, "command", action="intensity", params={"direction": "deeper"}, by="Eve",
           source="page", ok=False, reason="the intensity is already at its deepest (5)"),
    ]
    assert main(["report", write_log(tmp_path, entries)]) == 0
    out = capsys.readouterr().out
    actions = out[out.index("## Facilitator actions"):].split("\n## ")[0]
    room = out[out.index("## What the room did"):].split("\n## ")[0]
    assert "| note: asleep | – | Ben |" in room
    assert "asleep" not in actions  # once is enough
    assert ("| Eve | intensity direction=deeper | refused: the intensity is already at its "
            "deepest (5) |") in actions

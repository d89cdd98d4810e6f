"""Steering the music live from the page (issue 14): intensity, the queue, cues and notes.

Against the engine double, in Chromium as a phone: each test sets the states the page must show,
taps as a facilitator would and reads what the page sends (the command bodies it posts) and shows.
"""

from __future__ import annotations

import json
import re
import time

import pytest
import test_browser
from test_browser import OUTPUT_DIR, wait_text
from test_page_dark_room import TAP_GAP_S, VIBRATE, live, open_page, until
from webkit import upcoming

from soundscape.engine.state import Status

try:
    from playwright.sync_api import expect
except ImportError:  # the browser fixture skips (fails in CI) with the reason
    expect = None

pytestmark = pytest.mark.browser

faked = test_browser.faked  # the page against the engine double, states set by the test
CUE_BUZZ = [400, 200, 400]  # a cue's vibration: apart from a tap's 15 and 30 ms


def posted(page) -> list[dict]:
    """The commands the page sends from now on, as it sends them (without ``by`` and
    ``epoch``, which every command carries)."""
    bodies: list[dict] = []

    def record(request) -> None:
        if request.method == "POST" and request.url.endswith("/api/commands"):
            body = json.loads(request.post_data)
            bodies.append({k: v for k, v in body.items() if k not in ("by", "epoch")})
    page.on("request", record)
    return bodies


def sent(bodies: list[dict], count: int) -> list[dict]:
    return until(lambda: bodies if len(bodies) >= count else None, 3,
                 f"{count} command(s) sent")


def button(page, name: str):
    return page.get_by_role("button", name=name, exact=True)


def test_softer_and_deeper_step_the_intensity_and_say_when_they_cannot(browser, faked):
    server, engine = faked
    engine.set_state(status=Status.PLAYING)
    context, page = open_page(browser, server.url)
    bodies = posted(page)
    try:
        live(page)
        wait_text(page, "#intensity .levelhead", "Intensity 3 of 1–5", 2)
        wait_text(page, "#inthas", "this phase has 2, 3, 4", 1)
        for name in ("Softer", "Deeper", "Softer now", "Deeper now"):
            expect(button(page, name)).to_be_enabled()

        button(page, "Deeper").tap()
        assert sent(bodies, 1) == [{"action": "intensity", "direction": "deeper", "now": False}]
        engine.set_state(intensity=4)  # the engine took the step
        wait_text(page, "#intensity .levelhead", "Intensity 4 of 1–5", 2)
        # nothing in this phase is deeper than 4: both Deeper buttons are off, and say why
        expect(button(page, "Deeper")).to_be_disabled()
        expect(button(page, "Deeper now")).to_be_disabled()
        wait_text(page, "#intwhy", "No deeper music in this phase", 1)
        assert button(page, "Deeper").get_attribute("aria-describedby") == "intwhy"
        button(page, "Deeper").tap(force=True)  # a tap on it sends nothing
        page.wait_for_timeout(300)
        assert len(bodies) == 1

        # now crossfades at once: the first tap only asks, and says to what
        softer_now = button(page, "Softer now")
        softer_now.tap()
        armed = page.locator("#intensity button.arming")
        expect(armed).to_have_text("Tap again: crossfade to intensity 3 now", timeout=1000)
        time.sleep(TAP_GAP_S)
        assert len(bodies) == 1, "the first tap on Softer now sent it"
        armed.tap()
        assert sent(bodies, 2)[1] == {"action": "intensity", "direction": "softer", "now": True}

        engine.set_state(intensity=2)
        wait_text(page, "#intensity .levelhead", "Intensity 2 of 1–5", 2)
        wait_text(page, "#intwhy", "No softer music in this phase", 1)
        expect(button(page, "Softer")).to_be_disabled()
        expect(button(page, "Deeper")).to_be_enabled()

        engine.set_state(status=Status.PAUSED)  # a crossfade needs music playing
        expect(button(page, "Deeper now")).to_be_disabled()
        expect(button(page, "Deeper")).to_be_enabled()

        engine.refuse_reason = "the session is paused; resume first"
        time.sleep(TAP_GAP_S)
        button(page, "Deeper").tap()
        wait_text(page, "#msg", "Not done: the session is paused; resume first", 2)
        wait_text(page, "#intensity .levelhead", "Intensity 2 of 1–5", 1)

        engine.set_state(intensity=3, intensities=(3,), status=Status.PLAYING)
        wait_text(page, "#intwhy", "No softer or deeper music in this phase", 2)
        for name in ("Softer", "Deeper", "Softer now", "Deeper now"):
            expect(button(page, name)).to_be_disabled()
        engine.set_state(intensity=None, status=Status.ENDED, phase=None)
        expect(page.locator("#intensity")).to_be_hidden(timeout=2000)
    finally:
        context.close()


def test_the_queue_and_the_picker_of_the_phase_s_tracks(browser, faked):
    server, engine = faked
    engine.set_state(status=Status.PLAYING)
    context, page = open_page(browser, server.url)
    bodies = posted(page)
    asked: list[str] = []
    page.on("request", lambda r: asked.append(r.url) if r.url.endswith("/api/tracks") else None)
    rows = page.locator("#picklist li")
    try:
        live(page)
        wait_text(page, "#next li", ["Salt Marsh · intensity 3 · 7:00",
                                     "Harbour Light · intensity 2 · 4:00"], 2)
        expect(page.locator("#picker")).to_be_hidden()
        assert asked == [], "the track list is read only when it is opened"

        button(page, "Choose a track…").tap()
        expect(button(page, "Close the track list")).to_have_attribute("aria-expanded", "true")
        expect(page.locator("#pickhead")).to_have_text("Tracks of Arrival")
        expect(rows.locator("p")).to_have_text([
            "Harbour Light · intensity 2 · 4:00", "Low Tide · intensity 3 · 5:00 playing",
            "Salt Marsh · intensity 3 · 7:00", "Deep Current · intensity 4"], timeout=2000)
        assert len(asked) == 1
        expect(rows.nth(1).get_by_role("button", name="Play next")).to_be_disabled()  # it plays

        page.locator("#find").fill("DEEP")  # found by its title, whatever the case
        expect(rows.locator("p")).to_have_text(["Deep Current · intensity 4"])
        expect(page.locator("#pickmsg")).to_have_text("1 of 4 tracks")
        rows.get_by_role("button", name="Play next").tap()
        assert sent(bodies, 1) == [{"action": "play_next", "path": "/m/deep-current.ogg"}]
        engine.set_state(upcoming=upcoming("Arrival", "/m/deep-current.ogg", "/m/salt-marsh.ogg",
                                           "/m/harbour-light.ogg",
                                           queued=("/m/deep-current.ogg",)))
        wait_text(page, "#next li", ["Deep Current · intensity 4 queued",
                                     "Salt Marsh · intensity 3 · 7:00",
                                     "Harbour Light · intensity 2 · 4:00"], 2)
        # the list is read again, so what it marks is what the engine says now
        expect(rows.locator("p")).to_have_text(["Deep Current · intensity 4 queued"])

        page.locator("#find").fill("")
        expect(rows).to_have_count(4)
        ban = rows.nth(2).get_by_role("button", name="Ban")
        ban.tap()  # a ban is for the whole session: the first tap only asks
        armed = rows.nth(2).locator("button.arming")
        expect(armed).to_have_text("Tap again: ban it for the whole session", timeout=1000)
        time.sleep(TAP_GAP_S)
        assert len(bodies) == 1
        armed.tap()
        assert sent(bodies, 2)[1] == {"action": "ban", "path": "/m/salt-marsh.ogg"}
        engine.set_state(banned=({"path": "/m/salt-marsh.ogg", "title": "Salt Marsh"},),
                         upcoming=upcoming("Arrival", "/m/deep-current.ogg",
                                           "/m/harbour-light.ogg",
                                           queued=("/m/deep-current.ogg",)))
        expect(page.locator("#banned")).to_have_text("Banned for this session: Salt Marsh",
                                                     timeout=2000)
        expect(rows.nth(2).locator("p")).to_have_text("Salt Marsh · intensity 3 · 7:00 banned")
        expect(rows.nth(2).locator("button")).to_have_count(0)  # nothing more to do with it

        # the playing track's ban says it goes now
        rows.nth(1).get_by_role("button", name="Ban").tap()
        expect(rows.nth(1).locator("button.arming")).to_have_text(
            "Tap again: ban it; it crossfades away now", timeout=1000)
        OUTPUT_DIR.mkdir(parents=True, exist_ok=True)
        page.locator("#picker").scroll_into_view_if_needed()
        page.screenshot(path=str(OUTPUT_DIR / "control-page-picker.png"))

        button(page, "Close the track list").tap()
        expect(page.locator("#picker")).to_be_hidden()
        expect(button(page, "Choose a track…")).to_have_attribute("aria-expanded", "false")
        time.sleep(TAP_GAP_S)
        assert len(bodies) == 2
    finally:
        context.close()


def test_a_due_cue_reaches_every_phone_and_one_done_clears_it_on_all(browser, faked):
    server, engine = faked
    coming = [
        {"id": "c1", "text": "Blood pressure check", "at": "dose+20m", "at_s": 1200.0,
         "status": "coming", "due_s": None, "acked_by": "", "acked_at_s": None},
        {"id": "c2", "text": "Ask about a booster", "at": "dose+40m", "at_s": None,
         "status": "coming", "due_s": None, "acked_by": "", "acked_at_s": None}]
    engine.set_state(status=Status.PLAYING, cues=tuple(coming))
    phones = [open_page(browser, server.url, VIBRATE) for _ in range(2)]
    (_, ana), (_, ben) = phones
    bodies = posted(ana)

    def buzzes(page) -> list:
        return page.evaluate("window.__buzz")

    try:
        for page in (ana, ben):
            live(page)
            page.fill("#name", "Ana" if page is ana else "Ben")
            page.locator("#nameform button").tap()
            wait_text(page, "#cuelist li", ["20:00 Blood pressure check · dose+20m",
                                           "after the dose Ask about a booster · dose+40m"], 2)
            expect(page.locator("#cues")).to_be_hidden()
        assert buzzes(ana) == buzzes(ben) == []

        engine.set_state(cues=(dict(coming[0], status="due", due_s=1200.0), coming[1]))
        for page in (ana, ben):
            banner = page.locator("#cues")
            expect(banner).to_be_visible(timeout=2000)
            assert banner.get_attribute("role") == "alert"
            expect(banner.locator("strong")).to_have_text("Blood pressure check")
            expect(banner.locator(".sub")).to_have_text("Cue, due since 20:00 (dose+20m)")
            # above everything, and still in sight at the foot of the page
            assert banner.bounding_box()["y"] < page.locator("header").bounding_box()["y"]
            page.evaluate("window.scrollTo(0, document.body.scrollHeight)")
            assert banner.evaluate("b => b.getBoundingClientRect().top") == 0
            page.evaluate("window.scrollTo(0, 0)")
            wait_text(page, "#cuelist li", ["after the dose Ask about a booster · dose+40m"], 1)
            until(lambda p=page: buzzes(p) == [CUE_BUZZ], 2, "one buzz for the due cue")
        engine.set_state(level=65.0)  # another state, the same cue still due: no second buzz
        wait_text(ben, "#levelnow", "65% → 70%", 2)
        assert buzzes(ben) == [CUE_BUZZ]
        OUTPUT_DIR.mkdir(parents=True, exist_ok=True)
        ben.screenshot(path=str(OUTPUT_DIR / "control-page-cue.png"))

        done = ana.locator("#cues button")
        done.tap()  # for every phone: the first tap only asks
        expect(done).to_have_text("Tap again: done, for every phone", timeout=1000)
        time.sleep(TAP_GAP_S)
        assert bodies == []
        done.tap()
        assert sent(bodies, 1) == [{"action": "ack_cue", "id": "c1"}]
        engine.set_state(cues=(dict(coming[0], status="acked", due_s=1200.0, acked_by="Ana",
                                    acked_at_s=1230.0), coming[1]))
        for page in (ana, ben):
            expect(page.locator("#cues")).to_be_hidden(timeout=2000)
            wait_text(page, "#cuelist li", ["20:00 ✓ Blood pressure check · done by Ana at 20:30",
                                           "after the dose Ask about a booster · dose+40m"], 1)
        assert buzzes(ben) == [CUE_BUZZ]
        assert buzzes(ana).count(CUE_BUZZ) == 1

        engine.set_state(cues=(dict(coming[0], status="acked", acked_by="Ana", acked_at_s=1230.0),
                               dict(coming[1], status="due", at_s=2400.0, due_s=2400.0)))
        expect(ben.locator("#cues strong")).to_have_text("Ask about a booster", timeout=2000)
        until(lambda: buzzes(ben) == [CUE_BUZZ, CUE_BUZZ], 2, "a buzz for the next cue")
    finally:
        for context, _ in phones:
            context.close()


def test_a_note_is_one_tap_or_a_line_of_text(browser, faked):
    server, engine = faked
    engine.set_state(status=Status.PLAYING)
    context, page = open_page(browser, server.url)
    bodies = posted(page)
    try:
        live(page)
        button(page, "Distress").tap()
        assert sent(bodies, 1) == [{"action": "note", "text": "distress"}]
        expect(page.locator("#noted")).to_have_text("Noted: distress", timeout=2000)
        assert page.locator("#noted").get_attribute("role") == "status"
        engine.set_state(notes=({"text": "distress", "by": "Ana", "at_s": 754.0,
                                 "phase": "Arrival"},))
        wait_text(page, "#notelist li", ["12:34 distress · Ana · Arrival"], 2)

        assert page.locator("#note").get_attribute("maxlength") == "200"
        assert page.locator("label[for=note]").inner_text() == "A note for the session log"
        page.locator("#note").fill("  Asked for water  ")
        button(page, "Send").tap()
        assert sent(bodies, 2)[1] == {"action": "note", "text": "Asked for water"}
        expect(page.locator("#note")).to_have_value("", timeout=2000)
        expect(page.locator("#noted")).to_have_text("Noted: Asked for water")
        engine.set_state(notes=({"text": "distress", "by": "Ana", "at_s": 754.0,
                                 "phase": "Arrival"},
                                {"text": "Asked for water", "by": "", "at_s": 801.0,
                                 "phase": "Arrival"}))
        wait_text(page, "#notelist li", ["13:21 Asked for water · Arrival",
                                         "12:34 distress · Ana · Arrival"], 2)  # newest first
        button(page, "Send").tap()  # nothing typed: nothing sent
        button(page, "Asleep").dblclick()  # a double tap is one tap: one note
        assert sent(bodies, 3)[2] == {"action": "note", "text": "asleep"}
        page.wait_for_timeout(500)
        assert len(bodies) == 3

        engine.refuse_reason = "a note needs 1 to 200 printable characters"
        page.locator("#note").fill("x")
        button(page, "Send").tap()
        wait_text(page, "#msg", "Not done: a note needs 1 to 200 printable characters", 2)
        expect(page.locator("#note")).to_have_value("x")  # kept, to send again
    finally:
        context.close()


def test_the_picker_says_when_it_cannot_read_the_tracks(browser, faked):
    server, _ = faked
    context, page = open_page(browser, server.url)
    try:
        live(page)
        context.route("**/api/tracks", lambda route: route.abort())
        button(page, "Choose a track…").tap()
        expect(page.locator("#pickmsg")).to_have_text(
            "Could not load the tracks: close the list and open it again.", timeout=2000)
        expect(page.locator("#picklist li")).to_have_count(0)
        context.unroute("**/api/tracks")
        button(page, "Close the track list").tap()
        button(page, "Choose a track…").tap()
        expect(page.locator("#picklist li")).to_have_count(4, timeout=2000)
        expect(page.locator("#pickmsg")).to_have_text("")
        assert re.fullmatch(r"Tracks of Arrival", page.inner_text("#pickhead"))
    finally:
        context.close()

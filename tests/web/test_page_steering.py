"""Steering the music live from the page (issue 14): intensity, the queue, cues and notes.

Against the engine double, in Chromium as a phone: each test sets the states the page must show,
taps as a facilitator would and reads what the page sends (the command bodies it posts) and shows.
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import replace

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


def answered(page, count: int) -> None:
    """Until the page has taken the answers to ``count`` commands that were done (each buzzes
    30 ms once its answer's state is drawn): what it shows then is what it believes."""
    until(lambda: page.evaluate("window.__buzz.filter(b => b === 30).length") >= count, 3,
          f"{count} answer(s) taken")


def boxes(page, *selectors: str) -> list[dict]:
    return [page.locator(sel).bounding_box() for sel in selectors]


def test_softer_and_deeper_step_the_intensity_and_say_when_they_cannot(browser, faked):
    server, engine = faked
    engine.set_state(status=Status.PLAYING)
    context, page = open_page(browser, server.url, VIBRATE)
    bodies = posted(page)
    try:
        live(page)
        wait_text(page, "#intensity .levelhead", "Intensity 3 of 1–5", 2)
        wait_text(page, "#inthas", "this phase has 2, 3, 4", 1)
        for name in ("Softer", "Deeper", "Softer now", "Deeper now"):
            expect(button(page, name)).to_be_enabled()

        button(page, "Deeper").tap()
        assert sent(bodies, 1) == [{"action": "intensity", "direction": "deeper", "now": False}]
        answered(page, 1)
        assert page.inner_text("#intout") == "3 of 1–5", "shown before the engine said so"
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

        # now crossfades at once: the first tap only asks, and says to what; nothing is heard
        # to change while the track playing is already of the intensity it goes to
        softer_now = button(page, "Softer now")
        softer_now.tap()
        armed = page.locator("#intensity button.arming")
        expect(armed).to_have_text("Tap again: the track playing is already intensity 3; the next "
                                   "one follows it", timeout=1000)
        engine.set_state(track=replace(engine.snapshot().track, intensity=4))
        expect(armed).to_have_count(0)  # what it said is no longer so: asked again
        softer_now.tap()
        expect(armed).to_have_text("Tap again: crossfade to intensity 3 now", timeout=1000)
        time.sleep(TAP_GAP_S)
        assert len(bodies) == 1, "the first tap on Softer now sent it"
        armed.tap()
        assert sent(bodies, 2)[1] == {"action": "intensity", "direction": "softer", "now": True}
        answered(page, 2)
        assert page.inner_text("#intout") == "4 of 1–5"

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
    context, page = open_page(browser, server.url, VIBRATE)
    bodies = posted(page)
    asked: list[str] = []
    page.on("request", lambda r: asked.append(r.url) if r.url.endswith("/api/tracks") else None)
    rows = page.locator("#picklist li")

    def row_heights() -> list[float]:
        return rows.evaluate_all("rows => rows.map(r => r.getBoundingClientRect().height)")
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
        assert page.get_by_label("Find a track").get_attribute("id") == "find"
        # each button names its track; one that does not apply says why on its face
        expect(button(page, "Play next: Low Tide — Playing now")).to_be_disabled()
        expect(rows.nth(1).get_by_role("button").first).to_have_text("Playing now")
        expect(button(page, "Ban: Low Tide")).to_be_enabled()

        page.locator("#find").fill("DEEP")  # found by its title, whatever the case
        expect(rows.locator("p")).to_have_text(["Deep Current · intensity 4"])
        expect(page.locator("#pickmsg")).to_have_text("1 of 4 tracks")
        button(page, "Play next: Deep Current").tap()
        assert sent(bodies, 1) == [{"action": "play_next", "path": "/m/deep-current.ogg"}]
        answered(page, 1)
        assert page.inner_text("#next li >> nth=0") == "Salt Marsh · intensity 3 · 7:00"
        expect(button(page, "Play next: Deep Current")).to_be_enabled()
        engine.set_state(queue=("/m/deep-current.ogg",),
                         upcoming=upcoming("Arrival", "/m/deep-current.ogg", "/m/salt-marsh.ogg",
                                           "/m/harbour-light.ogg",
                                           queued=("/m/deep-current.ogg",)))
        wait_text(page, "#next li", ["Deep Current · intensity 4 queued",
                                     "Salt Marsh · intensity 3 · 7:00",
                                     "Harbour Light · intensity 2 · 4:00"], 2)
        # the list is read again, so what it marks is what the engine says now
        expect(rows.locator("p")).to_have_text(["Deep Current · intensity 4 queued"])
        expect(button(page, "Play next: Deep Current — In the queue")).to_be_disabled()

        page.locator("#find").fill("")
        expect(rows).to_have_count(4)
        heights = row_heights()
        ban = button(page, "Ban: Salt Marsh")
        ban.tap()  # a ban is for the whole session: the first tap only asks
        armed = rows.nth(2).locator("button.arming")
        expect(armed).to_have_text("Tap again: ban it for the whole session", timeout=1000)
        expect(armed).to_have_attribute(
            "aria-label", "Tap again: ban it for the whole session — Ban: Salt Marsh")
        assert row_heights() == heights
        # a state that leaves the list as it was: read again, but the armed Ban stays armed
        with page.expect_response("**/api/tracks"):
            engine.set_state(upcoming=upcoming("Arrival", "/m/deep-current.ogg",
                                               "/m/harbour-light.ogg", "/m/salt-marsh.ogg",
                                               queued=("/m/deep-current.ogg",)))
        time.sleep(TAP_GAP_S)
        assert len(bodies) == 1
        armed.tap()
        assert sent(bodies, 2)[1] == {"action": "ban", "path": "/m/salt-marsh.ogg"}
        answered(page, 2)
        assert page.locator("#banned").is_hidden(), "shown banned before the engine said so"
        engine.set_state(banned=({"path": "/m/salt-marsh.ogg", "title": "Salt Marsh"},),
                         upcoming=upcoming("Arrival", "/m/deep-current.ogg",
                                           "/m/harbour-light.ogg",
                                           queued=("/m/deep-current.ogg",)))
        expect(page.locator("#banned")).to_have_text("Banned for this session: Salt Marsh",
                                                     timeout=2000)
        expect(rows.nth(2).locator("p")).to_have_text("Salt Marsh · intensity 3 · 7:00 banned")
        # nothing more to do with it, and no row moves under a finger
        expect(rows.nth(2).get_by_role("button")).to_have_text(["Banned"])
        expect(button(page, "Banned: Salt Marsh")).to_be_disabled()
        assert row_heights() == heights

        # the playing track's ban says it goes now (the phase has others to play)
        button(page, "Ban: Low Tide").tap()
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
            expect(page.locator("#cues")).to_be_empty()  # its place kept, nothing in it
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
            wait_text(page, "#cuelist li", ["20:00 due Blood pressure check · dose+20m",
                                           "after the dose Ask about a booster · dose+40m"], 1)
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
        answered(ana, 1)
        for page in (ana, ben):  # done when the engine says so, not before
            expect(page.locator("#cues strong")).to_have_text("Blood pressure check")
        engine.set_state(cues=(dict(coming[0], status="acked", due_s=1200.0, acked_by="Ana",
                                    acked_at_s=1230.0), coming[1]))
        for page in (ana, ben):
            expect(page.locator("#cues")).to_be_empty(timeout=2000)
            wait_text(page, "#cuelist li", ["20:00 ✓ Blood pressure check · done by Ana at 20:30",
                                           "after the dose Ask about a booster · dose+40m"], 1)
        assert buzzes(ben) == [CUE_BUZZ]
        assert buzzes(ana).count(CUE_BUZZ) == 1
        engine.set_state(status=Status.READY)  # not running and nothing due: no place kept
        expect(ben.locator("#cues")).to_be_hidden(timeout=2000)
        engine.set_state(status=Status.PLAYING)

        engine.set_state(cues=(dict(coming[0], status="acked", acked_by="Ana", acked_at_s=1230.0),
                               dict(coming[1], status="due", at_s=2400.0, due_s=2400.0)))
        expect(ben.locator("#cues strong")).to_have_text("Ask about a booster", timeout=2000)
        until(lambda: buzzes(ben) == [CUE_BUZZ, CUE_BUZZ], 2, "a buzz for the next cue")
    finally:
        for context, _ in phones:
            context.close()


def test_a_note_is_one_tap_or_a_line_of_text(browser, faked):
    server, engine = faked
    engine.set_state(status=Status.PLAYING, session_elapsed_s=754.0)
    context, page = open_page(browser, server.url)
    bodies = posted(page)
    try:
        live(page)
        page.fill("#name", "Ana")
        page.locator("#nameform button").tap()
        button(page, "Distress").tap()
        assert sent(bodies, 1) == [{"action": "note", "text": "distress"}]
        expect(page.locator("#noted")).to_have_text("Noted: distress", timeout=2000)
        assert page.locator("#noted").get_attribute("role") == "status"
        wait_text(page, "#notelist li", ["12:34 distress · Ana · Arrival"], 2)

        assert page.locator("#note").get_attribute("maxlength") == "200"
        assert page.locator("label[for=note]").inner_text() == "A note for the session log"
        page.locator("#note").fill("  Asked   for water  ")
        engine.set_state(session_elapsed_s=801.0)
        button(page, "Send").tap()
        assert sent(bodies, 2)[1] == {"action": "note", "text": "Asked   for water"}
        expect(page.locator("#note")).to_have_value("", timeout=2000)
        # what the player wrote down (its spaces made one), not what was typed
        until(lambda: page.text_content("#noted") == "Noted: Asked for water", 2, "noted")
        wait_text(page, "#notelist li", ["13:21 Asked for water · Ana · Arrival",
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


def test_play_next_is_off_for_a_track_in_the_queue_and_while_the_queue_is_full(browser, faked):
    server, engine = faked
    engine.set_state(status=Status.PLAYING, queue=("/m/salt-marsh.ogg",),
                     upcoming=upcoming("Arrival", "/m/salt-marsh.ogg", "/m/harbour-light.ogg",
                                       queued=("/m/salt-marsh.ogg",)))
    context, page = open_page(browser, server.url)
    try:
        live(page)
        button(page, "Choose a track…").tap()
        expect(page.locator("#picklist li p")).to_have_count(4, timeout=2000)
        expect(button(page, "Play next: Salt Marsh — In the queue")).to_be_disabled()
        expect(button(page, "Play next: Harbour Light")).to_be_enabled()
        # another phone fills the queue (10, the engine's MAX_QUEUE): nothing more goes in
        engine.set_state(queue=("/m/salt-marsh.ogg", "/m/harbour-light.ogg") +
                         tuple(f"/m/q{i}.ogg" for i in range(8)))
        expect(page.locator("#picklist li p")).to_have_text([
            "Harbour Light · intensity 2 · 4:00 queued", "Low Tide · intensity 3 · 5:00 playing",
            "Salt Marsh · intensity 3 · 7:00 queued", "Deep Current · intensity 4"], timeout=2000)
        expect(page.locator("#picklist .row button:first-child")).to_have_text(
            ["In the queue", "Playing now", "In the queue", "Queue full (10)"])
        expect(button(page, "Play next: Deep Current — Queue full (10)")).to_be_disabled()
    finally:
        context.close()


def test_banning_the_track_playing_says_what_follows(browser, faked):
    server, engine = faked
    state = engine.snapshot()
    onset = replace(state.phase, index=1, name="Onset")
    engine.set_state(status=Status.PLAYING, phase=onset,
                     upcoming=upcoming("Return", "/m/morning.ogg"),
                     track=replace(state.track, title="Slow Water", path="/m/slow-water.ogg"))
    context, page = open_page(browser, server.url)
    armed = page.locator("#picklist button.arming")
    try:
        live(page)
        button(page, "Choose a track…").tap()
        ban = button(page, "Ban: Slow Water")
        ban.tap()  # the phase's only track: the next phase begins at once
        expect(armed).to_have_text("Tap again: ban it; Return begins now", timeout=2000)
        engine.set_state(status=Status.PAUSED)
        expect(armed).to_have_count(0, timeout=2000)  # what it said is no longer so
        ban.tap()
        expect(armed).to_have_text("Tap again: ban it; it stops now", timeout=1000)
        engine.set_state(status=Status.PLAYING, phase=replace(onset, index=2, name="Return"),
                         track=replace(state.track, title="Morning Field", path="/m/morning.ogg"))
        ban = button(page, "Ban: Morning Field")
        ban.tap()  # the last phase
        expect(armed).to_have_text("Tap again: ban it; only the ambience plays on", timeout=2000)
    finally:
        context.close()


HOSTILE = "<img src=x onerror=window.pwned=1>"


def test_titles_and_texts_are_shown_as_text_never_run(browser, faked):
    server, engine = faked
    engine.tracks["Arrival"] = ((HOSTILE, "/m/x.ogg", None, 240.0),)  # not analysed: no intensity
    engine.set_state(
        status=Status.PLAYING, track=replace(engine.snapshot().track, title=HOSTILE),
        upcoming=({"title": HOSTILE, "path": "/m/x.ogg", "duration_s": 240.0, "intensity": None,
                   "phase": "Arrival", "queued": False},),
        banned=({"path": "/m/y.ogg", "title": HOSTILE},),
        notes=({"text": HOSTILE, "by": HOSTILE, "at_s": 1.0, "phase": "Arrival"},),
        cues=({"id": "c1", "text": HOSTILE, "at": "1m", "at_s": 60.0, "status": "due",
               "due_s": 60.0, "acked_by": "", "acked_at_s": None},))
    context, page = open_page(browser, server.url)
    try:
        live(page)
        button(page, "Choose a track…").tap()
        expect(page.locator("#picklist li p")).to_have_text(f"{HOSTILE} · 4:00", timeout=2000)
        expect(page.locator("#next li")).to_have_text(f"{HOSTILE} · 4:00")
        for where in ("#track", "#cues strong"):
            expect(page.locator(where)).to_have_text(HOSTILE)
        expect(page.locator("#banned")).to_have_text(f"Banned for this session: {HOSTILE}")
        expect(page.locator("#notelist li")).to_have_text(f"0:01 {HOSTILE} · {HOSTILE} · Arrival")
        expect(button(page, f"Play next: {HOSTILE}")).to_be_enabled()
        assert page.locator("img").count() == 0
        assert page.evaluate("window.pwned") is None
    finally:
        context.close()


# A phone that will not vibrate until the page is touched (as Chrome's sticky user activation)
UNTOUCHED = VIBRATE.replace("value: function (pattern) {", """value: function (pattern) {
    if (!window.__touched) return false;""") + \
    'addEventListener("pointerdown", () => { window.__touched = true; }, true);'



def test_a_due_cue_moves_nothing_and_buzzes_once_the_phone_lets_it(browser, faked):
    """The banner's place is kept while the session runs: when a cue falls due, or is done on
    another phone, nothing under a finger moves. A phone refusing to vibrate is asked again."""
    server, engine = faked
    cue = {"id": "c1", "text": "Blood pressure check", "at": "dose+20m", "at_s": 1200.0,
           "status": "coming", "due_s": None, "acked_by": "", "acked_at_s": None}
    water = dict(cue, id="c2", text="Water for everyone", at="20m")
    booster = dict(cue, id="c3", text="Ask about a booster", at="dose+40m", at_s=None,
                   status="skipped")
    engine.set_state(status=Status.PLAYING, cues=(cue, water, booster))
    context, page = open_page(browser, server.url, UNTOUCHED)
    controls = ("#play", 'button[data-action="skip"]', "#statebox", "#who")
    try:
        live(page)
        wait_text(page, "#cuelist li", ["20:00 Blood pressure check · dose+20m",
                                       "20:00 Water for everyone · 20m",
                                       "– Ask about a booster · dose+40m, never due"], 2)
        before = boxes(page, *controls)
        due = dict(cue, status="due", due_s=1200.0)
        engine.set_state(cues=(due, dict(water, status="due", due_s=1201.0), booster))
        expect(page.locator("#cues strong")).to_have_text("Blood pressure check", timeout=2000)
        expect(page.locator("#cues .sub")).to_have_text(
            "Cue, due since 20:00 (dose+20m) · +1 more")  # one at a time
        assert boxes(page, *controls) == before
        done = page.get_by_role("button", name="Done")
        assert done.bounding_box()["height"] >= 80  # a big target, in the dark
        assert page.evaluate("window.__buzz") == []  # the phone said no
        page.locator("#phase").tap()  # a touch anywhere: asked again
        until(lambda: page.evaluate("window.__buzz") == [CUE_BUZZ], 2, "the cue's buzz")

        engine.set_state(cues=(dict(due, status="acked", acked_by="Ben", acked_at_s=1230.0),
                               dict(water, status="acked", acked_by="Ben", acked_at_s=1231.0),
                               booster))
        expect(page.locator("#cues")).to_be_empty(timeout=2000)
        assert boxes(page, *controls) == before
        assert page.evaluate("window.__buzz") == [CUE_BUZZ]  # one buzz for the two

        engine.set_state(cues=(due, water, booster))
        expect(page.locator("#cues strong")).to_be_visible(timeout=2000)
        context.clear_cookies()  # the token no longer holds: the page says so, and shows no cue
        page.locator("#hush").tap()
        expect(page.locator("#authmsg")).to_be_visible(timeout=2000)
        expect(page.locator("#cues")).to_be_hidden()
    finally:
        context.close()

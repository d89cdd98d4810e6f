"""Two phones in a real browser: a change on one shows on the other within a second.

Runs the app on waitress with a real engine over the fake output (real time), or with the engine
double where a test sets each state the page must show, and drives Debian's Chromium through
playwright in phone-sized, touch-enabled contexts. Nothing is downloaded: a
missing Chromium or playwright skips here and fails in CI.
"""

from __future__ import annotations

import os
import re
import shutil
import time
from pathlib import Path

import pytest

from soundscape.web import create_app

from webkit import TOKEN, FakeEngine, FakePreflight, ServerThread, real_engine

pytestmark = pytest.mark.browser

REPO = Path(__file__).resolve().parents[2]
OUTPUT_DIR = REPO / "test-output" / "browser"
SCREENSHOT_DOC = REPO / "docs" / "screenshots" / "control-page.png"
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True,
         "device_scale_factor": 2}


@pytest.fixture
def served(request):
    engine = real_engine(medicine=getattr(request, "param", False))
    app = create_app(engine, {"TOKEN": TOKEN, "SSE_HEARTBEAT_S": 1.0,
                              "PREFLIGHT": FakePreflight()})  # no chime from a test
    try:
        with ServerThread(app, threads=16) as server:
            yield server, engine
    finally:
        engine.shutdown(fade=False)


def open_phone(browser, url: str, requests: list[str]):
    context = browser.new_context(**PHONE)
    page = context.new_page()
    page.on("request", lambda request: requests.append(request.url))
    page.goto(f"{url}/?token={TOKEN}")
    return context, page


def wait_text(page, selector: str, text, timeout_s: float) -> float:
    """Seconds until ``selector`` shows ``text`` (fails after ``timeout_s``)."""
    from playwright.sync_api import expect

    started = time.monotonic()
    expect(page.locator(selector)).to_have_text(text, timeout=timeout_s * 1000)
    return time.monotonic() - started


@pytest.mark.parametrize("served", [True], indirect=True, ids=["with-medicine"])
def test_two_phones_see_each_others_changes(browser, served):
    server, engine = served
    requests: list[str] = []
    ctx_a, ana = open_phone(browser, server.url, requests)
    ctx_b, ben = open_phone(browser, server.url, requests)
    try:
        assert ana.url == f"{server.url}/"  # the token left the address bar
        for page, name in ((ana, "Ana"), (ben, "Ben")):
            wait_text(page, "#conn", "Live", 5)
            page.fill("#name", name)
            page.click("#nameform button")
            wait_text(page, "#who", f"Name: {name}", 1)
        wait_text(ben, "#status", "Ready", 1)

        ana.click("#play")
        assert wait_text(ben, "#status", "Playing", 1.0) < 1.0
        wait_text(ben, "#phase", "Arrival", 1)

        time.sleep(0.6)  # taps closer than 0.5 s are one double tap
        ana.click("#play")  # now "Pause"
        assert wait_text(ben, "#status", "Paused", 1.0) < 1.0
        wait_text(ben, "#play", "Resume", 1)
        pause = [e for e in engine.log_entries()
                 if e["event"] == "command" and e.get("action") == "pause"]
        assert pause and pause[-1]["by"] == "Ana"

        ben.click("#play")  # "Resume"
        wait_text(ana, "#status", "Playing", 1)

        # Marking the dose needs a second tap: the first only asks.
        wait_text(ana, "#medinfo", "IM dose not marked yet: this phase goes on until it is", 1)
        dose = ben.locator('button[data-action="dose"]')
        dose.click()
        wait_text(ben, 'button[data-action="dose"]', "Tap again: mark the dose now; Journey begins", 1)
        time.sleep(0.7)
        assert engine.snapshot().phase.name == "Arrival"
        dose.click()
        assert wait_text(ana, "#phase", "Journey", 1.0) < 1.0
        wait_text(ana, "#medinfo", re.compile(r"^Dose marked at 0:\d\d$"), 1)
        wait_text(ben, 'button[data-action="dose"]', "Dose given", 1)

        ana.locator("#left").wait_for()
        time.sleep(1.2)  # let the local countdown run and the level settle a little
        OUTPUT_DIR.mkdir(parents=True, exist_ok=True)
        shot = OUTPUT_DIR / "control-page.png"
        ana.screenshot(path=str(shot), full_page=False)
        if os.environ.get("SOUNDSCAPE_UPDATE_SCREENSHOT") == "1":  # the docs' picture, on demand
            SCREENSHOT_DOC.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(shot, SCREENSHOT_DOC)
        ana.click("#night")
        ana.screenshot(path=str(OUTPUT_DIR / "control-page-night.png"), full_page=True)
        ben.screenshot(path=str(OUTPUT_DIR / "control-page-full.png"), full_page=True)
    finally:
        ctx_a.close()
        ctx_b.close()
    outside = [url for url in requests if not url.startswith(server.url + "/")]
    assert outside == []
    assert any(url.endswith("/api/events") for url in requests)


def test_countdown_runs_between_events(browser, served):
    server, engine = served
    requests: list[str] = []
    context, page = open_phone(browser, server.url, requests)
    try:
        wait_text(page, "#conn", "Live", 5)
        page.click("#play")
        wait_text(page, "#status", "Playing", 1)
        first = page.inner_text("#left")
        time.sleep(2.2)
        later = page.inner_text("#left")
        assert first.startswith(("10:00", "09:5")) and later < first
    finally:
        context.close()


def test_page_without_token_shows_the_way_in(browser, served):
    server, _ = served
    context = browser.new_context(**PHONE)
    page = context.new_page()
    try:
        response = page.goto(f"{server.url}/")
        assert response.status == 401
        assert "Scan the room card on the box" in page.inner_text("body")
        assert page.locator("#play").count() == 0
    finally:
        context.close()


def test_stale_page_says_to_open_the_link_again(browser):
    """A page whose cookie stops working (the server restarted with a new token) says so."""
    engine = real_engine()
    app = create_app(engine, {"TOKEN": TOKEN, "SSE_HEARTBEAT_S": 0.5, "SSE_LIFETIME_S": 1.0})
    requests: list[str] = []
    try:
        with ServerThread(app) as server:
            context, page = open_phone(browser, server.url, requests)
            try:
                wait_text(page, "#conn", "Live", 5)
                context.clear_cookies()  # the stream's next reconnect answers 401
                page.locator("#authmsg").wait_for(state="visible", timeout=8000)
                assert "open the link with the token" in page.inner_text("#authmsg")
                assert not page.locator("#main").is_visible()
                wait_text(page, "#conn", "Not connected", 1)
            finally:
                context.close()
    finally:
        engine.shutdown(fade=False)


def test_lost_connection_is_said_plainly_and_nothing_is_sent_meanwhile(browser):
    from playwright.sync_api import expect

    from soundscape.engine.commands import Action, Command

    engine = real_engine()
    # streams last 1 s here, so the page reconnects often and the test can cut it off
    app = create_app(engine, {"TOKEN": TOKEN, "SSE_HEARTBEAT_S": 0.5, "SSE_LIFETIME_S": 1.0})
    requests: list[str] = []
    try:
        with ServerThread(app) as server:
            context, page = open_phone(browser, server.url, requests)
            try:
                wait_text(page, "#conn", "Live", 5)
                page.click("#play")
                wait_text(page, "#status", "Playing", 1)
                posted: list[str] = []
                page.on("request", lambda r: posted.append(r.url) if r.method == "POST" else None)
                context.route("**/api/events", lambda route: route.abort())
                context.route("**/api/state", lambda route: route.abort())
                # the page hears a state or a ping every second: within 3 s it says it does not
                expect(page.locator("#offline")).to_be_visible(timeout=3000)
                expect(page.locator("#offline strong")).to_have_text("Not connected")
                expect(page.locator("#play")).to_be_disabled()
                engine.submit(Command(Action.PAUSE, by="Ben"))  # the other phone pauses meanwhile
                page.locator("#hush").click(force=True)  # a tap sends nothing, not even later
                page.wait_for_timeout(300)
                assert posted == []
                context.unroute("**/api/events")
                context.unroute("**/api/state")
                wait_text(page, "#conn", "Live", 8)
                expect(page.locator("#offline")).to_be_hidden()
                wait_text(page, "#status", "Paused", 1)  # what happened meanwhile
                assert posted == []
            finally:
                context.close()
    finally:
        engine.shutdown(fade=False)


@pytest.mark.parametrize("served", [True], indirect=True, ids=["with-medicine"])
def test_every_control_sends_its_command(browser, served):
    server, engine = served
    requests: list[str] = []
    context, page = open_phone(browser, server.url, requests)

    def sent() -> list[tuple]:
        return [(e["action"], e["params"], e["ok"]) for e in engine.log_entries()
                if e["event"] == "command"]

    last_tap: dict[str, float] = {}

    def tap(selector: str, expect_count: int, confirm: bool = False) -> None:
        # taps of one button closer than 0.5 s are one (double) tap: wait as a person would
        time.sleep(max(0.0, last_tap.get(selector, 0.0) + 0.6 - time.monotonic()))
        page.click(selector)
        last_tap[selector] = time.monotonic()
        if confirm:
            time.sleep(0.6)  # a second tap sooner would count as an accidental double tap
            assert len(sent()) == expect_count - 1, "a destructive action went out on one tap"
            page.click(selector)
        deadline = time.monotonic() + 2
        while len(sent()) < expect_count and time.monotonic() < deadline:
            time.sleep(0.02)
        page.wait_for_timeout(150)  # let the answer re-render the buttons

    try:
        wait_text(page, "#conn", "Live", 5)
        tap("#play", 1)
        tap("#hold", 2)
        wait_text(page, "#hold", "Release hold", 1)
        tap("#hold", 3)
        tap("#hush", 4)
        wait_text(page, "#status", "Hushed", 1)  # the state box, not a small pill
        tap("#hush", 5)
        tap('button[data-minutes="1"]', 6)
        tap('button[data-minutes="5"]', 7)
        tap('button[data-minutes="10"]', 8)
        wait_text(page, "#levelout", "55%", 1)
        tap("#down", 9)  # 5 % under the level the music returns to
        tap("#play", 10)  # pause
        tap("#play", 11)  # resume
        tap('button[data-action="skip"]', 12)
        wait_text(page, "#medinfo", "IM dose not marked yet: this phase goes on until it is", 1)
        tap('button[data-action="dose"]', 13, confirm=True)
        wait_text(page, "#phase", "Journey", 1)
        tap('button[data-action="booster"]', 14, confirm=True)
        wait_text(page, "#medinfo", re.compile(r"^Dose marked at 0:\d\d · booster at 0:\d\d$"), 1)
        tap('button[data-action="next_phase"]', 15, confirm=True)
        page.select_option("#fadesecs", "120")
        tap('button[data-action="fade_out"]', 16, confirm=True)
        wait_text(page, "#status", "Fading out", 1)
        wait_text(page, "#leftlabel", "until the session ends", 1)  # the big clock counts down
        wait_text(page, "#left", re.compile(r"^0[12]:\d\d$"), 1)
        tap('button[data-action="stop"]', 17, confirm=True)
    finally:
        context.close()
    assert [(action, params) for action, params, _ in sent()] == [
        ("start", {}), ("hold", {}), ("release", {}), ("hush", {}), ("unhush", {}),
        ("extend", {"minutes": 1.0}), ("extend", {"minutes": 5.0}), ("extend", {"minutes": 10.0}),
        ("set_level", {"level": 50.0}), ("pause", {}), ("resume", {}), ("skip", {}),
        ("dose", {}), ("booster", {}), ("next_phase", {}), ("fade_out", {"seconds": 120.0}),
        ("stop", {})]
    assert all(ok for _, _, ok in sent())


def test_a_double_tap_sends_one_command(browser, served):
    """A double tap on Pause must not pause and resume at once."""
    server, engine = served
    requests: list[str] = []
    context, page = open_phone(browser, server.url, requests)
    try:
        wait_text(page, "#conn", "Live", 5)
        page.click("#play")
        wait_text(page, "#play", "Pause", 1)
        time.sleep(0.6)
        page.dblclick("#play")
        wait_text(page, "#status", "Paused", 1)
        time.sleep(0.8)  # a second command would have arrived by now
        actions = [e["action"] for e in engine.log_entries() if e["event"] == "command"]
        assert actions == ["start", "pause"]
        wait_text(page, "#status", "Paused", 1)
    finally:
        context.close()


def test_preflight_before_the_start_and_the_report_in_a_new_tab(browser):
    """Pre-flight is offered while ready, lists its checks, holds Start back while it runs and
    goes away once the session starts; the report opens styled (its CSP admits its own style)."""
    engine = real_engine()
    preflight = FakePreflight(checks=(("playlist", True, "thursday.yaml: 3 phases"),
                                      ("gone.ogg", False, "cannot open: no such file")))
    app = create_app(engine, {"TOKEN": TOKEN, "PREFLIGHT": preflight})
    requests: list[str] = []
    try:
        with ServerThread(app) as server:
            context, page = open_phone(browser, server.url, requests)
            problems: list[str] = []
            context.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
            try:
                wait_text(page, "#conn", "Live", 5)
                button = page.locator("#pfbtn")
                assert button.is_visible() and button.inner_text() == "Pre-flight check"
                preflight.release.clear()
                button.click()
                wait_text(page, "#pfbtn", "Pre-flight running…", 2)
                assert page.locator("#play").is_disabled()  # no start over the chime
                wait_text(page, "#pflist li", ["PASS  playlist  thursday.yaml: 3 phases",
                                               "FAIL  gone.ogg  cannot open: no such file"], 3)
                preflight.release.set()
                wait_text(page, "#pfsum", "1 of 2 checks failed", 3)
                assert page.locator("#pflist li.fail").count() == 1
                assert page.locator("#play").is_enabled()
                assert len(preflight.calls) == 1

                with context.expect_page() as opened:
                    page.click("#report")
                report = opened.value
                report.wait_for_load_state()
                assert report.url == f"{server.url}/report"
                assert report.locator("h1").inner_text() == "Thursday group"
                # the inline stylesheet applied: without it, tables have no collapsed borders
                assert report.evaluate(
                    "getComputedStyle(document.querySelector('table')).borderCollapse"
                ) == "collapse"
                report.close()

                page.click("#play")
                wait_text(page, "#status", "Playing", 2)
                assert not page.locator("#preflight").is_visible()
                assert not [p for p in problems if "Content Security Policy" in p], problems
            finally:
                context.close()
    finally:
        engine.shutdown(fade=False)


# -- the analysis and the room, from the state ----------------------------------------------------

class RestartableEngine(FakeEngine):
    """The engine double, plus a restart: the same session resumed by a new process, whose
    revisions count from 1 again (its next stream's first state must be believed)."""

    def restart(self, revision: int = 1, **changes) -> None:
        from dataclasses import replace

        with self._changed:
            changes.setdefault("epoch", self._state.epoch + "+")  # a new process's own epoch
            self._state = replace(self._state, revision=revision, **changes)
            self._changed.notify_all()


@pytest.fixture
def faked():
    """The page against the engine double: the test sets each state the page must show."""
    engine = RestartableEngine()
    app = create_app(engine, {"TOKEN": TOKEN, "SSE_HEARTBEAT_S": 0.5, "PREFLIGHT": FakePreflight()})
    try:
        with ServerThread(app) as server:
            yield server, engine
    finally:
        engine.shutdown()


def playing_in_the_room(engine, **room) -> None:
    from soundscape.engine.state import Status

    engine.set_state(status=Status.PLAYING, output="pulse", room=dict(
        {"heard_dbfs": -18.0, "muted": False, "volume_pct": 100, "listening": True}, **room))


def meter_fill(page) -> float:
    """How full the room's meter is, 0..1, once its (at most 0.25 s) transition has run."""
    page.wait_for_timeout(300)
    return page.evaluate("""() => document.getElementById('heardbar').getBoundingClientRect().width
                            / document.getElementById('heardmeter').getBoundingClientRect().width""")


def test_start_waits_while_the_first_tracks_are_analysed(browser, faked):
    from playwright.sync_api import expect

    from soundscape.engine.commands import Action

    server, engine = faked
    engine.set_state(analysis={"done": 3, "total": 40, "first_pending": ["a.ogg", "b.ogg"]})
    context, page = open_phone(browser, server.url, [])
    try:
        wait_text(page, "#conn", "Live", 5)
        play, line = page.locator("#play"), page.locator("#analysis")
        wait_text(page, "#analysis", "Analysing the first tracks… (3 of 40 files)", 1)
        expect(play).to_be_disabled()
        assert play.inner_text() == "Start"
        # and it looks held back: dim, as every disabled button (not the primary's bright text)
        colour = "b => getComputedStyle(b).color"
        assert play.evaluate(colour) == page.locator('button[data-action="skip"]').evaluate(colour)
        assert line.get_attribute("role") == "status"
        OUTPUT_DIR.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(OUTPUT_DIR / "control-page-analysing.png"))
        play.click(force=True)  # a tap on the disabled button sends nothing
        page.wait_for_timeout(300)
        assert engine.commands == []

        engine.set_state(analysis={"done": 4, "total": 40, "first_pending": ["b.ogg"]})
        wait_text(page, "#analysis", "Analysing the first tracks… (4 of 40 files)", 1)
        expect(play).to_be_disabled()

        engine.set_state(analysis={"done": 12, "total": 40, "first_pending": []})
        wait_text(page, "#analysis", "Analysing the rest in the background: 12 of 40", 1)
        expect(play).to_be_enabled()
        assert play.evaluate(colour) != page.locator('button[data-action="skip"]').evaluate(colour)
        expect(line).not_to_have_class(re.compile(r"\bfirst\b"))

        play.click()
        wait_text(page, "#status", "Playing", 1)
        assert [c.action for c in engine.commands] == [Action.START]
        expect(line).to_be_visible()  # still said, quietly, while the session plays
        engine.set_state(analysis={"done": 40, "total": 40, "first_pending": []})
        expect(line).to_be_hidden(timeout=1000)
        engine.set_state(analysis={"done": 39, "total": 40, "first_pending": []})
        wait_text(page, "#analysis", "Analysing the rest in the background: 39 of 40", 1)
        engine.set_state(analysis=None)
        expect(line).to_be_hidden(timeout=1000)
    finally:
        context.close()


def test_a_restarted_engine_is_believed_after_the_reconnect(browser):
    """A new process resuming the session counts revisions from 1: the page must not keep
    showing the old process's state (here: Start held back for an analysis long done)."""
    from playwright.sync_api import expect

    engine = RestartableEngine()
    engine.restart(revision=500, analysis={"done": 0, "total": 4, "first_pending": ["a.ogg"]})
    app = create_app(engine, {"TOKEN": TOKEN, "SSE_HEARTBEAT_S": 0.5, "SSE_LIFETIME_S": 1.0,
                              "SSE_RETRY_MS": 200, "PREFLIGHT": FakePreflight()})
    try:
        with ServerThread(app) as server:
            context, page = open_phone(browser, server.url, [])
            try:
                wait_text(page, "#conn", "Live", 5)
                wait_text(page, "#analysis", "Analysing the first tracks… (0 of 4 files)", 1)
                expect(page.locator("#play")).to_be_disabled()
                engine.restart(analysis={"done": 4, "total": 4, "first_pending": []})
                expect(page.locator("#play")).to_be_enabled(timeout=4000)
                expect(page.locator("#analysis")).to_be_hidden()
            finally:
                context.close()
    finally:
        engine.shutdown()


def test_the_room_meter_shows_what_the_speaker_carries(browser, faked):
    from playwright.sync_api import expect

    server, engine = faked
    playing_in_the_room(engine)
    context, page = open_phone(browser, server.url, [])
    try:
        wait_text(page, "#conn", "Live", 5)
        wait_text(page, "#heard", "-18 dB", 1)
        expect(page.locator("#roomlabel")).to_have_text("Room hears")
        assert meter_fill(page) == pytest.approx(42 / 60, abs=0.01)
        meter = page.locator("#heardmeter")
        assert (meter.get_attribute("role"), meter.get_attribute("aria-valuetext")) == (
            "meter", "-18 dB")
        expect(page.locator("#roomnote")).to_be_hidden()

        for heard, shown, fill in ((-3.4, "-3 dB", 56.6 / 60), (0.0, "0 dB", 1.0),
                                   (-60.0, "-60 dB", 0.0), (-120.0, "silence", 0.0),
                                   (-60.6, "silence", 0.0)):
            playing_in_the_room(engine, heard_dbfs=heard)
            wait_text(page, "#heard", shown, 1)
            assert meter_fill(page) == pytest.approx(fill, abs=0.01), heard

        playing_in_the_room(engine, heard_dbfs=None, listening=False)  # the meter stopped
        expect(page.locator("#room")).to_be_hidden(timeout=1000)
        expect(page.locator("#roomnote")).to_be_visible()
        engine.set_state(room=None)  # nothing listens (no PulseAudio)
        page.wait_for_timeout(300)
        expect(page.locator("#room")).to_be_hidden()
        expect(page.locator("#roomnote")).to_have_text("Room hears: not listened to")
        playing_in_the_room(engine, heard_dbfs=-24.0)
        wait_text(page, "#heard", "-24 dB", 1)
        expect(page.locator("#roomnote")).to_be_hidden()
    finally:
        context.close()


def test_speaker_muted_and_volume_badges(browser, faked):
    from playwright.sync_api import expect

    server, engine = faked
    playing_in_the_room(engine)
    context, page = open_phone(browser, server.url, [])
    muted = page.locator("#badges .badge", has_text="Speaker muted")
    volume = page.locator("#badges .badge", has_text="Speaker volume")
    try:
        wait_text(page, "#conn", "Live", 5)
        wait_text(page, "#heard", "-18 dB", 1)
        assert muted.count() == 0 and volume.count() == 0  # a speaker at 100 % is not news

        playing_in_the_room(engine, heard_dbfs=-120.0, muted=True)
        expect(muted).to_be_visible(timeout=1000)
        expect(muted).to_have_class(re.compile(r"\balarm\b"))
        assert page.locator("#badges .badge").first.inner_text() == "Speaker muted"
        assert float(muted.evaluate("b => parseFloat(getComputedStyle(b).fontSize)")) >= 20
        assert page.locator("#badges").get_attribute("aria-live") == "polite"
        wait_text(page, "#heard", "silence", 1)

        playing_in_the_room(engine, volume_pct=40)
        expect(muted).to_have_count(0, timeout=1000)
        expect(volume).to_have_text("Speaker volume 40%")
        expect(volume).not_to_have_class(re.compile(r"\b(alarm|on)\b"))  # neutral
        playing_in_the_room(engine, volume_pct=None)
        expect(volume).to_have_count(0, timeout=1000)
        # known from the sound server even while its meter is not running
        playing_in_the_room(engine, heard_dbfs=None, listening=False, muted=True, volume_pct=150)
        expect(muted).to_be_visible(timeout=1000)
        expect(volume).to_have_text("Speaker volume 150%")
        expect(page.locator("#roomnote")).to_be_visible()
    finally:
        context.close()


class ScriptedMeter:
    """What a PulseAudio meter would read, set by the test (``take()`` as engine/pulsemeter's)."""

    def __init__(self):
        from soundscape.engine.pulsemeter import Reading

        self.reading = Reading(peak_dbfs=-18.0, muted=False, volume_pct=100.0)

    def take(self):
        return self.reading

    def close(self) -> None:
        pass


def test_a_real_engine_listening_to_the_room(browser):
    """The engine's own room state reaches the page: its meter, a mute and a turned-down volume
    (with the engine's warnings); the screenshots are for a look on a phone at night."""
    from dataclasses import replace

    from playwright.sync_api import expect

    from soundscape.testing import FakeOutput

    meter = ScriptedMeter()

    class ListenedOutput(FakeOutput):
        name = "pulse"
        fake_meter = meter

    engine = real_engine(output_class=ListenedOutput)
    app = create_app(engine, {"TOKEN": TOKEN, "SSE_HEARTBEAT_S": 0.5, "PREFLIGHT": FakePreflight()})
    try:
        with ServerThread(app) as server:
            context, page = open_phone(browser, server.url, [])
            try:
                wait_text(page, "#conn", "Live", 5)
                wait_text(page, "#heard", "-18 dB", 2)
                page.click("#play")
                wait_text(page, "#status", "Playing", 1)
                meter.reading = replace(meter.reading, peak_dbfs=-9.2)
                wait_text(page, "#heard", "-9 dB", 2)
                time.sleep(1.2)
                OUTPUT_DIR.mkdir(parents=True, exist_ok=True)
                page.screenshot(path=str(OUTPUT_DIR / "control-page-room.png"))

                meter.reading = replace(meter.reading, peak_dbfs=-120.0, muted=True,
                                        volume_pct=40.0)
                expect(page.locator("#badges .badge.alarm")).to_have_text("Speaker muted",
                                                                         timeout=2000)
                expect(page.locator("#badges .badge", has_text="Speaker volume")).to_have_text(
                    "Speaker volume 40%")
                wait_text(page, "#heard", "silence", 1)
                expect(page.locator("#warnlist li").first).to_have_text(
                    re.compile(r"^at \d+:\d\d SPEAKER MUTED: the room hears nothing"))
                page.wait_for_timeout(300)
                page.screenshot(path=str(OUTPUT_DIR / "control-page-muted.png"))
                page.click("#night")
                page.evaluate("window.scrollTo(0, 0)")
                page.screenshot(path=str(OUTPUT_DIR / "control-page-muted-night.png"))
            finally:
                context.close()
    finally:
        engine.shutdown(fade=False)


def test_a_refusal_shows_its_reason(browser, faked):
    """Another phone got there first: the engine's reason is shown, and the state it sent."""
    server, engine = faked
    context, page = open_phone(browser, server.url, [])
    try:
        wait_text(page, "#conn", "Live", 5)
        engine.refuse_reason = "the session has already started"
        page.click("#play")
        wait_text(page, "#msg", "Not done: the session has already started", 2)
    finally:
        context.close()


def test_the_speakers_and_the_delay_are_shown_on_every_phone(browser, faked):
    """Snapcast: each speaker's connection on both phones, a lost one marked, its return."""
    from playwright.sync_api import expect

    server, engine = faked

    def speakers(right: bool, reachable: bool = True) -> dict:
        return {"reachable": reachable, "error": "", "clients": [
            {"id": "a", "name": "corner-left", "connected": True, "latency_ms": 0,
             "expected": True},
            {"id": "b", "name": "corner-right", "connected": right, "latency_ms": 40,
             "expected": True}]}

    playing_in_the_room(engine)
    phones = [open_phone(browser, server.url, []) for _ in range(2)]
    try:
        for _, page in phones:
            wait_text(page, "#conn", "Live", 5)
            expect(page.locator("#speakers")).to_be_hidden()  # pulse: no speakers to show
        engine.set_state(output="snapcast", output_latency_s=1.03, speakers=speakers(True))
        for _, page in phones:
            expect(page.locator("#spkhead")).to_have_text(
                "Speakers · every change is heard 1.0 s after it is made", timeout=2000)
            expect(page.locator("#spklist li")).to_have_text(
                ["corner-left · connected", "corner-right · connected · latency 40 ms"])
            expect(page.locator("#spklist li.lost")).to_have_count(0)
        engine.set_state(speakers=speakers(False),
                         warnings=("SPEAKER LOST: corner-right dropped from the Snapcast server: "
                                   "that speaker is silent",))
        for _, page in phones:
            lost = page.locator("#spklist li.lost")
            expect(lost).to_have_text(["corner-right · NOT CONNECTED · latency 40 ms"],
                                      timeout=2000)
            expect(page.locator("#warnlist")).to_contain_text("SPEAKER LOST: corner-right")
        engine.set_state(speakers=speakers(True, reachable=False))
        for _, page in phones:
            expect(page.locator("#spkhead")).to_contain_text(
                "the Snapcast server is not answering", timeout=2000)
            expect(page.locator("#spklist li.lost")).to_have_count(2)  # not seen: not claimed
        engine.set_state(speakers=speakers(True))
        for _, page in phones:
            expect(page.locator("#spklist li.lost")).to_have_count(0, timeout=2000)
    finally:
        for context, _ in phones:
            context.close()

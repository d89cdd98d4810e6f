"""Two phones in a real browser: a change on one shows on the other within a second.

Runs the app on waitress with a real engine over the fake output (real time), and drives Debian's
Chromium through playwright in phone-sized, touch-enabled contexts. Nothing is downloaded: a
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

from webkit import TOKEN, FakePreflight, ServerThread, real_engine

pytestmark = pytest.mark.browser

# Debian's package; Ubuntu names the same browser chromium-browser.
CHROMIUM = next((path for path in ("/usr/bin/chromium", "/usr/bin/chromium-browser")
                 if Path(path).exists()), "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
REPO = Path(__file__).resolve().parents[2]
OUTPUT_DIR = REPO / "test-output" / "browser"
SCREENSHOT_DOC = REPO / "docs" / "screenshots" / "control-page.png"
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True,
         "device_scale_factor": 2}


def _unavailable(reason: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(reason)
    pytest.skip(reason)


@pytest.fixture(scope="module")
def browser():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("playwright is not installed (pip install playwright; no browser download "
                     "needed)")
    if not Path(CHROMIUM).exists():
        _unavailable(f"{CHROMIUM} is missing: apt-get install -y chromium (chromium-browser on "
                     "Ubuntu)")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def served(request):
    engine = real_engine(medicine=getattr(request, "param", False))
    app = create_app(engine, {"TOKEN": TOKEN, "SSE_HEARTBEAT_S": 2.0,
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
        wait_text(ben, 'button[data-action="dose"]', "Tap again to confirm", 1)
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
        assert "Scan the QR code shown where soundscape runs" in page.inner_text("body")
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


def test_lost_connection_is_said_plainly_and_a_refusal_shows_its_reason(browser):
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
                context.route("**/api/events", lambda route: route.abort())
                wait_text(page, "#conn", "Connection lost — reconnecting…", 8)
                engine.submit(Command(Action.PAUSE, by="Ben"))  # the other phone pauses meanwhile
                assert page.inner_text("#play") == "Pause"  # this page has not heard
                page.click("#play")
                wait_text(page, "#msg", "Not done: the music is already paused", 2)
                wait_text(page, "#status", "Paused", 1)  # the 409 carried the current state
                context.unroute("**/api/events")
                wait_text(page, "#conn", "Live", 8)
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
        page.locator("#badges .badge", has_text="Hushed").wait_for(timeout=1000)
        tap("#hush", 5)
        tap('button[data-minutes="1"]', 6)
        tap('button[data-minutes="5"]', 7)
        tap('button[data-minutes="10"]', 8)
        page.locator("#level").fill("35")
        tap("#play", 10)  # pause (after set_level went out on change)
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
        wait_text(page, "#status", "Playing · fading out", 1)
        tap('button[data-action="stop"]', 17, confirm=True)
    finally:
        context.close()
    assert [(action, params) for action, params, _ in sent()] == [
        ("start", {}), ("hold", {}), ("release", {}), ("hush", {}), ("unhush", {}),
        ("extend", {"minutes": 1.0}), ("extend", {"minutes": 5.0}), ("extend", {"minutes": 10.0}),
        ("set_level", {"level": 35.0}), ("pause", {}), ("resume", {}), ("skip", {}),
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

"""The control page in a dark room: what a facilitator sees on a phone when things go wrong.

A player that crashes and resumes, a server that goes away, a slider under a scrolling thumb,
confirmations that say what they will do, clocks that never guess, controls that look as dead as
they are and text that stays readable in both modes. Each test drives Debian's Chromium in
phone-sized touch contexts (tests/web/test_browser.py) and asserts what the page shows.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import wave
from dataclasses import replace
from pathlib import Path

import pytest
import test_browser
from test_browser import OUTPUT_DIR, PHONE, RestartableEngine, playing_in_the_room, wait_text
from webkit import TOKEN, FakePreflight, ServerThread, real_engine, upcoming

from soundscape.engine.state import Status
from soundscape.web import create_app
from soundscape.web.api import RESTARTED

try:
    from playwright.sync_api import expect
except ImportError:  # the browser fixture skips (fails in CI) with the reason
    expect = None

pytestmark = pytest.mark.browser

faked = test_browser.faked  # the page against the engine double, states set by the test

REPO = Path(__file__).resolve().parents[2]
SHOTS_DIR = OUTPUT_DIR / "states"  # apart from test_browser's pictures, some of the same names
DOCS_SHOTS_DIR = REPO / "docs" / "screenshots"
TAP_GAP_S = 0.6  # two taps on one button closer than 0.5 s are one double tap: wait as a person


# -- helpers ---------------------------------------------------------------------------------

class PortServer(ServerThread):
    """``ServerThread`` on a chosen port, so a server can go away and come back where the pages
    look for it (waitress sets SO_REUSEADDR, so the port is free again at once)."""

    def __init__(self, app, port: int = 0, threads: int = 16):
        from waitress import create_server

        self.server = create_server(app, host="127.0.0.1", port=port, threads=threads)
        self.port = self.server.effective_port
        self.url = f"http://127.0.0.1:{self.port}"
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="test-waitress", daemon=True)


@pytest.fixture
def room(request):
    """A real engine on the real clock, served with the product's heartbeat (1 s).

    Not test_browser's ``served``: its 2 s heartbeat leaves 0.5 s to the page's 2.5 s silence
    limit while nothing is republished (Ready), so on a loaded machine a page may say "Not
    connected" for a moment and drop a tap on Start."""
    engine = real_engine(medicine=getattr(request, "param", False))
    app = create_app(engine, {"TOKEN": TOKEN, "PREFLIGHT": FakePreflight()})
    try:
        with ServerThread(app) as server:
            yield server, engine
    finally:
        engine.shutdown(fade=False)


def open_page(browser, url: str, script: str = "", clock: bool = False):
    """A phone that opens the link with the token; ``script`` runs before the page's own."""
    context = browser.new_context(**PHONE)
    if script:
        context.add_init_script(script)
    page = context.new_page()
    if clock:
        page.clock.install()
    page.goto(f"{url}/?token={TOKEN}")
    return context, page


def live(page, timeout_s: float = 10) -> None:
    expect(page.locator("#conn")).to_have_text("Live", timeout=timeout_s * 1000)


def shown(page, selector: str) -> str:
    """An element's text as drawn, with what its ::before adds (the ▶ of "▶ Playing")."""
    return page.locator(selector).evaluate("""el => {
        const before = getComputedStyle(el, '::before').content;
        return (before && before !== 'none' ? JSON.parse(before) : '') + el.textContent; }""")


def commands(engine, action: str | None = None) -> list[dict]:
    """What the engine was asked to do, from its session log."""
    return [e for e in engine.log_entries()
            if e["event"] == "command" and (action is None or e["action"] == action)]


def until(predicate, timeout_s: float, what: str):
    """``predicate()``'s first true value, polled until ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} within {timeout_s} s")
        time.sleep(0.05)


def call(base: str, path: str, body: dict | None = None) -> tuple[int, dict]:
    """The API with the bearer token, as a script on the laptop would use it."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(
        base + path, data=data, method="GET" if data is None else "POST",
        headers={"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as exc:
        return exc.code, json.load(exc)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def confirm(page, selector: str) -> None:
    """Tap, then tap again once the double-tap window has passed."""
    page.locator(selector).tap()
    expect(page.locator(selector)).to_have_text(re.compile(r"^Tap again: "), timeout=1000)
    time.sleep(TAP_GAP_S)
    page.locator(selector).tap()


def write_session(folder: Path) -> Path:
    """A playlist of three phases over three 150 s tones (8 kHz mono: 2.4 MB each, repeated to
    fill their phases), so a session runs for minutes with no music library."""
    import numpy as np

    music = folder / "music"
    music.mkdir()
    rate = 8000
    t = np.arange(150 * rate) / rate
    for i, name in enumerate(("arrival", "journey", "return")):
        samples = (0.2 * np.sin(2 * np.pi * (220 + 55 * i) * t) * 32767).astype("<i2")
        with wave.open(str(music / f"{name}.wav"), "wb") as out:
            out.setnchannels(1)
            out.setsampwidth(2)
            out.setframerate(rate)
            out.writeframes(samples.tobytes())
    playlist = folder / "crash.yaml"
    playlist.write_text("title: Crash test\nmusic_dir: music\nphases:\n"
                        "  - {name: Arrival, duration: 5m, tracks: [arrival.wav]}\n"
                        "  - {name: Journey, duration: 10m, tracks: [journey.wav]}\n"
                        "  - {name: Return, duration: 5m, tracks: [return.wav]}\n")
    return playlist


class Serve:
    """``soundscape serve`` in a subprocess, as the room's laptop runs it, that can be killed.

    Every XDG directory is the test's own: the checkpoint a restart resumes from, the caches and
    the session log. The process leads its own group, so the analyser it starts goes with it.
    """

    def __init__(self, playlist: Path, home: Path):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        # no --token and no $SOUNDSCAPE_TOKEN: every start reads the room's lasting token, here
        # the one a `soundscape token` of this room saved earlier
        self.args = [sys.executable, "-m", "soundscape", "serve", str(playlist), "--output",
                     "none", "--port", str(self.port), "--host", "127.0.0.1"]
        self.env = {**os.environ, **{f"XDG_{kind}_HOME": str(home / kind.lower())
                                     for kind in ("STATE", "CACHE", "CONFIG", "DATA")}}
        self.env.pop("SOUNDSCAPE_TOKEN", None)
        saved = home / "state" / "soundscape" / "token"
        saved.parent.mkdir(parents=True, exist_ok=True)
        saved.write_text(TOKEN + "\n")
        saved.chmod(0o600)
        self.log = home / "serve.log"
        self.process: subprocess.Popen | None = None
        self.groups: list[int] = []

    def start(self) -> None:
        with open(self.log, "a") as log:
            self.process = subprocess.Popen(self.args, env=self.env, stdin=subprocess.DEVNULL,
                                            stdout=log, stderr=subprocess.STDOUT,
                                            start_new_session=True)
        self.groups.append(self.process.pid)

    def answering(self, timeout_s: float = 60) -> dict:
        """The first state the new process gives (the moment it answers /api/state)."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"serve exited {self.process.returncode}: "
                                     f"{self.log.read_text()[-2000:]}")
            try:
                status, state = call(self.url, "/api/state")
                if status == 200:
                    return state
            except OSError:
                pass
            time.sleep(0.05)
        raise AssertionError(f"serve did not answer in {timeout_s} s: "
                             f"{self.log.read_text()[-2000:]}")

    def kill(self) -> None:
        os.kill(self.process.pid, signal.SIGKILL)  # a crash: no fade, no goodbye
        self.process.wait(10)

    def close(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        for group in self.groups:  # whatever the killed processes left running
            try:
                os.killpg(group, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass


# -- 1. a crash, with two pages open -------------------------------------------------------------

def test_crash_and_resume_with_two_pages_open(browser, tmp_path):
    serve = Serve(write_session(tmp_path), tmp_path)
    serve.start()
    pages = []
    try:
        serve.answering()
        pages = [open_page(browser, serve.url) for _ in range(2)]
        ana, ben = (page for _, page in pages)
        for page in (ana, ben):
            live(page)
        expect(ana.locator("#play")).to_be_enabled(timeout=30_000)  # the first tracks analysed
        ana.locator("#play").tap()
        for page in (ana, ben):
            wait_text(page, "#status", "Playing", 2)
        ana.locator("#hush").tap()
        for page in (ana, ben):
            wait_text(page, "#status", "Hushed", 2)
        _, before = call(serve.url, "/api/state")
        assert before["hushed"] and before["status"] == "playing"

        serve.kill()
        for page in (ana, ben):
            expect(page.locator("#offline")).to_be_visible(timeout=3000)
            expect(page.locator("#offline strong")).to_have_text("Not connected")

        serve.start()
        after = serve.answering()
        answered = time.monotonic()
        assert after["session_id"] == before["session_id"] and after["epoch"] != before["epoch"]
        assert after["resumed"] and after["hushed"]
        for page in (ana, ben):  # waited for longer, to say how late it is when it is
            expect(page.locator("#offline")).to_be_hidden(timeout=10_000)
            expect(page.locator("#notice")).to_be_visible(timeout=1000)
            expect(page.locator("#noticetext")).to_have_text(re.compile(
                r"^The player restarted and resumed the session after \d+:\d\d down\.$"))
            expect(page.locator("#status")).to_have_text("Hushed", timeout=1000)
        late_s = time.monotonic() - answered
        assert late_s <= 3.0, (f"the pages showed the resumed session {late_s:.1f} s after the "
                               "player answered (at most 3 s)")
        for page in (ana, ben):
            # said once, as a warning with its time: no badge besides
            expect(page.locator("#warnlist li")).to_have_text(
                [re.compile(r"^at \d+:\d\d resumed after an interruption of \d+ s$")])
            assert "resumed" not in page.inner_text("#badges").lower()

        status, body = call(serve.url, "/api/commands", {"action": "unhush", "by": "laptop"})
        assert status == 200, body
        sent = time.monotonic()
        for page in (ana, ben):
            expect(page.locator("#status")).to_have_text(
                "Playing", timeout=max(100.0, (sent + 1.0 - time.monotonic()) * 1000))
            assert shown(page, "#status") == "▶ Playing"

        # a tap meant for what a page showed before the crash is refused, and nothing is done
        status, body = call(serve.url, "/api/commands",
                            {"action": "hush", "by": "ana", "epoch": before["epoch"]})
        assert (status, body["error"]) == (409, RESTARTED)
        assert body["state"]["epoch"] == after["epoch"] and not body["state"]["hushed"]
        time.sleep(0.5)
        for page in (ana, ben):
            assert page.inner_text("#status") == "Playing"
    finally:
        for context, _ in pages:
            context.close()
        serve.close()


# -- 2. the server goes away ---------------------------------------------------------------------

def test_a_server_that_goes_away_freezes_the_page_and_takes_no_taps(browser):
    engine = RestartableEngine()
    playing_in_the_room(engine)
    app = create_app(engine, {"TOKEN": TOKEN, "SSE_HEARTBEAT_S": 0.5, "PREFLIGHT": FakePreflight()})
    server = PortServer(app).__enter__()
    context, page = open_page(browser, server.url)
    posted: list[str] = []
    page.on("request", lambda r: posted.append(r.url) if "/api/commands" in r.url else None)
    controls = page.locator("#bar button:visible, .controls button:visible, .controls select")
    try:
        live(page)
        wait_text(page, "#status", "Playing", 2)
        expect(page.locator("#play")).to_be_enabled()
        expect(page.locator("#left")).not_to_have_text("10:00", timeout=2000)  # counting down

        server.__exit__(None, None, None)
        expect(page.locator("#offline")).to_be_visible(timeout=3000)
        expect(page.locator("#offline strong")).to_have_text("Not connected")
        expect(page.locator("body")).to_have_class(re.compile(r"\bcut\b"))
        assert controls.count() >= 12
        for i in range(controls.count()):
            expect(controls.nth(i)).to_be_disabled()
        expect(page.locator("#level")).to_have_attribute("aria-disabled", "true")
        clocks = page.inner_text("#left"), page.inner_text("#sess")
        page.wait_for_timeout(2000)  # watched as a person would: nothing moves
        assert (page.inner_text("#left"), page.inner_text("#sess")) == clocks
        page.locator("#play").tap(force=True)
        page.locator("#hush").tap(force=True)
        page.wait_for_timeout(600)
        assert posted == [] and engine.commands == []

        server = PortServer(app, server.port).__enter__()  # back where the page looks
        expect(page.locator("#offline")).to_be_hidden(timeout=5000)
        expect(page.locator("body")).not_to_have_class(re.compile(r"\bcut\b"))
        wait_text(page, "#conn", "Live", 1)
        for i in range(controls.count()):
            expect(controls.nth(i)).to_be_enabled()
        expect(page.locator("#left")).not_to_have_text(clocks[0], timeout=2000)  # counts again
        assert posted == []
    finally:
        context.close()
        server.__exit__(None, None, None)
        engine.shutdown()


def test_a_page_not_connected_keeps_trying_the_player_every_second(browser):
    """What lets a page show a restarted player within 3 s: it keeps asking, about once a
    second, however long the player has been away (not only in the first seconds)."""
    engine = RestartableEngine()
    playing_in_the_room(engine)
    app = create_app(engine, {"TOKEN": TOKEN, "SSE_HEARTBEAT_S": 0.5, "PREFLIGHT": FakePreflight()})
    server = PortServer(app).__enter__()
    context, page = open_page(browser, server.url)
    tries: list[str] = []
    page.on("request", lambda r: tries.append(r.url)
            if r.url.endswith(("/api/events", "/api/state")) else None)
    try:
        live(page)
        server.__exit__(None, None, None)
        expect(page.locator("#offline")).to_be_visible(timeout=3000)
        page.wait_for_timeout(3000)  # away for a while
        tries.clear()
        page.wait_for_timeout(4000)
        assert len(tries) >= 3, f"{len(tries)} tries in 4 s while not connected: {tries}"
    finally:
        context.close()
        server.__exit__(None, None, None)
        engine.shutdown()


def test_the_bottom_bar_still_covers_the_page_while_not_connected(browser):
    """Dimmed, the crisis bar must still hide what scrolls under it, or the controls' labels
    show through its buttons (test-output/browser/states/control-page-offline.png)."""
    engine = RestartableEngine()
    playing_in_the_room(engine)
    app = create_app(engine, {"TOKEN": TOKEN, "SSE_HEARTBEAT_S": 0.5, "PREFLIGHT": FakePreflight()})
    server = PortServer(app).__enter__()
    context, page = open_page(browser, server.url)
    opacity = """() => { let opacity = 1;
        for (let e = document.getElementById('bar'); e; e = e.parentElement)
          opacity *= Number(getComputedStyle(e).opacity);
        return opacity; }"""
    try:
        live(page)
        assert page.evaluate(opacity) == 1
        server.__exit__(None, None, None)
        expect(page.locator("#offline")).to_be_visible(timeout=3000)
        bar = page.evaluate(opacity)
        assert bar == 1, f"the bottom bar is {bar:.2f} opaque: the page shows through it"
    finally:
        context.close()
        server.__exit__(None, None, None)
        engine.shutdown()


# -- 3. the slider -------------------------------------------------------------------------------

def _touch(cdp, kind: str, x: float | None = None, y: float | None = None) -> None:
    points = [] if x is None else [{"x": x, "y": y, "id": 1, "radiusX": 8, "radiusY": 8}]
    cdp.send("Input.dispatchTouchEvent", {"type": kind, "touchPoints": points})


def _swipe(cdp, x: float, y: float, dx: float, dy: float, steps: int = 10) -> None:
    """A finger put down at (x, y) and moved by (dx, dy) a frame at a time, then lifted."""
    _touch(cdp, "touchStart", x, y)
    for step in range(1, steps + 1):
        _touch(cdp, "touchMove", x + dx * step, y + dy * step)
        time.sleep(0.016)
    _touch(cdp, "touchEnd")


def _centre(page, selector: str) -> tuple[float, float]:
    box = page.locator(selector).bounding_box()
    return box["x"] + box["width"] / 2, box["y"] + box["height"] / 2


def test_the_level_moves_only_by_a_sideways_drag_or_the_steps(browser, room):
    server, engine = room
    context, page = open_page(browser, server.url)
    try:
        live(page)
        page.locator("#play").tap()
        wait_text(page, "#status", "Playing", 2)
        wait_text(page, "#levelout", "55%", 2)  # Arrival's level
        cdp = context.new_cdp_session(page)
        page.evaluate("document.getElementById('level').scrollIntoView({block: 'center'})")

        box = page.locator("#level").bounding_box()
        page.touchscreen.tap(box["x"] + box["width"] * 0.1, box["y"] + box["height"] / 2)
        time.sleep(TAP_GAP_S)
        assert commands(engine, "set_level") == [], "a tap on the track sent a level"
        wait_text(page, "#levelout", "55%", 1)

        x, y = _centre(page, "#thumb")
        scrolled = page.evaluate("scrollY")
        _swipe(cdp, x, y, 0, 15, steps=20)  # a finger going 300 px down from the handle
        page.wait_for_function("(y) => scrollY < y", arg=scrolled - 100, timeout=2000)  # scrolled
        time.sleep(TAP_GAP_S)
        assert commands(engine, "set_level") == [], "a vertical scroll sent a level"
        wait_text(page, "#levelout", "55%", 1)

        page.evaluate("document.getElementById('level').scrollIntoView({block: 'center'})")
        x, y = _centre(page, "#thumb")
        _swipe(cdp, x, y, -10, 0)  # the handle 100 px to the left
        sent = until(lambda: commands(engine, "set_level"), 2, "a drag sends its level")
        time.sleep(TAP_GAP_S)
        sent = commands(engine, "set_level")
        assert len(sent) == 1, sent
        dragged = sent[0]["params"]["level"]
        assert dragged < 55
        wait_text(page, "#levelout", f"{dragged:.0f}%", 2)

        for button, step in (("#up", 5), ("#down", -5)):
            before = int(page.inner_text("#levelout").rstrip("%"))
            count = len(commands(engine, "set_level"))
            page.locator(button).tap()
            wait_text(page, "#levelout", f"{before + step}%", 2)
            sent = commands(engine, "set_level")
            assert len(sent) == count + 1 and sent[-1]["params"] == {"level": before + step}
    finally:
        context.close()


# -- 4 and 5. confirmations ----------------------------------------------------------------------

VIBRATE = """
window.__buzz = [];
Object.defineProperty(Navigator.prototype, "vibrate", {configurable: true,
  value: function (pattern) { window.__buzz.push(pattern); return true; }});
"""


def test_a_confirmation_says_what_the_second_tap_will_do(browser, room):
    server, engine = room
    context, page = open_page(browser, server.url, VIBRATE)

    def buzzes() -> list:
        return page.evaluate("window.__buzz")

    try:
        live(page)
        page.locator("#play").tap()
        wait_text(page, "#status", "Playing", 2)
        until(lambda: buzzes() == [30], 1, "a buzz when a command went through")

        for selector, action, asks in (
                ('button[data-action="next_phase"]', "next_phase", "go on to Journey now"),
                ('button[data-action="fade_out"]', "fade_out", "fade out over 60 s, then end"),
                ("#stop", "stop", "end the session in 3 s")):
            count = len(buzzes())
            page.locator(selector).tap()
            wait_text(page, selector, f"Tap again: {asks}", 1)
            until(lambda n=count: buzzes()[n:] == [15], 1, f"a short buzz on arming {action}")
            time.sleep(TAP_GAP_S)
            assert commands(engine, action) == [], f"the first tap on {action} sent it"
            if action == "fade_out":  # left alone, it disarms by itself
                wait_text(page, selector, "Fade out", 4)
                continue
            page.locator(selector).tap()
            until(lambda a=action: commands(engine, a), 2, f"the second tap sends {action}")
            until(lambda n=count: buzzes()[n:] == [15, 30], 1, f"a buzz when {action} sent")
            if action == "next_phase":
                wait_text(page, "#phase", "Journey", 2)
        wait_text(page, "#status", "Session ended", 8)
        assert buzzes() == [30, 15, 30, 15, 15, 30]
    finally:
        context.close()


def test_an_armed_button_disarms_when_what_it_would_do_changes(browser, room):
    """Ana arms Next phase ("go on to Journey now"); Ben moves the room on first. Her second tap
    must not skip Journey too: the button is disarmed, and a tap only arms it again."""
    from soundscape.engine.commands import Action, Command

    server, engine = room
    context, page = open_page(browser, server.url)
    button = page.locator('button[data-action="next_phase"]')
    try:
        live(page)
        page.locator("#play").tap()
        wait_text(page, "#status", "Playing", 2)
        time.sleep(TAP_GAP_S)
        button.tap()
        wait_text(page, 'button[data-action="next_phase"]', "Tap again: go on to Journey now", 1)
        result, _ = engine.submit(Command(Action.NEXT_PHASE, by="Ben"))  # the other phone
        assert result.ok
        wait_text(page, "#phase", "Journey", 2)
        wait_text(page, 'button[data-action="next_phase"]', "Next phase", 1)
        time.sleep(TAP_GAP_S)
        button.tap()  # arms again, for Return now; sends nothing
        wait_text(page, 'button[data-action="next_phase"]', "Tap again: go on to Return now", 1)
        time.sleep(TAP_GAP_S)
        assert [c["by"] for c in commands(engine, "next_phase")] == ["Ben"]
    finally:
        context.close()


@pytest.mark.parametrize("room", [True], indirect=True, ids=["with-medicine"])
def test_next_phase_waits_while_the_dose_phase_waits_for_the_dose(browser, room):
    server, engine = room
    context, page = open_page(browser, server.url)
    next_phase = page.locator('button[data-action="next_phase"]')
    try:
        live(page)
        page.locator("#play").tap()
        wait_text(page, "#status", "Playing", 2)
        wait_text(page, 'button[data-action="next_phase"]', "Next phase: mark the dose first", 1)
        expect(next_phase).to_be_disabled()
        next_phase.tap(force=True)
        time.sleep(TAP_GAP_S)
        assert commands(engine, "next_phase") == []

        status, body = call(server.url, "/api/commands", {"action": "next_phase", "by": "laptop"})
        assert status == 409 and body["error"].startswith("mark the dose first"), body
        wait_text(page, "#phase", "Arrival", 1)

        confirm(page, 'button[data-action="dose"]')
        wait_text(page, "#phase", "Journey", 2)  # the dose moves the session on
        wait_text(page, 'button[data-action="next_phase"]', "Next phase", 1)
        expect(next_phase).to_be_enabled()
    finally:
        context.close()


# -- 6 and 7. how controls and text look ---------------------------------------------------------

LOOKS = """() => [...document.querySelectorAll('#bar button, .controls button, .controls select')]
  .filter(el => el.getClientRects().length)
  .map(el => { const s = getComputedStyle(el);
    return {key: el.id || el.dataset.action + (el.dataset.minutes || ''), disabled: el.disabled,
            color: s.color, borders: [s.borderTopStyle, s.borderRightStyle, s.borderBottomStyle,
                                      s.borderLeftStyle]}; })"""


def _looks(page) -> dict[str, dict]:
    return {look["key"]: look for look in page.evaluate(LOOKS)}


def _night(page, on: bool) -> None:
    """Red night mode on or off, by its button."""
    body, night = page.locator("body"), re.compile(r"\bnight\b")
    if ("night" in (body.get_attribute("class") or "").split()) != on:
        page.locator("#night").tap()
    (expect(body).to_have_class if on else expect(body).not_to_have_class)(night)


def test_controls_that_do_nothing_look_it_in_both_modes(browser, room):
    server, _ = room
    context, page = open_page(browser, server.url)
    try:
        live(page)
        wait_text(page, "#status", "Ready", 1)
        stop = _looks(page)["stop"]
        assert stop["disabled"] and stop["borders"] == ["dashed"] * 4, stop  # nothing to quiet

        page.locator("#play").tap()
        wait_text(page, "#status", "Playing", 2)
        enabled = {}
        for mode in ("dark", "night"):
            if mode == "night":
                _night(page, True)
            enabled[mode] = _looks(page)
            assert all(not look["disabled"] for look in enabled[mode].values()), enabled[mode]
        _night(page, False)

        confirm(page, "#stop")
        wait_text(page, "#status", "Session ended", 8)
        for mode in ("dark", "night"):
            if mode == "night":
                _night(page, True)
            ended = _looks(page)
            assert {"play", "hush", "stop", "hold", "skip", "next_phase", "extend1", "down",
                    "up", "fadesecs", "fade_out"} <= set(ended)
            for key, look in ended.items():
                assert look["disabled"], (mode, key)
                assert look["borders"] == ["dashed"] * 4, (mode, key, look)
                assert look["color"] != enabled[mode][key]["color"], (mode, key, look)
    finally:
        context.close()


CONTRAST = """(root) => {
  const parse = (c) => { const m = /rgba?\\(([^)]*)\\)/.exec(c); if (!m) return null;
    const p = m[1].split(/[\\s,\\/]+/).filter(Boolean).map(Number);
    return [p[0], p[1], p[2], p.length > 3 ? p[3] : 1]; };
  const over = (top, under) =>  // a colour with alpha over an opaque one
    [0, 1, 2].map(i => top[i] * top[3] + under[i] * (1 - top[3])).concat(1);
  const background = (el) => {  // the nearest backgrounds up to an opaque one, composited
    const layers = [];
    for (let e = el; e; e = e.parentElement) {
      const c = parse(getComputedStyle(e).backgroundColor);
      if (c && c[3] > 0) { layers.push(c); if (c[3] >= 1) break; }
    }
    return layers.reduceRight((under, top) => over(top, under), [0, 0, 0, 1]);
  };
  const lum = (c) => { const f = (v) => { v /= 255;
    return v <= 0.04045 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
    return 0.2126 * f(c[0]) + 0.7152 * f(c[1]) + 0.0722 * f(c[2]); };
  const ratio = (a, b) => { const x = lum(a), y = lum(b);
    return (Math.max(x, y) + 0.05) / (Math.min(x, y) + 0.05); };
  const name = (el) => el.id ? '#' + el.id : el.tagName.toLowerCase() +
    (el.className ? '.' + String(el.className).trim().split(/\\s+/).join('.') : '') +
    (el.parentElement ? ' in ' + name(el.parentElement) : '');
  const shown = (el) => el.getClientRects().length > 0 &&
    getComputedStyle(el).visibility === 'visible';
  const skip = (el) => !shown(el) || el.closest(':disabled, [aria-disabled=true]') ||
    ['SCRIPT', 'STYLE', 'OPTION'].includes(el.tagName);  // inactive controls are exempt
  const texts = [], borders = [];
  for (const el of document.querySelectorAll(root + ', ' + root + ' *')) {
    if (skip(el)) continue;
    const own = [...el.childNodes].some(n => n.nodeType === 3 && n.textContent.trim());
    if (own || el.tagName === 'SELECT') {
      const bg = background(el), fg = over(parse(getComputedStyle(el).color), bg);
      texts.push({what: name(el), text: el.textContent.trim().slice(0, 40), ratio: ratio(fg, bg)});
    }
    if (el.tagName === 'BUTTON' || el.id === 'thumb') {
      const line = parse(getComputedStyle(el).borderTopColor);
      if (line && line[3] > 0 && parseFloat(getComputedStyle(el).borderTopWidth) > 0) {
        const bg = background(el.parentElement);
        borders.push({what: name(el), text: el.textContent.trim().slice(0, 40),
                      ratio: ratio(over(line, bg), bg)});
      }
    }
  }
  return {texts, borders};
}"""


def _contrast(page, root: str = "body") -> tuple[list[dict], list[dict]]:
    found = page.evaluate(CONTRAST, root)
    return found["texts"], found["borders"]


def test_text_and_control_edges_are_readable_in_both_modes(browser):
    """WCAG AA from the styles as rendered: text 4.5:1 on what is behind it, the edge of a control
    3:1 on the page, in each state a session passes through, in dark and in red night mode."""
    engine = RestartableEngine()
    engine.set_state(
        analysis={"done": 3, "total": 40, "first_pending": []},
        medicine={"route": "im", "dose_phase": "Arrival", "booster_phase": "Onset",
                  "awaiting_dose": True, "dosed_at_s": None, "boosters_s": []},
        warnings=("NO SOUND: the audio output could not be opened", "a track was skipped"),
        warnings_at_s=(None, 125.0),
        # steering (issue 14): a due cue's banner, the cue list, the queue, bans and notes
        cues=tuple({"id": f"c{i}", "text": text, "at": at, "at_s": at_s, "status": status,
                    "due_s": at_s if status != "coming" else None, "acked_by": by,
                    "acked_at_s": at_s and at_s + 30 if by else None}
                   for i, (text, at, at_s, status, by) in enumerate((
                       ("Blood pressure check", "20m", 1200.0, "due", ""),
                       ("Ask about a booster", "dose+40m", None, "coming", ""),
                       ("Water for everyone", "5m", 300.0, "acked", "Ana")), 1)),
        upcoming=upcoming("Arrival", "/m/deep-current.ogg", "/m/harbour-light.ogg",
                          queued=("/m/deep-current.ogg",)),
        banned=({"path": "/m/salt-marsh.ogg", "title": "Salt Marsh"},),
        notes=({"text": "distress", "by": "Ana", "at_s": 754.0, "phase": "Arrival"},))
    preflight = FakePreflight(checks=(("playlist", True, "test.yaml: 3 phases"),
                                      ("gone.ogg", False, "cannot open: no such file")))
    app = create_app(engine, {"TOKEN": TOKEN, "SSE_HEARTBEAT_S": 0.5, "PREFLIGHT": preflight})
    texts: dict[str, list] = {"dark": [], "night": []}
    edges: dict[str, list] = {"dark": [], "night": []}
    phase = engine.snapshot().phase

    def look(page, state: str, root: str = "body", arm: tuple[str, str] | None = None) -> None:
        for i, mode in enumerate(("dark", "night")):
            _night(page, mode == "night")
            if arm:  # a confirmation waiting for its second tap, a different button each time
                page.locator(arm[i]).tap()
                expect(page.locator(arm[i])).to_have_class(re.compile(r"\barming\b"))
            found, borders = _contrast(page, root)
            texts[mode] += [dict(t, state=state) for t in found]
            edges[mode] += [dict(b, state=state) for b in borders]
        _night(page, False)

    server = PortServer(app).__enter__()
    context, page = open_page(browser, server.url)
    try:
        live(page)
        page.locator("#pfbtn").tap()
        wait_text(page, "#pfsum", "1 of 2 checks failed", 3)
        page.locator("#pick").tap()
        expect(page.locator("#picklist li")).to_have_count(4, timeout=2000)
        expect(page.locator("#cues")).to_be_visible()
        look(page, "ready, pre-flight run, track list open, a cue due")

        playing_in_the_room(engine, muted=True, volume_pct=40, heard_dbfs=-30.0)
        engine.set_state(phase=replace(phase, held=True, overrun_s=30.0, remaining_s=0.0),
                         epoch="e2", resumed=True, interruption_s=12.0)
        expect(page.locator("#notice")).to_be_visible(timeout=2000)
        engine.refuse_reason = "the music is already hushed"
        page.locator("#hush").tap()
        wait_text(page, "#msg", "Not done: the music is already hushed", 2)
        look(page, "playing, held, muted, notice, refusal",
             arm=('button[data-action="fade_out"]', "#stop"))
        wait_text(page, 'button[data-action="fade_out"]', "Fade out", 4)
        wait_text(page, "#stop", "Quiet now", 1)

        engine.refuse_reason = None
        for status, changes in (
                ("Hushed", {"hushed": True, "phase": phase, "medicine": None}),
                ("Paused", {"status": Status.PAUSED, "hushed": False}),
                ("Fading out", {"status": Status.PLAYING, "ending": True,
                                "ending_kind": "fade_out"}),
                ("Session ended", {"status": Status.ENDED, "ending": False, "phase": None})):
            engine.set_state(**changes)
            wait_text(page, "#status", status, 2)
            look(page, status)

        server.__exit__(None, None, None)  # the banner, over a page it greys out on purpose
        expect(page.locator("#offline")).to_be_visible(timeout=3000)
        look(page, "not connected", root="#offline")
    finally:
        context.close()
        server.__exit__(None, None, None)
        engine.shutdown()

    lowest = {mode: round(min(t["ratio"] for t in texts[mode]), 2) for mode in texts}
    for mode in ("dark", "night"):
        assert len(texts[mode]) > 200, len(texts[mode])  # every state's text was looked at
        low = [t for t in texts[mode] if t["ratio"] < 4.5]
        assert not low, f"{mode}: text under 4.5:1 (lowest {lowest}): {low}"
        weakest = min(edges[mode], key=lambda t: t["ratio"])
        low = [t for t in edges[mode] if t["ratio"] < 3]
        assert not low, f"{mode}: control edges under 3:1 (lowest {weakest['ratio']:.2f}): {low}"
    edge = {mode: round(min(t["ratio"] for t in edges[mode]), 2) for mode in edges}
    print(f"lowest contrast: text {lowest}, control edges {edge}")  # shown with -s / -rP


# -- 8 and 9. clocks, warnings and notices -------------------------------------------------------

def test_an_overrun_counts_up_from_its_true_value(browser, faked):
    """A held phase 130 s past its planned end shows +02:10 until it is 131 s past it. The page's
    clock is paused (playwright's), so what it shows at 0.6 s is seen whatever the machine."""
    server, engine = faked
    phase = engine.snapshot().phase
    context, page = open_page(browser, server.url, clock=True)
    try:
        live(page)
        page.clock.pause_at(page.evaluate("Date.now()") + 1000)  # the page's time stands still
        engine.set_state(status=Status.PLAYING,
                         phase=replace(phase, held=True, elapsed_s=730.0, remaining_s=0.0,
                                       overrun_s=130.0))
        wait_text(page, "#leftlabel", "over the planned end · held", 2)
        expect(page.locator("#left")).to_have_text("+02:10")
        page.clock.run_for(600)
        expect(page.locator("#left")).to_have_text("+02:10")  # 130.6 s over: not yet 2:11
        page.clock.run_for(600)
        expect(page.locator("#left")).to_have_text("+02:11")
    finally:
        context.close()


def test_waiting_for_the_dose_counts_up_on_the_page(browser, faked):
    """The state said: the planned end is now and the phase waits for the dose. Between states
    the page counts the wait up itself, and the session's end is told from the dose."""
    server, engine = faked
    phase = engine.snapshot().phase
    context, page = open_page(browser, server.url)
    try:
        live(page)
        engine.set_state(status=Status.PLAYING,
                         phase=replace(phase, elapsed_s=600.0, remaining_s=0.0, overrun_s=0.0),
                         medicine={"route": "im", "dose_phase": "Arrival", "booster_phase": None,
                                   "awaiting_dose": True, "dosed_at_s": None, "boosters_s": []})
        wait_text(page, "#leftlabel", "over the planned end · waits for the dose", 2)
        expect(page.locator("#left")).to_have_text(re.compile(r"^\+00:0[1-9]$"), timeout=2000)
        first = page.inner_text("#left")
        expect(page.locator("#left")).not_to_have_text(first, timeout=1500)
        assert re.fullmatch(r"\+00:0[2-9]", page.inner_text("#left")) and \
            page.inner_text("#left") > first  # counting up, locally
        wait_text(page, "#total", "· then 25:00 after the dose", 1)
        expect(page.locator("#badges .badge", has_text="Waiting for the dose")).to_be_visible()
    finally:
        context.close()


def test_a_held_phase_shows_its_time_in_phase(browser, faked):
    server, engine = faked
    phase = engine.snapshot().phase
    context, page = open_page(browser, server.url)
    try:
        live(page)
        engine.set_state(status=Status.PLAYING,
                         phase=replace(phase, held=True, elapsed_s=400.0, remaining_s=200.0))
        expect(page.locator("#leftlabel")).to_have_text(
            re.compile(r"^in phase · held \(planned end in 03:[0-2]\d\)$"), timeout=2000)
        expect(page.locator("#left")).to_have_text(re.compile(r"^06:4\d$"))
        expect(page.locator("#badges .badge", has_text="Phase held")).to_be_visible()
    finally:
        context.close()


def test_warnings_say_when_and_a_resume_is_said_once(browser, faked):
    server, engine = faked
    context, page = open_page(browser, server.url)
    try:
        live(page)
        playing_in_the_room(engine)
        engine.set_state(resumed=True, interruption_s=42.0,
                         warnings=("NO SOUND: the audio output could not be opened",
                                   "resumed after an interruption of 42 s"),
                         warnings_at_s=(None, 125.0))
        wait_text(page, "#warnlist li", [
            "before start NO SOUND: the audio output could not be opened",
            "at 2:05 resumed after an interruption of 42 s"], 2)
        expect(page.locator("#warnlist .wtime")).to_have_text(["before start", "at 2:05"])
        body = page.inner_text("body")
        assert "Resumed after interruption" not in body
        assert body.lower().count("resumed") == 1, body  # the warning, once: no badge besides
    finally:
        context.close()


def test_a_new_session_after_a_restart_is_said(browser):
    engine = RestartableEngine()
    app = create_app(engine, {"TOKEN": TOKEN, "SSE_HEARTBEAT_S": 0.5, "PREFLIGHT": FakePreflight()})
    server = PortServer(app).__enter__()
    context, page = open_page(browser, server.url)
    try:
        live(page)
        expect(page.locator("#notice")).to_be_hidden()
        server.__exit__(None, None, None)
        expect(page.locator("#offline")).to_be_visible(timeout=3000)
        engine.restart(revision=1, session_id="s2", epoch="e2")  # a new process, a new session
        server = PortServer(app, server.port).__enter__()
        wait_text(page, "#noticetext", "A new session started. The one before has ended.", 5)
        expect(page.locator("#notice")).to_be_visible()
        page.locator("#noticeok").tap()
        expect(page.locator("#notice")).to_be_hidden()
    finally:
        context.close()
        server.__exit__(None, None, None)
        engine.shutdown()


# -- 10 and 11. the phone: wake lock, home screen ------------------------------------------------

WAKE_LOCK = """
window.__wake = {requests: 0, releases: 0, sentinels: []};
const wakeLock = {request: async (type) => {
  window.__wake.requests++;
  const listeners = [];
  const sentinel = {type, released: false,
    addEventListener: (name, f) => { if (name === "release") listeners.push(f); },
    release: async () => { window.__wake.releases++; sentinel.released = true; },
    fire: () => { sentinel.released = true; listeners.forEach((f) => f(new Event("release"))); }};
  window.__wake.sentinels.push(sentinel);
  return sentinel;
}};
Object.defineProperty(Navigator.prototype, "wakeLock", {configurable: true, get: () => wakeLock});
"""
SHOW = """(state) => {
  Object.defineProperty(document, "visibilityState", {configurable: true, get: () => state});
  Object.defineProperty(document, "hidden", {configurable: true, get: () => state !== "visible"});
  if (state === "hidden") window.__wake.sentinels.at(-1).fire();  // the browser lets go
  document.dispatchEvent(new Event("visibilitychange"));
}"""


def test_the_screen_is_kept_on_while_a_session_runs(browser, faked):
    server, engine = faked
    context, page = open_page(browser, server.url, WAKE_LOCK)

    def wake() -> list[int]:
        return page.evaluate("[window.__wake.requests, window.__wake.releases]")

    try:
        live(page)
        wait_text(page, "#status", "Ready", 1)
        assert wake() == [0, 0]  # nothing runs yet
        page.locator("#play").tap()
        wait_text(page, "#status", "Playing", 2)
        until(lambda: wake() == [1, 0], 2, "the wake lock taken at the start")

        page.evaluate(SHOW, "hidden")
        time.sleep(0.3)
        assert wake() == [1, 0]  # not asked for while hidden
        page.evaluate(SHOW, "visible")
        until(lambda: wake() == [2, 0], 2, "the wake lock taken again once visible")
        live(page)  # and the page reconnected

        engine.set_state(status=Status.ENDED, phase=None)
        wait_text(page, "#status", "Session ended", 2)
        until(lambda: wake() == [2, 1], 2, "the wake lock let go when the session ended")
    finally:
        context.close()


def _png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


def test_the_page_can_be_added_to_the_home_screen(anon):
    response = anon.get("/manifest.webmanifest")  # no token: it holds no secret
    assert response.status_code == 200
    assert response.mimetype == "application/manifest+json"
    manifest = json.loads(response.data)
    assert manifest["name"] and manifest["start_url"] == "/"
    assert manifest["display"] == "standalone"
    assert re.fullmatch(r"#[0-9a-fA-F]{6}", manifest["theme_color"])
    pngs = {icon["sizes"]: icon["src"] for icon in manifest["icons"] if icon["type"] == "image/png"}
    assert set(pngs) == {"192x192", "512x512"}
    for purpose in ("any", "maskable"):  # each purpose its own entry, as the spec advises
        assert {i["sizes"] for i in manifest["icons"] if i.get("purpose") == purpose
                and i["type"] == "image/png"} == {"192x192", "512x512"}, purpose
    for sizes, src in pngs.items():
        icon = anon.get(src)
        assert icon.status_code == 200 and icon.mimetype == "image/png", src
        assert "{}x{}".format(*_png_size(icon.data)) == sizes, src

    anon.get(f"/?token={TOKEN}")  # the cookie
    page = anon.get("/")
    assert page.status_code == 200
    assert '<link rel="manifest" href="/manifest.webmanifest">' in page.text
    assert 'id="play"' in page.text


# -- 12. the timeline ----------------------------------------------------------------------------

PHASE_ROWS = """() => [...document.querySelectorAll('#phaselist li')].map(li =>
  [li.className, ...[...li.querySelectorAll('span')].map(s => s.textContent)])"""


def test_the_timeline_lists_every_phase_with_its_times(browser, room):
    server, _ = room
    context, page = open_page(browser, server.url)
    try:
        live(page)
        expect(page.locator("#phaselist li")).to_have_count(3)
        assert page.evaluate(PHASE_ROWS) == [["", "Arrival", "0:00–10:00"],
                                             ["", "Journey", "10:00–50:00"],
                                             ["", "Return", "50:00–1:05:00"]]
        page.locator("#play").tap()
        wait_text(page, "#status", "Playing", 2)
        expect(page.locator("#phaselist li.cur")).to_have_text(re.compile(r"^▸ Arrival"))
        assert page.evaluate(PHASE_ROWS) == [["cur", "▸ Arrival", "0:00–10:00"],
                                             ["", "Journey", "10:00–50:00"],
                                             ["", "Return", "50:00–1:05:00"]]
        expect(page.locator("#segs .seg.cur")).to_have_count(1)

        confirm(page, 'button[data-action="next_phase"]')
        wait_text(page, "#phase", "Journey", 2)
        rows = page.evaluate(PHASE_ROWS)
        assert [row[:2] for row in rows] == [["done", "Arrival"], ["cur", "▸ Journey"],
                                            ["", "Return"]], rows
        # Arrival ended early: Journey starts when it did, with its length, and Return after it
        end = rows[0][2].split("–")[1]
        assert rows[1][2] == f"{end}–{_clock(_secs(end) + 2400)}", rows
        assert rows[2][2] == f"{_clock(_secs(end) + 2400)}–{_clock(_secs(end) + 3300)}", rows
        expect(page.locator("#segs .seg")).to_have_class(["seg done", "seg cur", "seg "])
    finally:
        context.close()


def _secs(text: str) -> int:
    parts = [int(p) for p in text.split(":")]
    return sum(p * 60 ** i for i, p in enumerate(reversed(parts)))


def _clock(s: int) -> str:
    h, m, r = s // 3600, s % 3600 // 60, s % 60
    return f"{h}:{m:02d}:{r:02d}" if h else f"{m}:{r:02d}"


# -- 13. pictures for the docs -------------------------------------------------------------------

def test_screenshots_of_each_state_for_the_docs(browser):
    """test-output/browser/states/control-page-*.png; with SOUNDSCAPE_UPDATE_SCREENSHOT=1 also
    docs/screenshots/."""
    engine = real_engine()
    app = create_app(engine, {"TOKEN": TOKEN, "PREFLIGHT": FakePreflight()})
    server = PortServer(app).__enter__()
    context, page = open_page(browser, server.url)
    SHOTS_DIR.mkdir(parents=True, exist_ok=True)
    taken: list[Path] = []

    def shot(name: str) -> None:
        page.evaluate("window.scrollTo(0, 0)")
        page.wait_for_timeout(300)  # the meter's and buttons' short transitions
        path = SHOTS_DIR / f"control-page-{name}.png"
        page.screenshot(path=str(path))
        taken.append(path)

    try:
        page.fill("#name", "Ana")
        page.locator("#nameform button").tap()
        live(page)
        wait_text(page, "#status", "Ready", 1)
        shot("ready")
        page.locator("#play").tap()
        wait_text(page, "#status", "Playing", 2)
        time.sleep(1.5)  # a few seconds in
        shot("playing")
        _night(page, True)
        shot("night")
        _night(page, False)
        page.locator("#hush").tap()
        wait_text(page, "#status", "Hushed", 2)
        shot("hushed")
        time.sleep(TAP_GAP_S)
        page.locator("#hush").tap()
        wait_text(page, "#status", "Playing", 2)
        page.locator("#play").tap()
        wait_text(page, "#status", "Paused", 2)
        shot("paused")
        time.sleep(TAP_GAP_S)
        page.locator("#play").tap()
        wait_text(page, "#status", "Playing", 2)

        server.__exit__(None, None, None)
        expect(page.locator("#offline")).to_be_visible(timeout=3000)
        shot("offline")
        server = PortServer(app, server.port).__enter__()
        live(page)

        confirm(page, 'button[data-action="fade_out"]')
        wait_text(page, "#status", "Fading out", 2)
        time.sleep(1.5)
        shot("fading")
        confirm(page, "#stop")
        wait_text(page, "#status", "Session ended", 8)
        shot("ended")
    finally:
        context.close()
        server.__exit__(None, None, None)
        engine.shutdown(fade=False)

    assert [p.name for p in taken] == [f"control-page-{n}.png" for n in (
        "ready", "playing", "night", "hushed", "paused", "offline", "fading", "ended")]
    for path in taken:
        assert _png_size(path.read_bytes()) == (390 * 2, 844 * 2), path
    if os.environ.get("SOUNDSCAPE_UPDATE_SCREENSHOT") == "1":
        DOCS_SHOTS_DIR.mkdir(parents=True, exist_ok=True)
        for path in taken:
            shutil.copyfile(path, DOCS_SHOTS_DIR / path.name)

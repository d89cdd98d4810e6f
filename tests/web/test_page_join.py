"""A second facilitator joins from the first one's phone: the page shows the room's code, behind
the token, and the code read from the screen opens the controls on another phone."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest

from soundscape.web import create_app

from test_browser import PHONE
from webkit import TOKEN, FakeEngine, ServerThread

pytestmark = pytest.mark.browser


def scan(png) -> list[str]:
    zbarimg = shutil.which("zbarimg")
    if zbarimg is None:
        if os.environ.get("CI") == "true":
            pytest.fail("zbarimg is missing (make test installs zbar-tools)")
        pytest.skip("zbarimg is not installed (apt install zbar-tools)")
    done = subprocess.run([zbarimg, "--raw", "-q", str(png)], capture_output=True, text=True,
                          timeout=60)
    return done.stdout.split()


@pytest.fixture
def server():
    app = create_app(FakeEngine(), {"TOKEN": TOKEN, "ROOM_NAME": "Room 2"})
    with ServerThread(app, threads=8) as served:
        yield served


def test_the_code_on_one_phone_joins_another(browser, server, tmp_path):
    first = browser.new_context(**PHONE)
    second = browser.new_context(**PHONE)
    try:
        page = first.new_page()
        page.goto(f"{server.url}/?token={TOKEN}")
        page.get_by_role("link", name="Join another phone").click()
        page.wait_for_url(f"{server.url}/join")
        body = page.inner_text("body")
        assert "Join Room 2" in body and "This code is the room's key" in body
        page.screenshot(path=str(tmp_path / "join.png"))
        [link] = scan(tmp_path / "join.png")
        assert link == f"{server.url}/?token={TOKEN}"
        other = second.new_page()
        assert other.goto(link).status == 200
        assert other.locator("#play").count() == 1  # the controls, on the second phone
    finally:
        first.close()
        second.close()


def test_the_code_is_never_shown_without_the_token(browser, server):
    context = browser.new_context(**PHONE)
    try:
        page = context.new_page()
        response = page.goto(f"{server.url}/join")
        assert response.status == 401
        assert "Only a phone that has joined the room can show its code" in page.inner_text("body")
        assert TOKEN not in page.content() and page.locator("svg").count() == 0
        context.add_cookies([{"name": "soundscape_token", "value": "wrong", "url": server.url}])
        assert page.goto(f"{server.url}/join").status == 401
        page.goto(f"{server.url}/?token={TOKEN}")
        response = page.goto(f"{server.url}/join")
        assert response.status == 200 and response.headers["cache-control"] == "no-store"
    finally:
        context.close()

"""The session report from the page: token-protected, the live log as the clinic's HTML report."""

from __future__ import annotations

import base64
import hashlib
import re

import pytest

from soundscape.report import RUNNING_NOTE
from soundscape.web import CSP, create_app
from soundscape.web.report import file_name

from webkit import TOKEN, real_engine


@pytest.fixture
def real():
    engine = real_engine(fake_clock=True)
    app = create_app(engine, {"TOKEN": TOKEN})
    client = app.test_client()
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {TOKEN}"
    yield client, engine, app
    engine.shutdown(fade=False)


def command(client, action, **params):
    response = client.post("/api/commands", json={"action": action, "by": "Ana", **params})
    assert response.status_code == 200, response.json
    return response


def test_without_the_token_it_is_the_locked_page(anon, engine):
    response = anon.get("/report")
    assert response.status_code == 401
    page = response.get_data(as_text=True)
    assert "Open the control page with the link or QR code" in page
    assert "Session report" not in page and "Test session" not in page
    assert response.headers["Content-Security-Policy"] == CSP
    wrong = anon.get("/report", headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401


def test_with_a_bearer_or_the_page_cookie_it_is_the_report(anon, client):
    assert client.get("/report").status_code == 200
    anon.get(f"/?token={TOKEN}")  # sets the cookie, as opening the link does
    response = anon.get("/report")
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    assert "<title>Session report: " in response.get_data(as_text=True)


def test_report_of_a_real_session_so_far(real):
    client, engine, _ = real
    command(client, "start")
    command(client, "hush")
    command(client, "extend", minutes=5)
    command(client, "skip")
    response = client.get("/report")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "<h1>Thursday group</h1>" in html
    assert RUNNING_NOTE in html
    played = [e["title"] for e in engine.log_entries() if e.get("event") == "track_start"]
    assert played, "the engine logged no track"
    for title in played:
        assert title in html
    for action in ("hush", "extend", "skip"):
        assert re.search(rf"<td>[^<]*{action}[^<]*</td>", html), action
    assert "Ana" in html
    state = engine.snapshot()
    assert response.headers["Content-Disposition"] == f'inline; filename="{state.session_id}.html"'
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_after_the_end_it_is_the_final_report(real):
    client, engine, _ = real
    command(client, "start")
    command(client, "stop")
    for _ in range(20):  # the 3 s fade on the fake clock; each command wakes the engine thread
        if engine.snapshot().status == "ended":
            break
        engine.clock.advance(1.0)
        client.post("/api/commands", json={"action": "hush"})
    assert engine.snapshot().status == "ended"
    html = client.get("/report").get_data(as_text=True)
    assert RUNNING_NOTE not in html
    assert "the log ends abruptly" not in html


def test_csp_allows_its_own_style_and_no_script(real):
    client, _, _ = real
    command(client, "start")
    response = client.get("/report")
    html = response.get_data(as_text=True)
    csp = dict(part.strip().split(" ", 1) for part in
               response.headers["Content-Security-Policy"].split(";"))
    assert csp["script-src"] == "'none'"
    assert csp["default-src"] == "'none'"
    assert "unsafe" not in response.headers["Content-Security-Policy"]
    styles = re.findall(r"<style>(.*?)</style>", html, re.S)
    assert styles
    wanted = {"'sha256-" + base64.b64encode(hashlib.sha256(s.encode()).digest()).decode() + "'"
              for s in styles}
    assert set(csp["style-src"].split()) == wanted
    assert "<script" not in html.lower()
    # the rest of the app keeps its own policy
    assert client.get("/api/state").headers["Content-Security-Policy"] == CSP


def test_log_content_cannot_smuggle_markup(real):
    client, _, _ = real
    client.post("/api/commands", json={"action": "start", "by": "<script>alert(1)</script>"})
    html = client.get("/report").get_data(as_text=True)
    assert "<script" not in html
    assert "&lt;script&gt;" in html


@pytest.mark.parametrize("session_id,name", [
    ("20261126-190000-thursday-group", "20261126-190000-thursday-group.html"),
    ('a"b\r\nSet-Cookie: x', "a-b-Set-Cookie-x.html"),
    ("", "session.html"),
])
def test_file_name_stays_inside_the_header(session_id, name):
    assert file_name(session_id) == name


def test_the_page_links_the_report_in_a_new_tab(anon):
    anon.get(f"/?token={TOKEN}")
    page = anon.get("/").get_data(as_text=True)
    link = re.search(r'<a [^>]*href="/report"[^>]*>([^<]*)</a>', page)
    assert link and link.group(1) == "Session report"
    assert 'target="_blank"' in link.group(0) and 'rel="noopener"' in link.group(0)

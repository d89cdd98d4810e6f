"""The session report from the page: token-protected, the live log as the clinic's HTML report."""

from __future__ import annotations

import base64
import hashlib
import re
from pathlib import Path

import pytest

from soundscape.engine.sessionlog import read_log
from soundscape.engine.state import Status
from soundscape.report import RUNNING_NOTE
from soundscape.web import CSP, create_app
from soundscape.web.report import file_name

import test_browser
from webkit import TOKEN, FakeEngine, ServerThread, real_engine

OUTPUT_DIR, PHONE = test_browser.OUTPUT_DIR, test_browser.PHONE


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
        assert re.search(rf"<td[^>]*>[^<]*{action}[^<]*</td>", html), action
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


# -- on a phone, in real Chromium ----------------------------------------------------------------

RECORDED = Path(__file__).resolve().parents[1] / "data" / "session-recorded.jsonl"
LONG_TITLE = ("Thursday evening group: ketamine-assisted therapy, room 2 "
              "(Dr Okonkwo-Featherstonehaugh and team)")
LONG_PATH = ("/srv/music/library/Various Artists/Ambient_Drift_for_Deep_Listening_Part_III_"
             "(extended_forty_minute_version_remastered_2024).flac")

# Every text on the page with the colour it is drawn in and the colour under it: the first
# ancestor's opaque background, or for a name on a timeline bar the bar at its fill-opacity.
COLOURS_JS = """() => {
  const under = el => {
    for (let e = el; e; e = e.parentElement) {
      const bg = getComputedStyle(e).backgroundColor;
      if (bg !== 'rgba(0, 0, 0, 0)' && bg !== 'transparent') return bg;
    }
    return 'rgb(255, 255, 255)';
  };
  const seen = [];
  for (const el of document.querySelectorAll('body *')) {
    const own = [...el.childNodes].some(n => n.nodeType === 3 && n.textContent.trim());
    const head = el.closest('thead');  // a card's hidden header row is not drawn
    const hidden = head && getComputedStyle(head).position === 'absolute';
    if (!own || hidden || el.tagName === 'title') continue;  // a bar's tooltip is not drawn
    const style = getComputedStyle(el);
    if (el instanceof SVGElement) {
      const bar = el.classList.contains('label') && el.previousElementSibling;
      seen.push({what: 'svg ' + el.getAttribute('class'), fg: style.fill,
                 bg: bar ? getComputedStyle(bar).fill : under(el.closest('svg')),
                 alpha: bar ? parseFloat(getComputedStyle(bar).fillOpacity) : 1,
                 base: under(el.closest('svg'))});
    } else {
      seen.push({what: el.tagName.toLowerCase() + (el.className ? '.' + el.className : ''),
                 fg: style.color, bg: under(el), alpha: 1, base: under(el)});
    }
    const before = getComputedStyle(el, '::before');
    if (before.content.startsWith('"'))
      seen.push({what: el.tagName.toLowerCase() + '::before', fg: before.color, bg: under(el),
                 alpha: 1, base: under(el)});
  }
  return seen;
}"""


def rgb(css: str) -> tuple[float, ...]:
    return tuple(float(x) for x in re.findall(r"[\d.]+", css)[:3])


def luminance(colour: tuple[float, ...]) -> float:
    r, g, b = (c / 255 for c in colour)
    r, g, b = (c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in (r, g, b))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: tuple[float, ...], b: tuple[float, ...]) -> float:
    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def text_contrasts(page) -> list[tuple[float, str, tuple, tuple]]:
    """Each text's contrast ratio against what it sits on, lowest first."""
    found = []
    for t in page.evaluate(COLOURS_JS):
        base, fill = rgb(t["base"]), rgb(t["bg"])
        under = tuple(f * t["alpha"] + b * (1 - t["alpha"]) for f, b in zip(fill, base))
        found.append((contrast(rgb(t["fg"]), under), t["what"], rgb(t["fg"]), under))
    return sorted(found)


def long_session() -> list[dict]:
    """The recorded session with a long title, playlist path and track, as clinics name them."""
    entries = read_log(RECORDED)
    entries[0] = {**entries[0], "title": LONG_TITLE,
                  "playlist": "/home/clinic/Documents/soundscape/playlists/2026/november/"
                              "thursday-evening-group-extended-integration.yaml"}
    first = next(i for i, e in enumerate(entries) if e["event"] == "track_start")
    entries[first] = {**entries[first], "path": LONG_PATH, "title": Path(LONG_PATH).stem}
    return entries


@pytest.mark.browser
def test_on_a_phone_the_report_fits_is_dark_and_readable_and_prints_on_white(browser):
    engine = FakeEngine()
    engine.entries = long_session()
    engine.set_state(status=Status.ENDED)
    app = create_app(engine, {"TOKEN": TOKEN})
    with ServerThread(app) as server:
        # a phone set to light mode: the report is dark all the same
        context = browser.new_context(**PHONE, color_scheme="light",
                                      extra_http_headers={"Authorization": f"Bearer {TOKEN}"})
        problems: list[str] = []
        context.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
        try:
            page = context.new_page()
            page.goto(f"{server.url}/report")
            assert page.locator("h1").inner_text() == LONG_TITLE
            assert not problems, problems  # the CSP admitted the style and there is nothing else

            # no sideways scroll: the page keeps the phone's 390 px (a mobile browser zooms out
            # to fit an overflowing page, so innerWidth alone would grow with it)
            widths = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth,"
                                   " document.body.scrollWidth]")
            assert widths[1] == 390 and max(widths) <= 390, widths
            # the tracks are cards, each value after its column's name; the long file wraps
            cell = page.locator("table.cards").nth(1).locator("td", has_text="Ambient_Drift").last
            assert cell.evaluate("td => getComputedStyle(td, '::before').content") == '"File"'
            assert cell.evaluate("td => getComputedStyle(td.parentElement).display") == "block"
            box = cell.bounding_box()
            assert box["x"] + box["width"] <= 390 and box["height"] > 40  # wrapped over lines
            assert page.evaluate("getComputedStyle(document.querySelector('table:not(.cards)'))"
                                 ".display") == "table"  # the narrow tables stay tables
            figure = page.evaluate("(f => [f.scrollWidth, f.clientWidth])"
                                   "(document.querySelector('.figure'))")
            assert figure[0] > figure[1]  # the picture scrolls in its own box instead

            body = page.evaluate("[getComputedStyle(document.body).color,"
                                 " getComputedStyle(document.body).backgroundColor]")
            assert rgb(body[1]) == (0, 0, 0)
            assert contrast(rgb(body[0]), rgb(body[1])) >= 4.5
            lowest = text_contrasts(page)
            assert lowest[0][0] >= 4.5, lowest[:5]
            # every kind of text was measured, on black and on the warning and fault rows
            assert {"td", "td.free", "td::before", "th", "dt", "dd", "h1", "h2", "svg label",
                    "svg tick"} <= {t[1] for t in lowest}
            assert len({t[3] for t in lowest}) >= 3
            assert max(luminance(t[3]) for t in lowest) < 0.05  # nothing bright behind text
            card = page.evaluate("getComputedStyle(document.querySelector('.cards tr'))"
                                 ".borderTopColor")
            assert contrast(rgb(card), (0, 0, 0)) >= 3  # the cards' edges show
            OUTPUT_DIR.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(OUTPUT_DIR / "report-phone.png"))

            page.set_viewport_size({"width": 1280, "height": 900})  # a laptop: ordinary tables
            assert page.evaluate("getComputedStyle(document.querySelector('table.cards'))"
                                 ".display") == "table"
            assert page.evaluate("document.documentElement.scrollWidth") <= 1280

            page.emulate_media(media="print")
            body = page.evaluate("[getComputedStyle(document.body).color,"
                                 " getComputedStyle(document.body).backgroundColor]")
            assert rgb(body[1]) == (255, 255, 255) and rgb(body[0]) == (0, 0, 0)
            printed = text_contrasts(page)
            assert printed[0][0] >= 4.5, printed[:5]
            # no dark background on paper (the bars keep their colours, under black names)
            assert min(luminance(t[3]) for t in printed if not t[1].startswith("svg")) > 0.6
            assert page.evaluate("getComputedStyle(document.querySelector('table.cards'))"
                                 ".display") == "table"
            page.set_viewport_size({"width": 718, "height": 1000})  # A4 less 1 cm margins
            assert page.evaluate("document.documentElement.scrollWidth") <= 718
            page.screenshot(path=str(OUTPUT_DIR / "report-print.png"))
            page.pdf(path=str(OUTPUT_DIR / "report.pdf"), format="A4")
        finally:
            context.close()

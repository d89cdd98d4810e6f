"""Only holders of the session token control the room; guessing is slowed down."""

from __future__ import annotations

import pytest

from soundscape.errors import SoundscapeError
from soundscape.web import create_app
from soundscape.web.auth import COOKIE_NAME, FailureLimiter

from webkit import TOKEN

UNAUTHORIZED = ("missing or wrong token: open the link (or scan the QR code) that soundscape "
                "serve printed")


@pytest.mark.parametrize("path", ["/api/state", "/api/tracks", "/api/log", "/api/events",
                                  "/api/nothing-here"])
def test_api_without_token_is_401_json(anon, path):
    response = anon.get(path)
    assert response.status_code == 401
    assert response.json == {"error": UNAUTHORIZED}


def test_post_without_token_is_401_and_reaches_no_engine(anon, engine):
    response = anon.post("/api/commands", json={"action": "stop"})
    assert response.status_code == 401
    assert engine.commands == []


@pytest.mark.parametrize("header", [f"Bearer {TOKEN}x", "Bearer ", f"Basic {TOKEN}", TOKEN,
                                    f"Bearer {TOKEN[:-1]}"])
def test_wrong_bearer_is_401(anon, header):
    response = anon.get("/api/state", headers={"Authorization": header})
    assert response.status_code == 401
    assert response.json["error"] == UNAUTHORIZED


def test_the_track_list_needs_the_token_too(anon, engine):
    assert anon.get("/api/tracks", headers={"Authorization": f"Bearer {TOKEN}x"}).status_code == 401
    response = anon.get("/api/tracks", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200 and response.json == engine.phase_tracks()


def test_bearer_token_is_accepted(anon):
    response = anon.get("/api/state", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200
    assert response.json["status"] == "ready"


def test_token_link_sets_strict_httponly_cookie_and_redirects_to_clean_page(anon):
    response = anon.get(f"/?token={TOKEN}")
    assert response.status_code == 303
    assert response.headers["Location"] == "/"
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith(f"{COOKIE_NAME}={TOKEN};")
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/" in cookie
    assert "Secure" not in cookie  # served over plain http on the clinic LAN
    assert f"Max-Age={14 * 24 * 3600}" in cookie  # a clinic fortnight
    page = anon.get("/")
    assert page.status_code == 200
    assert b'id="play"' in page.data
    # each visit renews the cookie it came with (the request carried it already: nothing new is
    # exposed), so a phone in use never reaches its cookie's age mid-session
    assert page.headers["Set-Cookie"] == cookie
    assert anon.get("/api/state").status_code == 200  # the cookie now authorizes the API


def test_wrong_cookie_is_401(anon):
    anon.set_cookie(COOKIE_NAME, "stale-token-from-yesterday")
    assert anon.get("/api/state").status_code == 401
    page = anon.get("/")
    assert page.status_code == 401
    assert b"This link is no longer the room&#39;s" in page.data
    assert b'id="play"' not in page.data


def test_page_without_token_shows_how_to_get_in_not_the_controls(anon):
    page = anon.get("/")
    assert page.status_code == 401
    text = page.get_data(as_text=True)
    assert "Scan the room card on the box" in text
    assert 'id="play"' not in text and "app.js" not in text


def test_wrong_token_link_sets_no_cookie(anon):
    response = anon.get("/?token=guess")
    assert response.status_code == 401
    assert "Set-Cookie" not in response.headers


def test_five_wrong_tokens_then_429_with_retry_after_even_for_the_right_token(anon):
    for _ in range(5):
        assert anon.get("/api/state", headers={"Authorization": "Bearer guess"}).status_code == 401
    blocked = anon.get("/api/state", headers={"Authorization": "Bearer guess"})
    assert blocked.status_code == 429
    assert blocked.json == {"error": "too many wrong tokens from this address; wait and try again"}
    assert 1 <= int(blocked.headers["Retry-After"]) <= 60
    # while blocked the token is not even compared, so guessing cannot continue
    assert anon.get("/api/state", headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 429
    page = anon.get(f"/?token={TOKEN}")
    assert page.status_code == 429 and b"Too many wrong links" in page.data


def test_block_is_per_address(app):
    attacker = app.test_client()
    for _ in range(6):
        attacker.get("/api/state", headers={"Authorization": "Bearer guess"},
                     environ_base={"REMOTE_ADDR": "10.0.0.66"})
    facilitator = app.test_client()
    ok = facilitator.get("/api/state", headers={"Authorization": f"Bearer {TOKEN}"},
                         environ_base={"REMOTE_ADDR": "10.0.0.7"})
    assert ok.status_code == 200


def test_requests_without_any_token_are_not_counted_as_guesses(anon):
    for _ in range(10):
        assert anon.get("/").status_code == 401
        assert anon.get("/api/state").status_code == 401
    assert anon.get(f"/?token={TOKEN}").status_code == 303


def test_limiter_window_expires_and_memory_is_bounded():
    now = [0.0]
    limiter = FailureLimiter(max_failures=2, window_s=60.0, max_addresses=3, now=lambda: now[0])
    limiter.record_failure("a")
    limiter.record_failure("a")
    assert limiter.retry_after_s("a") == 60.0
    now[0] = 59.0
    assert limiter.retry_after_s("a") == 1.0
    now[0] = 60.0
    assert limiter.retry_after_s("a") == 0.0
    for n in range(100):
        limiter.record_failure(f"10.0.{n}.1")
    assert limiter.tracked_addresses() == 3


def test_app_refuses_to_start_without_token(engine):
    with pytest.raises(SoundscapeError, match="non-empty access token"):
        create_app(engine, {"TOKEN": ""})

"""Fuzzing the web layer: whatever arrives, the answer is a 4xx (or 2xx when valid), never a 5xx.

Each example gets a fresh app over the engine double (which records commands) and a pre-flight
double (which records runs), so an invalid request must leave both untouched. Under ``/api/`` every
answer is JSON. No answer may carry the session token, and no file outside ``web/static`` may come
back however its path is spelled: canary files are planted next to it to prove it.
"""

from __future__ import annotations

import base64
import json
import secrets
import socket
from urllib.parse import unquote

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from soundscape.engine.commands import Action, CommandError, parse_command
from soundscape.web import WEB_DIR, create_app

from webkit import FUZZ_CASES as CASES
from webkit import TOKEN, FakeEngine, FakePreflight, ServerThread

LIMIT = 16 * 1024  # MAX_CONTENT_LENGTH
FUZZ = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
STATIC_FILES = {p.read_bytes() for p in (WEB_DIR / "static").iterdir() if p.is_file()}
CANARY = "canary-" + secrets.token_hex(8)  # the planted files' content, never in their name
CANARY_NAME = f".fuzz-canary-{secrets.token_hex(4)}.txt"
CANARY_DIRS = [WEB_DIR.parent, WEB_DIR, WEB_DIR / "templates"]  # repo root, web/, templates/
ACTIONS = [a.value for a in Action]


@pytest.fixture(scope="module", autouse=True)
def canaries():
    planted = [folder / CANARY_NAME for folder in CANARY_DIRS]
    for path in planted:
        path.write_text(CANARY + "\n")
    try:
        yield
    finally:
        for path in planted:
            path.unlink(missing_ok=True)


def fresh():
    engine, preflight = FakeEngine(), FakePreflight()
    app = create_app(engine, {"TOKEN": TOKEN, "PREFLIGHT": preflight, "SSE_LIFETIME_S": 0.05,
                              "SSE_HEARTBEAT_S": 0.01, "AUTH_MAX_FAILURES": 10**6})
    return app.test_client(), engine, preflight


def authorized(client):
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {TOKEN}"
    return client


def leaks(blob: bytes) -> list[str]:
    found = []
    if TOKEN.encode() in blob:
        found.append("the token")
    if CANARY.encode() in blob:
        found.append("a file outside web/static")
    if b"root:x:0:0" in blob:
        found.append("/etc/passwd")
    if b"{% if authorized %}" in blob:
        found.append("the template's source")
    return found


def check_answer(response, path: str, cookie: str | None = None) -> None:
    """What holds for every answer, valid request or not. The one place the token may be sent
    back is the page's renewal of the cookie its request presented (``cookie``, the right one)."""
    body = response.get_data()
    renewal = f"soundscape_token={TOKEN};"
    headers = "".join(f"{k}: {v}\n" for k, v in response.headers.items()
                      if not (cookie == TOKEN and path == "/" and k == "Set-Cookie"
                              and v.startswith(renewal))).encode()
    assert response.status_code < 500, (path, response.status_code, body[:300])
    assert not leaks(body + headers), (path, leaks(body + headers))
    decoded = unquote(path.split("?", 1)[0])
    if decoded == "/api" or decoded.startswith("/api/"):
        assert response.is_json, (path, response.status_code, body[:200])
        if response.status_code >= 400:
            assert isinstance(response.json.get("error"), str) and response.json["error"]
    elif response.status_code == 200 and body:  # the page, the report or a file in web/static
        assert (b'<main id="main">' in body or b"<title>Session report" in body
                or body in STATIC_FILES), (path, body[:200])


# -- bodies ----------------------------------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-(10**400), max_value=10**400)
    | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner,
                                                                 max_size=3),
    max_leaves=8)
field_names = st.sampled_from(["action", "by", "level", "minutes", "seconds", "direction", "now",
                               "path", "id", "text"]) | st.text(max_size=8)
commands_like = st.builds(
    lambda action, rest: {"action": action, **rest},
    st.sampled_from(ACTIONS) | st.text(max_size=12) | json_values,
    st.dictionaries(field_names, json_values, max_size=3))


def dumps(value) -> bytes:
    return json.dumps(value).encode()


bodies = st.one_of(
    st.binary(max_size=600),
    commands_like.map(dumps),
    json_values.map(dumps),
    st.builds(lambda value, cut: dumps(value)[:cut], commands_like,  # truncated
              st.integers(0, 80)),
    st.builds(lambda opener, n: (opener * n).encode(),  # deep nesting, some past the size limit
              st.sampled_from(["[", '{"a":', '[{"by":', '{"action":"pause","by":[']),
              st.integers(1, 17000)),
    st.builds(lambda digits: (b'{"action": "set_level", "level": ' + b"9" * digits + b"}"),
              st.integers(1, 5000)),  # integers past float range
    st.builds(lambda n: b'{"action": "pause", "by": "' + b"x" * n + b'"}',
              st.integers(LIMIT - 40, 300_000)),  # around and over the limit
    st.sampled_from([b"", b" ", b"null", b"{}", b"[]", b'"pause"', b"NaN", b'{"by": null}',
                     b'{"action": "set_level", "level": NaN}', b'{"by": "Ana"}', b"\xef\xbb\xbf{}",
                     '{"action": "hush", "by": "\u00c5sa \u202e"}'.encode("utf-16")]),
)


def expected_command(raw: bytes):
    """(status, Command or None) that the command endpoint must answer."""
    if len(raw) > LIMIT:
        return 413, None
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError):
        return 400, None
    try:
        return 200, parse_command(data, source="api")
    except CommandError:
        return 400, None


def expected_preflight(raw: bytes) -> int:
    if len(raw) > LIMIT:
        return 413
    if not raw.strip():
        return 202
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError):
        return 400
    if not isinstance(data, dict) or set(data) - {"by"} or not isinstance(data.get("by", ""), str):
        return 400
    return 202


@FUZZ
@given(raw=bodies)
def test_any_command_body(raw):
    CASES["command bodies"] += 1
    client, engine, preflight = fresh()
    response = authorized(client).post("/api/commands", data=raw, content_type="application/json")
    check_answer(response, "/api/commands")
    status, command = expected_command(raw)
    assert response.status_code == status, (raw[:100], response.json)
    assert engine.commands == ([command] if command else [])
    assert preflight.calls == []


@FUZZ
@given(raw=bodies)
def test_any_preflight_body(raw):
    CASES["pre-flight bodies"] += 1
    client, engine, preflight = fresh()
    response = authorized(client).post("/api/preflight", data=raw,
                                       content_type="application/json")
    check_answer(response, "/api/preflight")
    status = expected_preflight(raw)
    assert response.status_code == status, (raw[:100], response.json)
    client.application.extensions["soundscape_preflight"].join(5)
    assert len(preflight.calls) == (1 if status == 202 else 0)
    assert engine.commands == []


@FUZZ
@given(action=st.text(max_size=40).filter(lambda a: a not in ACTIONS), by=st.text(max_size=60))
def test_unknown_actions(action, by):
    CASES["unknown actions"] += 1
    client, engine, _ = fresh()
    response = authorized(client).post("/api/commands", json={"action": action, "by": by})
    check_answer(response, "/api/commands")
    assert response.status_code == 400
    assert response.json["error"].startswith(f"unknown action {action!r}; valid actions: start, ")
    assert engine.commands == []


# -- headers ---------------------------------------------------------------------------------

header_text = st.text(st.characters(blacklist_categories=("Cc", "Cs")), max_size=60)
VALID_AUTH = [f"Bearer {TOKEN}", f"bearer {TOKEN}", f"BEARER {TOKEN}", f"Bearer  {TOKEN}",
              f"Bearer {TOKEN} "]
invalid_auth = st.one_of(
    st.sampled_from(["", "Bearer", "Bearer ", "Bearer  x", f"Basic {TOKEN}", TOKEN,
                     "Basic " + base64.b64encode(f"user:{TOKEN}".encode()).decode(),
                     f"Token {TOKEN}", f"Bearer {TOKEN}x", f"Bearer {TOKEN[:-1]}",
                     f"Bearer\t{TOKEN}", f"BearerBearer {TOKEN}", f"Bearer {TOKEN.upper()}",
                     "Bearer t\u00f6k\u00e9n-\u00fcn\u00efc\u00f8d\u00e9", "Bearer \u202e" + TOKEN,
                     f"Bearer {TOKEN}\u200b", "Bearer " + "A" * 100_000]),
    header_text.map(lambda t: "Bearer " + t),
    header_text,
    st.text(st.characters(blacklist_categories=("Cc", "Cs")), min_size=1000, max_size=5000),
).filter(lambda v: v not in VALID_AUTH)
CONTENT_TYPES = [("application/json", True), ("application/json; charset=utf-8", True),
                 ("Application/JSON", True), ("text/plain", False), ("text/json", False),
                 ("application/x-www-form-urlencoded", False), ("application/jsonx", False),
                 ("multipart/form-data; boundary=x", False), ("application/json+x", False)]
ORIGINS = st.sampled_from([None, "http://localhost", "null", "http://localhost:8700",
                           "https://localhost", "http://localhost.evil.example", "http://127.0.0.1",
                           "HTTP://LOCALHOST", "http://localhost/", "file://", "",
                           "http://evil.example"]) | header_text
ENDPOINTS = [("POST", "/api/commands"), ("POST", "/api/preflight"), ("GET", "/api/state"),
             ("GET", "/api/log"), ("GET", "/api/preflight"), ("GET", "/report"), ("GET", "/"),
             ("DELETE", "/api/commands"), ("PUT", "/api/preflight")]
COOKIES = [None, TOKEN, "wrong", TOKEN + "x", ""]


@settings(FUZZ, max_examples=1500)
@given(endpoint=st.sampled_from(ENDPOINTS),
       auth=st.lists(st.sampled_from(VALID_AUTH) | invalid_auth, max_size=2),
       cookie=st.sampled_from(COOKIES),
       content_type=st.sampled_from(CONTENT_TYPES + [(None, False)])
       | header_text.filter(lambda t: t.split(";")[0].strip().lower() != "application/json")
       .map(lambda t: (t, False)),
       origin=ORIGINS,
       fetch_site=st.sampled_from([None, "same-origin", "none", "same-site", "cross-site",
                                   "CROSS-SITE"]),
       valid_body=st.booleans())
def test_header_games(endpoint, auth, cookie, content_type, origin, fetch_site, valid_body):
    CASES["header games"] += 1
    method, path = endpoint
    client, engine, preflight = fresh()
    headers = [("Authorization", value) for value in auth]
    if origin is not None:
        headers.append(("Origin", origin))
    if fetch_site is not None:
        headers.append(("Sec-Fetch-Site", fetch_site))
    ctype, ctype_ok = content_type
    if ctype is not None:
        headers.append(("Content-Type", ctype))
    if cookie is not None:
        client.set_cookie("soundscape_token", cookie, domain="localhost")
    body = {"action": "hush", "by": "Ana"} if path == "/api/commands" else {"by": "Ana"}
    data = json.dumps(body if valid_body else {"action": 7})
    response = client.open(path, method=method, headers=headers, data=data)
    check_answer(response, path, cookie)

    if auth:  # the header wins over the cookie; two headers are joined and never match
        token_ok = len(auth) == 1 and auth[0] in VALID_AUTH
    else:
        token_ok = cookie == TOKEN
    if path == "/":
        expected = 200 if cookie == TOKEN else 401  # the page reads the cookie or ?token= only
    elif not token_ok:
        expected = 401
    elif method == "GET":
        expected = 200
    elif method != "POST":  # routing answers before the same-origin guard
        expected = 405
    elif fetch_site == "CROSS-SITE" or fetch_site == "cross-site" or (
            origin is not None and origin != "http://localhost"):
        expected = 403
    elif not ctype_ok:
        expected = 415
    elif not valid_body:
        expected = 400
    else:
        expected = 200 if path == "/api/commands" else 202
    assert response.status_code == expected, (method, path, auth, cookie, ctype, origin,
                                              fetch_site, response.status_code)
    client.application.extensions["soundscape_preflight"].join(5)
    sent = expected in (200, 202) and method == "POST"
    assert len(engine.commands) == (1 if sent and path == "/api/commands" else 0)
    assert len(preflight.calls) == (1 if sent and path == "/api/preflight" else 0)


# -- paths -----------------------------------------------------------------------------------

UP = ["../", "..%2f", "%2e%2e/", "%2e%2e%2f", "%2E%2E%2F", "..%5c", "..\\", "....//", ".%2e/",
      "%252e%252e%252f", "..%c0%af", "..;/", "%2e%2e%5c", "..%252f"]
TARGETS = [CANARY_NAME, f"web/{CANARY_NAME}", f"templates/{CANARY_NAME}", "templates/index.html",
           "etc/passwd", "pyproject.toml", "soundscape/web/auth.py", "../etc/passwd"]
traversal = st.builds(
    lambda start, ups, target, tail: start + "".join(ups) + target + tail,
    st.sampled_from(["/static/", "/static//", "/static/./", "/", "//", "/api/", "/report/",
                     "/static/%2f", "/static/app.js/", "/STATIC/", "/static\\"]),
    st.lists(st.sampled_from(UP), min_size=0, max_size=6),
    st.sampled_from(TARGETS),
    st.sampled_from(["", "%00", "%00.js", "?x=1", "/", "#frag", ";.css"]))
segment = st.text(st.characters(min_codepoint=33, max_codepoint=0x2fff,
                                blacklist_categories=("Cs",), blacklist_characters="?#"),
                  max_size=12)
paths = st.one_of(
    traversal,
    st.lists(segment, max_size=4).map(lambda parts: "/api/" + "/".join(parts)),
    st.lists(segment, max_size=4).map(lambda parts: "/" + "/".join(parts)),
    st.sampled_from(["/static/../../etc/passwd", "/static/%2e%2e/%2e%2e/etc/passwd",
                     "/static/..%2f..%2fetc%2fpasswd", "/static/app.js", "/static/icon.svg",
                     "/api", "/api/", "/api/state/", "/api//state", "/api/commands/../state",
                     "/api/%2e%2e/report", "/api/%73tate", "/api/events/x", "/report/x"]),
)
METHODS = ["GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD", "TRACE", "PROPFIND"]


@settings(FUZZ, max_examples=1000)
@given(path=paths, method=st.sampled_from(METHODS), with_token=st.booleans())
def test_any_path(path, method, with_token):
    assume(not path.startswith("//"))  # the test client reads that as a host; see the raw test
    CASES["paths (test client)"] += 1
    client, engine, preflight = fresh()
    if with_token:
        authorized(client)
    response = client.open(path, method=method, data=b'{"action": "start"}' if method == "POST"
                           else None, content_type="application/json")
    if method != "HEAD":
        check_answer(response, path)
    assert response.status_code < 500
    decoded = unquote(path.split("?", 1)[0])
    if not (with_token and method == "POST" and decoded == "/api/commands"):
        assert engine.commands == []
    if not (with_token and method == "POST" and decoded == "/api/preflight"):
        assert preflight.calls == []


# -- the same on the real server, byte for byte ----------------------------------------------

@pytest.fixture(scope="module")
def server():
    engine, preflight = FakeEngine(), FakePreflight()
    app = create_app(engine, {"TOKEN": TOKEN, "PREFLIGHT": preflight, "SSE_LIFETIME_S": 0.05,
                              "SSE_HEARTBEAT_S": 0.01, "AUTH_MAX_FAILURES": 10**6})
    with ServerThread(app, threads=4) as running:
        yield running, engine, preflight


def raw_request(port: int, request: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(request)
        chunks = []
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                return b"".join(chunks)
            chunks.append(chunk)


raw_header_value = st.one_of(
    st.sampled_from([b"Bearer", b"Bearer ", b"Bearer  x", b"Basic dXNlcjpwYXNz",
                     "Bearer t\u00f6k\u00e9n".encode(), "Bearer \u202e".encode() + TOKEN.encode(),
                     b"Bearer " + TOKEN.encode() + b"\xff", b"Bearer " + b"A" * 16000]),
    st.binary(max_size=80).filter(lambda b: not set(b) & {0, 10, 13}),
)
raw_paths = st.one_of(paths.map(lambda p: p.encode("utf-8")),
                      st.binary(min_size=1, max_size=60).filter(
                          lambda b: not set(b) & {0, 9, 10, 13, 32}).map(lambda b: b"/" + b))


@settings(FUZZ, max_examples=500)
@given(method=st.sampled_from(METHODS), path=raw_paths,
       auth=st.lists(raw_header_value, max_size=3),
       origin=st.sampled_from([b"null", b"http://127.0.0.1:1", b"https://127.0.0.1", b""])
       | st.none(),
       ctype=st.sampled_from([b"application/json", b"text/plain", b"application/json\xff",
                              b""]) | st.none())
def test_real_server_bytes(server, method, path, auth, origin, ctype):
    """No valid token is ever sent here: nothing may reach the engine or the pre-flight."""
    CASES["raw requests (waitress)"] += 1
    running, engine, preflight = server
    lines = [method.encode() + b" " + path + b" HTTP/1.1",
             f"Host: 127.0.0.1:{running.port}".encode()]
    lines += [b"Authorization: " + value for value in auth]
    if origin is not None:
        lines.append(b"Origin: " + origin)
    if ctype is not None:
        lines.append(b"Content-Type: " + ctype)
    body = b'{"action": "start"}'
    lines += [f"Content-Length: {len(body)}".encode(), b"Connection: close"]
    answer = raw_request(running.port, b"\r\n".join(lines) + b"\r\n\r\n" + body)
    head, _, payload = answer.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    assert 200 <= status < 500, (method, path, head[:200])
    assert not leaks(answer), (path, leaks(answer))
    decoded = unquote(path.split(b"?", 1)[0].decode("latin-1"))
    answered_by_app = b"Content-Type: application/json" in head or b"text/html" in head
    if (decoded == "/api" or decoded.startswith("/api/")) and answered_by_app:
        assert b"Content-Type: application/json" in head, (path, head[:300])
    if status == 200 and payload and method != "HEAD" and not (
            decoded == "/api" or decoded.startswith("/api/")):
        assert (b'<main id="main">' in payload or payload in STATIC_FILES), (path, payload[:200])
    assert engine.commands == []
    assert preflight.calls == []


def test_real_server_api_errors_are_json(server):
    """The cases above that reach the app under /api/ all answer JSON; spot-check the forms."""
    running, _, _ = server
    for path in (b"/api/%2e%2e/etc/passwd", b"/api/..%2f..%2fetc%2fpasswd", b"/api/%ff",
                 b"/api/state", b"/api/commands", b"/api/events"):
        answer = raw_request(running.port, b"GET " + path + b" HTTP/1.1\r\nHost: x\r\n"
                             b"Authorization: Bearer  x\r\nConnection: close\r\n\r\n")
        head, _, payload = answer.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 401 "), (path, head)
        assert b"Content-Type: application/json" in head
        assert json.loads(payload)["error"].startswith("missing or wrong token")


def test_real_server_refuses_a_path_that_is_not_utf8_before_the_app(server):
    """waitress answers these itself (plain text, 400): they never reach the app or the engine."""
    running, engine, _ = server
    answer = raw_request(running.port, b"GET /api/\xff HTTP/1.1\r\nHost: x\r\n"
                         b"Connection: close\r\n\r\n")
    head, _, payload = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 400 "), head
    assert payload.startswith(b"Bad Request"), payload
    assert engine.commands == []

"""Pre-flight from the page: only before the start, one at a time, checks readable as they come."""

from __future__ import annotations

import time

import pytest

from soundscape.web import create_app
from soundscape.web.preflight import PreflightRunner, default_preflight

from webkit import TOKEN, FakeEngine, FakePreflight

NOT_READY = "pre-flight runs before the session starts: it plays a chime in the room"


def wait_done(client, timeout_s: float = 5.0) -> dict:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        body = client.get("/api/preflight").json
        if not body["running"]:
            return body
        time.sleep(0.01)
    raise AssertionError("the pre-flight did not finish")


def test_nothing_has_run_yet(client):
    response = client.get("/api/preflight")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    assert response.json == {"running": False, "checks": [], "passed": None, "by": "",
                             "started_at": None, "finished_at": None}


def test_a_run_is_202_and_its_checks_come_back(client, engine, preflight):
    response = client.post("/api/preflight", json={"by": "Ana"})
    assert response.status_code == 202
    assert response.json == {"running": True}
    body = wait_done(client)
    assert body["running"] is False and body["passed"] is True and body["by"] == "Ana"
    assert body["checks"] == [
        {"name": "playlist", "ok": True, "detail": "thursday.yaml: 3 phases, 4 tracks"},
        {"name": "output", "ok": True, "detail": "none: the silent output (nothing will be heard)"},
    ]
    assert body["started_at"] <= body["finished_at"]
    assert preflight.calls == [{"playlist_path": engine.playlist_path, "output": None,
                                "device": None, "room": None}]
    assert engine.commands == []  # the engine is not involved


@pytest.mark.parametrize("body", [b"", b"{}", b'{"by": ""}'])
def test_an_empty_body_or_object_is_enough(client, preflight, body):
    response = client.post("/api/preflight", data=body, content_type="application/json")
    assert response.status_code == 202
    wait_done(client)
    assert len(preflight.calls) == 1


def test_checks_show_while_it_runs_and_a_second_run_is_409(client, preflight):
    preflight.release.clear()
    try:
        assert client.post("/api/preflight", json={}).status_code == 202
        deadline = time.monotonic() + 5
        while len(client.get("/api/preflight").json["checks"]) < 2:
            assert time.monotonic() < deadline
            time.sleep(0.01)
        running = client.get("/api/preflight").json
        assert running["running"] is True and running["passed"] is None
        again = client.post("/api/preflight", json={})
        assert again.status_code == 409
        assert again.json == {"error": "a pre-flight is already running"}
    finally:
        preflight.release.set()
    assert wait_done(client)["passed"] is True
    assert len(preflight.calls) == 1
    assert client.post("/api/preflight", json={}).status_code == 202  # done: may run again
    wait_done(client)


def test_the_session_cannot_start_while_it_runs(client, engine, preflight):
    preflight.release.clear()
    try:
        client.post("/api/preflight", json={})
        response = client.post("/api/commands", json={"action": "start"})
        assert response.status_code == 409
        assert response.json["error"] == ("a pre-flight is running (it plays a chime in the "
                                          "room); start when it is done")
        assert response.json["state"]["status"] == "ready"
        assert engine.commands == []
        assert client.post("/api/commands", json={"action": "hush"}).status_code == 200
    finally:
        preflight.release.set()
    wait_done(client)
    assert client.post("/api/commands", json={"action": "start"}).status_code == 200


@pytest.mark.parametrize("status", ["playing", "paused", "ended"])
def test_after_the_start_it_is_409(client, engine, preflight, status):
    engine.set_state(status=status)
    response = client.post("/api/preflight", json={"by": "Ana"})
    assert response.status_code == 409
    assert response.json == {"error": NOT_READY}
    assert preflight.calls == []


def test_failures_make_it_not_passed(client, engine):
    engine_app = create_app(engine, {"TOKEN": TOKEN, "PREFLIGHT": FakePreflight(checks=(
        ("playlist", True, "ok"), ("file", False, "music/gone.ogg: cannot be opened")))})
    c = engine_app.test_client()
    c.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {TOKEN}"
    assert c.post("/api/preflight", json={}).status_code == 202
    body = wait_done(c)
    assert body["passed"] is False
    assert body["checks"][1] == {"name": "file", "ok": False,
                                 "detail": "music/gone.ogg: cannot be opened"}


def test_a_crash_is_a_failed_check_and_the_button_works_again(client, preflight):
    preflight.error = RuntimeError("no sound server")
    assert client.post("/api/preflight", json={}).status_code == 202
    body = wait_done(client)
    assert body["passed"] is False
    assert body["checks"][-1] == {"name": "pre-flight", "ok": False,
                                  "detail": "stopped with an error: no sound server"}
    preflight.error = None
    assert client.post("/api/preflight", json={}).status_code == 202
    assert wait_done(client)["passed"] is True


@pytest.mark.parametrize("body,message", [
    ([], 'the body must be a JSON object like {"by": "Ana"} (or {})'),
    ("Ana", 'the body must be a JSON object like {"by": "Ana"} (or {})'),
    ({"by": 3}, "'by' must be a string"),
    ({"by": "Ana", "output": "alsa"}, "unknown field 'output'; the only field is 'by'"),
])
def test_bad_bodies_are_400(client, preflight, body, message):
    import json

    response = client.post("/api/preflight", data=json.dumps(body),
                           content_type="application/json")
    assert response.status_code == 400
    assert response.json == {"error": message}
    assert preflight.calls == []


def test_guards_as_for_commands(anon, client, preflight):
    assert anon.post("/api/preflight", json={}).status_code == 401
    assert anon.get("/api/preflight").status_code == 401
    cross = client.post("/api/preflight", json={}, headers={"Origin": "http://evil.example"})
    assert cross.status_code == 403
    assert cross.json == {"error": "cross-origin requests are not allowed"}
    site = client.post("/api/preflight", json={}, headers={"Sec-Fetch-Site": "cross-site"})
    assert site.status_code == 403
    form = client.post("/api/preflight", data="by=Ana",
                       content_type="application/x-www-form-urlencoded")
    assert form.status_code == 415
    assert preflight.calls == []


def test_serve_settings_reach_the_preflight(preflight):
    engine = FakeEngine()
    room = object()
    app = create_app(engine, {"TOKEN": TOKEN, "PREFLIGHT": preflight, "PREFLIGHT_OUTPUT": "alsa",
                              "PREFLIGHT_DEVICE": "hw:1", "PREFLIGHT_ROOM": room})
    c = app.test_client()
    c.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {TOKEN}"
    c.post("/api/preflight", json={})
    wait_done(c)
    assert preflight.calls == [{"playlist_path": engine.playlist_path, "output": "alsa",
                                "device": "hw:1", "room": room}]


def test_the_default_is_the_real_preflight_on_the_silent_output(tmp_path):
    """Without a test double the runner calls ``run_preflight``; on ``none`` nothing sounds."""
    runner = PreflightRunner(default_preflight, output="none")
    assert runner.start(tmp_path / "missing.yaml")
    runner.join(30)
    body = runner.to_json()
    assert body["running"] is False and body["passed"] is False
    assert body["checks"][0]["name"] == "playlist" and body["checks"][0]["ok"] is False
    assert {"name": "output", "ok": True,
            "detail": "none: the silent output (nothing will be heard)"} in body["checks"]

"""The JSON API against the engine double: every action, every refusal, every guard."""

from __future__ import annotations

import json

import pytest

from soundscape.engine.commands import Action

from webkit import command


def as_json(state) -> dict:
    """The state as a client decodes it (tuples become lists)."""
    return json.loads(json.dumps(state.to_json()))

ALL_ACTIONS = [
    ({"action": "start"}, {}),
    ({"action": "pause"}, {}),
    ({"action": "resume"}, {}),
    ({"action": "skip"}, {}),
    ({"action": "next_phase"}, {}),
    ({"action": "extend"}, {}),  # the engine applies the room's default
    ({"action": "extend", "minutes": 10}, {"minutes": 10.0}),
    ({"action": "hold"}, {}),
    ({"action": "release"}, {}),
    ({"action": "set_level", "level": 40}, {"level": 40.0}),
    ({"action": "hush"}, {}),
    ({"action": "unhush"}, {}),
    ({"action": "fade_out"}, {}),
    ({"action": "fade_out", "seconds": 30}, {"seconds": 30.0}),
    ({"action": "stop"}, {}),
    ({"action": "dose"}, {}),
    ({"action": "booster"}, {}),
    ({"action": "intensity", "direction": "deeper"}, {"direction": "deeper"}),
    ({"action": "intensity", "direction": "softer", "now": True},
     {"direction": "softer", "now": True}),
    ({"action": "play_next", "path": "/m/salt-marsh.ogg"}, {"path": "/m/salt-marsh.ogg"}),
    ({"action": "ban", "path": "/m/low-tide.ogg"}, {"path": "/m/low-tide.ogg"}),
    ({"action": "ack_cue", "id": "c1"}, {"id": "c1"}),
    ({"action": "note", "text": "needs support"}, {"text": "needs support"}),
]


def test_every_action_in_the_contract_is_covered():
    assert {body["action"] for body, _ in ALL_ACTIONS} == {a.value for a in Action}


def test_state_is_the_engine_snapshot(client, engine):
    response = client.get("/api/state")
    assert response.status_code == 200
    assert response.json == as_json(engine.snapshot())
    assert response.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize("body,params", ALL_ACTIONS, ids=[str(b) for b, _ in ALL_ACTIONS])
def test_every_action_reaches_the_engine(client, engine, body, params):
    response = client.post("/api/commands", json={**body, "by": "Ana"})
    assert response.status_code == 200
    assert response.json["ok"] is True
    assert response.json["state"] == as_json(engine.snapshot())
    [command] = engine.commands
    assert command.action.value == body["action"]
    assert command.params == params
    assert command.by == "Ana"
    assert command.source == "api"


def test_pause_changes_the_returned_state(client):
    client.post("/api/commands", json={"action": "start"})
    response = client.post("/api/commands", json={"action": "pause", "by": "Ben"})
    assert response.json["state"]["status"] == "paused"


@pytest.mark.parametrize("body,message", [
    ({"action": "explode"}, "unknown action 'explode'; valid actions: start, pause, resume, skip, "
                            "next_phase, extend, hold, release, set_level, hush, unhush, fade_out, "
                            "stop, dose, booster, intensity, play_next, ban, ack_cue, note"),
    ({}, "'action' is required and must be a string"),
    ({"action": 3}, "'action' is required and must be a string"),
    ({"action": "set_level"}, "set_level needs 'level' (0-100)"),
    ({"action": "set_level", "level": 140}, "'level' must be between 0 and 100, not 140"),
    ({"action": "set_level", "level": "loud"}, "'level' must be a number, not 'loud'"),
    ({"action": "extend", "minutes": True}, "'minutes' must be a number, not True"),
    ({"action": "pause", "level": 3}, "pause takes no parameter 'level' (parameters: none)"),
    ({"action": "pause", "by": 7}, "'by' must be a string"),
    ([{"action": "pause"}], 'the body must be a JSON object like {"action": "pause"}'),
    ("pause", 'the body must be a JSON object like {"action": "pause"}'),
    (None, 'the body must be a JSON object like {"action": "pause"}'),
])
def test_bad_commands_are_400_with_the_reason(client, engine, body, message):
    response = client.post("/api/commands", data=json.dumps(body), content_type="application/json")
    assert response.status_code == 400
    assert response.json == {"error": message}
    assert engine.commands == []


@pytest.mark.parametrize("raw", [b"{not json", b"", b"\xff\xfe\x00", b"[1, 2"])
def test_body_that_is_not_json_is_400(client, engine, raw):
    response = client.post("/api/commands", data=raw, content_type="application/json")
    assert response.status_code == 400
    assert response.json["error"].startswith("the body is not valid JSON: ")
    assert engine.commands == []


def test_refused_command_is_409_with_reason_and_state(client, engine):
    engine.refuse_reason = "the session has not started"
    response = client.post("/api/commands", json={"action": "skip"})
    assert response.status_code == 409
    assert response.json == {"error": "the session has not started",
                             "state": as_json(engine.snapshot())}


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded",
                                          "multipart/form-data; boundary=x", None])
def test_non_json_content_type_is_415(client, engine, content_type):
    headers = {"Content-Type": content_type} if content_type else {}
    response = client.post("/api/commands", data='{"action": "stop"}', headers=headers)
    assert response.status_code == 415
    assert response.json == {"error": "send the command as JSON with Content-Type: "
                                      "application/json"}
    assert engine.commands == []


def test_json_with_charset_is_accepted(client):
    response = client.post("/api/commands", data='{"action": "start"}',
                           content_type="application/json; charset=utf-8")
    assert response.status_code == 200


def test_oversized_body_is_413_json(client, engine):
    body = '{"action": "pause", "by": "' + "x" * 20000 + '"}'
    response = client.post("/api/commands", data=body, content_type="application/json")
    assert response.status_code == 413
    assert response.is_json and "error" in response.json
    assert engine.commands == []


@pytest.mark.parametrize("headers", [
    {"Origin": "https://evil.example"},
    {"Origin": "http://localhost:9999"},
    {"Origin": "null"},
    {"Sec-Fetch-Site": "cross-site"},
])
def test_cross_site_post_is_403(client, engine, headers):
    response = client.post("/api/commands", json={"action": "stop"}, headers=headers)
    assert response.status_code == 403
    assert response.json["error"] in ("cross-site requests are not allowed",
                                      "cross-origin requests are not allowed")
    assert engine.commands == []


def test_same_origin_post_is_allowed(client):
    response = client.post("/api/commands", json={"action": "start"},
                           headers={"Origin": "http://localhost", "Sec-Fetch-Site": "same-origin"})
    assert response.status_code == 200


def test_engine_timeout_is_503_json(client, engine):
    engine.hung = True
    response = client.post("/api/commands", json={"action": "start"})
    assert response.status_code == 503
    assert response.json == {
        "error": "the player did not answer in time and nothing was done; try again",
        "state": json.loads(json.dumps(engine.snapshot().to_json()))}


def test_engine_crash_is_500_json_not_html(client, engine, app):
    app.testing = False  # let the error handler answer instead of re-raising

    def broken():
        raise RuntimeError("boom")
    engine.snapshot = broken
    response = client.get("/api/state")
    assert response.status_code == 500
    assert response.json == {"error": "internal error; the session keeps running"}


def test_unknown_api_route_is_404_json(client):
    response = client.get("/api/nope")
    assert response.status_code == 404
    assert response.is_json and response.json["error"]


def test_wrong_method_is_405_json(client):
    response = client.get("/api/commands")
    assert response.status_code == 405
    assert response.is_json and "POST" in response.headers["Allow"]


def test_log_is_the_engines_entries(client, engine):
    client.post("/api/commands", json={"action": "start", "by": "Ana"})
    response = client.get("/api/log")
    assert response.status_code == 200
    assert response.json == engine.log_entries()
    assert response.json[-1]["action"] == "start"


def test_tracks_are_the_engines_phase_tracks(client, engine):
    from soundscape.engine.state import Status

    engine.set_state(status=Status.PLAYING,
                     banned=({"path": "/m/salt-marsh.ogg", "title": "Salt Marsh"},))
    response = client.get("/api/tracks")
    assert response.status_code == 200
    assert response.json == engine.phase_tracks()
    assert response.headers["Cache-Control"] == "no-store"
    assert response.json["phase"] == "Arrival" and response.json["intensity"] == 3
    assert [(t["title"], t["playing"], t["banned"]) for t in response.json["tracks"]] == [
        ("Harbour Light", False, False), ("Low Tide", True, False), ("Salt Marsh", False, True),
        ("Deep Current", False, False)]


def test_tracks_are_read_only(client):
    response = client.post("/api/tracks", json={})
    assert response.status_code == 405
    assert response.is_json and response.headers["Allow"] in ("GET, HEAD", "HEAD, GET")


EXPECTED_CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'")


@pytest.mark.parametrize("path", ["/", "/?token=x", "/api/state", "/api/nope", "/static/app.js"])
def test_security_headers_on_every_response(client, path):
    response = client.get(path)
    assert response.headers["Content-Security-Policy"] == EXPECTED_CSP
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "no-referrer"


@pytest.mark.parametrize("path", ["/static/../soundscape/web/auth.py", "/static/%2e%2e/pyproject.toml",
                                  "/static/..%2f..%2fpyproject.toml", "/static//etc/passwd",
                                  "/static/../../../../etc/passwd"])
def test_no_files_outside_web_static(client, path):
    response = client.get(path, follow_redirects=True)
    assert response.status_code == 404
    assert b"import" not in response.data and b"root:" not in response.data


# ---------------------------------------------------------------- the same API over the real engine

def test_real_engine_state_before_start(real):
    client, engine = real
    state = client.get("/api/state").json
    assert state["status"] == "ready"
    assert [p["name"] for p in state["phases"]] == ["Arrival", "Journey", "Return"]
    assert state == as_json(engine.snapshot())


def test_real_engine_session_through_the_api(real):
    client, engine = real
    started = command(client, "start")
    assert started.status_code == 200
    assert started.json["state"]["status"] == "playing"
    assert started.json["state"]["phase"]["name"] == "Arrival"
    assert started.json["state"]["medicine"]["awaiting_dose"] is True

    assert command(client, "pause").json["state"]["status"] == "paused"
    again = command(client, "pause")
    assert again.status_code == 409
    assert again.json["error"] and again.json["state"]["status"] == "paused"
    assert command(client, "resume").json["state"]["status"] == "playing"

    before = client.get("/api/state").json["phase"]["remaining_s"]
    extended = command(client, "extend", minutes=5).json["state"]
    assert extended["phase"]["remaining_s"] == pytest.approx(before + 300, abs=1)

    assert command(client, "hold").json["state"]["phase"]["held"] is True
    assert command(client, "release").json["state"]["phase"]["held"] is False
    assert command(client, "hush").json["state"]["hushed"] is True
    assert command(client, "unhush").json["state"]["hushed"] is False
    assert command(client, "set_level", level=40).json["state"]["level_target"] == 40
    assert command(client, "skip").status_code == 200
    dosed = command(client, "dose").json["state"]
    assert dosed["phase"]["name"] == "Journey"  # the dose ends the dose phase
    assert dosed["medicine"]["dosed_at_s"] is not None
    again = command(client, "dose")
    assert again.status_code == 409 and again.json["error"].startswith("the dose was already marked")
    boosted = command(client, "booster").json["state"]
    assert len(boosted["medicine"]["boosters_s"]) == 1
    assert command(client, "next_phase").json["state"]["phase"]["name"] == "Return"
    assert command(client, "fade_out", seconds=30).json["state"]["ending"] is True
    assert command(client, "stop").status_code in (200, 409)  # already ending: engine's call

    log = client.get("/api/log").json
    actions = [e["action"] for e in log if e["event"] == "command"]
    assert actions[:3] == ["start", "pause", "pause"]
    assert all(e["by"] == "Ana" for e in log if e["event"] == "command")


def test_real_engine_refuses_what_does_not_apply(real):
    client, _ = real
    response = command(client, "resume")
    assert response.status_code == 409
    assert response.json["state"]["status"] == "ready"
    assert isinstance(response.json["error"], str) and response.json["error"]


def test_real_engine_stream_starts_with_its_state(real):
    client, engine = real
    response = client.get("/api/events", buffered=False)
    try:
        chunks = iter(response.response)
        assert next(chunks) == b"retry: 1000\n\n"
        text = next(chunks).decode()
    finally:
        response.close()
    revision = engine.snapshot().revision
    assert text.startswith(f"id: {revision}\nevent: state\ndata: ")
    assert json.loads(text.split("data: ", 1)[1]) == as_json(engine.snapshot())

"""The JSON API: read the state and the phase's tracks, send a command, read the session log.

Validation lives in ``parse_command`` (400); whether an action makes sense now is the engine's
call (409). This module only guards the door (same-origin, JSON, size) and translates.
"""

from __future__ import annotations

import json
from contextlib import nullcontext
from typing import Any

from flask import Blueprint, current_app, jsonify, request

from soundscape.engine.api import EngineAPI, EngineTimeout
from soundscape.engine.commands import Action, CommandError, parse_command
from soundscape.web.errors import json_error

bp = Blueprint("api", __name__, url_prefix="/api")

PREFLIGHT_RUNNING = "a pre-flight is running (it plays a chime in the room); start when it is done"
RESTARTED = ("the player restarted since this page last heard from it, so nothing was done; "
             "look at the page again and tap again")


def engine() -> EngineAPI:
    return current_app.extensions["soundscape"]


def _same_origin_error() -> str | None:
    """Why a state-changing request looks cross-site, or None.

    Browsers send ``Origin`` on cross-origin POSTs and ``Sec-Fetch-Site`` on all modern fetches;
    a page elsewhere (or on the same Wi-Fi) must not be able to drive the room through a
    facilitator's cookie.
    """
    if request.headers.get("Sec-Fetch-Site", "").lower() == "cross-site":
        return "cross-site requests are not allowed"
    origin = request.headers.get("Origin")
    if origin is not None and origin != f"{request.scheme}://{request.host}":
        return "cross-origin requests are not allowed"
    return None


@bp.before_request
def guard_writes():
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return None
    problem = _same_origin_error()
    if problem:
        return json_error(403, problem)
    return None


def read_json(what: str, empty: Any = None) -> tuple[Any, Any]:
    """``(data, None)`` or ``(None, error response)`` for a JSON request body.

    Only ``application/json`` is read: a cross-site form cannot send it without CORS, which this
    server never grants. ``empty`` stands for an empty body when given (None: an empty body is
    not JSON). Nesting too deep for the parser is a bad body like any other, not a crash.
    """
    if request.mimetype != "application/json":
        return None, json_error(415, f"send {what} as JSON with Content-Type: application/json")
    raw = request.get_data(cache=False)  # raises 413 past MAX_CONTENT_LENGTH
    if not raw.strip() and empty is not None:
        return empty, None
    try:
        return json.loads(raw), None
    except (ValueError, UnicodeDecodeError) as exc:
        return None, json_error(400, f"the body is not valid JSON: {exc}")
    except RecursionError:
        return None, json_error(400, "the body is not valid JSON: nested too deeply")


@bp.get("/state")
def get_state():
    return jsonify(engine().snapshot().to_json())


@bp.get("/tracks")
def get_tracks():
    """The current phase's tracks (before the start: the first phase's), for the page's picker:
    read when a facilitator opens it, not pushed with every state, as a phase may hold many."""
    return jsonify(engine().phase_tracks())


@bp.get("/log")
def get_log():
    return jsonify(list(engine().log_entries()))


@bp.post("/commands")
def post_command():
    data, problem = read_json("the command")
    if problem is not None:
        return problem
    seen_epoch = data.pop("epoch", None) if isinstance(data, dict) else None
    if seen_epoch is not None and not isinstance(seen_epoch, str):
        return json_error(400, "'epoch' must be a string (the state's epoch)")
    try:
        command = parse_command(data, source="api")
    except CommandError as exc:
        return json_error(400, str(exc))
    if seen_epoch is not None and seen_epoch != engine().snapshot().epoch:
        # a tap meant for what the page showed before a restart is never carried out
        return json_error(409, RESTARTED, state=engine().snapshot().to_json())
    runner = current_app.extensions["soundscape_preflight"]
    with runner.gate if command.action is Action.START else nullcontext():
        if command.action is Action.START and runner.running:
            return json_error(409, PREFLIGHT_RUNNING, state=engine().snapshot().to_json())
        try:
            result, state = engine().submit(command,
                                            timeout_s=current_app.config["SUBMIT_TIMEOUT_S"])
        except EngineTimeout as exc:
            return json_error(503, str(exc), state=engine().snapshot().to_json())
    if not result.ok:
        return json_error(409, result.reason or "not possible now", state=state.to_json())
    return jsonify({"ok": True, "state": state.to_json()})

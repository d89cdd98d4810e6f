"""The facilitators' web app: ``create_app(engine, config)`` builds the Flask app around one engine.

The engine is injected (a real one from ``open_session`` or a test double) and routes reach it via
``current_app.extensions["soundscape"]``, using only its ``EngineAPI`` (soundscape/engine/api.py);
nothing here imports VLC or touches playback state.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask, Response, request

from soundscape.engine.api import EngineAPI
from soundscape.errors import SoundscapeError
from soundscape.web import api, auth, errors, events, pages, preflight, report
from soundscape.web.errors import is_api_request

WEB_DIR = Path(__file__).resolve().parent  # templates/ and static/ ship inside the package

DEFAULTS: dict[str, Any] = {
    "TOKEN": None,  # required: the shared secret of this session
    "TOKEN_FILE": None,  # the lasting token's file, when TOKEN came from it: watched for --rotate
    "MAX_CONTENT_LENGTH": 16 * 1024,  # bytes; a command is a few dozen
    "SSE_HEARTBEAT_S": 1.0,  # a ping this often without a state: the page's sign of life
    "SSE_LIFETIME_S": 30 * 60.0,  # bounded so a forgotten phone frees its server thread
    "SSE_RETRY_MS": 1000,  # how soon EventSource reconnects
    "AUTH_MAX_FAILURES": 5,  # wrong tokens allowed per address and window...
    "AUTH_WINDOW_S": 60.0,  # ...after which the address gets 429 until the window clears
    "AUTH_MAX_ADDRESSES": 1024,  # bound on the failure bookkeeping
    "COOKIE_MAX_AGE_S": 14 * 24 * 3600,  # a clinic fortnight: the token itself lasts until rotated
    "SUBMIT_TIMEOUT_S": 2.0,
    "PROVIDE_AUTOMATIC_OPTIONS": False,  # no CORS here: OPTIONS is a 405 (JSON under /api/)
    "PREFLIGHT": None,  # the pre-flight function; None: soundscape.preflight.run_preflight
    "PREFLIGHT_OUTPUT": None,  # the output kind, device and Room pre-flight opens its own output
    "PREFLIGHT_DEVICE": None,  # with (what serve was given; None: the room's, then auto)
    "PREFLIGHT_ROOM": None,
    "ROOM_NAME": None,  # the join page says which room (roomlink.room_name)
}

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'")


def create_app(engine: EngineAPI, config: dict[str, Any] | None = None) -> Flask:
    """Build the app for one session. ``config["TOKEN"]`` is required and must be non-empty."""
    app = Flask(__name__, template_folder=str(WEB_DIR / "templates"),
                static_folder=str(WEB_DIR / "static"), static_url_path="/static")
    app.config.update(DEFAULTS)
    app.config.update(config or {})
    token = app.config["TOKEN"]
    if not isinstance(token, str) or not token:
        raise SoundscapeError("the web app needs a non-empty access token")
    app.json.sort_keys = False
    # "/api//state" is a 404 like any other wrong path, not a redirect with an HTML body.
    app.url_map.merge_slashes = False
    app.extensions["soundscape"] = engine
    app.extensions["soundscape_limiter"] = auth.FailureLimiter(
        max_failures=app.config["AUTH_MAX_FAILURES"], window_s=app.config["AUTH_WINDOW_S"],
        max_addresses=app.config["AUTH_MAX_ADDRESSES"])
    app.extensions["soundscape_preflight"] = preflight.make_runner(app.config)
    if app.config.get("TOKEN_FILE"):  # the room's lasting token: a rotation takes effect at once
        app.extensions["soundscape_token"] = auth.LastingToken(Path(app.config["TOKEN_FILE"]),
                                                               token)

    app.register_blueprint(auth.bp)
    app.register_blueprint(pages.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(events.bp)
    app.register_blueprint(preflight.bp)
    app.register_blueprint(report.bp)
    app.after_request(_security_headers)
    errors.register(app)
    return app


def _security_headers(response: Response) -> Response:
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CSP)  # /report sets a stricter one of its own
    headers["X-Frame-Options"] = "DENY"
    headers["X-Content-Type-Options"] = "nosniff"
    headers["Referrer-Policy"] = "no-referrer"
    if is_api_request():
        headers.setdefault("Cache-Control", "no-store")
    elif not request.path.startswith("/static/"):
        headers["Cache-Control"] = "no-store"  # the page embeds nothing secret, but is per-session
    return response

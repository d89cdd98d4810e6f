"""Server-Sent Events: every phone sees every change at once, without polling.

Each connection holds one server thread (waitress ``threads=``) while it blocks in
``engine.wait_for_change``. The stream sends the full state on connect and on each new revision, a
``ping`` event whenever a heartbeat passes without one (so the page knows within seconds that it
still hears the server, dead connections are noticed on write and idle ones survive), and a
``bye`` event when it ends after its bounded lifetime, so the page reconnects at once rather than
taking the silence for a lost server.
"""

from __future__ import annotations

import json
import time
from typing import Any, Callable, Iterator

from flask import Blueprint, Response, current_app, request

bp = Blueprint("events", __name__, url_prefix="/api")


def format_state(state: Any) -> str:
    data = json.dumps(state.to_json(), separators=(",", ":"))
    return f"id: {state.revision}\nevent: state\ndata: {data}\n\n"


def format_signal(event: str, state: Any) -> str:
    """A ``ping`` or ``bye``: the epoch and revision the stream is at, nothing else."""
    data = json.dumps({"epoch": state.epoch, "revision": state.revision}, separators=(",", ":"))
    return f"event: {event}\ndata: {data}\n\n"


GONE_CHECK_S = 0.25  # how often a stream asks whether its page has gone (when the server can say)


def state_stream(engine: Any, *, heartbeat_s: float, lifetime_s: float, retry_ms: int,
                 now: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep,
                 gone: Callable[[], bool] | None = None) -> Iterator[str]:
    """Yield SSE text until ``lifetime_s`` has passed.

    A client that goes away is noticed when the next write fails: the server closes the generator
    (GeneratorExit at a ``yield``), which ends it cleanly with nothing left behind. Where the
    server tells (``gone``: waitress's ``waitress.client_disconnected``), the stream ends within
    GONE_CHECK_S of the page closing, so its thread is free for the next page at once.
    """
    started = now()
    yield f"retry: {int(retry_ms)}\n\n"
    state = engine.snapshot()
    yield format_state(state)
    revision = state.revision
    last_write = now()
    while True:
        current = now()
        left_s = started + lifetime_s - current
        if left_s <= 0:
            yield format_signal("bye", state)
            return
        wait_s = max(0.0, min(heartbeat_s - (current - last_write), left_s))
        if gone is not None:
            if gone():
                return
            wait_s = min(wait_s, GONE_CHECK_S)
        asked = now()
        state = engine.wait_for_change(revision, timeout_s=wait_s)
        if state.revision > revision:
            revision = state.revision
            yield format_state(state)
            last_write = now()
        elif now() - last_write >= heartbeat_s:
            yield format_signal("ping", state)
            last_write = now()
        elif now() - asked < wait_s / 2:
            sleep(min(0.2, wait_s))  # an engine that returns early (shut down) must not spin


@bp.get("/events")
def events():
    config = current_app.config
    stream = state_stream(current_app.extensions["soundscape"],
                          heartbeat_s=float(config["SSE_HEARTBEAT_S"]),
                          lifetime_s=float(config["SSE_LIFETIME_S"]),
                          retry_ms=int(config["SSE_RETRY_MS"]),
                          gone=request.environ.get("waitress.client_disconnected"))
    response = Response(stream, mimetype="text/event-stream")
    response.headers["Cache-Control"] = "no-cache, no-store"
    response.headers["X-Accel-Buffering"] = "no"  # tell any reverse proxy not to hold events back
    return response

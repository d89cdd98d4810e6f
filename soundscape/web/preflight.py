"""Pre-flight from the page: run ``soundscape.preflight`` in the background and report its checks.

Pre-flight plays a chime through the room, so it runs only before the session starts, one run at
a time, and the session cannot be started while it runs. It opens an output of its own (the kind,
device and room ``soundscape serve`` was given); the engine's output is never touched. A run takes
5-15 s, so ``POST`` answers 202 at once and the page polls ``GET`` for the checks as they come.
"""

from __future__ import annotations

import threading
from datetime import datetime
from typing import Any, Callable

from flask import Blueprint, current_app, jsonify

from soundscape.engine.state import Status
from soundscape.preflight import run_preflight
from soundscape.web import api
from soundscape.web.errors import json_error

bp = Blueprint("preflight", __name__, url_prefix="/api")
bp.before_request(api.guard_writes)

MAX_BY_CHARS = 40
NOT_READY = "pre-flight runs before the session starts: it plays a chime in the room"
ALREADY_RUNNING = "a pre-flight is already running"


def now_iso() -> str:
    """Local wall time with its offset, like the session log's ``t``."""
    return datetime.now().astimezone().isoformat(timespec="milliseconds")


def default_preflight(playlist_path: Any, *, output: str | None, device: str | None,
                      room: Any, on_check: Callable) -> list:
    return run_preflight(playlist_path, output=output, device=device, room=room,
                         on_check=on_check)


class PreflightRunner:
    """One pre-flight at a time, on its own thread; its checks readable while it runs.

    ``run_fn`` has the shape of ``default_preflight``; tests pass one that plays nothing.
    """

    def __init__(self, run_fn: Callable, *, output: str | None = None, device: str | None = None,
                 room: Any = None):
        self.run_fn = run_fn
        self.output, self.device, self.room = output, device, room
        self._lock = threading.Lock()
        # Held while deciding to start a pre-flight or the session, so the two never overlap.
        self.gate = threading.Lock()
        self._thread: threading.Thread | None = None
        self.running = False
        self.checks: list[dict] = []
        self.passed: bool | None = None
        self.by = ""
        self.started_at: str | None = None
        self.finished_at: str | None = None

    def start(self, playlist_path: Any, by: str = "") -> bool:
        """Start a run; False when one is already running."""
        with self._lock:
            if self.running:
                return False
            self.running, self.checks, self.passed = True, [], None
            self.by, self.started_at, self.finished_at = by, now_iso(), None
            self._thread = threading.Thread(target=self._run, args=(playlist_path,),
                                            name="preflight", daemon=True)
            self._thread.start()
            return True

    def _run(self, playlist_path: Any) -> None:
        def on_check(check: Any) -> None:
            with self._lock:
                self.checks.append({"name": str(check.name), "ok": bool(check.ok),
                                    "detail": str(check.detail)})

        failure = None
        try:
            self.run_fn(playlist_path, output=self.output, device=self.device, room=self.room,
                        on_check=on_check)
        except Exception as exc:  # noqa: BLE001 - a crash is a failed pre-flight, not a dead button
            failure = {"name": "pre-flight", "ok": False,
                       "detail": f"stopped with an error: {exc or type(exc).__name__}"}
        with self._lock:
            if failure:
                self.checks.append(failure)
            self.passed = bool(self.checks) and all(c["ok"] for c in self.checks)
            self.finished_at = now_iso()
            self.running = False

    def join(self, timeout_s: float | None = None) -> None:
        thread = self._thread
        if thread is not None:
            thread.join(timeout_s)

    def to_json(self) -> dict:
        with self._lock:
            return {"running": self.running, "checks": list(self.checks),
                    "passed": None if self.running else self.passed, "by": self.by,
                    "started_at": self.started_at, "finished_at": self.finished_at}


def runner() -> PreflightRunner:
    return current_app.extensions["soundscape_preflight"]


def make_runner(config: dict) -> PreflightRunner:
    """From the app config: ``PREFLIGHT`` (the function), ``PREFLIGHT_OUTPUT``, ``_DEVICE``,
    ``_ROOM`` (what ``soundscape serve`` was given; None means the room's, then auto)."""
    return PreflightRunner(config.get("PREFLIGHT") or default_preflight,
                           output=config.get("PREFLIGHT_OUTPUT"),
                           device=config.get("PREFLIGHT_DEVICE"),
                           room=config.get("PREFLIGHT_ROOM"))


@bp.get("/preflight")
def get_preflight():
    return jsonify(runner().to_json())


@bp.post("/preflight")
def post_preflight():
    data, problem = api.read_json("the request", empty={})
    if problem is not None:
        return problem
    if not isinstance(data, dict):
        return json_error(400, 'the body must be a JSON object like {"by": "Ana"} (or {})')
    unknown = sorted(str(k) for k in data if k != "by")
    if unknown:
        return json_error(400, f"unknown field {unknown[0]!r}; the only field is 'by'")
    by = data.get("by", "")
    if not isinstance(by, str):
        return json_error(400, "'by' must be a string")
    by = "".join(ch for ch in by if ch.isprintable()).strip()[:MAX_BY_CHARS]
    engine = api.engine()
    with runner().gate:
        if engine.snapshot().status != Status.READY:
            return json_error(409, NOT_READY)
        if not runner().start(engine.playlist_path, by):
            return json_error(409, ALREADY_RUNNING)
    response = jsonify({"running": True})
    response.status_code = 202
    return response

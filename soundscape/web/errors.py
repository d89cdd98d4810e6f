"""Errors of the web layer: one JSON shape for every API error, plain pages elsewhere.

Every ``/api/`` answer that is not a success is ``{"error": message, ...}`` with its status, also
for Flask's own errors (404, 405, 413) and for a crash (500), so a phone always gets a sentence it
can show instead of an HTML error page.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, Response, jsonify, request
from werkzeug.exceptions import HTTPException, InternalServerError


def is_api_request() -> bool:
    return request.path == "/api" or request.path.startswith("/api/")


def json_error(status: int, message: str, **extra: Any) -> Response:
    """The one shape of every API error: ``{"error": message, ...}``."""
    response = jsonify({"error": message, **extra})
    response.status_code = status
    return response


def _http_error(exc: HTTPException):
    if not is_api_request():
        return exc
    response = json_error(exc.code or 500, exc.description or exc.name)
    for key, value in exc.get_headers():
        if key.lower() in ("allow", "retry-after"):
            response.headers[key] = value
    return response


def _internal_error(exc: InternalServerError):
    # Flask has already logged the traceback with the path only (never the query string).
    if is_api_request():
        return json_error(500, "internal error; the session keeps running")
    return Response("Internal error", status=500, mimetype="text/plain")


def register(app: Flask) -> None:
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(InternalServerError, _internal_error)

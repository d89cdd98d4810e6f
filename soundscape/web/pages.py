"""The control page: ``/`` trades the token link for a cookie, then serves the one-page controller.

Opening ``/?token=...`` once (the link or QR code ``soundscape serve`` prints) sets an HttpOnly,
SameSite=Strict cookie and redirects to a clean ``/``, so the token leaves the address bar and the
browser history. Without a valid cookie the page shows how to get in, never the controls.
``/manifest.webmanifest`` lets a phone add the page to its home screen as an app; it holds no
secret (the cookie, not the manifest, lets the app in), so it is served without the token.
"""

from __future__ import annotations

import math

from flask import Blueprint, current_app, jsonify, redirect, render_template, request

from soundscape.web import auth

bp = Blueprint("pages", __name__)


def _locked(status: int, message: str, retry_after_s: float = 0.0):
    response = current_app.make_response(
        (render_template("index.html", authorized=False, message=message), status))
    if retry_after_s > 0:
        response.headers["Retry-After"] = str(max(1, math.ceil(retry_after_s)))
    return response


@bp.get("/")
def index():
    token = request.args.get("token")
    candidate = token if token is not None else request.cookies.get(auth.COOKIE_NAME)
    status, wait_s = auth.check(candidate)
    if status == 429:
        return _locked(429, "Too many wrong links from this device. Wait a minute, then open "
                            "the link again.", wait_s)
    if status == 401:
        message = ("This link is no longer the room's (a new one was made). Scan the room card "
                   "on the box, or the code soundscape token shows."
                   if candidate is not None else
                   "Scan the room card on the box, or the code soundscape token shows, or ask "
                   "a facilitator to show you Join another phone.")
        return _locked(401, message)
    if token is not None:
        return _with_cookie(redirect("/", code=303), token)
    # Each visit renews the cookie: a phone in use is never locked out mid-session by its age.
    return _with_cookie(current_app.make_response(
        render_template("index.html", authorized=True, message="")), candidate)


def _with_cookie(response, token: str):
    response.set_cookie(auth.COOKIE_NAME, token, max_age=current_app.config["COOKIE_MAX_AGE_S"],
                        path="/", httponly=True, samesite="Strict", secure=request.is_secure)
    return response


@bp.get("/join")
def join():
    """The room's link as a QR code, for a second facilitator to scan from this phone's screen.

    Behind the token like the controls (it shows the token). It links to the address this phone
    used, which is known to work here; drawn dark on light whatever the page's mode, so any
    camera reads it.
    """
    status, wait_s = auth.check(request.cookies.get(auth.COOKIE_NAME))
    if status == 429:
        return _locked(429, "Too many wrong links from this device. Wait a minute, then open "
                            "the link again.", wait_s)
    if status != 200:
        return _locked(401, "Only a phone that has joined the room can show its code.")
    import segno

    url = f"{request.host_url}?token={auth.current_token()}"
    svg = segno.make(url, error="m").svg_inline(scale=6, dark="#000", light="#fff",
                                                 omitsize=False)
    response = current_app.make_response(
        render_template("join.html", room=current_app.config.get("ROOM_NAME") or "the room",
                        qr_svg=svg))
    response.headers["Cache-Control"] = "no-store"  # a key: never kept by the browser
    return response


MANIFEST = {
    "name": "soundscape",
    "short_name": "soundscape",
    "description": "The room's music: the session's state and controls",
    "start_url": "/",
    "scope": "/",
    "display": "standalone",
    "orientation": "portrait",
    "background_color": "#000000",
    "theme_color": "#000000",
    "icons": [
        {"src": "/static/icon-192.png", "sizes": "192x192", "type": "image/png", "purpose": "any"},
        {"src": "/static/icon-512.png", "sizes": "512x512", "type": "image/png", "purpose": "any"},
        # the same pictures: the wave sits well inside the middle 80 % a mask may keep
        {"src": "/static/icon-192.png", "sizes": "192x192", "type": "image/png",
         "purpose": "maskable"},
        {"src": "/static/icon-512.png", "sizes": "512x512", "type": "image/png",
         "purpose": "maskable"},
        {"src": "/static/icon.svg", "sizes": "any", "type": "image/svg+xml"},
    ],
}


@bp.get("/manifest.webmanifest")
def manifest():
    response = jsonify(MANIFEST)
    response.mimetype = "application/manifest+json"
    return response

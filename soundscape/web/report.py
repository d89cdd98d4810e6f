"""The session report from the page: ``/report`` renders the live log as the clinic's HTML report.

The report is ``soundscape.report.render_html`` over ``engine.log_entries()``, so what a
facilitator sees on a phone mid-session is the same document ``soundscape report`` writes
afterwards. It needs the token like the page (cookie or bearer header), and it gets a stricter CSP
of its own: its one inline ``<style>`` is allowed by hash, and nothing else may load or run.
"""

from __future__ import annotations

import base64
import hashlib
import re

from flask import Blueprint, current_app

from soundscape.engine.state import Status
from soundscape.report import render_html
from soundscape.web import auth, pages

bp = Blueprint("report", __name__)

_STYLE_BLOCK = re.compile(r"<style>(.*?)</style>", re.S)
_UNSAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


def report_csp(html: str) -> str:
    """A CSP allowing exactly the report's own style blocks (by hash) and nothing else at all.

    A hash rather than ``'unsafe-inline'``: log content is escaped by the renderer, but if escaping
    ever slipped, injected styles and scripts would still be refused.
    """
    hashes = sorted({"'sha256-" + base64.b64encode(hashlib.sha256(block.encode()).digest()).decode()
                     + "'" for block in _STYLE_BLOCK.findall(html)})
    style = " ".join(hashes) or "'none'"
    return (f"default-src 'none'; script-src 'none'; style-src {style}; "
            "frame-ancestors 'none'; base-uri 'none'; form-action 'none'")


def file_name(session_id: str) -> str:
    """A download name that cannot break out of the header: ``<session_id>.html``."""
    return (_UNSAFE_NAME.sub("-", session_id).strip("-.") or "session") + ".html"


@bp.get("/report")
def report():
    status, wait_s = auth.check(auth.presented_api_token())
    if status == 429:
        return pages._locked(429, "Too many wrong links from this device. Wait a minute, then "
                                  "open the link again.", wait_s)
    if status == 401:
        return pages._locked(401, "Open the control page with the link or QR code that "
                                  "soundscape serve printed, then the report from there.")
    engine = current_app.extensions["soundscape"]
    state = engine.snapshot()
    html = render_html(list(engine.log_entries()), live=state.status != Status.ENDED)
    response = current_app.make_response((html, 200, {"Content-Type": "text/html; charset=utf-8"}))
    response.headers["Content-Security-Policy"] = report_csp(html)
    response.headers["Content-Disposition"] = f'inline; filename="{file_name(state.session_id)}"'
    return response


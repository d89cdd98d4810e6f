"""Who may control the room: the session token (bearer header or cookie) and a brake on guessing.

The clinic Wi-Fi is shared, so every ``/api/`` request must carry the token that ``soundscape
serve`` prints as a link and QR code. Wrong tokens are counted per address; past the limit the
address gets 429 without its token even being compared, so guessing cannot go faster than
``AUTH_MAX_FAILURES`` per ``AUTH_WINDOW_S``.
"""

from __future__ import annotations

import hmac
import math
import threading
import time
from collections import OrderedDict, deque
from typing import Callable

from flask import Blueprint, current_app, request

from soundscape.web.errors import is_api_request, json_error

COOKIE_NAME = "soundscape_token"

bp = Blueprint("auth", __name__)


class FailureLimiter:
    """Counts recent wrong tokens per address, in bounded memory (oldest addresses are dropped)."""

    def __init__(self, max_failures: int = 5, window_s: float = 60.0, max_addresses: int = 1024,
                 now: Callable[[], float] = time.monotonic):
        self.max_failures = max_failures
        self.window_s = window_s
        self.max_addresses = max_addresses
        self.now = now
        self._failures: OrderedDict[str, deque[float]] = OrderedDict()
        self._lock = threading.Lock()

    def retry_after_s(self, address: str) -> float:
        """Seconds until ``address`` may try again; 0 when it is not blocked."""
        with self._lock:
            times = self._recent(address)
            if len(times) < self.max_failures:
                return 0.0
            return max(0.0, times[0] + self.window_s - self.now())

    def record_failure(self, address: str) -> None:
        with self._lock:
            times = self._recent(address)
            times.append(self.now())
            self._failures[address] = times
            self._failures.move_to_end(address)
            while len(self._failures) > self.max_addresses:
                self._failures.popitem(last=False)

    def tracked_addresses(self) -> int:
        return len(self._failures)

    def _recent(self, address: str) -> deque[float]:
        times = self._failures.get(address, deque(maxlen=self.max_failures))
        cutoff = self.now() - self.window_s
        while times and times[0] <= cutoff:
            times.popleft()
        if not times:
            self._failures.pop(address, None)
        return times


class LastingToken:
    """The room's token as its file holds it now (``TOKEN_FILE``): ``soundscape token --rotate``
    locks the old link and every phone holding it out at once, with no restart of serve (which
    would end a session under way). The file is looked at (a stat) at most once a second; a file
    that cannot be read keeps the token last read."""

    def __init__(self, path, token: str, now: Callable[[], float] = time.monotonic):
        self.path, self.token, self.now = path, token, now
        self._stamp = self._stat()
        self._next_look = 0.0
        self._lock = threading.Lock()

    def _stat(self):
        try:
            st = self.path.stat()
            return st.st_mtime_ns, st.st_size, st.st_ino
        except OSError:
            return None

    def current(self) -> str:
        with self._lock:
            if self.now() >= self._next_look:
                self._next_look = self.now() + 1.0
                stamp = self._stat()
                if stamp is not None and stamp != self._stamp:
                    from soundscape import roomtoken
                    from soundscape.errors import SoundscapeError

                    try:
                        self.token = roomtoken.load(self.path)[0]
                        self._stamp = stamp
                    except SoundscapeError:
                        pass
            return self.token


def current_token() -> str:
    lasting = current_app.extensions.get("soundscape_token")
    return lasting.current() if lasting is not None else current_app.config["TOKEN"]


def token_matches(candidate: str | None) -> bool:
    """Constant-time comparison, so response timing says nothing about the token."""
    if candidate is None:
        return False
    expected = current_token().encode()
    return hmac.compare_digest(candidate.encode("utf-8", "surrogateescape"), expected)


def presented_api_token() -> str | None:
    """The bearer token if an Authorization header is sent, else the page's cookie, else None."""
    header = request.headers.get("Authorization")
    if header is not None:
        scheme, _, value = header.partition(" ")
        return value.strip() if scheme.lower() == "bearer" else ""
    return request.cookies.get(COOKIE_NAME)


def limiter() -> FailureLimiter:
    return current_app.extensions["soundscape_limiter"]


def address() -> str:
    return request.remote_addr or "unknown"


def check(candidate: str | None) -> tuple[int, float]:
    """Judge one presented token: ``(200, 0)``, ``(401, 0)`` or ``(429, retry_after_s)``.

    A blocked address is answered before its token is compared. An absent token is not a guess
    and is not counted, so opening the bare address a few times never locks a phone out.
    """
    wait_s = limiter().retry_after_s(address())
    if wait_s > 0:
        return 429, wait_s
    if token_matches(candidate):
        return 200, 0.0
    if candidate is not None:
        limiter().record_failure(address())
    return 401, 0.0


@bp.before_app_request
def guard_api():
    """Every ``/api/`` route needs the token; the answer is JSON like every other API error."""
    if not is_api_request():
        return None
    status, wait_s = check(presented_api_token())
    if status == 429:
        response = json_error(429, "too many wrong tokens from this address; wait and try again")
        response.headers["Retry-After"] = str(max(1, math.ceil(wait_s)))
        return response
    if status == 401:
        return json_error(401, "missing or wrong token: open the link (or scan the QR code) "
                               "that soundscape serve printed")
    return None

"""The box: phones stay joined through a kill -9 and are locked out by a new token; a hung engine
under a supervisor (systemd's part, played by supervise_kit) is restarted and the session resumes.

Each test runs ``soundscape serve`` as a program, with its own home folders, and a phone as an
HTTP client keeping its cookie the way a browser does.
"""

from __future__ import annotations

import http.cookiejar
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import numpy as np
import pytest

from soundscape.testing.audio import Recorder, rms_dbfs_windows, write_tone

from engine_kit import private_sink
from supervise_kit import MiniSystemd

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[2]
HANG_SERVE = Path(__file__).with_name("hang_serve.py")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def box_env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("SOUNDSCAPE_TOKEN", "NOTIFY_SOCKET",
                                                            "WATCHDOG_USEC", "WATCHDOG_PID")}
    env.update(HOME=str(home), XDG_CONFIG_HOME=str(home / "config"),
               XDG_STATE_HOME=str(home / "state"), XDG_CACHE_HOME=str(home / "cache"),
               XDG_DATA_HOME=str(home / "data"), PYTHONPATH=str(REPO), PYTHONUNBUFFERED="1")
    return env


def write_room(home: Path, port: int, output: str = "none", device: str | None = None) -> Path:
    room = home / "config" / "soundscape" / "room.yaml"
    room.parent.mkdir(parents=True, exist_ok=True)
    room.write_text(f"port: {port}\noutput: {output}\n" + (f"device: {device}\n" if device else ""))
    return room


class Phone:
    """A facilitator's browser: opens the link once, then keeps only its cookie."""

    def __init__(self, port: int):
        self.base = f"http://127.0.0.1:{port}"
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))

    def _open(self, request) -> tuple[int, dict]:
        try:
            with self.opener.open(request, timeout=10) as response:
                body = response.read()
                status = response.status
        except urllib.error.HTTPError as exc:
            body, status = exc.read(), exc.code
        try:
            return status, json.loads(body)
        except ValueError:
            return status, {}

    def join(self, token: str) -> int:
        return self._open(f"{self.base}/?token={token}")[0]

    def state(self) -> tuple[int, dict]:
        return self._open(f"{self.base}/api/state")

    def command(self, action: str, **params) -> tuple[int, dict]:
        body = json.dumps({"action": action, "by": "e2e", **params}).encode()
        return self._open(urllib.request.Request(f"{self.base}/api/commands", data=body,
                                                 headers={"Content-Type": "application/json"}))


def wait_for(predicate, timeout_s: float, what: str, step_s: float = 0.1):
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            value = predicate()
        except OSError:
            value = None
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} (waited {timeout_s:g} s)")
        time.sleep(step_s)


def serving(phone: Phone, proc: subprocess.Popen | None = None):
    def up():
        if proc is not None and proc.poll() is not None:
            raise AssertionError(f"serve exited with {proc.returncode}: {proc.stdout.read()}")
        try:
            return phone.state()[0] in (200, 401)
        except (urllib.error.URLError, ConnectionError):
            return False
    return up


def start(phone: Phone) -> None:
    """Start, once the first tracks are analysed (until then Start is refused with the reason)."""
    wait_for(lambda: phone.command("start")[0] == 200, 60, "Start was never taken")


def start_serve(env: dict, *args: str) -> subprocess.Popen:
    """serve, not announced on the LAN (test_serve.py tests that): each start is 1.7 s sooner."""
    return subprocess.Popen([sys.executable, "-m", "soundscape", "serve", "--no-announce", *args],
                            env=env,
                            cwd=REPO, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def test_a_joined_phone_stays_joined_through_kill_9_and_a_new_token_locks_it_out(tmp_path):
    home = tmp_path / "home"
    port = free_port()
    write_room(home, port)
    env = box_env(home)
    phone = Phone(port)
    first = start_serve(env)
    try:
        wait_for(serving(phone, first), 60, "serve never answered")
        token_file = home / "state" / "soundscape" / "token"
        token = token_file.read_text().strip()
        assert oct(token_file.stat().st_mode & 0o777) == "0o600"
        assert phone.join(token) == 200
        start(phone)
        wait_for(lambda: (home / "state" / "soundscape" / "checkpoint.json").exists(), 20,
                 "no checkpoint was written")
        before = phone.state()[1]
        first.kill()  # SIGKILL: no goodbye
        first.wait(10)
    finally:
        stop(first)
    second = start_serve(env)
    try:
        wait_for(serving(phone, second), 60, "serve never answered after the kill")
        status, state = phone.state()  # the same cookie, no new link
        assert status == 200, state
        assert state["resumed"] is True and state["session_id"] == before["session_id"]
        assert state["epoch"] != before["epoch"]
        assert phone.command("pause", epoch=state["epoch"])[0] == 200
    finally:
        stop(second)
    rotated = subprocess.run([sys.executable, "-m", "soundscape", "token", "--rotate"], env=env,
                             cwd=REPO, capture_output=True, text=True, timeout=60)
    assert rotated.returncode == 0, rotated.stderr
    assert "Every phone must open the new link" in rotated.stdout
    new_token = re.search(r"\?token=([A-Za-z0-9_-]+)", rotated.stdout).group(1)
    assert new_token != token
    third = start_serve(env)
    try:
        wait_for(serving(phone, third), 60, "serve never answered after the rotation")
        assert phone.state()[0] == 401
        assert phone.command("resume")[0] == 401
        assert phone.join(new_token) == 200 and phone.state()[0] == 200
    finally:
        stop(third)


@pytest.fixture
def sink(pulse):
    with private_sink() as name:
        yield name


def at_level(state: dict) -> bool:
    """Playing, and the level the room hears has reached where it was going (a fade-in done)."""
    return state.get("status") == "playing" and state["level"] >= state["level_target"] - 0.5


def test_a_hung_engine_is_killed_by_the_watchdog_and_the_session_resumes(sink, pulse, tmp_path,
                                                                         record_property):
    home = tmp_path / "home"
    port = free_port()
    room = write_room(home, port, "pulse", sink)
    track = write_tone(tmp_path / "long.wav", 523.0, 240.0, 0.5)
    playlist = tmp_path / "box.yaml"
    playlist.write_text("title: Box test\nphases:\n  - name: Open\n    duration: 10m\n"
                        f"    level: 40%\n    tracks:\n      - {track}\n")
    env = {**box_env(home), **pulse, "HANG_FLAG": str(tmp_path / "hang")}
    cmd = [sys.executable, str(HANG_SERVE), "serve", str(playlist), "--resume", "auto",
           "--room", str(room)]
    phone = Phone(port)
    with Recorder(device=f"{sink}.monitor") as rec, \
            MiniSystemd(cmd, env, tmp_path, watchdog_s=30.0) as systemd:
        wait_for(lambda: systemd.saw("READY=1"), 60, "serve never said READY=1")
        token = (home / "state" / "soundscape" / "token").read_text().strip()
        assert phone.join(token) == 200
        start(phone)
        before = wait_for(lambda: (lambda s: s if at_level(s) else None)(phone.state()[1]), 30,
                          "the music never reached its level")
        time.sleep(3.5)  # the steady level's measurement window, before the hang
        assert (home / "state" / "soundscape" / "checkpoint.json").exists()
        pings_before = len(systemd.saw("WATCHDOG=1"))
        hung_at = time.monotonic()
        (tmp_path / "hang").touch()
        wait_for(lambda: systemd.starts() == 2, 60, f"never restarted: {systemd.events}")
        restarted_at = time.monotonic()
        wait_for(lambda: len(systemd.saw("READY=1")) == 2, 60, "the restart never got READY")
        status, after = wait_for(lambda: (lambda r: r if r[0] == 200 else None)(phone.state()),
                                 30, "the restarted server refused the phone's cookie")
        final = wait_for(lambda: (lambda s: s if at_level(s) else None)(phone.state()[1]), 30,
                         "the resumed music never got back to its level")
        time.sleep(1.0)  # what the room hears lags the level the engine sets
        heard_until = time.monotonic()
    events = systemd.events
    triggered = [t for t, what in events if what == "WATCHDOG=trigger"]
    record_property("hang_to_trigger_s", round(triggered[0] - hung_at, 1) if triggered else None)
    record_property("hang_to_restart_s", round(restarted_at - hung_at, 1))
    print(f"\n  hang -> WATCHDOG=trigger {triggered[0] - hung_at if triggered else -1:.1f} s; "
          f"hang -> new process {restarted_at - hung_at:.1f} s; events: "
          f"{[what for _, what in events if what != 'WATCHDOG=1']}")

    assert pings_before >= 1, "serve never fed the watchdog"
    assert triggered, f"the stalled engine never asked for a restart: {events}"
    assert any(what == "watchdog: triggered" for _, what in events)
    assert any(what == f"exited {-signal.SIGABRT}" for _, what in events), events
    # the session carried on: the same session, resumed, playing the same track, time went on
    assert after["resumed"] is True and after["session_id"] == before["session_id"], after
    assert final["status"] == "playing" and final["track"]["path"] == before["track"]["path"]
    assert final["session_elapsed_s"] > before["session_elapsed_s"] + (heard_until - hung_at) - 5
    assert final["track"]["position_s"] > before["track"]["position_s"]
    # ... and the room hears it again, back at the level it had before the hang
    db = rms_dbfs_windows(rec.samples, 0.1)
    hung_w, resumed_w = (int((t - rec.start_s) / 0.1) for t in (hung_at, restarted_at))
    steady_dbfs = float(np.median(db[hung_w - 30:hung_w - 5]))
    back_dbfs = float(np.max(db[resumed_w:]))
    assert steady_dbfs > -70, f"nothing was heard before the hang ({steady_dbfs:.1f} dBFS)"
    assert back_dbfs >= steady_dbfs - 2.0, (
        f"after the restart the room got back to {back_dbfs:.1f} dBFS, not to the "
        f"{steady_dbfs:.1f} dBFS it heard before the hang")
    # the journal (serve's output under a supervisor) never holds the token
    for log in systemd.outputs:
        text = log.read_text(errors="replace")
        assert token not in text
        assert "soundscape is serving the control page at http://" in text

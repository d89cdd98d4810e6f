"""Installed as a program: the wheel, in a fresh venv outside the checkout, serves the demo.

This is what ``pipx install`` or ``pip install soundscape-*.whl`` gives a clinic: nothing of the
checkout on the path, the page's files and the shipped playlists read from the package itself.
Building and installing takes ~30 s (the dependencies come from pip's cache or index).
"""

from __future__ import annotations

import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "wheel-test-token"

pytestmark = pytest.mark.install


def _run(cmd, **kw):
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=600, **kw)
    assert done.returncode == 0, f"{cmd[:3]} failed:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}"
    return done


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """The ``soundscape`` command of a fresh venv holding only the wheel and its dependencies."""
    work = tmp_path_factory.mktemp("wheel")
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(work / "dist"),
          str(ROOT)])
    [wheel] = (work / "dist").glob("soundscape-*.whl")
    _run([sys.executable, "-m", "venv", str(work / "venv")])
    _run([str(work / "venv" / "bin" / "pip"), "install", "-q", "--disable-pip-version-check",
          str(wheel)])
    return work / "venv" / "bin" / "soundscape"


def _get(port: int, path: str, headers: dict | None = None) -> tuple[int, dict, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", path, headers=headers or {})
        response = conn.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        conn.close()


def test_the_installed_program_serves_the_demo_with_no_arguments(installed, tmp_path):
    home = tmp_path / "home"
    port = _free_port()
    (home / "config" / "soundscape").mkdir(parents=True)
    (home / "config" / "soundscape" / "room.yaml").write_text(f"output: none\nport: {port}\n")
    env = {"PATH": "/usr/bin:/bin", "HOME": str(home), "SOUNDSCAPE_TOKEN": TOKEN,
           "XDG_CONFIG_HOME": str(home / "config"), "XDG_STATE_HOME": str(home / "state"),
           "XDG_CACHE_HOME": str(home / "cache"), "XDG_DATA_HOME": str(home / "data")}
    proc = subprocess.Popen([str(installed), "serve"], cwd=tmp_path, env=env,
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, f"serve exited: {proc.stderr.read()[-2000:]}"
            try:
                status, headers, _ = _get(port, f"/?token={TOKEN}")
                break
            except OSError:
                assert time.monotonic() < deadline, "serve did not answer within 60 s"
                time.sleep(0.2)
        assert status == 303
        cookie = headers["Set-Cookie"].split(";")[0]
        status, _, page = _get(port, "/", {"Cookie": cookie})
        assert status == 200 and b"soundscape" in page.lower()
        for asset in ("/static/app.js", "/static/app.css"):
            assert _get(port, asset)[0] == 200, asset
        status, _, body = _get(port, "/api/state", {"Authorization": f"Bearer {TOKEN}"})
        assert status == 200
        state = json.loads(body)
        assert state["status"] == "ready" and state["phases"], state
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, proc.stderr.read()[-2000:]


def test_the_installed_program_checks_its_shipped_playlists(installed, tmp_path):
    env = {**os.environ, "PATH": "/usr/bin:/bin", "XDG_CACHE_HOME": str(tmp_path / "cache")}
    python = installed.parent / "python"
    folder = _run([str(python), "-c", "import soundscape.demo as d; print(d.DEMO_PLAYLIST.parent)"],
                  cwd=tmp_path, env=env).stdout.strip()
    assert not Path(folder).is_relative_to(ROOT)
    done = _run([str(installed), "check", folder], cwd=tmp_path, env=env)
    assert [line.rsplit("/", 1)[-1] for line in done.stdout.splitlines()] == [
        "demo.yaml: ok", "kap-intramuscular.yaml: ok", "kap-sublingual.yaml: ok"]


def test_the_installed_program_prints_the_room_card(installed, tmp_path):
    """From the lasting token, no server running: the card's big QR code opens the room by name."""
    zbarimg = shutil.which("zbarimg")
    if zbarimg is None:
        if os.environ.get("CI") == "true":
            pytest.fail("zbarimg is missing (make test installs zbar-tools)")
        pytest.skip("zbarimg is not installed (apt install zbar-tools)")
    home = tmp_path / "home"
    (home / "config" / "soundscape").mkdir(parents=True)
    (home / "config" / "soundscape" / "room.yaml").write_text("name: Room 2\nport: 8800\n")
    env = {"PATH": "/usr/bin:/bin", "HOME": str(home), "XDG_CONFIG_HOME": str(home / "config"),
           "XDG_STATE_HOME": str(home / "state")}
    _run([str(installed), "card", "-o", "card.png"], cwd=tmp_path, env=env)
    token = (home / "state" / "soundscape" / "token").read_text().strip()
    codes = _run([zbarimg, "--raw", "-q", "card.png"], cwd=tmp_path).stdout.split()
    assert f"http://room-2.local:8800/?token={token}" in codes

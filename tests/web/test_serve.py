"""``soundscape serve``: token choice, the printed link and QR code, serving, and a clean stop."""

from __future__ import annotations

import io
import logging
import os
import signal
import socket
import sys
import threading
import time
import urllib.error
import urllib.request

import pytest

import soundscape.session
from soundscape import roomlink
from soundscape.cli import serve
from soundscape.cli.main import main
from soundscape.engine import checkpoint
from soundscape.room import Room

from webkit import FakeEngine, ServerThread


def test_token_flag_wins_then_environment_then_the_rooms_lasting_token(tmp_path):
    lasting = tmp_path / "state" / "token"
    assert serve.resolve_token("abc", {"SOUNDSCAPE_TOKEN": "env"}, lasting) == "abc"
    assert serve.resolve_token(None, {"SOUNDSCAPE_TOKEN": "env"}, lasting) == "env"
    assert not lasting.exists()  # a given token leaves the room's own alone
    first, second = serve.resolve_token(None, {}, lasting), serve.resolve_token(None, {}, lasting)
    assert first == second and len(first) >= 22  # 16 random bytes, base64url, kept
    assert lasting.read_text().strip() == first


def test_lan_ip_is_an_address_not_loopback():
    address = roomlink.lan_ip()
    assert address and not address.startswith("127.")


def test_page_url_uses_lan_address_when_listening_everywhere(monkeypatch):
    monkeypatch.setattr(roomlink, "lan_ip", lambda: "192.168.1.20")
    assert serve.page_url("0.0.0.0", 8700, "t0k") == "http://192.168.1.20:8700/?token=t0k"
    assert serve.page_url("10.0.0.5", 9000, "t0k") == "http://10.0.0.5:9000/?token=t0k"
    assert serve.page_url("::1", 8700, "t") == "http://[::1]:8700/?token=t"


def test_invitation_prints_link_and_qr_code():
    out = io.StringIO()
    serve.print_invitation("http://192.168.1.20:8700/?token=t0k", out)
    text = out.getvalue()
    assert "  http://192.168.1.20:8700/?token=t0k\n" in text
    assert "█" in text or "▀" in text  # the compact terminal QR code uses block characters
    assert "Ctrl-C fades out and stops." in text


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_serve_answers_with_the_token_and_stops_on_sigterm(monkeypatch, capsys, tmp_path):
    """The whole command in-process: open a session, serve, SIGTERM -> shutdown, exit 0."""
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    engine = FakeEngine()
    opened = {}

    def open_session(playlist, **kwargs):
        opened.update(kwargs, playlist=playlist)
        return engine
    monkeypatch.setattr(soundscape.session, "open_session", open_session)
    port = free_port()
    answers = []

    def client():
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            request = urllib.request.Request(f"http://127.0.0.1:{port}/api/state",
                                             headers={"Authorization": "Bearer s3cret"})
            try:
                with urllib.request.urlopen(request, timeout=2) as response:
                    answers.append(response.status)
                    break
            except OSError:
                time.sleep(0.05)
        os.kill(os.getpid(), signal.SIGTERM)
    threading.Thread(target=client, daemon=True).start()

    status = main(["serve", "--no-announce", "--host", "127.0.0.1", "--port", str(port),
                   "--token", "s3cret", "--output", "none", "--seed", "7", "--resume", "no"])
    assert status == 0
    assert answers == [200]
    assert engine.shut_down
    assert opened.pop("ask") in (None, serve._ask)  # asks only on a terminal
    assert opened.pop("room") == Room()  # no room file in this test's home
    assert opened == {"playlist": serve.DEMO_PLAYLIST, "output": "none", "device": None,
                      "log_dir": None, "seed": 7, "resume": "no",
                      "checkpoint_path": checkpoint.default_path()}
    out = capsys.readouterr().out
    assert f"http://127.0.0.1:{port}/?token=s3cret" in out
    assert "Stopping: fading out…" in out


def test_port_in_use_is_a_plain_error(monkeypatch, capsys):
    engine = FakeEngine()
    monkeypatch.setattr(soundscape.session, "open_session", lambda playlist, **kw: engine)
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        status = main(["serve", "--host", "127.0.0.1", "--port", str(port), "--token", "x"])
    assert status == 1
    assert f"error: cannot listen on 127.0.0.1:{port}: " in capsys.readouterr().err
    # stopped without the fade that would end the session: a resumed one stays resumable
    assert engine.shut_down and engine.shut_down_fading is False


def test_token_never_reaches_the_logs(caplog):
    """Even a crash while the token is in the URL logs the path only, never the query string."""
    from soundscape.web import create_app

    engine = FakeEngine()

    def broken():
        raise RuntimeError("snapshot failed")
    engine.snapshot = broken
    app = create_app(engine, {"TOKEN": "s3cret-token"})
    caplog.set_level(logging.DEBUG)
    with ServerThread(app) as server:
        base = server.url
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor())
        with opener.open(f"{base}/?token=s3cret-token", timeout=5) as response:
            assert response.status == 200  # after the 303 to the clean page
        with pytest.raises(urllib.error.HTTPError) as crash:
            opener.open(f"{base}/api/state?token=s3cret-token", timeout=5)
        assert crash.value.code == 500
    assert "Exception on /api/state [GET]" in caplog.text  # logging was captured
    assert "s3cret-token" not in caplog.text


def test_serve_command_end_to_end_over_the_demo(tmp_path):
    """The real command in a subprocess: demo session, no audio device, SIGTERM ends it with 0."""
    import json
    import subprocess

    port = free_port()
    env = {**os.environ, "SOUNDSCAPE_TOKEN": "e2e-token", "XDG_STATE_HOME": str(tmp_path / "state"),
           "XDG_CONFIG_HOME": str(tmp_path / "config")}
    process = subprocess.Popen(
        [sys.executable, "-m", "soundscape", "serve", "--no-announce", "--host", "127.0.0.1",
         "--port", str(port),
         "--output", "none", "--log-dir", str(tmp_path)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        base = f"http://127.0.0.1:{port}"
        headers = {"Authorization": "Bearer e2e-token", "Content-Type": "application/json"}
        deadline = time.monotonic() + 60  # the demo music is synthesised on first use
        state = None
        while time.monotonic() < deadline and process.poll() is None:
            try:
                request = urllib.request.Request(f"{base}/api/state", headers=headers)
                with urllib.request.urlopen(request, timeout=2) as response:
                    state = json.load(response)
                    break
            except OSError:
                time.sleep(0.2)
        assert state is not None, process.stderr.read() if process.poll() is not None else "no answer"
        assert state["status"] == "ready" and state["title"] == "Demo session"
        # Start waits for the first tracks' analysis (done in the background, a few seconds)
        while (state.get("analysis") or {}).get("first_pending") and time.monotonic() < deadline:
            time.sleep(0.2)
            with urllib.request.urlopen(urllib.request.Request(f"{base}/api/state",
                                                               headers=headers)) as response:
                state = json.load(response)
        assert not (state.get("analysis") or {}).get("first_pending"), state["analysis"]
        start = urllib.request.Request(f"{base}/api/commands", headers=headers, method="POST",
                                       data=b'{"action": "start", "by": "test"}')
        with urllib.request.urlopen(start, timeout=5) as response:
            assert json.load(response)["state"]["status"] == "playing"
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=20)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 0, err
    assert f"{base}/?token=e2e-token" in out
    assert "Stopping: fading out…" in out
    for log in tmp_path.rglob("*"):
        if log.is_file():
            assert "e2e-token" not in log.read_text(errors="replace"), log


def test_serve_gives_the_page_preflight_its_output_device_and_room(monkeypatch, tmp_path):
    """Pre-flight from the page must open what the session was told to use, not the defaults."""
    import soundscape.web
    from soundscape.errors import SoundscapeError

    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    room_file = tmp_path / "room.yaml"
    room_file.write_text("output: none\n")
    monkeypatch.setattr(soundscape.session, "open_session", lambda playlist, **kw: FakeEngine())
    seen = {}

    def create_app(engine, config):
        seen.update(config)
        raise SoundscapeError("stop here")
    monkeypatch.setattr(soundscape.web, "create_app", create_app)
    status = main(["serve", "--port", "0", "--token", "s3cret", "--output", "alsa",
                   "--device", "hw:1", "--room", str(room_file), "--resume", "no"])
    assert status == 1
    assert seen["PREFLIGHT_OUTPUT"] == "alsa" and seen["PREFLIGHT_DEVICE"] == "hw:1"
    assert seen["PREFLIGHT_ROOM"].output == "none"


def test_a_stop_signal_mid_request_is_not_swallowed_by_the_server_loop():
    """Ctrl-C or SIGTERM while waitress handles a socket must still end ``serve``."""
    from waitress import wasyncore

    class Channel:
        def handle_read_event(self):
            raise serve._Stop  # what the signal handler raises, here in the middle of a read

        def handle_error(self):  # waitress's fate for every other exception: logged, ignored
            raise AssertionError("the stop was swallowed")

    with pytest.raises(serve._Stop):
        wasyncore.read(Channel())


def test_demo_is_serve_with_the_built_in_playlist(monkeypatch):
    seen = []
    monkeypatch.setattr(serve, "run", lambda args: seen.append(args) or 0)
    assert main(["demo", "--port", "9000", "--output", "none"]) == 0
    assert seen[0].playlist is None and seen[0].port == 9000 and seen[0].output == "none"


def test_serve_announces_the_room_by_name_and_withdraws_it_on_stop(monkeypatch, capsys, tmp_path):
    """A phone's browser on the LAN finds the room by its name while serve runs, with no token in
    what it hears; the invitation gives the name link too; stopping says goodbye."""
    from zeroconf import ServiceBrowser, Zeroconf

    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    port = free_port()
    room = tmp_path / "config" / "soundscape" / "room.yaml"
    room.parent.mkdir(parents=True)
    room.write_text(f"name: Serve Test {os.getpid()}\nport: {port}\n")
    monkeypatch.setattr(soundscape.session, "open_session", lambda playlist, **kw: FakeEngine())
    service = f"Serve Test {os.getpid()}._http._tcp.local."
    seen: list[tuple[str, str]] = []

    class Listener:
        def add_service(self, zc, kind, name):
            seen.append(("add", name))

        def remove_service(self, zc, kind, name):
            seen.append(("remove", name))

        def update_service(self, zc, kind, name):
            pass

    phone = Zeroconf()
    ServiceBrowser(phone, "_http._tcp.local.", Listener())
    found = {}
    returned = threading.Event()  # serve is over: no signal may follow (it would end pytest)

    def look_then_stop():
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and ("add", service) not in seen:
            time.sleep(0.1)
        info = phone.get_service_info("_http._tcp.local.", service, timeout=5000)
        found["info"] = info
        while time.monotonic() < deadline + 30:  # serve's own SIGTERM handler is in place by then
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/manifest.webmanifest", timeout=2)
                time.sleep(0.5)
                break
            except OSError:
                time.sleep(0.05)
        if not returned.is_set():
            os.kill(os.getpid(), signal.SIGTERM)
    looker = threading.Thread(target=look_then_stop, daemon=True)
    looker.start()
    try:
        try:
            code = main(["serve", "--token", "s3cret-room-token", "--output", "none",
                         "--resume", "no"])
        finally:
            returned.set()
        assert code == 0
        looker.join(60)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and ("remove", service) not in seen:
            time.sleep(0.1)
    finally:
        phone.close()
    info = found["info"]
    assert info is not None and info.port == port
    assert info.server == f"serve-test-{os.getpid()}.local."
    heard = repr((info.name, info.server, info.properties, info.parsed_addresses()))
    assert "s3cret" not in heard
    assert ("remove", service) in seen
    out = capsys.readouterr().out
    assert f"or by the room's name: http://serve-test-{os.getpid()}.local:{port}/?token=" in out


def test_under_systemd_serve_waits_for_the_sound_server_and_the_rooms_speaker(monkeypatch):
    from soundscape.engine import outputs
    from soundscape.engine.outputs import Device

    now = [0.0]
    sent = []

    class Notifier:
        def send(self, *lines):
            sent.append(lines)

    answers = iter([False, False, True, True, True])
    devices = iter([[], [Device("usb-dac", "USB DAC")]] + [[Device("usb-dac", "USB DAC")]] * 9)
    monkeypatch.setattr(outputs, "pulse_answers", lambda: next(answers))
    monkeypatch.setattr(outputs, "list_devices", lambda kind: next(devices))
    monkeypatch.setattr("shutil.which", lambda name: "/usr/bin/" + name)  # a server installed

    def sleep(s):
        now[0] += s
    ready = serve.wait_for_sound(Room(output="pulse", device="usb-dac"), None, None, Notifier(),
                                 sleep=sleep, clock=lambda: now[0])
    assert ready and now[0] == 3.0  # two seconds without a server, one without the speaker
    assert sent == [("STATUS=waiting for the sound server and usb-dac",)]
    monkeypatch.setattr(outputs, "pulse_answers", lambda: False)
    started = now[0]
    assert serve.wait_for_sound(Room(), None, None, Notifier(), timeout_s=5, sleep=sleep,
                                clock=lambda: now[0]) is False
    assert now[0] - started == 5.0  # then the session opens anyway, saying NO SOUND
    assert serve.wait_for_sound(Room(output="alsa"), None, None, Notifier()) is True
    monkeypatch.setattr("shutil.which", lambda name: None)  # no sound server on this box
    assert serve.wait_for_sound(Room(), None, None, Notifier()) is True


def test_a_rotated_token_locks_the_old_one_out_of_a_running_server(tmp_path):
    from soundscape import roomtoken
    from soundscape.web import create_app

    path = tmp_path / "token"
    old = roomtoken.load(path)[0]
    app = create_app(FakeEngine(), {"TOKEN": old, "TOKEN_FILE": path})
    now = [0.0]
    app.extensions["soundscape_token"].now = lambda: now[0]
    phone = app.test_client()
    assert phone.get(f"/?token={old}").status_code == 303
    assert phone.get("/api/state").status_code == 200
    new = roomtoken.rotate(path)
    now[0] += 1.0  # the file is looked at once a second
    assert phone.get("/api/state").status_code == 401
    assert phone.get(f"/?token={new}").status_code == 303
    assert phone.get("/api/state").status_code == 200
    path.write_text("damaged\n")
    now[0] += 1.0
    assert phone.get("/api/state").status_code == 200  # a damaged file keeps the token last read


def test_the_journal_is_told_apart_from_a_terminal_that_inherited_its_variable(tmp_path):
    with open(tmp_path / "stream", "w") as journal, open(tmp_path / "other", "w") as terminal:
        st = os.fstat(journal.fileno())
        environ = {"JOURNAL_STREAM": f"{st.st_dev}:{st.st_ino}"}
        assert serve.to_journal(environ, journal)
        assert not serve.to_journal(environ, terminal)  # the link and its QR code are shown
        assert not serve.to_journal({}, journal)
        assert not serve.to_journal({"JOURNAL_STREAM": "junk"}, journal)

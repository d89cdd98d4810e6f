"""The SSE stream: state on connect and on every change, heartbeats, bounded life, clean exit."""

from __future__ import annotations

import json
import time

from soundscape.web.events import state_stream

from webkit import FakeEngine


def parse_events(text: str) -> list[dict]:
    """Split SSE text into blocks: {"event":..., "data":..., "id":...} or {"comment":...}."""
    blocks = []
    for raw in text.split("\n\n"):
        if not raw:
            continue
        block: dict = {}
        for line in raw.split("\n"):
            if line.startswith(":"):
                block["comment"] = line[1:].strip()
            else:
                key, _, value = line.partition(": ")
                block[key] = value
        blocks.append(block)
    return blocks


def test_stream_headers_and_first_event(client, engine):
    response = client.get("/api/events", buffered=False)
    try:
        assert response.status_code == 200
        assert response.mimetype == "text/event-stream"
        assert "no-cache" in response.headers["Cache-Control"]
        assert response.headers["X-Accel-Buffering"] == "no"
        chunks = iter(response.response)
        assert next(chunks) == b"retry: 1000\n\n"
        [event] = parse_events(next(chunks).decode())
    finally:
        response.close()
    assert event["event"] == "state"
    assert event["id"] == "1"
    assert json.loads(event["data"]) == json.loads(json.dumps(engine.snapshot().to_json()))


class ScriptedEngine(FakeEngine):
    """The engine double on simulated time: waiting advances the clock, and the state changes at
    scripted moments, exactly as the engine thread would publish them."""

    def __init__(self, changes=()):
        super().__init__()
        self.now_s = 0.0
        self.changes = sorted(changes, key=lambda c: c[0])  # (at_s, {field: value})

    def wait_for_change(self, after_revision, timeout_s):
        self.wait_calls += 1
        if self.snapshot().revision > after_revision:
            return self.snapshot()
        if self.changes and self.changes[0][0] <= self.now_s + timeout_s:
            at_s, fields = self.changes.pop(0)
            self.now_s = max(self.now_s, at_s)
            return self.set_state(**fields)
        self.now_s += timeout_s
        return self.snapshot()


def scripted_stream(engine, heartbeat_s, lifetime_s, sleep=None):
    def no_sleep(seconds):
        engine.now_s += seconds
    return state_stream(engine, heartbeat_s=heartbeat_s, lifetime_s=lifetime_s, retry_ms=2000,
                        now=lambda: engine.now_s, sleep=sleep or no_sleep)


def test_stream_sends_each_change_and_pings_when_idle_then_ends():
    engine = ScriptedEngine([(12.0, {"status": "playing"}), (20.0, {"hushed": True})])
    blocks = parse_events("".join(scripted_stream(engine, heartbeat_s=15.0, lifetime_s=60.0)))
    states = [json.loads(b["data"]) for b in blocks if b.get("event") == "state"]
    assert [(s["revision"], s["status"], s["hushed"]) for s in states] == [
        (1, "ready", False), (2, "playing", False), (3, "playing", True)]
    # idle after the last change at 20 s: a heartbeat every 15 s, until the 60 s life ends
    # with a goodbye (the page reconnects at once, not taking the silence for a lost server)
    signals = [(b["event"], json.loads(b["data"])) for b in blocks
               if b.get("event") in ("ping", "bye")]
    assert signals == [("ping", {"epoch": "e1", "revision": 3})] * 2 + [
        ("bye", {"epoch": "e1", "revision": 3})]
    assert not [b for b in blocks if "comment" in b]
    assert engine.now_s == 60.0


def test_a_closed_stream_ends_and_waits_no_more():
    engine = ScriptedEngine()
    stream = scripted_stream(engine, heartbeat_s=10.0, lifetime_s=60.0)
    assert next(stream).startswith("retry:")
    assert next(stream).startswith("id: 1\nevent: state\n")
    stream.close()  # what the server does when a write to a gone client fails
    calls = engine.wait_calls
    assert list(stream) == []
    assert engine.wait_calls == calls


def test_heartbeat_timing_uses_the_clock():
    engine = ScriptedEngine()
    out = list(scripted_stream(engine, heartbeat_s=15.0, lifetime_s=40.0))
    ping = 'event: ping\ndata: {"epoch":"e1","revision":1}\n\n'
    bye = 'event: bye\ndata: {"epoch":"e1","revision":1}\n\n'
    assert out[2:] == [ping, ping, bye]  # at 15 s and 30 s, then the 40 s life ends
    assert engine.now_s == 40.0


def test_engine_that_returns_early_does_not_spin():
    engine = FakeEngine()
    engine.shutdown()  # wait_for_change now returns at once, whatever the timeout
    clock, slept = [0.0], []

    def sleep(seconds):
        slept.append(seconds)
        clock[0] += seconds
    stream = state_stream(engine, heartbeat_s=10.0, lifetime_s=3.0, retry_ms=2000,
                          now=lambda: clock[0], sleep=sleep)
    list(stream)
    assert slept and all(s <= 0.2 for s in slept)  # it paused between asks...
    assert engine.wait_calls <= 3.0 / 0.2 + 2  # ...so it asked at most five times a second


def test_stream_ends_when_the_client_goes_away_under_waitress():
    """The real server notices the gone client on the next write and closes the generator."""
    import socket

    from soundscape.web import create_app

    from webkit import TOKEN, ServerThread

    engine = FakeEngine()
    app = create_app(engine, {"TOKEN": TOKEN, "SSE_HEARTBEAT_S": 0.05, "SSE_LIFETIME_S": 60.0})
    with ServerThread(app, threads=4) as server:
        with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
            sock.sendall(f"GET /api/events HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                         f"Authorization: Bearer {TOKEN}\r\n\r\n".encode())
            received = b""
            while b"event: state" not in received:
                received += sock.recv(4096)
            assert b"Content-Type: text/event-stream" in received
        time.sleep(0.5)  # a few heartbeats: the first failing write ends the stream
        calls = engine.wait_calls
        time.sleep(0.5)
        assert engine.wait_calls == calls, "the stream kept running after the client left"


def test_many_open_pages_leave_room_for_commands():
    """30 live streams (each holding a server thread) and a command still goes through at once."""
    import socket
    import urllib.request

    from soundscape.cli.serve import THREADS
    from soundscape.web import create_app

    from webkit import TOKEN, ServerThread

    engine = FakeEngine()
    app = create_app(engine, {"TOKEN": TOKEN, "SSE_HEARTBEAT_S": 0.5, "SSE_LIFETIME_S": 60.0})
    with ServerThread(app, threads=THREADS) as server:
        streams = []
        try:
            for _ in range(30):
                sock = socket.create_connection(("127.0.0.1", server.port), timeout=5)
                sock.sendall(f"GET /api/events HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                             f"Authorization: Bearer {TOKEN}\r\n\r\n".encode())
                streams.append([sock, b""])
            for stream in streams:
                while b"event: state" not in stream[1]:
                    stream[1] += stream[0].recv(4096)
                stream[1] = b""
            request = urllib.request.Request(
                f"{server.url}/api/commands", data=b'{"action": "start"}', method="POST",
                headers={"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"})
            # a starved pool would leave the command waiting: the 5 s timeout fails the test
            with urllib.request.urlopen(request, timeout=5) as response:
                assert response.status == 200
            for sock, received in streams:
                while b'"status":"playing"' not in received:
                    received += sock.recv(4096)
        finally:
            for sock, _ in streams:
                sock.close()


def test_a_stream_ends_soon_after_its_page_has_gone():
    """With the server's word that the client closed (waitress's client_disconnected), the stream
    ends within a quarter second of it, not at its next write: its thread is free again."""
    engine = ScriptedEngine()
    closed_at = [None]
    stream = state_stream(engine, heartbeat_s=15.0, lifetime_s=600.0, retry_ms=1000,
                          now=lambda: engine.now_s, sleep=lambda s: None,
                          gone=lambda: closed_at[0] is not None and engine.now_s >= closed_at[0])
    assert next(stream).startswith("retry:")
    assert next(stream).startswith("id: 1\nevent: state\n")
    closed_at[0] = 3.0
    assert list(stream) == []  # no ping, no bye: nobody is there to read them
    assert 3.0 <= engine.now_s <= 3.25

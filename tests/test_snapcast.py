"""The snapcast output's pure parts: its settings, the server's status read, the speaker warnings,
and the room config keys; the JSON-RPC client against a fake server on loopback."""

from __future__ import annotations

import json
import socket
import threading
import time

import pytest

from soundscape.engine.snapcast import (SnapcastControl, SnapcastSettings, SpeakerWatch,
                                        parse_control, parse_format, speakers_from_status)
from soundscape.room import check_room


def status(*clients) -> dict:
    """A Server.GetStatus result of Snapcast 0.26's shape: (id, name, connected, latency)."""
    return {"server": {"groups": [{"id": "g1", "clients": [
        {"id": cid, "connected": connected, "host": {"name": f"host-{name}"},
         "config": {"name": name, "latency": latency}}
        for cid, name, connected, latency in clients]}]}}


def test_formats_and_control_addresses_are_checked():
    assert parse_format("48000:16:2") == (48000, 16, 2)
    assert parse_format("44100:24:1") == (44100, 24, 1)
    for bad in ("48000:16", "48000:8:2", "48k:16:2", "48000:16:6", ""):
        with pytest.raises(ValueError, match="48000:16:2"):
            parse_format(bad)
    assert parse_control("127.0.0.1:1705") == ("127.0.0.1", 1705)
    assert parse_control("[::1]:1705") == ("::1", 1705)
    for bad in ("localhost", ":1705", "host:0", "host:http"):
        with pytest.raises(ValueError, match="host:port"):
            parse_control(bad)
    with pytest.raises(ValueError):
        SnapcastSettings(sample_format="48000")


def test_the_status_lists_each_client_and_each_expected_speaker_it_lacks():
    found = speakers_from_status(status(("aa", "left", True, 0), ("bb", "", False, 40)),
                                 expected=("left", "right"))
    assert [(s.name, s.connected, s.latency_ms, s.expected) for s in found] == [
        ("host-", False, 40, False), ("left", True, 0, True), ("right", False, 0, True)]


def watch(answers: list):
    """A SpeakerWatch fed the (reachable, speakers, error) answers in turn."""
    it = iter(answers)
    return SpeakerWatch(lambda: next(it), "127.0.0.1:1705")


def speakers(*clients, expected=()):
    return [s.as_dict() for s in speakers_from_status(status(*clients), expected)]


def test_a_speaker_that_drops_is_a_warning_and_its_return_is_said():
    both = speakers(("a", "left", True, 0), ("b", "right", True, 0))
    right_gone = speakers(("a", "left", True, 0), ("b", "right", False, 0))
    w = watch([(True, both, ""), (True, right_gone, ""), (True, both, ""), (True, right_gone, ""),
               (True, right_gone, ""), (True, right_gone, ""), (True, both, "")])
    assert w.check() == []  # all there: nothing to say
    assert w.check() == []  # away for one poll (a blip): shown, not yet a warning
    assert [c["connected"] for c in w.state()["clients"]] == [True, False]
    assert w.check() == []  # and back: nothing was said, nothing to take back
    assert w.check() == []
    assert w.check() == ["SPEAKER LOST: right dropped from the Snapcast server: that speaker is "
                         "silent"]  # two polls in a row
    assert w.check() == []  # said once
    assert w.check() == ["Speaker right is back"]
    assert [c["connected"] for c in w.state()["clients"]] == [True, True]


def test_a_speaker_that_leaves_the_list_is_lost_too():
    both = speakers(("a", "left", True, 0), ("b", "right", True, 0))
    alone = speakers(("a", "left", True, 0))
    w = watch([(True, both, ""), (True, alone, ""), (True, alone, ""), (True, alone, "")])
    assert w.check() == [] and w.check() == []
    assert w.check() == ["SPEAKER LOST: right dropped from the Snapcast server: that speaker is "
                         "silent"]
    assert w.check() == []


def test_headphone_stations_on_one_machine_are_known_by_their_host_id():
    found = speakers_from_status(status(("headphones-2#2", "", True, 0),
                                        ("headphones-3#3", "", True, 0)),
                                 expected=("headphones-2", "headphones-3"))
    assert [(s.name, s.expected) for s in found] == [("headphones-2", True),
                                                     ("headphones-3", True)]


def test_24_bit_audio_is_written_as_snapcast_reads_it():
    from soundscape.engine.snapcast import PULSE_FORMATS

    assert PULSE_FORMATS["24"] == "s24-32le"  # 24 bits in 4 bytes (Snapcast's sample_format)


def test_a_fifo_path_with_a_space_or_that_is_no_fifo_is_refused_before_pulse_is_asked(tmp_path):
    from soundscape.engine.snapcast import PipeSink
    from soundscape.errors import SoundscapeError

    with pytest.raises(SoundscapeError, match="space or a quote"):
        PipeSink.shared(str(tmp_path / "snap fifo"), "48000:16:2")
    (tmp_path / "file").write_text("")
    with pytest.raises(SoundscapeError, match="is not a FIFO"):
        PipeSink.shared(str(tmp_path / "file"), "48000:16:2")
    with pytest.raises(SoundscapeError, match="no folder"):
        PipeSink.shared(str(tmp_path / "none" / "fifo"), "48000:16:2")


def test_expected_speakers_missing_at_the_start_are_said_and_then_their_arrival():
    alone = speakers(("a", "left", True, 0), expected=("left", "right"))
    both = speakers(("a", "left", True, 0), ("b", "right", True, 0), expected=("left", "right"))
    w = watch([(True, alone, ""), (True, both, "")])
    assert w.check() == ["SPEAKER MISSING: right is expected but not connected to the Snapcast "
                         "server"]
    assert w.check() == ["Speaker right is back"]


def test_a_server_that_stops_answering_is_said_once_and_its_return():
    both = speakers(("a", "left", True, 0))
    w = watch([(True, both, ""), (False, [], "ConnectionRefusedError"),
               (False, [], "ConnectionRefusedError"), (True, both, "")])
    assert w.check() == []
    assert w.check() == ["SNAPCAST SERVER NOT ANSWERING at 127.0.0.1:1705 "
                         "(ConnectionRefusedError): the speakers cannot be seen"]
    assert w.check() == []
    assert w.check() == ["The Snapcast server answers again"]


def test_no_source_no_speakers():
    w = SpeakerWatch()
    assert w.check() == [] and w.state() is None and w.step() == ()


class FakeServer:
    """A JSON-RPC server on loopback answering Server.GetStatus (after a notification first)."""

    def __init__(self, result: dict):
        self.result = result
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.calls: list[dict] = []
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with conn:
                call = json.loads(conn.makefile().readline())
                self.calls.append(call)
                note = {"jsonrpc": "2.0", "method": "Client.OnVolumeChanged", "params": {}}
                answer = {"id": call["id"], "jsonrpc": "2.0", "result": self.result}
                conn.sendall((json.dumps(note) + "\r\n" + json.dumps(answer) + "\r\n").encode())

    def close(self):
        self.sock.shutdown(socket.SHUT_RDWR)  # wakes the accept() (a bare close would not)
        self.sock.close()


def test_the_control_client_reads_the_status_and_says_when_the_server_is_gone():
    server = FakeServer(status(("a", "left", True, 20)))
    control = SnapcastControl(f"127.0.0.1:{server.port}", expected=("left",))
    control.poll_once()
    reachable, found, error = control.snapshot()
    assert reachable and error == ""
    assert found == [{"id": "a", "name": "left", "connected": True, "latency_ms": 20,
                      "expected": True}]
    assert server.calls[0]["method"] == "Server.GetStatus"
    server.close()
    control.poll_once()
    reachable, found, error = control.snapshot()
    assert not reachable and "ConnectionRefusedError" in error
    assert [s["connected"] for s in found] == [False]  # not shown as playing any more


def test_the_room_config_takes_the_snapcast_keys_and_locates_mistakes(tmp_path):
    room = tmp_path / "room.yaml"
    room.write_text("output: snapcast\ndevice: /tmp/snapfifo\nsnapcast_format: 48000:16:2\n"
                    "snapcast_control: 192.168.1.5:1705\nsnapcast_buffer: 0.4s\n"
                    "speakers: [corner-left, corner-right]\n")
    found, problems = check_room(room)
    assert problems == []
    settings = found.snapcast()
    assert settings == SnapcastSettings("48000:16:2", "192.168.1.5:1705", 0.4,
                                        ("corner-left", "corner-right"))
    room.write_text("output: snapcast\nsnapcast_format: 48000:8:2\nspeakers: corner\n"
                    "snapcast_control: nowhere\n")
    found, problems = check_room(room)
    assert found is None
    shown = [f"{p.line}:{p.col}: {p.message}" for p in problems]
    assert any(s.startswith("2:18: snapcast_format must look like 48000:16:2")
               for s in shown), shown
    assert any(s.startswith("3:11: speakers must be a list") for s in shown), shown
    assert any(s.startswith("4:19: snapcast_control must look like") for s in shown), shown


def test_clients_the_server_only_remembers_are_left_out_and_nothing_is_said_before_it_is_asked():
    server = FakeServer(status(("a", "left", True, 0), ("old", "gone-for-months", False, 0),
                               ("c", "right", False, 0)))
    control = SnapcastControl(f"127.0.0.1:{server.port}", expected=("right",))
    assert control.snapshot()[0] is None
    assert SpeakerWatch(control.snapshot).check() == []  # not asked yet: no false alarm
    control.poll_once()
    assert [s["name"] for s in control.snapshot()[1]] == ["left", "right"]
    server.result = status(("a", "left", False, 0))
    control.poll_once()
    assert [(s["name"], s["connected"]) for s in control.snapshot()[1]] == [
        ("left", False), ("right", False)]  # seen this session: its drop stays in sight
    server.close()


def two_rooms(fmt: str = "48000:16:2") -> dict:
    """One server, one stream per room, a group of clients on each."""
    def stream(name, path, sf):
        return {"id": name, "uri": {"scheme": "pipe", "path": path,
                                    "query": {"name": name, "sampleformat": sf}}}

    def group(stream_id, cid, name):
        return {"stream_id": stream_id, "clients": [
            {"id": cid, "connected": True, "host": {"name": cid}, "config": {"name": name}}]}

    return {"server": {"streams": [stream("big", "/tmp/big", fmt),
                                   stream("quiet", "/tmp/quiet", "48000:16:2")],
                       "groups": [group("big", "a", "corner"), group("quiet", "q", "sofa")]}}


def test_one_server_for_two_rooms_shows_each_room_its_own_speakers_and_a_wrong_format():
    server = FakeServer(two_rooms())
    control = SnapcastControl(f"127.0.0.1:{server.port}", fifo="/tmp/quiet")
    control.poll_once()
    assert [s["name"] for s in control.snapshot()[1]] == ["sofa"]
    watch = SpeakerWatch(control.snapshot)
    assert watch.check() == []
    server.result = two_rooms()
    control = SnapcastControl(f"127.0.0.1:{server.port}", fifo="/tmp/big",
                              sample_format="44100:16:2")
    control.poll_once()
    assert [s["name"] for s in control.snapshot()[1]] == ["corner"]
    assert SpeakerWatch(control.snapshot).check() == [
        "SNAPCAST: the Snapcast stream big reads 48000:16:2 and soundscape writes 44100:16:2: "
        "set snapcast_format to 48000:16:2"]
    control = SnapcastControl(f"127.0.0.1:{server.port}", fifo="/tmp/elsewhere",
                              expected=("door",))
    control.poll_once()
    assert [s["name"] for s in control.snapshot()[1]] == ["door"]  # not the other rooms'
    assert SpeakerWatch(control.snapshot).check() == [
        "SNAPCAST: no stream of the Snapcast server reads /tmp/elsewhere: the speakers hear "
        "nothing of this room (docs/rooms.md)",
        "SPEAKER MISSING: door is expected but not connected to the Snapcast server"]
    server.close()


def test_an_answer_of_an_unforeseen_shape_is_a_server_not_understood_not_a_dead_thread():
    server = FakeServer({"server": {"groups": [{"clients": [{"id": "a", "connected": True,
                                                               "config": {"latency": "x"}}]}]}})
    control = SnapcastControl(f"127.0.0.1:{server.port}", poll_s=0.01)
    control.start()
    try:
        deadline = time.monotonic() + 2
        while control.snapshot()[0] is None and time.monotonic() < deadline:
            time.sleep(0.01)
        reachable, _, error = control.snapshot()
        assert reachable is False and "cannot read" in error
        server.result = status(("a", "left", True, 0))  # the thread lives on: next poll reads it
        deadline = time.monotonic() + 2
        while not control.snapshot()[0] and time.monotonic() < deadline:
            time.sleep(0.01)
        assert control.snapshot()[0] is True
    finally:
        control.stop()
        server.close()

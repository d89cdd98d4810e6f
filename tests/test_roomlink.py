"""The room's links: its name becomes a valid .local host, the token goes only where it is given."""

import socket

import pytest

from soundscape import roomlink
from soundscape.room import Room


@pytest.mark.parametrize("name, label", [
    ("Room 2", "room-2"), ("Salle Étoile", "salle-etoile"), ("  KAP room #3 ", "kap-room-3"),
    ("日本", "soundscape"), ("a" * 80, "a" * 63), ("x" + "-" * 70 + "y", "x-y"), ("b" * 62 + " c", "b" * 62),
])
def test_a_name_becomes_one_dns_label(name, label):
    assert roomlink.host_label(name) == label


def test_without_a_name_the_room_is_called_after_the_machine(monkeypatch):
    monkeypatch.setattr(socket, "gethostname", lambda: "kap-box.clinic.lan")
    assert roomlink.room_name(Room()) == "kap-box"
    assert roomlink.mdns_host(Room()) == "kap-box.local"
    assert roomlink.mdns_host(Room(name="Room 2")) == "room-2.local"


def test_links_by_name_and_by_address(monkeypatch):
    monkeypatch.setattr(roomlink, "lan_ip", lambda: "192.168.1.20")
    assert roomlink.name_url(Room(name="Room 2"), 8700, "t0k") == \
        "http://room-2.local:8700/?token=t0k"
    assert roomlink.address_url("0.0.0.0", 8800, "t0k") == "http://192.168.1.20:8800/?token=t0k"
    assert roomlink.room_port(Room(port=8800)) == 8800
    assert roomlink.room_port(Room(port=8800), 9000) == 9000
    assert roomlink.room_port(Room()) == 8700

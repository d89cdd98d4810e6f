"""Announcing the room: a phone's browser finds it, resolves it, never hears the token, and sees
it go (goodbyes), move (a new address) and come (an address at last); trouble is a warning.

The "phone" is a second Zeroconf in this process, on this machine's real multicast. Every wait
polls until its condition holds, with a generous limit for a loaded 2-core machine; none is a
fixed sleep. Without working multicast these tests skip with the reason, except in CI (CI=true),
where they fail.
"""

from __future__ import annotations

import errno
import ipaddress
import os
import socket
import time

import ifaddr
import pytest
import zeroconf
from zeroconf import RecordUpdateListener, ServiceBrowser, ServiceInfo, Zeroconf

from soundscape import announce, roomlink, roomtoken
from soundscape.announce import SERVICE_TYPE, Announced, Announcement
from soundscape.room import Room

WAIT_S = 30.0  # the limit, not the expected time: each wait ends as soon as its condition holds
PID = os.getpid()  # in room names, so a concurrent run elsewhere on the LAN is another room


def unavailable(reason: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(reason)
    pytest.skip(reason)


def wait_until(what: str, condition, timeout_s: float = WAIT_S):
    deadline = time.monotonic() + timeout_s
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"waited {timeout_s:.0f} s for {what}")
        time.sleep(0.05)


def multicast_trouble() -> str | None:
    """Why mDNS cannot work here, or None: a datagram sent to a multicast group must come back."""
    group = "224.0.0.251"
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as rx, \
                socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as tx:
            rx.bind(("", 0))
            rx.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP,
                          socket.inet_aton(group) + socket.inet_aton("0.0.0.0"))
            rx.settimeout(5)
            tx.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_LOOP, 1)
            tx.sendto(b"soundscape", (group, rx.getsockname()[1]))
            rx.recvfrom(64)
    except OSError as exc:
        return f"multicast does not work on this machine ({exc})"
    return None


class Recorder(RecordUpdateListener):
    """Keeps every record the phone's Zeroconf hears, to look for the token in all of them."""

    def __init__(self):
        super().__init__()
        self.records = []

    def async_update_records(self, zc, now, records) -> None:
        self.records.extend(update.new for update in records)

    def async_update_records_complete(self) -> None:
        pass


class Phone:
    """A phone on the LAN: browses ``_http._tcp``, notes what comes and goes, resolves names."""

    def __init__(self):
        self.zc = Zeroconf()
        self.events: list[tuple[str, str]] = []  # ("Added" | "Updated" | "Removed", name)
        self.heard = Recorder()
        self.zc.add_listener(self.heard, None)
        self.browser = ServiceBrowser(self.zc, SERVICE_TYPE, handlers=[self._on_change])

    def _on_change(self, zeroconf, service_type, name, state_change) -> None:
        self.events.append((state_change.name, name))

    def saw(self, kind: str, name: str) -> bool:
        return (kind, name) in self.events

    def resolve(self, name: str, holds=lambda info: True) -> ServiceInfo:
        def attempt():
            info = self.zc.get_service_info(SERVICE_TYPE, name, timeout=1000)
            return info if info is not None and holds(info) else None
        return wait_until(f"{name} to resolve as expected", attempt)

    def close(self) -> None:
        self.browser.cancel()
        self.zc.close()


@pytest.fixture(scope="module")
def multicast():
    trouble = multicast_trouble()
    if trouble:
        unavailable(trouble)


@pytest.fixture
def phone(multicast):
    try:
        phone = Phone()
    except OSError as exc:
        unavailable(f"cannot open the mDNS port 5353 on this machine ({exc})")
    yield phone
    phone.close()


@pytest.fixture
def announcements():
    made: list[Announcement] = []

    def make(**kwargs) -> Announcement:
        made.append(Announcement(**kwargs))
        return made[-1]
    yield make
    for announcement in made:
        announcement.close()


class Addresses:
    """The box's addresses as a test sets them: a lease that comes, or changes."""

    def __init__(self, *addresses: str):
        self.now = list(addresses)

    def __call__(self) -> list[str]:
        return list(self.now)


def service(room: Room) -> str:
    return f"{room.name}.{SERVICE_TYPE}"


def test_a_lan_address_is_any_but_loopback_and_ipv6_link_local():
    adapters = [
        ifaddr.Adapter("lo", "lo", [ifaddr.IP("127.0.0.1", 8, "lo"),
                                    ifaddr.IP(("::1", 0, 0), 128, "lo")], 1),
        ifaddr.Adapter("eth0", "eth0", [ifaddr.IP("192.168.1.20", 24, "eth0"),
                                        ifaddr.IP(("fe80::1", 0, 2), 64, "eth0"),
                                        ifaddr.IP(("2001:db8::20", 0, 0), 64, "eth0")], 2),
        ifaddr.Adapter("wlan0", "wlan0", [ifaddr.IP("10.0.0.5", 8, "wlan0"),
                                          ifaddr.IP("192.168.1.20", 24, "wlan0")], 3),
    ]
    assert announce.lan_addresses(adapters) == ["10.0.0.5", "192.168.1.20", "2001:db8::20"]
    assert announce.lan_addresses([]) == []


def test_a_fixed_host_is_announced_with_its_own_address_unless_phones_cannot_reach_it():
    assert announce.listened_addresses("192.0.2.9") == ("192.0.2.9",)
    assert announce.listened_addresses("2001:db8::9") == ("2001:db8::9",)
    assert announce.listened_addresses("127.0.0.1") == ()
    assert announce.listened_addresses("::1") == ()
    assert announce.listened_addresses("localhost") == ()


def test_the_service_is_named_after_the_room_within_one_dns_label():
    assert announce.instance_name(Room(name="Salle Étoile")) == "Salle Étoile"
    assert announce.instance_name(Room(name="Dr. Lee's room 2.5.")) == "Dr Lee's room 2-5"
    long = announce.instance_name(Room(name="é" * 63))
    assert long == "é" * 29 and len(long.encode()) <= 59  # cut on a character, "-2" still fits


@pytest.mark.parametrize("host, version", [("0.0.0.0", 4), ("::", 6)])
def test_a_phone_finds_the_room_and_resolves_its_port_host_addresses_and_path(
        phone, announcements, host, version):
    expected = tuple(a for a in announce.lan_addresses()
                     if ipaddress.ip_address(a).version == version)
    if not expected:
        pytest.skip(f"this machine has no IPv{version} LAN address")
    room = Room(name=f"Announce IPv{version} {PID}", port=8800)
    announcement = announcements()
    assert announcement.start(room, 8800, host) == []
    label = f"announce-ipv{version}-{PID}"
    assert announcement.announced == Announced(name=room.name, service=service(room),
                                               host=f"{label}.local", port=8800,
                                               addresses=expected)
    wait_until("the phone to find the room", lambda: phone.saw("Added", service(room)))
    info = phone.resolve(service(room), lambda i: set(i.parsed_addresses()) == set(expected))
    assert (info.port, info.server) == (8800, f"{label}.local.")
    assert info.decoded_properties == {"path": "/", "app": "soundscape"}
    if version == 4:
        assert roomlink.lan_ip() in info.parsed_addresses()


def test_nothing_the_network_hears_carries_the_token(phone, announcements, tmp_path,
                                                     monkeypatch):
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))
    token, made = roomtoken.load()  # this process now holds the room's lasting token
    monkeypatch.setenv("SOUNDSCAPE_TOKEN", token)  # and in its environment, as serve may
    assert made
    room = Room(name=f"Announce Token {PID}")
    announcement = announcements()
    assert announcement.start(room, 8801) == []
    server = f"announce-token-{PID}.local."
    info = phone.resolve(service(room), lambda i: bool(i.parsed_addresses()))
    assert info.decoded_properties == {"path": "/", "app": "soundscape"}

    def ours():
        records = [r for r in list(phone.heard.records)
                   if r.name.lower() in (service(room).lower(), server, SERVICE_TYPE)]
        kinds = {type(r).__name__ for r in records}
        return records if {"DNSPointer", "DNSService", "DNSText", "DNSAddress"} <= kinds else None
    wait_until("the room's PTR, SRV, TXT and A records", ours)
    heard = []
    for record in list(phone.heard.records):  # everything heard, the room's and anyone's
        heard += [record.name, getattr(record, "alias", ""), getattr(record, "server", ""),
                  getattr(record, "next_name", ""), repr(record),
                  getattr(record, "text", b"").decode("latin-1")]
    heard += [str(announcement.announced), *announcement.warnings]
    assert [part for part in heard if token.lower() in part.lower()] == []


def test_close_says_goodbye_at_once_and_twice_is_harmless(phone, announcements):
    room = Room(name=f"Announce Goodbye {PID}")
    announcement = announcements()
    assert announcement.start(room, 8802) == []
    wait_until("the phone to find the room", lambda: phone.saw("Added", service(room)))
    started = time.monotonic()
    announcement.close()
    assert time.monotonic() - started < 1.0
    wait_until("the phone to drop the room", lambda: phone.saw("Removed", service(room)))
    announcement.close()
    assert announcement.announced is None
    assert announcement.recheck() is False


def test_a_new_address_is_announced_in_place_of_the_old(phone, announcements):
    addresses = Addresses("198.51.100.7")
    room = Room(name=f"Announce Lease {PID}")
    announcement = announcements(list_addresses=addresses)
    assert announcement.start(room, 8803) == []
    phone.resolve(service(room), lambda i: i.parsed_addresses() == ["198.51.100.7"])
    assert announcement.recheck() is False  # nothing changed: nothing is sent
    addresses.now = ["198.51.100.8"]
    assert announcement.recheck() is True
    assert announcement.announced.addresses == ("198.51.100.8",)
    phone.resolve(service(room), lambda i: "198.51.100.8" in i.parsed_addresses())


def test_a_box_without_an_address_is_announced_once_it_has_one(phone, announcements):
    addresses = Addresses()
    room = Room(name=f"Announce Boot {PID}")
    announcement = announcements(list_addresses=addresses)
    assert announcement.start(room, 8804) == [
        ("the room is not announced on the network yet (this box has no network address): "
         "it will be as soon as it has one")]
    assert announcement.announced is None
    assert announcement.recheck() is False
    addresses.now = ["198.51.100.9", "2001:db8::9"]  # listening on 0.0.0.0: IPv4 only
    assert announcement.recheck() is True
    assert announcement.announced.addresses == ("198.51.100.9",)
    phone.resolve(service(room), lambda i: i.parsed_addresses() == ["198.51.100.9"])


def test_another_device_on_the_host_name_is_named_and_the_room_still_announced(
        phone, announcements):
    room = Room(name=f"Announce Clash {PID}")
    host = f"announce-clash-{PID}.local"
    printer = Zeroconf()  # a printer that already calls itself by this room's host name
    try:
        printer.register_service(ServiceInfo("_ipp._tcp.local.", f"Printer {PID}._ipp._tcp.local.",
                                             port=631, server=f"{host}.",
                                             parsed_addresses=["192.0.2.77"]))
        announcement = announcements(list_addresses=Addresses("198.51.100.10"))
        assert announcement.start(room, 8805) == [
            (f"another device already answers to {host} (192.0.2.77): give this room another "
             "name in the room config")]
        phone.resolve(service(room), lambda i: i.port == 8805)
    finally:
        printer.close()


def test_a_taken_service_name_gets_a_number_and_the_name_used_is_reported(phone, announcements):
    room = Room(name=f"Announce Twin {PID}")
    twin = Zeroconf()  # another box already announces a room of the same name
    try:
        twin.register_service(ServiceInfo(SERVICE_TYPE, service(room), port=8700,
                                          server=f"twin-{PID}.local.",
                                          parsed_addresses=["192.0.2.78"]))
        announcement = announcements(list_addresses=Addresses("198.51.100.11"))
        assert announcement.start(room, 8806) == [
            (f"the name {room.name} is taken on this network: the room is announced as "
             f"{room.name}-2")]
        assert announcement.announced.service == f"{room.name}-2.{SERVICE_TYPE}"
        phone.resolve(f"{room.name}-2.{SERVICE_TYPE}", lambda i: i.port == 8806)
    finally:
        twin.close()


class RefusingZeroconf:
    """A Zeroconf factory whose sockets cannot be opened, as when port 5353 is unusable."""

    def __init__(self):
        self.calls: list[dict] = []

    def __call__(self, **kwargs):
        self.calls.append(kwargs)
        raise OSError(errno.EADDRINUSE, "Address already in use")


def test_a_port_that_cannot_be_opened_is_a_warning_and_close_is_still_safe():
    factory = RefusingZeroconf()
    announcement = Announcement(zeroconf_factory=factory, list_addresses=Addresses("192.0.2.5"))
    assert announcement.start(Room(name="Room 2"), 8800) == [
        ("the room is not announced on the network (cannot use the mDNS port 5353: Address "
         "already in use): phones open it by its address")]
    assert [call["ip_version"] for call in factory.calls] == [zeroconf.IPVersion.All,
                                                               zeroconf.IPVersion.V4Only]
    assert announcement.announced is None
    announcement.close()
    announcement.close()


class StuckZeroconf(Zeroconf):
    """A real Zeroconf whose registration never completes, as on a blocked event loop."""

    def register_service(self, info, *args, **kwargs):
        raise zeroconf.EventLoopBlocked


def test_zeroconf_failing_and_addresses_unreadable_are_warnings(multicast, announcements):
    announcement = announcements(zeroconf_factory=StuckZeroconf,
                                 list_addresses=Addresses("198.51.100.12"))
    assert announcement.start(Room(name=f"Announce Stuck {PID}"), 8807) == [
        ("the room is not announced on the network (mDNS failed: EventLoopBlocked): phones "
         "open it by its address")]
    assert announcement.announced is None

    def unreadable():
        raise OSError(errno.EACCES, "Permission denied")
    announcement = announcements(list_addresses=unreadable)
    assert announcement.start(Room(name=f"Announce Unreadable {PID}"), 8808) == [
        ("the room is not announced on the network (cannot list this box's addresses: "
         "Permission denied): phones open it by its address")]


def test_serve_listening_on_loopback_is_not_announced():
    announcement = Announcement(zeroconf_factory=RefusingZeroconf())
    assert announcement.start(Room(name="Room 2"), 8800, "127.0.0.1") == [
        ("serve listens on 127.0.0.1 only, which phones cannot reach: the room is not announced "
         "on the network")]
    announcement.close()


def test_each_new_warning_is_handed_on_once_as_it_happens():
    told: list[str] = []
    announcement = Announcement(zeroconf_factory=RefusingZeroconf(), on_warning=told.append)
    announcement.start(Room(name="Room 2"), 8800, "127.0.0.1")
    announcement._warn(announcement.warnings[0])  # a recheck saying it again
    assert told == announcement.warnings and len(told) == 1
    announcement.close()

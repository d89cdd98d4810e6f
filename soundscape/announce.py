"""Announcing the room on the LAN over mDNS/DNS-SD, so a phone opens it by name (``room-2.local``).

``soundscape serve`` registers one ``_http._tcp`` service named after the room, on the host
``<label>.local`` (roomlink.py), with this box's addresses. Nothing announced carries the token:
this module is never given it, so the network hears only the room's name, host, port and path.

Announcing is a convenience, never a reason not to serve: every network trouble (no multicast,
no address yet, port 5353 unusable, zeroconf failing) becomes a warning for the page and the
terminal, and phones still open the room by its address. Addresses are looked at again every
``RECHECK_S`` (a box that booted before DHCP answered, a new lease), and the announcement follows.
"""

from __future__ import annotations

import asyncio
import ipaddress
import re
import socket
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import ifaddr
import zeroconf
from zeroconf import AddressResolver, InterfaceChoice, IPVersion, ServiceInfo, Zeroconf

from soundscape import roomlink
from soundscape.room import Room

SERVICE_TYPE = "_http._tcp.local."
PROPERTIES = {"path": "/", "app": "soundscape"}  # never the token: the API has none to give
RECHECK_S = 30.0
CLASH_WAIT_MS = 1000  # runs while zeroconf probes the service name (~1.2 s), so costs no time
MAX_INSTANCE_BYTES = 59  # a DNS label is 63 bytes; zeroconf may append "-2" on a clash
WILDCARDS = {"0.0.0.0": 4, "": 4, "::": 6}  # waitress listens on "::" for IPv6 only (V6ONLY)
NETWORK_ERRORS = (OSError, zeroconf.Error)


@dataclass(frozen=True)
class Announced:
    """What the network was told, for the terminal's invitation and the page."""

    name: str  # the instance name actually used: "Room 2", or "Room 2-2" when that was taken
    service: str  # "Room 2._http._tcp.local."
    host: str  # "room-2.local"
    port: int
    addresses: tuple[str, ...]


def not_announced(reason: str) -> str:
    return f"the room is not announced on the network ({reason}): phones open it by its address"


VIRTUAL_INTERFACES = ("docker", "virbr", "veth", "br-", "lxcbr", "tun", "tap")


def lan_addresses(adapters: Iterable[ifaddr.Adapter] | None = None) -> list[str]:
    """Every address of this box a phone could reach: loopback is left out, and so are link-local
    addresses (IPv6's mean nothing without their interface, IPv4's 169.254 are a DHCP failure's)
    and the bridges of containers and VMs, which no phone is on."""
    adapters = ifaddr.get_adapters() if adapters is None else adapters
    found = set()
    for adapter in adapters:
        if str(adapter.nice_name).startswith(VIRTUAL_INTERFACES):
            continue
        for ip in adapter.ips:
            address = ipaddress.ip_address(ip.ip[0] if isinstance(ip.ip, tuple) else ip.ip)
            if not (address.is_loopback or address.is_link_local):
                found.add(address)
    return [str(a) for a in sorted(found, key=lambda a: (a.version, int(a)))]


def own_addresses() -> list[str]:
    """Every address of this box, whatever kind: an answer naming one of them is this box's."""
    found = set()
    for adapter in ifaddr.get_adapters():
        for ip in adapter.ips:
            found.add(str(ip.ip[0] if isinstance(ip.ip, tuple) else ip.ip).split("%")[0])
    return sorted(found)


def listened_addresses(host: str) -> tuple[str, ...]:
    """The addresses a fixed ``--host`` means (a name is resolved), without loopback ones."""
    try:
        found = {ipaddress.ip_address(host)}
    except ValueError:
        try:
            found = {ipaddress.ip_address(entry[4][0].split("%")[0])
                     for entry in socket.getaddrinfo(host, None)}
        except OSError:
            found = set()
    return tuple(str(a) for a in sorted(found, key=lambda a: (a.version, int(a)))
                 if not a.is_loopback)


def instance_name(room: Room) -> str:
    """The room's name as one DNS label, with room left for zeroconf's "-2".

    zeroconf writes a dot as a label break, so ``Dr. Lee`` would reach phones as two labels:
    a dot ending a word goes, any other becomes ``-`` (``Room 2.5`` -> ``Room 2-5``).
    """
    name = re.sub(r"\.(?=\s|$)", "", roomlink.room_name(room)).replace(".", "-")
    return name.encode()[:MAX_INSTANCE_BYTES].decode(errors="ignore").strip()


class Announcement:
    """The room's DNS-SD registration: ``start`` it once, ``close`` it on the way out.

    ``zeroconf_factory`` and ``list_addresses`` are the edges tests replace; ``recheck`` is one
    look at the addresses (what the thread does every ``recheck_s``), so tests call it directly.
    """

    def __init__(self, zeroconf_factory: Callable[..., Zeroconf] = Zeroconf,
                 list_addresses: Callable[[], list[str]] = lan_addresses,
                 recheck_s: float = RECHECK_S,
                 on_warning: Callable[[str], None] | None = None):
        self._factory = zeroconf_factory
        self._on_warning = on_warning  # told each new warning (serve: every phone sees it)
        self._list_addresses = list_addresses
        self.recheck_s = recheck_s
        self.warnings: list[str] = []  # every warning so far, those after start included
        self._zc: Zeroconf | None = None
        self._info: ServiceInfo | None = None
        self._addresses: tuple[str, ...] = ()
        self._room = Room()
        self._port = 0
        self._host = "0.0.0.0"
        self._lock = threading.Lock()  # one recheck at a time; close never waits for it
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def announced(self) -> Announced | None:
        """What is announced now; None before start, after close, or while nothing is."""
        info = self._info
        if info is None or self._zc is None:
            return None
        return Announced(name=_instance(info.name), service=info.name,
                         host=info.server.rstrip("."), port=self._port, addresses=self._addresses)

    def start(self, room: Room, port: int, host: str = "0.0.0.0") -> list[str]:
        """Announce the room; returns the warnings to show (empty when all went well).

        Takes about two seconds: zeroconf probes that the service name is free before using it.
        """
        self._room, self._port, self._host = room, port, host
        if host not in WILDCARDS and not listened_addresses(host):
            return self._warn(f"serve listens on {host} only, which phones cannot reach: the room "
                              "is not announced on the network")
        try:
            self._zc = self._open()
        except OSError as exc:
            return self._warn(not_announced(f"cannot use the mDNS port 5353: "
                                            f"{exc.strerror or exc}"))
        found = len(self.warnings)
        self.recheck()
        if not self._addresses and len(self.warnings) == found:
            self._warn("the room is not announced on the network yet (this box has no network "
                       "address): it will be as soon as it has one")
        if host in WILDCARDS:
            self._thread = threading.Thread(target=self._run, name="soundscape-announce",
                                            daemon=True)
            self._thread.start()
        return self.warnings[found:]

    def _open(self) -> Zeroconf:
        """IPv6 too when the box has it (phones ask over both), else IPv4 alone."""
        try:
            return self._factory(interfaces=InterfaceChoice.All, ip_version=IPVersion.All)
        except OSError:
            return self._factory(interfaces=InterfaceChoice.All, ip_version=IPVersion.V4Only)

    def _wanted(self) -> tuple[str, ...]:
        if self._host not in WILDCARDS:
            return listened_addresses(self._host)
        family = WILDCARDS[self._host]
        return tuple(a for a in self._list_addresses()
                     if ipaddress.ip_address(a).version == family)

    def recheck(self) -> bool:
        """Look at this box's addresses once; re-announce when they changed. True if it did."""
        with self._lock:
            zc = self._zc
            if zc is None or self._stop.is_set():
                return False
            try:
                wanted = self._wanted()
            except OSError as exc:
                self._warn(not_announced(f"cannot list this box's addresses: "
                                         f"{exc.strerror or exc}"))
                return False
            try:
                if wanted == self._addresses:
                    return False
                self._follow(zc, wanted)
            except (*NETWORK_ERRORS, RuntimeError) as exc:  # RuntimeError: closed meanwhile
                if not self._stop.is_set():
                    self._warn(not_announced(f"mDNS failed: {str(exc) or type(exc).__name__}"))
                return False
            return True

    def _follow(self, zc: Zeroconf, wanted: tuple[str, ...]) -> None:
        """Make the registration carry ``wanted``: register, update or withdraw it."""
        if not wanted:
            if self._info is not None:
                zc.unregister_service(self._info)  # goodbyes: phones drop the stale address
            self._info, self._addresses = None, ()
            return
        server = roomlink.mdns_host(self._room) + "."
        if self._info is None:
            _update_interfaces(zc)  # sockets on an interface that appeared since
            info = self._service_info(f"{instance_name(self._room)}.{SERVICE_TYPE}", server,
                                      wanted)
            self._register(zc, info, wanted)
        else:
            info = self._service_info(self._info.name, server, wanted)
            zc.update_service(info)  # the cache-flush bit makes phones drop the old addresses
            _update_interfaces(zc)  # after: a new interface hears the new addresses only
        self._info, self._addresses = info, wanted

    def _service_info(self, name: str, server: str, addresses: tuple[str, ...]) -> ServiceInfo:
        return ServiceInfo(SERVICE_TYPE, name, port=self._port, properties=PROPERTIES,
                           server=server, parsed_addresses=list(addresses))

    def _register(self, zc: Zeroconf, info: ServiceInfo, ours: tuple[str, ...]) -> None:
        """Register, renaming on a clash; asks meanwhile who else answers to the host name."""
        resolver = AddressResolver(info.server)
        asking = asyncio.run_coroutine_threadsafe(resolver.async_request(zc, CLASH_WAIT_MS),
                                                  zc.loop)
        wanted_name = info.name
        zc.register_service(info, allow_name_change=True)
        if info.name != wanted_name:
            self._warn(f"the name {_instance(wanted_name)} is taken on this network: the room "
                       f"is announced as {_instance(info.name)}")
        try:
            asking.result(timeout=CLASH_WAIT_MS / 1000 + 5)
        except Exception:  # noqa: BLE001 - the clash check is advice; the service is announced
            return
        mine = set(ours) | set(own_addresses())  # avahi answers for this box in every family
        others = [a for a in resolver.parsed_addresses() if a not in mine]
        if others:
            self._warn(f"another device already answers to {info.server.rstrip('.')} "
                       f"({', '.join(others)}): give this room another name in the room config")

    def _warn(self, warning: str) -> list[str]:
        if warning not in self.warnings:  # a recheck every 30 s must not repeat itself
            self.warnings.append(warning)
            if self._on_warning is not None:
                self._on_warning(warning)
        return [warning]

    def _run(self) -> None:
        while not self._stop.wait(self.recheck_s):
            self.recheck()

    def close(self) -> None:
        """Withdraw the room (goodbye packets: phones forget it at once); quick, and safe to
        call twice or after a failed start. Does not wait for a recheck in progress."""
        self._stop.set()
        zc, self._zc = self._zc, None
        if zc is None:
            return
        try:
            zc.unregister_all_services()  # three goodbyes, 125 ms apart
        except (*NETWORK_ERRORS, RuntimeError):
            pass
        try:
            zc.close()
        except (*NETWORK_ERRORS, RuntimeError):
            pass


def _update_interfaces(zc: Zeroconf) -> None:
    """Open sockets on interfaces that appeared since start (zeroconf 0.150 and later)."""
    update = getattr(zc, "update_interfaces", None)
    if update is not None:
        update()


def _instance(service: str) -> str:
    """``Room 2._http._tcp.local.`` -> ``Room 2``."""
    return service[:-len(SERVICE_TYPE) - 1]

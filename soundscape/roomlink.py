"""The links a phone opens the room with: by the room's name (mDNS) and by the box's address.

The name link (``http://room-2.local:8700/``) survives the box getting a new address from the
clinic's DHCP server, so it is what the room card's QR code carries; the address link is the
fallback for a phone or network that does not resolve ``.local`` names. Both carry the token when
they are given to a facilitator (the invitation, the card, the page's join code), never when they
are announced on the network (announce.py).
"""

from __future__ import annotations

import re
import socket
import unicodedata

from soundscape.room import Room

DEFAULT_PORT = 8700


def room_name(room: Room) -> str:
    """The room config's ``name``, else this machine's host name (short form)."""
    if room.name:
        return room.name
    host = socket.gethostname().split(".")[0]
    return host or "soundscape"


def host_label(name: str) -> str:
    """The DNS label a name becomes: ``Room 2`` -> ``room-2``, ``Salle Étoile`` -> ``salle-etoile``.

    Letters, digits and hyphens only (RFC 1123), at most 63 characters; a name with none of those
    becomes ``soundscape``.
    """
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    label = re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")[:63].strip("-")
    return label or "soundscape"


def mdns_host(room: Room) -> str:
    """The name the room answers to on the LAN: ``<label>.local``."""
    return f"{host_label(room_name(room))}.local"


def room_port(room: Room, port: int | None = None) -> int:
    return port or room.port or DEFAULT_PORT


def lan_ip() -> str:
    """This machine's address on the LAN, without sending anything.

    ``connect()`` on a UDP socket only picks the route and source address; no packet leaves, so
    this works on a clinic network with no internet at all.
    """
    for probe in ("10.255.255.255", "192.168.255.255", "172.31.255.255"):
        try:
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
                sock.connect((probe, 1))
                address = sock.getsockname()[0]
        except OSError:
            continue
        if address and not address.startswith(("0.", "127.")):
            return address
    try:
        address = socket.gethostbyname(socket.gethostname())
        if not address.startswith("127."):
            return address
    except OSError:
        pass
    return socket.gethostname() or "localhost"


def address_url(host: str, port: int, token: str) -> str:
    """The link by address: the LAN address when listening on every interface."""
    shown = lan_ip() if host in ("0.0.0.0", "::", "") else host
    if ":" in shown:
        shown = f"[{shown}]"
    return f"http://{shown}:{port}/?token={token}"


def name_url(room: Room, port: int, token: str) -> str:
    """The link by the room's name: ``http://room-2.local:8700/?token=...``."""
    return f"http://{mdns_host(room)}:{port}/?token={token}"

"""Who may connect to voicebot's PBX-facing servers: the PBX, and nobody else.

FastAGI and AudioSocket carry calls and customers' audio; a stranger who reaches
either port could drive the bot, put any number on the do-not-call list or listen
in. Both servers check each connection's peer against the PBX's addresses
(``[pbx] addresses``: IPs or networks; by default the addresses of the AMI host)
before reading a byte, and close the others.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import socket
import time
from collections.abc import Iterable, Sequence
from typing import Any

from voicebot.errors import ConfigError

log = logging.getLogger(__name__)

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
#: A refused address is logged once per this many seconds, not once per connection.
LOG_EVERY = 60.0


class PeerFilter:
    """Allows connections from the given networks only."""

    def __init__(self, networks: Iterable[Network], *, server: str = "server") -> None:
        self.networks = tuple(networks)
        self._server = server
        self._logged: dict[str, float] = {}
        self.refused = 0

    @classmethod
    def loopback(cls, *, server: str = "server") -> PeerFilter:
        return cls((ipaddress.ip_network("127.0.0.0/8"), ipaddress.ip_network("::1/128")), server=server)

    @classmethod
    def of(cls, addresses: Sequence[str], pbx_host: str, *, server: str = "server") -> PeerFilter:
        """The configured addresses, or else every address of the PBX's (AMI) host."""
        if addresses:
            return cls((parse(a) for a in addresses), server=server)
        try:
            infos = socket.getaddrinfo(pbx_host, None, proto=socket.IPPROTO_TCP)
        except OSError as e:
            raise ConfigError(
                f"cannot resolve the PBX host {pbx_host!r} to allow its connections: {e}",
                hint="set [pbx] addresses to the PBX's IP addresses",
            ) from e
        return cls((parse(str(info[4][0])) for info in infos), server=server)

    def admit(self, writer: asyncio.StreamWriter) -> bool:
        """Whether a new connection may go on; one that may not is aborted here."""
        if self.allows(writer.get_extra_info("peername")):
            return True
        writer.transport.abort()
        return False

    def allows(self, peername: Any) -> bool:
        """Whether a connection from ``peername`` (as asyncio gives it) may go on."""
        try:
            address = ipaddress.ip_address(peername[0])
        except (TypeError, ValueError, IndexError):
            return False  # not an IP peer (a Unix socket): not the PBX
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
            address = address.ipv4_mapped
        if any(address in network for network in self.networks):
            return True
        self.refused += 1
        now, key = time.monotonic(), str(address)
        if now - self._logged.get(key, -LOG_EVERY) >= LOG_EVERY:
            self._logged[key] = now
            log.warning(
                "%s: refused a connection from %s, not a PBX address (allowed: %s)",
                self._server,
                key,
                ", ".join(map(str, self.networks)),
            )
        return False


class ConnectionCap:
    """At most ``limit`` connections open at once; beyond, new ones are aborted (each call
    holds one, so the cap is far above a worker's channels but below its file limit)."""

    def __init__(self, limit: int, *, server: str = "server") -> None:
        self.limit = limit
        self._server = server
        self.refused = 0

    def full(self, open_now: int, writer: asyncio.StreamWriter) -> bool:
        """Whether ``open_now`` connections are the most allowed; a refused one is aborted here."""
        if open_now < self.limit:
            return False
        self.refused += 1
        if self.refused == 1 or self.refused % 100 == 0:
            log.error("%s: %d connections open, the most allowed: refusing more", self._server, open_now)
        writer.transport.abort()
        return True


def parse(text: str) -> Network:
    try:
        return ipaddress.ip_network(text.strip(), strict=False)
    except ValueError as e:
        raise ConfigError(
            f"invalid PBX address {text!r}: {e}", hint='use IPs or networks, e.g. ["10.0.0.5", "10.0.1.0/24"]'
        ) from e

"""Which network addresses a server may fetch from: one policy for image URLs and registry files.

Checks always run on resolved addresses, never on the text of a URL, so `127.1`, `2130706433`,
`[::ffff:127.0.0.1]` and a name that resolves to an internal address are all seen as what they
are. IPv6 addresses that carry an IPv4 address (IPv4-mapped, IPv4-compatible, NAT64, 6to4) are
judged by the IPv4 address inside; other non-public IPv6 ranges (site-local, Teredo, local-use
NAT64) are refused outright.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

_IPV4_COMPATIBLE = ipaddress.ip_network("::/96")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_SIX_TO_FOUR = ipaddress.ip_network("2002::/16")
_NEVER_PUBLIC_V6 = (
    ipaddress.ip_network("64:ff9b:1::/48"),  # local-use NAT64
    ipaddress.ip_network("fec0::/10"),  # site-local (deprecated, still routed inside some sites)
    ipaddress.ip_network("2001::/32"),  # Teredo: the IPv4 address inside is obfuscated
)


def parse_address(text: str) -> IPAddress | None:
    """An IP address from text (a zone id like `%eth0` is dropped); None when it is not one."""
    try:
        return ipaddress.ip_address(text.split("%", 1)[0])
    except ValueError:
        return None


def embedded_ipv4(address: IPAddress) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address stands for, if it is one of the forms that carry one."""
    if not isinstance(address, ipaddress.IPv6Address):
        return None
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    value = int(address)
    if address in _IPV4_COMPATIBLE and value > 1:  # ::/128 and ::1 are not IPv4 addresses
        return ipaddress.IPv4Address(value & 0xFFFFFFFF)
    if address in _NAT64:
        return ipaddress.IPv4Address(value & 0xFFFFFFFF)
    if address in _SIX_TO_FOUR:
        return ipaddress.IPv4Address((value >> 80) & 0xFFFFFFFF)
    return None


def is_public(address: IPAddress) -> bool:
    """Whether the address is globally reachable unicast, judging mapped IPv4 by the IPv4 inside."""
    inner = embedded_ipv4(address)
    if inner is not None:
        return is_public(inner)
    if isinstance(address, ipaddress.IPv6Address) and any(address in net for net in _NEVER_PUBLIC_V6):
        return False
    return address.is_global and not address.is_multicast


def canonical(address: IPAddress) -> IPAddress:
    """The IPv4 address for IPv6 forms that carry one, else the address itself."""
    return embedded_ipv4(address) or address


def resolve(host: str, port: int) -> list[IPAddress]:
    """Every address `host` resolves to (raises OSError / UnicodeError like getaddrinfo)."""
    answers = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [address for answer in answers if (address := parse_address(str(answer[4][0]))) is not None]


def listed_addresses(entries: Iterable[str], port: int) -> tuple[set[IPAddress], list]:
    """The addresses and networks a host list names: IP literals, CIDR networks, resolved names."""
    addresses: set[IPAddress] = set()
    networks = []
    for entry in entries:
        entry = entry.strip().strip("[]").lower()
        literal = parse_address(entry)
        if literal is not None:
            addresses.add(canonical(literal))
            continue
        try:
            networks.append(ipaddress.ip_network(entry, strict=False))
            continue
        except ValueError:
            pass
        try:
            addresses.update(canonical(address) for address in resolve(entry, port))
        except (OSError, UnicodeError):
            continue  # a listed name that does not resolve blocks nothing by address
    return addresses, networks


def is_listed(address: IPAddress, listed: tuple[set[IPAddress], list]) -> bool:
    addresses, networks = listed
    address = canonical(address)
    return address in addresses or any(
        address.version == network.version and address in network for network in networks
    )

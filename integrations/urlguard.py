"""The outbound-URL guard: which addresses cronhub may connect to.

The check is made on the *resolved* address, at connect time (``integrations.http``
connects to exactly the address that was checked, so DNS rebinding cannot slip
past) and again for every redirect hop. Link-local and cloud-metadata addresses
are always refused; private and loopback ranges only with
``WEBHOOK_BLOCK_PRIVATE=true`` and only for user-supplied targets (webhooks,
test runs), since GitHub Enterprise and Slack relays are operator settings.

An IPv6 address that carries an IPv4 one (IPv4-mapped or -translated, IPv4-compatible,
NAT64, 6to4, Teredo) is judged as the IPv4 address it carries, so no IPv6 spelling
reaches an IPv4 host the guard refuses.
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

# Never a legitimate job target: instance metadata services and link-local ranges
# (AWS/GCP/Azure/OpenStack 169.254.169.254, AWS IPv6 fd00:ec2::254, Alibaba
# 100.100.100.200, Azure wireserver 168.63.129.16, Oracle 192.0.0.192), the
# unspecified address (which Linux routes to the local host) and multicast.
ALWAYS_REFUSED = tuple(
    ipaddress.ip_network(net)
    for net in (
        "169.254.0.0/16",
        "fe80::/10",
        "fd00:ec2::254/128",
        "100.100.100.200/32",
        "168.63.129.16/32",
        "192.0.0.192/32",
        "0.0.0.0/8",
        "::/128",
        "224.0.0.0/4",
        "ff00::/8",
        "255.255.255.255/32",
    )
)
# Refused only when WEBHOOK_BLOCK_PRIVATE is on (besides everything ipaddress calls private).
PRIVATE = tuple(
    ipaddress.ip_network(net)
    for net in (
        "127.0.0.0/8",
        "::1/128",
        "10.0.0.0/8",
        "172.16.0.0/12",
        "192.168.0.0/16",
        "100.64.0.0/10",  # carrier-grade NAT, not flagged private by ipaddress
        "fc00::/7",
        "64:ff9b:1::/48",  # local-use NAT64: translates into the operator's own network
    )
)
# IPv6 ranges that carry an IPv4 address; an address in one is judged as the IPv4 address(es)
# it carries, so no IPv6 spelling reaches an IPv4 host the guard refuses.
_IPV4_COMPATIBLE = ipaddress.ip_network("::/96")  # deprecated, but Linux still routes ::a.b.c.d
_IPV4_TRANSLATED = ipaddress.ip_network("::ffff:0:0:0/96")  # SIIT
_NAT64_WELL_KNOWN = ipaddress.ip_network("64:ff9b::/96")
# Local-use NAT64 prefix: the operator picks the prefix length (/48, /56, /64 or /96 inside it),
# so every possible embedding is checked; with WEBHOOK_BLOCK_PRIVATE it is refused as a whole.
_NAT64_LOCAL_USE = ipaddress.ip_network("64:ff9b:1::/48")
_NAT64_LOCAL_USE_PREFIX_LENGTHS = (48, 56, 64, 96)
_SIX_TO_FOUR = ipaddress.ip_network("2002::/16")
_ZERO_NETWORK = ipaddress.ip_network("0.0.0.0/8")


def _rfc6052_ipv4(ip: ipaddress.IPv6Address, prefix_length: int) -> ipaddress.IPv4Address:
    """The IPv4 address embedded after a NAT64 prefix of ``prefix_length`` bits (bits 64-71 are
    reserved and skipped, as the translation scheme for IPv4-embedded IPv6 addresses says)."""
    if prefix_length == 96:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    value = int(ip)
    without_reserved = ((value >> 64) << 56) | (value & ((1 << 56) - 1))  # 120 bits
    return ipaddress.IPv4Address((without_reserved >> (120 - prefix_length - 32)) & 0xFFFFFFFF)


def _judged_addresses(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> list:
    """The addresses ``ip`` is judged as: the IPv4 addresses an IPv6 address carries
    (IPv4-mapped, IPv4-translated, IPv4-compatible, NAT64, 6to4, Teredo client), else ``ip``."""
    if isinstance(ip, ipaddress.IPv4Address):
        return [ip]
    if ip.ipv4_mapped is not None:
        return [ip.ipv4_mapped]
    if ip in _IPV4_TRANSLATED or ip in _NAT64_WELL_KNOWN:
        return [ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)]
    if ip in _IPV4_COMPATIBLE and int(ip) > 1:  # ``::`` and ``::1`` are IPv6's own
        return [ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)]
    if ip in _NAT64_LOCAL_USE:
        # The zero padding of the other prefix lengths reads as 0.0.0.0/8: not a destination.
        embedded = [_rfc6052_ipv4(ip, length) for length in _NAT64_LOCAL_USE_PREFIX_LENGTHS]
        return [ip] + ([v4 for v4 in embedded if v4 not in _ZERO_NETWORK] or embedded[-1:])
    if ip in _SIX_TO_FOUR:
        return [ip.sixtofour]
    if ip.teredo is not None:
        return [ip, ip.teredo[1]]
    return [ip]


def _in_any(ip, networks) -> bool:
    return any(ip in net for net in networks if net.version == ip.version)


class OutboundURLRefused(Exception):
    """The guard refused a URL or the address it resolves to."""


def resolve_host(host: str, port: int) -> list[str]:
    """Every address ``host`` resolves to, in resolver order (the one DNS seam tests replace)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    addresses: list[str] = []
    for _family, _type, _proto, _canon, sockaddr in infos:
        if sockaddr[0] not in addresses:
            addresses.append(sockaddr[0])
    return addresses


def address_refusal(address: str, *, block_private: bool) -> str | None:
    """Why connecting to ``address`` is refused, or None when it is allowed."""
    judged = _judged_addresses(ipaddress.ip_address(address.split("%", 1)[0]))
    if any(_in_any(ip, ALWAYS_REFUSED) for ip in judged):
        return "link-local or cloud metadata address"
    if block_private and any(ip.is_private or ip.is_loopback or _in_any(ip, PRIVATE) for ip in judged):
        return "private or loopback address (WEBHOOK_BLOCK_PRIVATE=true)"
    return None


def allowed_addresses(host: str, port: int, *, block_private: bool) -> list[str]:
    """Resolve ``host`` and return its addresses, refusing when *any* of them is forbidden.

    All must pass, not just the first: a resolver may rotate the order between the
    check and the connection.
    """
    try:
        addresses = resolve_host(host, port)
    except (socket.gaierror, UnicodeError) as exc:
        raise OutboundURLRefused(f"Cannot resolve host {host!r}: {exc}") from None
    if not addresses:
        raise OutboundURLRefused(f"Cannot resolve host {host!r}")
    for address in addresses:
        reason = address_refusal(address, block_private=block_private)
        if reason:
            shown = address if address == host else f"{host} ({address})"
            raise OutboundURLRefused(f"Refused outbound request to {shown}: {reason}")
    return addresses


def check_url(url: str, *, block_private: bool) -> list[str]:
    """Check scheme and host of ``url`` and the addresses it resolves to (raises OutboundURLRefused)."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise OutboundURLRefused(f"Invalid URL {url!r}: {exc}") from None
    if parts.scheme not in ("http", "https"):
        raise OutboundURLRefused(f"Refused URL {url!r}: only http:// and https:// are allowed")
    if not parts.hostname:
        raise OutboundURLRefused(f"Refused URL {url!r}: no host")
    return allowed_addresses(
        parts.hostname, port or (443 if parts.scheme == "https" else 80), block_private=block_private
    )

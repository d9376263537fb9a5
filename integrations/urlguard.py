"""The outbound-URL guard: which addresses cronhub may connect to.

The check is made on the *resolved* address, at connect time (``integrations.http``
connects to exactly the address that was checked, so DNS rebinding cannot slip
past) and again for every redirect hop. Link-local and cloud-metadata addresses
are always refused; private and loopback ranges only with
``WEBHOOK_BLOCK_PRIVATE=true`` and only for user-supplied targets (webhooks,
test runs), since GitHub Enterprise and Slack relays are operator settings.
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
    )
)
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


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


def _embedded_ipv4(ip: ipaddress.IPv4Address | ipaddress.IPv6Address):
    """The IPv4 address hidden in an IPv4-mapped or NAT64 IPv6 address, else ``ip``."""
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return ip.ipv4_mapped
        if ip in _NAT64:
            return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return ip


def address_refusal(address: str, *, block_private: bool) -> str | None:
    """Why connecting to ``address`` is refused, or None when it is allowed."""
    ip = _embedded_ipv4(ipaddress.ip_address(address.split("%", 1)[0]))
    if any(ip in net for net in ALWAYS_REFUSED if net.version == ip.version):
        return "link-local or cloud metadata address"
    if block_private and (
        ip.is_private or ip.is_loopback or any(ip in net for net in PRIVATE if net.version == ip.version)
    ):
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

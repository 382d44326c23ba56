"""Where deliveries may go: public internet addresses only, so that a tenant admin cannot use
the portal to reach (or map, through the delivery log) the operator's own network. Loopback is
allowed with WEBHOOKS_ALLOW_HTTP_LOOPBACK (tests, development), private networks with
WEBHOOKS_ALLOW_PRIVATE_NETWORKS (an operator whose endpoints are internal).

Checked when an endpoint is saved (a literal address) and before every POST (what the host
name resolves to then). The POST resolves the name again, so a DNS server that answers
differently the second time (DNS rebinding) is not stopped by this; an egress proxy or firewall
rule is the complete answer where that matters."""

import ipaddress
import socket

from django.conf import settings

LOOPBACK_NAMES = {"localhost"}


def address_allowed(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])  # without an IPv6 zone index
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    if ip.is_loopback:
        return settings.WEBHOOKS_ALLOW_HTTP_LOOPBACK
    return ip.is_global or settings.WEBHOOKS_ALLOW_PRIVATE_NETWORKS


def is_literal_address(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def host_allowed(host: str) -> bool:
    """True if `host` (a name or an address) is allowed: every address it resolves to is. A
    name that does not resolve is allowed here; the POST then fails as a connection error."""
    if host.lower() in LOOPBACK_NAMES or host.lower().endswith(".localhost"):
        return settings.WEBHOOKS_ALLOW_HTTP_LOOPBACK
    if is_literal_address(host):
        return address_allowed(host)
    try:
        infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError):
        return True
    return all(address_allowed(info[4][0]) for info in infos)

"""Where the portal may send a request a tenant admin chose the target of (a webhook endpoint, an
identity provider): public internet addresses only, so that the portal cannot be made to reach,
or map, the operator's own network. Each caller says what else it allows (its own settings):
loopback (tests, development) and private networks (an operator whose targets are internal).

Checked when the target is saved (a literal address or a loopback name; no DNS lookup on a form)
and before every request (what the name resolves to then). The request resolves the name again,
so a DNS server that answers differently the second time (DNS rebinding) is not stopped by this;
an egress proxy or firewall rule is the complete answer where that matters."""

import ipaddress
import socket

LOOPBACK_NAMES = {"localhost"}


def is_loopback_name(host: str) -> bool:
    host = host.lower()
    return host in LOOPBACK_NAMES or host.endswith(".localhost")


def address_allowed(address: str, *, loopback: bool, private: bool) -> bool:
    """Whether the literal IP `address` may be reached (ValueError if it is not one)."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])  # without an IPv6 zone index
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    if ip.is_loopback:
        return loopback
    return ip.is_global or private


def is_literal_address(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def host_allowed(host: str, *, loopback: bool, private: bool, resolve: bool = True) -> bool:
    """Whether `host` (a name or an address, brackets allowed) may be reached: every address it
    resolves to may. A name that does not resolve is allowed here (the request then fails to
    connect); without `resolve`, a name is judged only if it is a loopback name."""
    host = host.strip("[]")
    if is_loopback_name(host):
        return loopback
    if is_literal_address(host):
        return address_allowed(host, loopback=loopback, private=private)
    if not resolve:
        return True
    try:
        infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError):
        return True
    return all(address_allowed(info[4][0], loopback=loopback, private=private) for info in infos)

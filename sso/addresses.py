"""Where the portal may send a tenant's provider requests: public internet addresses only, so
that a tenant admin cannot make the portal reach the operator's own network through an issuer
URL (or the endpoints its discovery document names). Loopback with SSO_ALLOW_LOOPBACK (tests,
development), private networks with SSO_ALLOW_PRIVATE_NETWORKS (an internal provider).

Checked when the issuer is saved (a literal address) and before every request to a provider (what the host name
resolves to then); as for webhooks (webhooks/addresses.py, the same rule under its own
settings), a DNS server that answers differently the second time is not stopped by this, and an
egress proxy or firewall rule is the complete answer where that matters."""

import ipaddress
import socket
from urllib.parse import urlsplit

import requests
from django.conf import settings

LOOPBACK_NAMES = {"localhost"}


class AddressRefused(requests.RequestException):
    """A request to a provider at an address the portal does not reach."""


def address_allowed(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    if ip.is_loopback:
        return settings.SSO_ALLOW_LOOPBACK
    return ip.is_global or settings.SSO_ALLOW_PRIVATE_NETWORKS


def host_allowed(host: str, *, resolve: bool = True) -> bool:
    """Every address `host` resolves to is allowed (a name that does not resolve is: the
    request then fails to connect). Without `resolve`, only a literal address or a loopback
    name is judged (saving a form asks no DNS server)."""
    host = host.strip("[]").lower()
    if host in LOOPBACK_NAMES or host.endswith(".localhost"):
        return settings.SSO_ALLOW_LOOPBACK
    try:
        return address_allowed(host)
    except ValueError:
        pass
    if not resolve:
        return True
    try:
        infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError):
        return True
    return all(address_allowed(info[4][0]) for info in infos)


def url_allowed(url: str, *, resolve: bool = True) -> bool:
    """https:// to an allowed host; plain http:// only to loopback, with SSO_ALLOW_LOOPBACK."""
    parts = urlsplit(url)
    if not parts.hostname or parts.scheme not in ("https", "http"):
        return False
    if parts.scheme == "http" and not (settings.SSO_ALLOW_LOOPBACK and _is_loopback(parts.hostname)):
        return False
    return host_allowed(parts.hostname, resolve=resolve)


def _is_loopback(host: str) -> bool:
    if host in LOOPBACK_NAMES or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class CheckedSession(requests.Session):
    """A requests session that refuses, before connecting, a URL the portal may not reach."""

    def request(self, method, url, *args, **kwargs):
        if not url_allowed(str(url)):
            raise AddressRefused(f"refused: {urlsplit(str(url)).hostname} is not a public https address")
        return super().request(method, url, *args, **kwargs)

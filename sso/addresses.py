"""Where the portal may send a tenant's provider requests: public internet addresses only, so
that a tenant admin cannot make the portal reach the operator's own network through an issuer
URL (or the endpoints its discovery document names). Loopback with SSO_ALLOW_LOOPBACK (tests,
development), private networks with SSO_ALLOW_PRIVATE_NETWORKS (an internal provider).

The rule is kernel/egress.py's, as for webhooks, under the SSO settings; checked when the
issuer is saved (a literal address) and before every request to a provider."""

import ipaddress
from urllib.parse import urlsplit

import requests
from django.conf import settings

from kernel import egress


class AddressRefused(requests.RequestException):
    """A request to a provider at an address the portal does not reach."""


def host_allowed(host: str, *, resolve: bool = True) -> bool:
    """Every address `host` resolves to is allowed (a name that does not resolve is: the
    request then fails to connect). Without `resolve`, only a literal address or a loopback
    name is judged (saving a form asks no DNS server)."""
    return egress.host_allowed(
        host, loopback=settings.SSO_ALLOW_LOOPBACK, private=settings.SSO_ALLOW_PRIVATE_NETWORKS, resolve=resolve
    )


def url_allowed(url: str, *, resolve: bool = True) -> bool:
    """https:// to an allowed host; plain http:// only to loopback, with SSO_ALLOW_LOOPBACK."""
    parts = urlsplit(url)
    if not parts.hostname or parts.scheme not in ("https", "http"):
        return False
    if parts.scheme == "http" and not (settings.SSO_ALLOW_LOOPBACK and _is_loopback(parts.hostname)):
        return False
    return host_allowed(parts.hostname, resolve=resolve)


def _is_loopback(host: str) -> bool:
    if egress.is_loopback_name(host):
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

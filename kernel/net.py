from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.http.request import HttpHeaders


def client_ip(request: HttpRequest) -> str:
    """The client's address: REMOTE_ADDR, unless TRUSTED_PROXY_HEADER names a header that the
    trusted proxies in front of the portal set. Then the address the outermost trusted proxy
    saw is used, never one the client could forge further left in the list."""
    return client_address(request.META)


def client_address(environ: Mapping[str, Any]) -> str:
    """`client_ip` of the request whose WSGI environ (or Django's request.META) is `environ`:
    the one rule for Django's views and for what answers before Django (the gateway check's
    fast lane, gateway/fastlane.py)."""
    header = settings.TRUSTED_PROXY_HEADER
    if header:
        raw = environ.get(HttpHeaders.to_wsgi_name(header)) or ""
        hops = [part.strip() for part in raw.split(",") if part.strip()]
        if hops:
            index = max(len(hops) - settings.TRUSTED_PROXY_COUNT, 0)
            return hops[index][:64]
    return (environ.get("REMOTE_ADDR") or "")[:64]


def public_base_url(request: HttpRequest) -> str:
    """The portal's origin as this request reached it (the Get started samples): its host
    checked against ALLOWED_HOSTS and its scheme taken from SECURE_PROXY_SSL_HEADER behind a
    proxy. No trailing slash. The token service's issuer is PORTAL_URL instead, the same for
    every host name (oauth.signing.issuer)."""
    return request.build_absolute_uri("/").rstrip("/")


def api_base_url() -> str:
    """The operator's API that this portal's tokens open (API_BASE_URL, no trailing slash), or
    "" when none is set."""
    return settings.API_BASE_URL

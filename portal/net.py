from django.conf import settings
from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str:
    """The client's address: REMOTE_ADDR, unless TRUSTED_PROXY_HEADER names a header that the
    trusted proxies in front of the portal set. Then the address the outermost trusted proxy
    saw is used, never one the client could forge further left in the list."""
    header = settings.TRUSTED_PROXY_HEADER
    if header:
        raw = request.headers.get(header, "")
        hops = [part.strip() for part in raw.split(",") if part.strip()]
        if hops:
            index = max(len(hops) - settings.TRUSTED_PROXY_COUNT, 0)
            return hops[index][:64]
    return request.META.get("REMOTE_ADDR", "")[:64]


def public_base_url(request: HttpRequest) -> str:
    """Where clients reach the portal's API, without a trailing slash: API_BASE_URL, else this
    portal's own origin as the request saw it."""
    return settings.API_BASE_URL or request.build_absolute_uri("/").rstrip("/")

"""CORS for the token service's browser endpoints: the anonymous login and its refresh, the
token endpoint and token info (docs/cors.md).

Two halves, because only the view knows the key:
- `cross_origin` (a decorator, outside `token_endpoint`) answers preflights and, once the view
  has approved the request's origin, adds the CORS headers to its answer, errors included;
- the views call `origin_enforce` with the key's list before anything is issued: an origin the
  key does not allow is refused (no token), one it allows is approved.

A request without an Origin header (a server, curl) or from the portal's own origin is not a
cross-origin request and is unaffected. An origin is never reflected unless a key allows it.

Not django-cors-headers: its allow decision (settings, or the `check_request_enabled` signal)
is per request, before the view; here the decision is per key, which only the view can name
after parsing its parameters or credentials, and a disallowed origin must be refused rather than
only left without headers. What remains is a handful of headers, kept here.
"""

import functools
from collections.abc import Callable
from typing import NamedTuple

from django.http import HttpRequest, HttpResponse
from django.utils.cache import patch_vary_headers

from apikeys.models import ApiKey
from apikeys.origins import origin_allowed, origin_known
from kernel import crypto, usage
from kernel.net import public_base_url

from .services import OAuthError

ALLOWED_HEADERS = "Authorization, Content-Type"
EXPOSED_HEADERS = "Retry-After, WWW-Authenticate"
# Browsers cap it (Chromium at 2 hours); the key's list may change, so keep it short.
PREFLIGHT_MAX_AGE = 600


def request_origin(request: HttpRequest) -> str | None:
    """The Origin header of a cross-origin request; None without one or from the portal's own
    origin (its own pages)."""
    origin = request.headers.get("Origin")
    if origin is None or origin == public_base_url(request):
        return None
    return origin


class KeyOrigins(NamedTuple):
    kind: str
    allowed_origins: str
    key_id: int
    tenant_id: int


def key_origins(client_id: str | None) -> KeyOrigins | None:
    """The kind and allowed origins of the key with this Client ID, None if there is none. One
    indexed query, made only for cross-origin requests."""
    if not client_id or not crypto.is_well_formed_client_id(client_id):
        return None
    row = ApiKey.objects.filter(client_id=client_id).values_list("kind", "allowed_origins", "pk", "tenant_id").first()
    return KeyOrigins._make(row) if row is not None else None


def origin_enforce(
    request: HttpRequest,
    client_id: str | None,
    *,
    honour_any: bool,
    refusal: Callable[[str], OAuthError],
    operation: str,
    kind: str | None = None,
) -> None:
    """Refuse a cross-origin request the key does not allow (raises `refusal(origin)`, counted
    under `operation`: kernel.usage); approve one it allows (`cross_origin` then adds the
    headers). A Client ID of no key (or of a key
    not of `kind`, when given) is left to the view's own answer for it, without CORS headers,
    so that the refusal tells nothing more than that answer."""
    origin = request_origin(request)
    if origin is None:
        return
    found = key_origins(client_id)
    if found is None or (kind is not None and found.kind != kind):
        return
    if not origin_allowed(origin, found.allowed_origins, honour_any=honour_any):
        usage.count(
            tenant_id=found.tenant_id,
            key_id=found.key_id,
            secret_id=None,
            operation=operation,
            outcome=usage.ORIGIN_REFUSED,
        )
        raise refusal(origin)
    request.cors_origin = origin  # type: ignore[attr-defined]


def origin_approve(request: HttpRequest, allowed_origins: str) -> None:
    """Approve the request's origin if the key's list allows it (token info: the token names
    the key; a page not on the list gets the answer without CORS headers, so cannot read it)."""
    origin = request_origin(request)
    if origin is not None and origin_allowed(origin, allowed_origins, honour_any=True):
        request.cors_origin = origin  # type: ignore[attr-defined]


def _preflight(request: HttpRequest, method: str, honour_any: bool) -> HttpResponse:
    """A preflight names no key: the origin is allowed if SOME key allows it (the actual
    request is checked against its own key). Others get the answer without CORS headers,
    which the browser treats as a refusal."""
    response = HttpResponse(status=204)
    response["Allow"] = f"{method}, OPTIONS"
    response["Cache-Control"] = "no-store"
    patch_vary_headers(response, ("Origin",))
    origin = request.headers.get("Origin", "")
    if (
        request.headers.get("Access-Control-Request-Method") == method
        and origin
        and origin_known(origin, honour_any=honour_any)
    ):
        response["Access-Control-Allow-Origin"] = origin
        response["Access-Control-Allow-Methods"] = method
        response["Access-Control-Allow-Headers"] = ALLOWED_HEADERS
        response["Access-Control-Max-Age"] = str(PREFLIGHT_MAX_AGE)
    return response


def cross_origin(method: str, *, honour_any: bool) -> Callable:
    """A token-service view callable from browser pages with `method`. `honour_any`: whether
    a Storefront key's `*` counts for preflights here (not at the token endpoint)."""

    def decorate(view: Callable) -> Callable:
        @functools.wraps(view)  # keeps token_endpoint's login_not_required and csrf_exempt marks
        def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            if request.method == "OPTIONS" and "Access-Control-Request-Method" in request.headers:
                return _preflight(request, method, honour_any)
            response = view(request, *args, **kwargs)
            # Every answer depends on the Origin header, whether or not it carries CORS headers.
            patch_vary_headers(response, ("Origin",))
            origin = getattr(request, "cors_origin", None)
            if origin is not None:
                response["Access-Control-Allow-Origin"] = origin
                response["Access-Control-Expose-Headers"] = EXPOSED_HEADERS
            return response

        return wrapper

    return decorate

"""HTTP endpoints of the token service. They parse the request, call oauth.services and
answer JSON with `Cache-Control: no-store` on every response, errors included. None needs a
portal login or a CSRF token (they are called by API clients)."""

import base64
import binascii
import functools
import logging
from collections.abc import Callable
from urllib.parse import unquote_plus
from uuid import UUID

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.debug import sensitive_post_parameters, sensitive_variables
from django.views.decorators.http import require_POST

from activity.audit import Audit
from apikeys.models import ApiKey, KeyKind
from kernel import outages, usage
from kernel.http import wants_json
from kernel.net import client_ip
from kernel.reporting import SENSITIVE_PARAMETERS
from tenants.access import membership_for, require_role
from tenants.models import Role

from . import leaks, services, signing
from .cors import cross_origin, key_origins, origin_approve, origin_enforce, request_origin
from .resource import bearer_required
from .services import OAuthError, Outcome, invalid_client, invalid_request

logger = logging.getLogger(__name__)

# Where the token endpoint's fast lane (oauth/fastlane.py) leaves what its call of the service
# came to when Django is to answer it: the error it raised, for the view to raise in its place,
# or an Outcome of 500 or more, for the view to answer as its own.
LANE_HANDED_ENVIRON_KEY = "portal.token_lane_handed"


def json_response(outcome: Outcome) -> JsonResponse:
    response = JsonResponse(outcome.body, status=outcome.status, safe=False)
    for name, value in outcome.headers.items():
        response[name] = value
    response["Cache-Control"] = "no-store"
    response["Pragma"] = "no-cache"
    return response


def token_endpoint(*methods: str) -> Callable:
    """Marks a token-service view: no login, no CSRF, JSON 405 for other methods, and a JSON
    answer (never an HTML page) even if something unexpected fails: 503 with Retry-After
    while the database cannot answer, else 500."""

    def decorate(view: Callable) -> Callable:
        @functools.wraps(view)
        def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            if request.method not in methods:
                response = json_response(
                    Outcome(405, {"error": "invalid_request", "error_description": "Method not allowed."})
                )
                response["Allow"] = ", ".join(methods)
                return response
            try:
                return view(request, *args, **kwargs)
            except OAuthError as error:
                return json_response(error.outcome)
            except Exception as exc:
                if outages.database_failure(exc):  # 503 temporarily_unavailable, logged once a while
                    return outages.answer(request, exc, json=True)
                # The traceback has no local variables; messages never hold a secret.
                logger.exception("Token service error on %s", request.path)
                return json_response(
                    Outcome(500, {"error": "server_error", "error_description": "The server could not answer."})
                )

        return login_not_required(csrf_exempt(sensitive_post_parameters(*SENSITIVE_PARAMETERS)(wrapper)))

    return decorate


def _form(request: HttpRequest):
    """The form-encoded body; anything else, a repeated parameter, or credentials in the
    query string is invalid_request."""
    if request.content_type != "application/x-www-form-urlencoded":
        raise invalid_request("The body must be application/x-www-form-urlencoded.")
    if "client_secret" in request.GET or "client_id" in request.GET:
        raise invalid_request("Client credentials must not be sent in the query string.")
    try:
        form = request.POST
    except Exception:  # too many fields, too big, unreadable: never a 500
        raise invalid_request("The body cannot be read.")
    if any(len(values) > 1 for _, values in form.lists()):
        raise invalid_request("A parameter is repeated.")
    return form


@sensitive_variables("header", "decoded", "text", "secret", "body_secret")
def _credentials(request: HttpRequest, form) -> tuple[str | None, str | None]:
    """(client_id, client_secret) from HTTP Basic (RFC 6749 2.3.1: each form-urlencoded
    before base64) or from the body, never both. Malformed Basic is invalid_client."""
    header = request.META.get("HTTP_AUTHORIZATION")
    body_id, body_secret = form.get("client_id"), form.get("client_secret")
    if header is None:
        return body_id, body_secret
    scheme, _, encoded = header.strip().partition(" ")
    if scheme.lower() != "basic":
        raise invalid_client()
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True)
        text = decoded.decode("utf-8")
    except (binascii.Error, ValueError):
        raise invalid_client()
    raw_id, colon, raw_secret = text.partition(":")
    try:
        client_id = unquote_plus(raw_id, errors="strict")
        secret = unquote_plus(raw_secret, errors="strict")
    except UnicodeDecodeError:
        raise invalid_client()
    if not colon or not client_id or not secret:
        raise invalid_client()
    # A client_id in the body beside Basic is tolerated when it is the same one.
    if body_secret is not None or (body_id is not None and body_id != client_id):
        raise invalid_request("Use one client authentication method, not both.")
    return client_id, secret


@sensitive_variables("client_secret")
def _authenticated_call(
    request: HttpRequest,
    call: Callable[..., Outcome],
    fields: tuple[str, ...],
    *,
    check: Callable[[str | None], None] | None = None,
    operation: str | None = None,
    **extra: str,
) -> HttpResponse:
    """Parse the form and the client's credentials, then call the service with them and the
    named form fields. The token, introspection and revocation endpoints all come here.
    `check`, given the Client ID, may refuse the request first (the token endpoint's origins).
    A request refused here is counted under `operation` (kernel.usage), if given."""
    address = client_ip(request)
    try:
        form = _form(request)
        try:
            client_id, client_secret = _credentials(request, form)
        except OAuthError as error:
            if error.outcome.status == 401:
                # Malformed credentials count as a failure of the address (429 past its limit).
                services.limit_fail(None, address, timezone.now())
            raise
    except OAuthError as error:
        if operation is not None:
            outcome = usage.RATE_LIMITED if error.outcome.status == 429 else usage.BAD_REQUEST
            usage.count(tenant_id=None, key_id=None, secret_id=None, operation=operation, outcome=outcome)
        raise
    if check is not None:
        check(client_id)
    values = {name: form.get(name) for name in fields}
    return json_response(call(client_id=client_id, client_secret=client_secret, address=address, **values, **extra))


def _token_origin_check(request: HttpRequest) -> Callable[[str | None], None]:
    """A browser page may ask for a token only from an origin its key lists by name (a key used
    with a secret: `*` never counts). Refused as a wrong secret is, like the key's networks."""
    return lambda client_id: origin_enforce(
        request,
        client_id,
        honour_any=False,
        refusal=lambda origin: invalid_client(),
        operation=usage.OPERATION_TOKEN,
    )


@cross_origin("POST", honour_any=False)
@token_endpoint("POST")
def token(request: HttpRequest) -> HttpResponse:
    """POST /oauth/token (client credentials)."""
    handed = request.META.pop(LANE_HANDED_ENVIRON_KEY, None)
    if isinstance(handed, Outcome):  # the fast lane's call of the service (oauth/fastlane.py)
        return json_response(handed)
    if handed is not None:
        raise handed
    return _authenticated_call(
        request,
        services.client_credentials_grant,
        ("grant_type", "scope"),
        check=_token_origin_check(request),
        operation=usage.OPERATION_TOKEN,
    )


@token_endpoint("POST")
def introspect(request: HttpRequest) -> HttpResponse:
    """POST /oauth/introspect (RFC 7662)."""
    return _authenticated_call(request, services.token_introspect, ("token",))


@token_endpoint("POST")
def revoke(request: HttpRequest) -> HttpResponse:
    """POST /oauth/revoke (RFC 7009)."""
    return _authenticated_call(request, services.token_revoke, ("token",))


def _query(request: HttpRequest, *names: str, operation: str) -> dict[str, str | None]:
    """The named query parameters; a repeated one is invalid_request (counted under `operation`)."""
    if any(len(request.GET.getlist(name)) > 1 for name in names):
        usage.count(tenant_id=None, key_id=None, secret_id=None, operation=operation, outcome=usage.BAD_REQUEST)
        raise invalid_request("A parameter is repeated.")
    return {name: request.GET.get(name) for name in names}


def _origin_refused(origin: str) -> OAuthError:
    return OAuthError(
        403,
        "unauthorized_client",
        f"This key does not allow browser requests from {origin[:200]}: an admin can add the origin to the "
        "key's allowed origins.",
    )


@cross_origin("GET", honour_any=True)
@token_endpoint("GET")
def anonymous_login(request: HttpRequest) -> HttpResponse:
    """GET /customerlogin/auth/anonymous/login?tenant=&client_id= (Storefront API keys)."""
    params = _query(request, "tenant", "client_id", operation=usage.OPERATION_ANONYMOUS_LOGIN)
    origin_enforce(
        request,
        params["client_id"],
        honour_any=True,
        refusal=_origin_refused,
        operation=usage.OPERATION_ANONYMOUS_LOGIN,
        kind=KeyKind.STOREFRONT,
    )
    return json_response(services.anonymous_login(address=client_ip(request), **params))


@cross_origin("GET", honour_any=True)
@token_endpoint("GET")
def anonymous_refresh(request: HttpRequest) -> HttpResponse:
    """GET /customerlogin/auth/anonymous/refresh?tenant=&refresh_token=&client_id=."""
    params = _query(
        request, "tenant", "client_id", "refresh_token", "anonymous_token", operation=usage.OPERATION_ANONYMOUS_REFRESH
    )
    origin_enforce(
        request,
        params["client_id"],
        honour_any=True,
        refusal=_origin_refused,
        operation=usage.OPERATION_ANONYMOUS_REFRESH,
        kind=KeyKind.STOREFRONT,
    )
    return json_response(services.anonymous_refresh(address=client_ip(request), **params))


@token_endpoint("GET")
def metadata(request: HttpRequest) -> HttpResponse:
    """GET /.well-known/oauth-authorization-server (RFC 8414). The issuer and every URL in it
    come from configuration (PORTAL_URL), whichever allowed Host the request named."""
    issuer = signing.issuer()
    methods = ["client_secret_basic", "client_secret_post"]
    return json_response(
        Outcome(
            200,
            {
                "issuer": issuer,
                "token_endpoint": issuer + reverse("oauth:token"),
                "introspection_endpoint": issuer + reverse("oauth:introspect"),
                "revocation_endpoint": issuer + reverse("oauth:revoke"),
                "jwks_uri": issuer + reverse("oauth:jwks"),
                "grant_types_supported": ["client_credentials"],
                "response_types_supported": [],
                "token_endpoint_auth_methods_supported": methods,
                "introspection_endpoint_auth_methods_supported": methods,
                "revocation_endpoint_auth_methods_supported": methods,
            },
        )
    )


@token_endpoint("GET")
def jwks(request: HttpRequest) -> HttpResponse:
    """GET /.well-known/jwks.json: the public keys that sign JWT access tokens (RFC 7517),
    published in every deployment. Cacheable for JWKS_MAX_AGE seconds (the only token-service
    answer that is): a next key is published JWKS_PUBLISH_AHEAD before it signs."""
    response = json_response(Outcome(200, signing.jwks(timezone.now())))
    del response["Pragma"]
    response["Cache-Control"] = f"public, max-age={settings.JWKS_MAX_AGE}"
    response["Content-Type"] = "application/jwk-set+json"
    return response


@cross_origin("GET", honour_any=True)
@token_endpoint("GET")
@bearer_required()
def tokeninfo(request: HttpRequest) -> HttpResponse:
    """GET /oauth/tokeninfo: what the presented access token (RFC 6750 Bearer header) is
    and what it holds, for any valid token; the Get started samples call it. One query (two
    from a browser page: its key's allowed origins)."""
    bearer = request.bearer
    if request_origin(request) is not None and (found := key_origins(bearer.client_id)) is not None:
        origin_approve(request, found.allowed_origins)
    body = {
        "tenant": bearer.tenant_code,
        "client_id": bearer.client_id,
        "key_name": bearer.key_name,
        "scopes": sorted(bearer.scopes),
        "token_type": "Bearer",
        "token_format": bearer.format,
        "kind": bearer.kind,
        "iat": int(bearer.issued_at.timestamp()),
        "exp": int(bearer.expires_at.timestamp()),
        "expires_in": max(int((bearer.expires_at - timezone.now()).total_seconds()), 0),
    }
    if bearer.session_id:
        body["sessionId"] = str(bearer.session_id)
    return json_response(Outcome(200, body))


# --- Try it ---------------------------------------------------------------------------------


def _masked(body: dict) -> dict:
    shown = dict(body)
    for name in ("access_token", "refresh_token"):
        if shown.get(name):
            shown[name] = shown[name][:8] + "…"
    return shown


@require_POST
def try_it(request: HttpRequest, code: str, key_id: UUID) -> HttpResponse:
    """The Get started panel's Try it (admins and developers): the token request for this key
    through the token service's own functions, shown with the token masked."""
    membership = require_role(membership_for(request, code), Role.DEVELOPER)
    key = get_object_or_404(ApiKey.objects.select_related("tenant"), tenant=membership.tenant, public_id=key_id)
    outcome = services.key_try(key=key, audit=Audit.of(request))
    result = {"status": outcome.status, "response": _masked(outcome.body)}
    if wants_json(request):
        response = JsonResponse(result)
    else:
        response = render(
            request,
            "oauth/try_result.html",
            {"tenant": membership.tenant, "membership": membership, "key": key, "result": result},
        )
    response["Cache-Control"] = "no-store"
    return response


@token_endpoint("POST")
def secret_scanning(request: HttpRequest) -> HttpResponse:
    """Reports of leaked secrets from secret-scanning services (oauth/leaks.py)."""
    if not leaks.enabled():
        return json_response(Outcome(404, {"error": "not_found", "error_description": "Not configured."}))
    outcome = leaks.leak_reports_handle(
        body=request.body,
        key_id=request.headers.get("Github-Public-Key-Identifier", ""),
        signature=request.headers.get("Github-Public-Key-Signature", ""),
        address=client_ip(request),
    )
    return json_response(outcome)

"""Protecting a Django view with this portal's access tokens (RFC 6750): the resource-server
helper. The portal's own token-info endpoint uses it, and so can any view of an operator's
Django project that shares the portal's database:

    from oauth.resource import bearer_required

    @bearer_required("product.product_read", "product.product_manage")
    def products(request, tenant):
        if request.bearer.tenant_code != tenant:  # a path names a tenant: it must be the token's
            raise Http404
        ...

What it guarantees, before the view runs:
- the token comes from the `Authorization: Bearer <token>` header only (never the query string
  or a form body, which end up in logs: RFC 6750 2.3);
- `bearer_verify` accepted it now (not expired, not revoked, minted by a secret that is still
  live), and `request.bearer` is that `BearerToken` (tenant, Client ID, key, scopes, expiry);
- it holds at least one of the named scopes (none named: any valid token will do).

Otherwise the view does not run, and the answer is RFC 6750 section 3's, as JSON
(`{"error", "error_description"}`) with a `WWW-Authenticate: Bearer` challenge:

    no Authorization: Bearer header   401  Bearer realm="…"                 (no error code)
    a broken Bearer header            400  Bearer realm="…", error="invalid_request"
    unknown, expired or revoked token 401  Bearer realm="…", error="invalid_token"
    none of the required scopes       403  Bearer realm="…", error="insufficient_scope", scope="a b"

(`scope` lists the scopes any one of which would do.) Every refusal carries
`Cache-Control: no-store`, and so does the view's answer unless it sets its own Cache-Control.
The view needs no portal login and no CSRF token: browsers never attach a Bearer header by
themselves, so a forged cross-site request carries none. Mount such views under a path where
kernel.middleware skips the session and user (`TOKEN_SERVICE_PREFIXES`), as `/oauth/tokeninfo` is.
"""

import functools
from collections.abc import Callable

from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from kernel.logs import tenant_note

from .bearer import MalformedAuthorization, bearer_token_from, bearer_verify

REALM = "API Key Portal"


def _quoted(value: str) -> str:
    # RFC 6750 3: attribute values are quoted-strings without '"' or '\'.
    return '"' + value.replace("\\", "").replace('"', "") + '"'


def bearer_challenge(
    status: int, error: str | None, description: str, *, realm: str = REALM, scope: str = ""
) -> JsonResponse:
    """A refusal as RFC 6750 3 has it: the status, a `WWW-Authenticate: Bearer` challenge
    (with `error`, unless None: a request that sent no token gets no error code) and the same
    as JSON, never cacheable."""
    attributes = [f"realm={_quoted(realm)}"]
    body = {"error_description": description}
    if error:
        attributes += [f"error={_quoted(error)}", f"error_description={_quoted(description)}"]
        body = {"error": error, **body}
    if scope:
        attributes.append(f"scope={_quoted(scope)}")
        body["scope"] = scope
    response = JsonResponse(body, status=status)
    response["WWW-Authenticate"] = "Bearer " + ", ".join(attributes)
    response["Cache-Control"] = "no-store"
    response["Pragma"] = "no-cache"
    return response


def bearer_required(*any_of_scopes: str, realm: str = REALM) -> Callable:
    """Decorates a view so that it runs only for a request with a valid access token holding
    one of `any_of_scopes` (any valid token if none are named); the token is `request.bearer`.
    See the module's docstring for the answers otherwise."""
    required = " ".join(any_of_scopes)

    def decorate(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @functools.wraps(view)
        def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            try:
                token = bearer_token_from(request)
            except MalformedAuthorization as error:
                return bearer_challenge(400, "invalid_request", str(error), realm=realm)
            if token is None:
                return bearer_challenge(
                    401, None, "This resource needs an access token: Authorization: Bearer <token>.", realm=realm
                )
            bearer = bearer_verify(token, now=timezone.now())
            if bearer is None:
                return bearer_challenge(
                    401, "invalid_token", "The access token is unknown, expired or revoked.", realm=realm
                )
            if not bearer.has_scope(*any_of_scopes):
                return bearer_challenge(
                    403,
                    "insufficient_scope",
                    "The access token holds none of the scopes this resource needs.",
                    realm=realm,
                    scope=required,
                )
            request.bearer = bearer
            tenant_note(bearer.tenant_code)
            response = view(request, *args, **kwargs)
            if "Cache-Control" not in response:
                response["Cache-Control"] = "no-store"
            return response

        return login_not_required(csrf_exempt(wrapper))

    return decorate

"""Who calls the management API, and what it may do: the portal's own access tokens.

`BearerAuthentication` reads and checks the token with the token service's one rule
(`oauth.bearer.bearer_token_from` + `bearer_verify`, as `@bearer_required` does); `HasScope`
checks the view's `required_scopes` for the method (any one of them will do). The tenant an
API call acts on is always the token's own: it never comes from the path, a header or the body.
"""

import time

from django.conf import settings
from django.utils import timezone
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication
from rest_framework.permissions import BasePermission

from kernel import ratelimit
from kernel.logs import tenant_note
from kernel.net import client_ip
from oauth.bearer import BearerToken, MalformedAuthorization, bearer_token_from, bearer_verify
from oauth.resource import REALM

from .problems import Problem


class ApiCaller:
    """request.user of an API call: the key behind a verified access token."""

    is_authenticated = True
    is_anonymous = False

    def __init__(self, bearer: BearerToken) -> None:
        self.bearer = bearer

    def __str__(self) -> str:
        return f"API key {self.bearer.client_id}"


class BearerAuthentication(BaseAuthentication):
    def authenticate(self, request):
        try:
            token = bearer_token_from(request._request)
        except MalformedAuthorization as error:
            raise Problem("malformed-request", str(error)) from None
        if token is None:
            return None
        bearer = bearer_verify(token, now=timezone.now())
        if bearer is None:
            # Guessing tokens is hopeless, but each guess costs a query: failures are counted per
            # client address (as the token service counts failed client authentications) and
            # answered 429 past the limit. A valid token is never refused.
            address = client_ip(request._request)
            counter = ratelimit.Counter("api:badtoken", (address,), settings.AUTH_FAILURE_LIMIT_PER_ADDRESS)
            retry = ratelimit.hit([counter], window=settings.AUTH_FAILURE_WINDOW, now=time.time())
            if retry is not None:
                raise exceptions.Throttled(wait=retry)
            raise exceptions.AuthenticationFailed("The access token is unknown, expired or revoked.")
        tenant_note(bearer.tenant_code)
        return ApiCaller(bearer), bearer

    def authenticate_header(self, request) -> str:
        return f'Bearer realm="{REALM}"'


class HasScope(BasePermission):
    """The token holds one of the view's `required_scopes[method]`; a method without an entry
    is allowed to nobody (so a view cannot forget to name its scopes)."""

    def has_permission(self, request, view) -> bool:
        if request.auth is None:
            raise exceptions.NotAuthenticated("This resource needs an access token: Authorization: Bearer <token>.")
        needed = getattr(view, "required_scopes", {}).get(request.method)
        if needed is None and request.method == "HEAD":
            needed = view.required_scopes.get("GET")
        if needed is None or not request.auth.has_scope(*needed):
            raise Problem(
                "insufficient-scope",
                f"This operation needs one of these scopes: {' '.join(needed or ())}.",
            )
        return True

"""Re-authentication ("sudo mode", like GitHub's): sensitive actions need the user to have
proved who they are recently, by a login or a re-authentication (password, authenticator
code, recovery code or passkey) within ACCOUNT_REAUTHENTICATION_TIMEOUT seconds (default 600).

    from accounts.reauth import recent_auth_required

    @require_POST
    @recent_auth_required
    def key_renew(request, code, key_id): ...

    # the page that holds the form, when it is not the page the POST came from:
    @recent_auth_required(form_page=lambda request, code, key_id: reverse("apikeys:renew", ...))

Without a recent authentication the view does not run, nothing changes, and the user is sent
to allauth's re-authentication page (the password, or a second factor for a user without a
password), which returns afterwards to:
- for a GET, the same URL;
- for a POST (never replayed), the page that holds the form: `form_page(request, **kwargs)`
  if given, else the Referer if it is a page of this site, else LOGIN_REDIRECT_URL;
- for a fetch() asking for JSON (preferring application/json to HTML, as kernel.http.wants_json
  decides for every view), no redirect: 401 with
  {"error": "reauthentication_required", "reauthenticate_url": "<page>?next=<page the user is on>"}
  and `Cache-Control: no-store`, so the script can send the user there (or open it in a dialog)
  without losing their place.

The pages whose forms the user fills in (a key's form and settings, a leak report) ask before
the form is shown, with the same decorator or `reauthentication_needed` on the GET: the user
re-authenticates before typing rather than after. A page left open past the window keeps what
was typed with JavaScript (static/js/reauth-keep.js): before submitting a form marked
`data-reauth-keep` it asks `reauth_status` (GET /accounts/reauthenticate/status/, JSON).

A successful re-authentication sends accounts.signals.reauthenticated (sender: the user's class;
request, user, method: "password" or "mfa", authenticator_type: "totp" / "recovery_codes" /
"webauthn" for "mfa"), for the activity log."""

import time
from collections.abc import Callable
from functools import wraps
from urllib.parse import urlencode

from allauth.account import app_settings as account_settings
from allauth.account.adapter import get_adapter
from allauth.account.authentication import get_authentication_records
from django.conf import settings
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import resolve_url
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import add_never_cache_headers

from kernel.http import wants_json

# What counts as proof: allauth records "password" for a password (login or re-authentication)
# and "mfa" for a second factor or a passkey. A login counts as much as a re-authentication:
# allauth's own @reauthentication_required counts re-authentications only (it would ask again
# right after a login), replays a POST after it, and cannot answer fetch() with JSON; so the
# decision is made here, on allauth's public record of the session's authentications.
PROOF_METHODS = {"password", "mfa"}


def authenticated_at(request: HttpRequest) -> float | None:
    """When (time.time()) this session's user last proved who they are, or None."""
    if not request.user.is_authenticated:
        return None
    times = [
        record["at"]
        for record in get_authentication_records(request, request.user)
        if record.get("method") in PROOF_METHODS and isinstance(record.get("at"), int | float)
    ]
    return max(times, default=None)


def recently_authenticated(request: HttpRequest) -> bool:
    """True if the user logged in or re-authenticated within ACCOUNT_REAUTHENTICATION_TIMEOUT."""
    at = authenticated_at(request)
    return at is not None and time.time() - at < account_settings.REAUTHENTICATION_TIMEOUT


def seconds_left(request: HttpRequest) -> int:
    """Whole seconds until the recent authentication runs out; 0 if there is none."""
    at = authenticated_at(request)
    if at is None:
        return 0
    return max(0, int(at + account_settings.REAUTHENTICATION_TIMEOUT - time.time()))


def reauthenticate_url(request: HttpRequest, next_url: str) -> str:
    """The re-authentication page for this user (the first of allauth's methods: the password,
    or a second factor for a user without one), returning to `next_url`."""
    methods = get_adapter().get_reauthentication_methods(request.user)
    page = methods[0]["url"] if methods else resolve_url(settings.LOGIN_URL)
    return f"{page}?{urlencode({REDIRECT_FIELD_NAME: next_url})}"


def _return_to(request: HttpRequest, form_page: Callable[..., str] | None, kwargs: dict) -> str:
    if request.method in ("GET", "HEAD"):
        return request.get_full_path()
    if form_page is not None:
        return form_page(request, **kwargs)
    referer = request.headers.get("Referer", "")
    if referer and url_has_allowed_host_and_scheme(
        referer, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return referer
    return resolve_url(settings.LOGIN_REDIRECT_URL)


def reauthentication_needed(
    request: HttpRequest, *, form_page: Callable[..., str] | None = None, **kwargs
) -> HttpResponse | None:
    """None if the user authenticated recently; else the response that asks them to (a
    redirect, or the JSON 401 for fetch()). For views that decide case by case."""
    if recently_authenticated(request):
        return None
    url = reauthenticate_url(request, _return_to(request, form_page, kwargs))
    if wants_json(request):
        response: HttpResponse = JsonResponse(
            {"error": "reauthentication_required", "reauthenticate_url": url}, status=401
        )
    else:
        response = HttpResponseRedirect(url)
    add_never_cache_headers(response)
    return response


def recent_auth_required(view: Callable | None = None, *, form_page: Callable[..., str] | None = None):
    """Decorator: the view runs only for a user who authenticated recently (see the module's
    docstring). Put it under @require_POST and the like; anonymous users never reach it
    (LoginRequiredMiddleware)."""

    def decorator(view_func: Callable) -> Callable:
        @wraps(view_func)
        def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            response = reauthentication_needed(request, form_page=form_page, **kwargs)
            return response or view_func(request, *args, **kwargs)

        return wrapper

    return decorator(view) if view is not None else decorator

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

Any fresh proof counts: a login (password, passkey, second factor), a re-authentication, and a
password just chosen (accepting an invitation, or changed or set on My Account:
`proof_record`). allauth's own pages that ask (the authenticator app, passkeys, recovery codes)
ask on the same rule (accounts.adapter.AccountAdapter.is_reauthentication_required).

The re-authentication page names what it protects ("Confirm it is you to reveal the secret of
ERP orders"): each app registers, per URL name, a function that words the action from the
URL's arguments (`purpose_register`), checking that the user may see what it names. The
wording is never taken from the request: when a view asks for a re-authentication, the view's
name and arguments are kept in the session beside the page the user will return to; the page
words the action kept for its `next`, or, for a page that asks on its GET (a key's form, the
authenticator app's set-up), the view `next` itself resolves to. Anything else reads "Confirm
it is you to continue".

A successful re-authentication sends accounts.signals.reauthenticated (sender: the user's class;
request, user, method: "password" or "mfa", authenticator_type: "totp" / "recovery_codes" /
"webauthn" for "mfa"), for the activity log."""

import time
from collections.abc import Callable, Mapping
from functools import wraps
from urllib.parse import urlencode, urlsplit

from allauth.account import app_settings as account_settings
from allauth.account.adapter import get_adapter
from allauth.account.authentication import get_authentication_records
from django.conf import settings
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import resolve_url
from django.urls import Resolver404, resolve
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import pgettext_lazy
from django.views.decorators.cache import add_never_cache_headers

from kernel.http import wants_json

from .purpose_registry import _purposes

# What counts as proof: allauth records "password" for a password (login or re-authentication),
# "mfa" for a second factor or a passkey, and "socialaccount" for a sign-in through an identity
# provider (the sso app: a tenant's single sign-on). A login counts as much as a re-authentication:
# allauth's own @reauthentication_required counts re-authentications only (it would ask again
# right after a login), replays a POST after it, and cannot answer fetch() with JSON; so the
# decision is made here, on allauth's public record of the session's authentications.
PROOF_METHODS = {"password", "mfa", "socialaccount"}


# A proof allauth does not record: a password chosen when accepting an invitation (the portal
# logs the new member in itself), changed or set on My Account. Bound to the user, as allauth's
# records are; logging out or in as someone else flushes the session anyway.
PROOF_SESSION_KEY = "accounts_proof"


def proof_record(request: HttpRequest, user, method: str = "password") -> None:
    """Count now as a fresh proof of who `user` (logged in on this request) is: a password
    they have just chosen or typed outside allauth's login and re-authentication views."""
    if user is None or user.pk is None:
        return
    request.session[PROOF_SESSION_KEY] = {"user": str(user.pk), "at": time.time(), "method": method}


def authenticated_at(request: HttpRequest) -> float | None:
    """When (time.time()) this session's user last proved who they are, or None."""
    if not request.user.is_authenticated:
        return None
    times = [
        record["at"]
        for record in get_authentication_records(request, request.user)
        if record.get("method") in PROOF_METHODS and isinstance(record.get("at"), int | float)
    ]
    own = request.session.get(PROOF_SESSION_KEY)
    if isinstance(own, dict) and own.get("user") == str(request.user.pk) and isinstance(own.get("at"), int | float):
        times.append(own["at"])
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
    or a second factor for a user without one), returning to `next_url`. A user with neither
    (an account made by single sign-on) signs in again: REAUTHENTICATION_FALLBACK_URL."""
    methods = get_adapter().get_reauthentication_methods(request.user)
    page = methods[0]["url"] if methods else resolve_url(settings.REAUTHENTICATION_FALLBACK_URL)
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


# --- What the re-authentication page says it protects -------------------------------------
# The registry is accounts/purpose_registry.py (no allauth import: apps register at start-up).

PURPOSE_SESSION_KEY = "accounts_reauth_for"
PURPOSE_LIFETIME = 900  # seconds a kept action stays usable for the page's wording
# After "Confirm it is you to" (German: "fortzufahren").
FALLBACK_PURPOSE = pgettext_lazy("confirm it is you to", "continue")


def _keep_purpose(request: HttpRequest, next_url: str) -> None:
    match = request.resolver_match
    if match is None or match.view_name not in _purposes:
        request.session.pop(PURPOSE_SESSION_KEY, None)
        return
    params = {name: str(value) for name, value in match.kwargs.items()}
    if request.method == "POST":
        for name in _purposes[match.view_name].fields:
            params[name] = request.POST.get(name, "")[:64]
    request.session[PURPOSE_SESSION_KEY] = {
        "view": match.view_name,
        "params": params,
        "next": urlsplit(next_url).path,
        "at": time.time(),
    }


def _worded(request: HttpRequest, view_name: str, params: Mapping[str, str], *, page_only: bool) -> str | None:
    purpose = _purposes.get(view_name)
    if purpose is None or (page_only and not purpose.page):
        return None
    try:
        return purpose.describe(request, params)
    except (LookupError, ValueError, TypeError):
        return None


def purpose_for(request: HttpRequest, next_url: str | None) -> str:
    """What the re-authentication page returning to `next_url` protects, after "Confirm it is
    you to": the action this user was just refused for that page, else the page itself if it
    is one that asks on its GET, else "continue"."""
    if not next_url or not url_has_allowed_host_and_scheme(
        next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return FALLBACK_PURPOSE
    path = urlsplit(next_url).path
    if not path.startswith("/"):
        return FALLBACK_PURPOSE
    kept = request.session.get(PURPOSE_SESSION_KEY)
    if (
        isinstance(kept, dict)
        and kept.get("next") == path
        and isinstance(kept.get("at"), int | float)
        and time.time() - kept["at"] < PURPOSE_LIFETIME
        and isinstance(kept.get("params"), dict)
    ):
        worded = _worded(request, str(kept.get("view")), kept["params"], page_only=False)
        if worded:
            return worded
    try:
        match = resolve(path)
    except Resolver404:
        return FALLBACK_PURPOSE
    params = {name: str(value) for name, value in match.kwargs.items()}
    return _worded(request, match.view_name, params, page_only=True) or FALLBACK_PURPOSE


def reauthentication_needed(
    request: HttpRequest, *, form_page: Callable[..., str] | None = None, **kwargs
) -> HttpResponse | None:
    """None if the user authenticated recently; else the response that asks them to (a
    redirect, or the JSON 401 for fetch()). For views that decide case by case."""
    if recently_authenticated(request):
        return None
    next_url = _return_to(request, form_page, kwargs)
    _keep_purpose(request, next_url)
    url = reauthenticate_url(request, next_url)
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

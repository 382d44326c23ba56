"""What a sign-in through a tenant's provider leaves in the session, and the rules that read
it: a tenant that requires single sign-on opens only for a login through its provider (or to
a break-glass admin), and a tenant that trusts its provider's MFA claims counts them as the
portal's second factor. Registered with the tenants and accounts apps in AppConfig.ready()."""

import time

from allauth.account.models import Login
from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext, gettext_noop

from activity.audit import Audit
from kernel.http import wants_json
from tenants.models import Membership, Tenant

from . import services
from .adapter import SESSION_KEY, connection_for

SSO_REQUIRED = gettext_noop("{tenant} requires signing in through its identity provider.")


def _mark(request: HttpRequest) -> dict:
    """This login's sign-in through a provider, while it is recent enough to count: past
    SSO_SESSION_MAX_AGE the person signs in through the provider again, which asks the provider
    whether it still admits them (the session check)."""
    mark = request.session.get(SESSION_KEY) if hasattr(request, "session") else None
    if not isinstance(mark, dict) or not isinstance(mark.get("at"), int | float):
        return {}
    return mark if time.time() - mark["at"] < settings.SSO_SESSION_MAX_AGE else {}


def signed_in_through(request: HttpRequest, code: str) -> bool:
    """Whether this login came through tenant `code`'s provider."""
    return _mark(request).get("tenant") == code


def sso_guard(request: HttpRequest, membership: Membership) -> HttpResponse | None:
    """tenants.access guard: refuses a tenant that requires single sign-on to a login that did
    not come through its provider, unless the member is exempt. No query."""
    tenant = membership.tenant
    if not tenant.sso_required or membership.sso_exempt or signed_in_through(request, tenant.code):
        return None
    message = gettext(SSO_REQUIRED).format(tenant=tenant.name)
    if wants_json(request):
        response: HttpResponse = JsonResponse({"error": "sso_required", "message": message}, status=403)
    else:
        response = render(request, "sso/required.html", {"tenant": tenant, "message": message}, status=403)
    add_never_cache_headers(response)
    return response


def sso_mfa_voucher(request: HttpRequest, tenant: Tenant) -> bool:
    """tenants.access voucher: this login's provider, trusted by the tenant, said it used more
    than one factor."""
    mark = _mark(request)
    return mark.get("tenant") == tenant.code and bool(mark.get("mfa"))


def sso_mfa_waiver(request: HttpRequest, login: Login) -> bool:
    """accounts.stages waiver: no second factor asked of a sign-in whose trusted provider
    vouched for one."""
    sociallogin = (login.signal_kwargs or {}).get("sociallogin")
    state = sociallogin.state.get(SESSION_KEY) if sociallogin is not None else None
    return bool(state and state.get("mfa"))


def on_logged_in(sender, request: HttpRequest, user, **kwargs) -> None:
    """allauth's user_logged_in: a sign-in through a tenant's provider makes or updates the
    membership and marks the session; any other login clears the mark (a password login of
    the same person must not keep a tenant open)."""
    sociallogin = kwargs.get("sociallogin")
    state = sociallogin.state.get(SESSION_KEY) if sociallogin is not None else None
    if not state:
        request.session.pop(SESSION_KEY, None)
        return
    connection = connection_for(request, state["tenant"])
    if connection is None:  # turned off between the provider's answer and now
        request.session.pop(SESSION_KEY, None)
        return
    admission = services.Admission(email=state["email"], groups=state["groups"], role=state["role"], mfa=state["mfa"])
    services.sso_login_admit(tenant=connection.tenant, user=user, admission=admission, audit=Audit.of(request))
    request.session[SESSION_KEY] = {"tenant": state["tenant"], "mfa": state["mfa"], "at": time.time()}

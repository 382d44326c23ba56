"""The tenants app's receivers of lower apps' signals: a re-authentication in the activity log.

A re-authentication is recorded in the one tenant whose page the user returns to (the `next`
of the re-authentication page), where the action that asked for it happens: not in every
tenant the user belongs to, whose admins it does not concern. A re-authentication that
returns to no tenant's page (My Account, say) is recorded in none. The entry holds the
method (password or second factor, and which), never what was typed."""

from urllib.parse import urlsplit

from django.dispatch import receiver
from django.http import HttpRequest
from django.urls import Resolver404, resolve

from accounts.signals import reauthenticated
from activity.audit import Audit
from activity.models import Action
from activity.services import activity_record

from .models import Membership


def _tenant_code_of(next_url: str) -> str | None:
    """The tenant code of a local page's URL, or None."""
    parts = urlsplit(next_url)
    if parts.scheme or parts.netloc or not parts.path.startswith("/"):
        return None
    try:
        match = resolve(parts.path)
    except Resolver404:
        return None
    return match.kwargs.get("code")


@receiver(reauthenticated, dispatch_uid="activity.reauthenticated")
def _reauthenticated(sender, request: HttpRequest, user, method: str, authenticator_type=None, **kwargs) -> None:
    next_url = request.POST.get("next") or request.GET.get("next") or ""
    code = _tenant_code_of(next_url)
    if code is None:
        return
    membership = Membership.objects.filter(user=user, tenant__code=code).select_related("tenant").first()
    if membership is None:
        return
    details = {"method": method}
    if authenticator_type:
        details["authenticator"] = authenticator_type
    activity_record(tenant=membership.tenant, action=Action.REAUTHENTICATED, audit=Audit.of(request), details=details)

"""The one place that resolves the tenant of a request. Every tenant view starts with
`membership_for(request, code)` and, where a role is needed, `require_role(membership, role)`,
then fetches the tenant's data through `membership.tenant`. A tenant that requires MFA is
closed, in the same place, to members who have not set up a second factor.

Apps above the tenants add rules here without this module knowing them: an access guard
(`access_guard_register`) may close a tenant to a member's login (the sso app: a tenant that
requires single sign-on), and an MFA voucher (`mfa_voucher_register`) may say that this login
already proved a second factor elsewhere (the sso app: the identity provider's MFA claims)."""

from collections.abc import Callable

from allauth.core.exceptions import ImmediateHttpResponse
from allauth.mfa.utils import is_mfa_enabled
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext, gettext_noop

from kernel.http import wants_json

from .models import Membership, Tenant

# guard(request, membership) -> a response that refuses the tenant to this login, or None.
AccessGuard = Callable[[HttpRequest, Membership], HttpResponse | None]
_guards: list[AccessGuard] = []
# voucher(request, tenant) -> whether this login proved a second factor for `tenant`.
MfaVoucher = Callable[[HttpRequest, Tenant], bool]
_vouchers: list[MfaVoucher] = []


def access_guard_register(guard: AccessGuard) -> None:
    """Add a rule that may refuse a member's login the tenant (called on every tenant page,
    so a guard must cost no query where its rule does not apply)."""
    if guard not in _guards:
        _guards.append(guard)


def mfa_voucher_register(voucher: MfaVoucher) -> None:
    """Add a way for a login to satisfy a tenant's MFA requirement other than the portal's own
    second factor."""
    if voucher not in _vouchers:
        _vouchers.append(voucher)


MFA_REQUIRED = gettext_noop(
    "{tenant} requires two-factor authentication: set up an authenticator app or a passkey to open it."
)


def _mfa_setup_response(request: HttpRequest, tenant: Tenant) -> HttpResponse:
    """Where a member without a second factor goes instead of a tenant that requires one:
    My Account's MFA set-up with a message naming the tenant, or 403 JSON for a fetch()."""
    message = gettext(MFA_REQUIRED).format(tenant=tenant.name)
    if wants_json(request):
        response: HttpResponse = JsonResponse(
            {"error": "mfa_required", "message": message, "setup_url": reverse("mfa_index")}, status=403
        )
    else:
        messages.warning(request, message)
        response = HttpResponseRedirect(reverse("mfa_index"))
    add_never_cache_headers(response)
    return response


def membership_for(request: HttpRequest, code: str) -> Membership:
    """The requesting user's membership of tenant `code`. Raises 404 for a tenant that does
    not exist and for one the user is not a member of alike, so existence is not revealed.
    If the tenant requires MFA and the user has no second factor, nothing of the tenant is
    shown: it raises ImmediateHttpResponse, a redirect to the MFA set-up (403 JSON for fetch());
    so it does with the response of an access guard that refuses."""
    if not request.user.is_authenticated:
        raise Http404("No such tenant.")
    try:
        membership = Membership.objects.select_related("tenant").get(user=request.user, tenant__code=code)
    except Membership.DoesNotExist:
        raise Http404("No such tenant.") from None
    for guard in _guards:
        if (refusal := guard(request, membership)) is not None:
            raise ImmediateHttpResponse(refusal)
    tenant = membership.tenant
    if tenant.require_mfa and not any(v(request, tenant) for v in _vouchers) and not is_mfa_enabled(request.user):
        # Handled by allauth's AccountMiddleware, which returns the response as it is.
        raise ImmediateHttpResponse(_mfa_setup_response(request, membership.tenant))
    request.membership = membership
    # Remember the last tenant; written only when the user switches tenants.
    if request.session.get("tenant") != code:
        request.session["tenant"] = code
        membership.last_visited_at = timezone.now()
        Membership.objects.filter(pk=membership.pk).update(last_visited_at=membership.last_visited_at)
    return membership


def require_role(membership: Membership, role: str) -> Membership:
    """Raises 403 unless the membership's role is `role` or higher."""
    if not membership.has_role(role):
        raise PermissionDenied(
            gettext("This needs the %(role)s role in %(code)s.") % {"role": role, "code": membership.tenant.code}
        )
    return membership

"""The one place that resolves the tenant of a request. Every tenant view starts with
`membership_for(request, code)` and, where a role is needed, `require_role(membership, role)`,
then fetches the tenant's data through `membership.tenant`."""

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest
from django.utils import timezone

from .models import Membership


def membership_for(request: HttpRequest, code: str) -> Membership:
    """The requesting user's membership of tenant `code`. Raises 404 for a tenant that does
    not exist and for one the user is not a member of alike, so existence is not revealed."""
    if not request.user.is_authenticated:
        raise Http404("No such tenant.")
    try:
        membership = Membership.objects.select_related("tenant").get(user=request.user, tenant__code=code)
    except Membership.DoesNotExist:
        raise Http404("No such tenant.") from None
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
        raise PermissionDenied(f"This needs the {role} role in {membership.tenant.code}.")
    return membership

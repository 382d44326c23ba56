from django.http import HttpRequest

from .models import Membership


def tenant_switcher(request: HttpRequest) -> dict:
    """The header's tenant switcher: the user's memberships and the current one."""
    if not getattr(request, "user", None) or not request.user.is_authenticated:
        return {}
    memberships = list(Membership.objects.filter(user=request.user).select_related("tenant"))
    return {
        "switcher_memberships": memberships,
        "current_membership": getattr(request, "membership", None),
    }

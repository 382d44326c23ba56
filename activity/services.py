from typing import Any

from django.http import HttpRequest

from portal.net import client_ip

from .models import ActivityEntry


def activity_record(
    *,
    tenant: Any,
    action: str,
    actor: Any = None,
    key: Any = None,
    details: dict[str, Any] | None = None,
    request: HttpRequest | None = None,
) -> ActivityEntry:
    """Write one activity entry. Callers pass names and changes, never a secret or token."""
    if actor is None and request is not None and request.user.is_authenticated:
        actor = request.user
    return ActivityEntry.objects.create(
        tenant=tenant,
        action=action,
        actor=actor,
        actor_email=getattr(actor, "email", "") or "",
        key=key,
        key_name=key.name if key else "",
        key_client_id=key.client_id if key else "",
        details=details or {},
        ip_address=client_ip(request) if request is not None else "",
    )

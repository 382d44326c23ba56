from typing import Any

from apikeys.models import ApiKey
from tenants.models import Tenant

from .audit import Audit
from .models import ActivityEntry


def activity_record(
    *,
    tenant: Tenant,
    action: str,
    audit: Audit,
    key: ApiKey | None = None,
    details: dict[str, Any] | None = None,
) -> ActivityEntry:
    """Write one activity entry. Callers pass names and changes, never a secret or token."""
    return ActivityEntry.objects.create(
        tenant=tenant,
        action=action,
        actor=audit.actor,
        actor_key=audit.actor_key,
        actor_email=audit.actor_label,
        key=key,
        key_name=key.name if key else "",
        key_client_id=key.client_id if key else "",
        details=details or {},
        ip_address=audit.address,
    )

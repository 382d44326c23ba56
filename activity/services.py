from typing import Any

from django.db import transaction

from apikeys.models import ApiKey
from tenants.models import Tenant
from webhooks.outbox import event_record

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
    """Write one activity entry, and in the same transaction the webhook event it makes, if
    any endpoint wants it (webhooks.outbox: the one place events are queued). Callers pass
    names and changes, never a secret or token."""
    # No savepoint: inside a service's transaction this adds no query; alone, it is one.
    with transaction.atomic(savepoint=False):
        entry = ActivityEntry.objects.create(
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
        event_record(entry)
    return entry

from typing import Any

from django.db import transaction
from django.db.models import Model

from .audit import Audit, KeyLike
from .models import ActivityEntry
from .signals import activity_recorded


def activity_record(
    *,
    tenant: Model,
    action: str,
    audit: Audit,
    key: KeyLike | None = None,
    details: dict[str, Any] | None = None,
) -> ActivityEntry:
    """Write one activity entry, and in the same transaction tell whoever listens
    (`activity_recorded`: the webhooks app queues the event it makes, if any endpoint wants
    it). Callers pass names and changes, never a secret or token."""
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
        # Receivers run here, inside the transaction: what they write commits or rolls back
        # with the entry.
        activity_recorded.send(sender=ActivityEntry, entry=entry)
    return entry

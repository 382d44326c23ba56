"""The outbox: events are written to the database in the transaction of the action they report
(activity.services.activity_record calls `event_record`), with one Delivery row per endpoint of
the tenant that wants them. If the action rolls back, so does its event; once it commits, the
worker (webhooks.delivery) delivers it however often it restarts.

The payload never holds a secret or a token: the key's public id, name, kind and Client ID,
the tenant, and who acted."""

from typing import Any

from django.db import transaction
from django.utils import timezone

from tenants.models import Tenant

from .events import BY_ACTION, TEST_EVENT
from .models import Delivery, Endpoint, Event


def _payload(event: Event, *, tenant: Tenant, key: dict | None, actor: dict | None, action: str) -> dict[str, Any]:
    return {
        "id": str(event.id),
        "type": event.type,
        "created_at": event.created_at.isoformat(),
        "tenant": {"code": tenant.code, "name": tenant.name},
        "key": key,
        "actor": actor,
        "action": action,
    }


def _store(event: Event, endpoints: list[Endpoint]) -> Event:
    event.save(force_insert=True)
    Delivery.objects.bulk_create(
        [Delivery(event=event, endpoint=endpoint, next_attempt_at=event.created_at) for endpoint in endpoints]
    )
    return event


def activity_event_record(sender: object, *, entry, **_: object) -> None:
    """activity.signals.activity_recorded's receiver."""
    event_record(entry)


def event_record(entry) -> Event | None:
    """Queue the webhook event of an activity entry (an activity.models.ActivityEntry), if its
    action is one endpoints can subscribe to and an active endpoint of the tenant wants it.
    Called inside the entry's transaction; one query when no endpoint wants it."""
    event_type = BY_ACTION.get(entry.action)
    if event_type is None:
        return None
    endpoints = [
        endpoint
        for endpoint in Endpoint.objects.filter(tenant=entry.tenant_id, is_active=True)
        if event_type.code in endpoint.event_types
    ]
    if not endpoints:
        return None
    key = entry.key
    event = Event(tenant=entry.tenant, type=event_type.code, created_at=entry.created_at)
    event.payload = _payload(
        event,
        tenant=entry.tenant,
        key={
            "public_id": str(key.public_id) if key else None,
            "name": entry.key_name,
            "kind": key.kind if key else None,
            "client_id": entry.key_client_id,
        },
        actor={"email": entry.actor_email} if entry.actor_email else None,
        action=entry.action,
    )
    return _store(event, endpoints)


@transaction.atomic
def endpoint_test_event(*, endpoint: Endpoint, actor_email: str = "") -> Delivery:
    """A `webhook.test` event for one endpoint (the "Send test event" button); its delivery."""
    event = Event(tenant=endpoint.tenant, type=TEST_EVENT, created_at=timezone.now())
    event.payload = _payload(
        event,
        tenant=endpoint.tenant,
        key=None,
        actor={"email": actor_email} if actor_email else None,
        action=TEST_EVENT,
    )
    _store(event, [endpoint])
    return event.deliveries.get()

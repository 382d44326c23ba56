"""Events are queued where the activity log is written, in the action's transaction, for the
endpoints of the tenant that want them, without any secret."""

import json

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from activity.audit import Audit
from activity.models import Action
from activity.services import activity_record
from apikeys.models import KeyKind
from apikeys.services import key_delete, key_renew, secret_show
from webhooks.models import Delivery, DeliveryStatus, Event
from webhooks.services import endpoint_create, endpoint_update

pytestmark = pytest.mark.django_db


def test_a_renew_queues_one_event_and_a_delivery_with_a_payload_without_secrets(endpoint, acme_secrets, alice):
    key, old_plaintext = acme_secrets[KeyKind.EMPORIX]
    _, _, new_plaintext = key_renew(key=key, audit=Audit(actor=alice, address="127.0.0.1"))
    event = Event.objects.get()
    assert event.type == "key.renewed" and event.tenant == endpoint.tenant
    assert event.payload == {
        "id": str(event.id),
        "type": "key.renewed",
        "created_at": event.created_at.isoformat(),
        "tenant": {"code": "acme", "name": "Acme Corp"},
        "key": {"public_id": str(key.public_id), "name": "Emporix API", "kind": "emporix", "client_id": key.client_id},
        "actor": {"email": "alice@example.com"},
        "action": "key.renewed",
    }
    text = json.dumps(event.payload)
    assert old_plaintext not in text and new_plaintext not in text and "akps_" not in text
    delivery = Delivery.objects.get()
    assert (delivery.endpoint, delivery.status, delivery.attempts) == (endpoint, DeliveryStatus.PENDING, 0)
    assert delivery.next_attempt_at == event.created_at


def test_a_reveal_is_an_event_without_the_secret(endpoint, acme_secrets, dave):
    key, plaintext = acme_secrets[KeyKind.EMPORIX]
    shown = secret_show(secret=key.secrets.get(), purpose="copy", audit=Audit(actor=dave))
    assert shown == plaintext
    event = Event.objects.get()
    assert (event.type, event.payload["action"]) == ("key.secret_revealed", "secret.copied")
    assert plaintext not in json.dumps(event.payload)


def test_a_deleted_key_is_still_named_in_its_event(endpoint, acme, catalogue):
    from apikeys.services import key_create
    from scopes.models import Scope

    key, _ = key_create(tenant=acme, kind=KeyKind.CUSTOM, name="Shop", scopes=Scope.objects.filter(name="tax.tax_read"))
    key_delete(key=key)
    created, deleted = Event.objects.order_by("created_at")
    assert (created.type, deleted.type) == ("key.created", "key.deleted")
    assert deleted.payload["key"] == {
        "public_id": str(key.public_id),
        "name": "Shop",
        "kind": "custom",
        "client_id": key.client_id,
    }
    assert deleted.payload["actor"] is None  # the system


def test_the_event_rolls_back_with_its_action(endpoint, acme_secrets):
    key, _ = acme_secrets[KeyKind.EMPORIX]
    with pytest.raises(RuntimeError), transaction.atomic():
        key_renew(key=key)
        raise RuntimeError("the action fails after its activity entry")
    assert not Event.objects.exists() and not Delivery.objects.exists()


def test_only_subscribed_active_endpoints_of_the_tenant_get_deliveries(endpoint, acme, globex, acme_secrets):
    endpoint_create(tenant=globex, url="https://globex.example.com/h", event_types=["key.renewed"])
    _only_created, _ = endpoint_create(tenant=acme, url="https://acme.example.com/c", event_types=["key.created"])
    off, _ = endpoint_create(tenant=acme, url="https://acme.example.com/off", event_types=["key.renewed"])
    endpoint_update(endpoint=off, url=off.url, event_types=["key.renewed"], description="", is_active=False)
    key_renew(key=acme_secrets[KeyKind.EMPORIX][0])
    assert list(Delivery.objects.values_list("endpoint", flat=True)) == [endpoint.pk]


def test_actions_that_are_not_key_events_queue_nothing(endpoint, acme):
    activity_record(tenant=acme, action=Action.MEMBER_ADDED, audit=Audit())
    activity_record(tenant=acme, action=Action.KEY_TRIED, audit=Audit())
    assert not Event.objects.exists()


def test_without_endpoints_an_activity_entry_costs_one_query_more(acme, acme_secrets):
    key, _ = acme_secrets[KeyKind.EMPORIX]
    with CaptureQueriesContext(connection) as not_an_event:
        activity_record(tenant=acme, action=Action.MEMBER_ADDED, audit=Audit())
    with CaptureQueriesContext(connection) as an_event:
        activity_record(tenant=acme, action=Action.KEY_RENEWED, audit=Audit(), key=key)
    assert len(not_an_event) == 1
    assert len(an_event) == 2  # the entry, and looking for endpoints


def test_disable_enable_expiry_and_leaks_are_events_too(endpoint, acme, acme_secrets, catalogue):
    from datetime import timedelta

    from django.utils import timezone

    from apikeys.hygiene import hygiene_run
    from apikeys.leaks import secret_leak_report
    from apikeys.services import key_create, key_disable, key_enable
    from scopes.models import Scope

    key, plaintext = acme_secrets[KeyKind.EMPORIX]
    key_disable(key=key)
    key_enable(key=key)
    secret_leak_report(candidate=plaintext, url="https://example.com/paste", source="scanner")
    _custom, _ = key_create(
        tenant=acme,
        kind=KeyKind.CUSTOM,
        name="Short-lived",
        scopes=Scope.objects.filter(name="tax.tax_read"),
        expires_at=timezone.now() + timedelta(days=1),
    )
    hygiene_run(now=timezone.now() + timedelta(days=2))
    types = list(Event.objects.order_by("created_at").values_list("type", flat=True))
    assert types == ["key.disabled", "key.enabled", "key.renewed", "key.leaked", "key.created", "key.expired"]
    assert plaintext not in json.dumps(list(Event.objects.values_list("payload", flat=True)))

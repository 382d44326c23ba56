"""The activity page's budgets with 5,000 keys and 50,000 entries: under 150 KB of HTML and
the same number of queries as with a handful of entries, unfiltered, searched by name or
Client ID, by actor and deep in the pages; the key suggestions stay small and fixed in cost.
CI runs it on PostgreSQL (DATABASE_URL); it runs on SQLite too."""

import random
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from activity.models import Action, ActivityEntry
from bench.key_list import add_custom_keys

pytestmark = pytest.mark.django_db
URL = reverse("activity:list", kwargs={"code": "acme"})
KEYS = reverse("activity:keys", kwargs={"code": "acme"})
HTML_BUDGET = 150 * 1024
ACTORS = [f"member{n}@example.com" for n in range(12)]
SCOPES = ["tax.tax_read", "brand.brand_manage", "order.order_read", "product.product_manage"]


def _entries(tenant, keys, count: int) -> None:
    """`count` entries over `keys`, the kinds an admin's log holds, in bulk."""
    now = timezone.now()
    chooser = random.Random(20)
    made = []
    for n in range(count):
        key = keys[n % len(keys)]
        action, details = chooser.choice(
            [
                (Action.KEY_CHANGED, {"scopes_added": SCOPES[:2], "scopes_removed": SCOPES[2:]}),
                (Action.SECRET_REVEALED, {"secret": "current"}),
                (
                    Action.KEY_RENEWED,
                    {"old_secret_stops": (now + timedelta(days=1)).isoformat(), "grace_seconds": 86400},
                ),
                (Action.KEY_CREATED, {"kind": "custom", "scopes": SCOPES}),
            ]
        )
        made.append(
            ActivityEntry(
                tenant=tenant,
                action=action,
                actor_email=ACTORS[n % len(ACTORS)],
                key_name=key.name,
                key_client_id=key.client_id,
                details=details,
                ip_address="2001:db8:85a3::8a2e:370:7334",
                created_at=now - timedelta(seconds=n),
            )
        )
    ActivityEntry.objects.bulk_create(made, batch_size=1000)  # short statements on a busy machine


def _measure(client, path: str, query: dict) -> tuple[int, bytes]:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(path, query)
    assert response.status_code == 200, query
    return len(captured.captured_queries), response.content


QUERIES = [{}, {"page": "500"}, {"key": "key 00003"}, {"actor": ACTORS[3], "action": Action.KEY_CHANGED}]


def test_the_activity_page_stays_small_and_its_query_count_constant_with_5000_keys_and_50000_entries(
    client_for, alice, acme
):
    client = client_for(alice)
    keys = add_custom_keys(acme, 5000)
    _entries(acme, keys[:5], 50)
    client.get(URL)  # settle the session and the remembered tenant
    few = {str(query): _measure(client, URL, query)[0] for query in QUERIES}
    few_keys = _measure(client, KEYS, {"q": "Key"})[0]

    _entries(acme, keys, 50_000 - 50)
    assert ActivityEntry.objects.filter(tenant=acme).count() >= 50_000
    for query in QUERIES:
        count, body = _measure(client, URL, query)
        assert count == few[str(query)], query
        assert len(body) < HTML_BUDGET, (query, len(body))
        rows = 20 if "key" in query else 50  # key 00003: 10 entries from each batch
        assert body.count(b'<td data-label="When">') == rows, query
    assert b"100 entries, page 1 of 2." in _measure(client, URL, {"key": "Key 0421"})[1]  # 10 keys, 10 entries each
    wanted = keys[4321]
    _, body = _measure(client, URL, {"key": wanted.client_id})
    assert b"10 entries." in body and wanted.client_id.encode() in body

    count, body = _measure(client, KEYS, {"q": "Key"})
    assert count == few_keys and len(body) < 4 * 1024 and body.count(b'"client_id"') == 20
    count, body = _measure(client, KEYS, {"q": wanted.client_id[4:20]})
    assert count == few_keys and body.count(b'"client_id"') == 1 and wanted.name.encode() in body

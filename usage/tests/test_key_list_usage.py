"""The keys page's column of calls in the last 24 hours: each key's number and hourly line from
the roll-ups, a link to its usage page, a text alternative; one query for the whole page."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from apikeys.models import ApiKey, KeyKind
from bench.key_list import add_custom_keys
from kernel import usage as counting

from .rollups import NOW, frozen, hours_ago, record  # noqa: F401 (frozen: a fixture)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen")]

LIST = reverse("apikeys:list", kwargs={"code": "acme"})


def _cell(body: str, key) -> str:
    row = re.search(rf'<tr id="key-{key.public_id}".*?</tr>', body, re.S)
    return row.group(0) if row else re.search(rf'id="key-{key.public_id}".*?</article>', body, re.S).group(0)


@pytest.mark.parametrize("view", ["table", "cards"])
def test_each_key_shows_its_calls_in_the_last_24_hours(client_for, bob, acme, view):
    busy, idle = add_custom_keys(acme, 2)
    record(busy, "GET-price-list-all-prices", counting.ALLOWED, 6, NOW)
    record(busy, "GET-price-list-all-prices", counting.INSUFFICIENT_SCOPE, 3, hours_ago(2))
    record(busy, counting.OPERATION_TOKEN, counting.ISSUED, 1, hours_ago(23))
    record(busy, counting.OPERATION_TOKEN, counting.ISSUED, 50, hours_ago(24))  # a day ago: not counted
    emporix = ApiKey.objects.get(tenant=acme, kind=KeyKind.EMPORIX)
    record(emporix, counting.OPERATION_TOKEN, counting.ISSUED, 4, hours_ago(1))

    body = client_for(bob).get(LIST + f"?view={view}").content.decode()
    cell = _cell(body, busy)
    usage_url = reverse("usage:key", kwargs={"code": "acme", "key_id": busy.public_id})
    assert f'<a class="spark-link" href="{usage_url}"><span class="spark-total">10</span>' in cell
    assert 'aria-label="Per hour: busiest 6, quietest 0, this hour 6"' in cell
    assert '<span class="visually-hidden"> calls of Key 00000</span>' in cell
    # The line: an hour every 4 px, flat runs as one step, the busiest hour (the current one) at the top.
    assert '<path d="M0,19L4,22H80L84,12L88,22L92,2"/>' in cell
    assert '<span class="spark-total">0</span>' in _cell(body, idle)
    assert "No calls in the last 24 hours" in _cell(body, idle) and '<path d="M0,22H92"/>' in _cell(body, idle)
    # The built-in keys' cards have it too.
    assert '<span class="spark-total">4</span>' in _cell(body, emporix)
    if view == "table":
        assert '<th scope="col">Calls (24 h)</th>' in body


def test_the_column_costs_one_query_for_the_whole_page(client_for, alice, acme):
    keys = add_custom_keys(acme, 30)
    client = client_for(alice)
    client.get(LIST)
    with CaptureQueriesContext(connection) as empty:
        client.get(LIST)
    for index, key in enumerate(keys):
        for hour in range(0, 24, 4):
            record(key, counting.OPERATION_TOKEN, counting.ISSUED, index + hour, hours_ago(hour))
    with CaptureQueriesContext(connection) as full:
        client.get(LIST)
    assert len(full.captured_queries) == len(empty.captured_queries)
    hourly = [query["sql"] for query in full.captured_queries if "usage_hourusage" in query["sql"]]
    assert len(hourly) == 1

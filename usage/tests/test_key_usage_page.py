"""A key's usage page and its CSV export: the numbers are the roll-ups', the queries are few and
fixed, a bad range is a form error (400), another tenant's key is 404, every member may look."""

import csv
import io
import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from apikeys.models import ApiKey, KeyKind
from kernel import usage as counting
from usage.models import LastUse

from .rollups import NOW, frozen, hours_ago, record  # noqa: F401 (frozen: a fixture)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen")]

CREATE = "POST-price-create-price"  # POST /price/{tenant}/prices
LIST = "GET-price-list-all-prices"  # GET /price/{tenant}/prices


@pytest.fixture
def emporix(acme):
    return ApiKey.objects.get(tenant=acme, kind=KeyKind.EMPORIX)


def _url(key, name="usage:key", query=""):
    return reverse(name, kwargs={"code": key.tenant.code, "key_id": key.public_id}) + query


def _calls(emporix):
    """What the key did: 24 h hold 5 + 2 + 7 + 1 calls; 7 days 100 more; 30 days 1,000 more."""
    record(emporix, CREATE, counting.ALLOWED, 5, NOW)
    record(emporix, CREATE, counting.INSUFFICIENT_SCOPE, 2, hours_ago(1), secret_id=41)
    record(emporix, counting.OPERATION_TOKEN, counting.ISSUED, 7, hours_ago(3), secret_id=41)
    record(emporix, counting.OPERATION_TOKEN, counting.WRONG_SECRET, 1, hours_ago(23))
    record(emporix, LIST, counting.ALLOWED, 100, hours_ago(30))
    record(emporix, LIST, counting.ALLOWED, 1000, NOW - timedelta(days=20))


def _text(response) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.content.decode()))


def test_the_page_shows_the_roll_ups_numbers_for_each_range(client_for, alice, emporix):
    _calls(emporix)
    LastUse.objects.create(key=emporix, network="203.0.113.0/24", at=NOW - timedelta(minutes=5))
    client = client_for(alice)

    day = client.get(_url(emporix))
    assert day.status_code == 200
    text = _text(day)
    assert "15 calls in the last 24 hours, 12 succeeded, 3 failed" in text
    assert "Allowed: 5" in text and "Token issued: 7" in text and "Missing scope: 2" in text
    assert "Wrong secret: 1" in text
    # Top operations with the route table's method and path, the token service's by name.
    assert "POST /price/{tenant}/prices" in text and "POST /oauth/token" in text
    assert "GET /price/{tenant}/prices" not in text  # 30 hours ago: not in this range
    # Errors by reason, and where it was last used from (the network only).
    assert re.search(r"Errors by reason .*Missing scope 2 .*Wrong secret 1", text)
    assert "203.0.113.0/24" in text and "5 minutes ago" in text
    # The chart's table: 24 rows, one per hour, the current one last with its 5 calls.
    body = day.content.decode()
    assert len(re.findall(r'<th scope="row">\d+ \w{3} 2026, \d\d:00 UTC</th>', body)) == 24
    assert '<th scope="row">7 Dec 2026, 10:00 UTC</th><td>5</td>' in body

    week = _text(client.get(_url(emporix, query="?range=7d")))
    assert "115 calls in the last 7 days" in week and "GET /price/{tenant}/prices" in week
    month = _text(client.get(_url(emporix, query="?range=30d")))
    assert "1115 calls in the last 30 days" in month


def test_the_page_costs_the_same_queries_with_many_rows_as_with_none(client_for, alice, emporix):
    client = client_for(alice)
    client.get(_url(emporix))  # settle the session and the remembered tenant
    with CaptureQueriesContext(connection) as empty:
        assert client.get(_url(emporix, query="?range=7d")).status_code == 200
    for hour in range(0, 160, 3):
        for outcome in (counting.ALLOWED, counting.INSUFFICIENT_SCOPE, counting.INVALID_TOKEN):
            record(emporix, CREATE if hour % 2 else LIST, outcome, hour + 1, hours_ago(hour))
    LastUse.objects.create(key=emporix, network="2001:db8:1::/48", at=NOW)
    with CaptureQueriesContext(connection) as full:
        assert client.get(_url(emporix, query="?range=7d")).status_code == 200
    assert len(full.captured_queries) == len(empty.captured_queries)
    # Only roll-ups and the key are read: session, user, membership, key, series, operations,
    # last use, and the header's tenant switcher.
    tables = " ".join(query["sql"] for query in full.captured_queries)
    assert "oauth_accesstoken" not in tables and "apikeys_apisecret" not in tables
    assert len(full.captured_queries) == 8, "\n".join(q["sql"][:120] for q in full.captured_queries)


def test_an_unknown_range_is_a_form_error(client_for, alice, emporix):
    for query in ("?range=1y", "?range=24H", "?range=%00"):
        response = client_for(alice).get(_url(emporix, query=query))
        assert response.status_code == 400
        assert "Choose a range of 24h, 7d or 30d." in response.content.decode()
    export = client_for(alice).get(_url(emporix, "usage:key_export", "?range=90d"))
    assert export.status_code == 400 and export["Content-Type"].startswith("text/html")
    # Its form shows the page, not another download.
    assert f'<form method="get" action="{_url(emporix)}"' in export.content.decode()


def test_another_tenants_key_is_404(client_for, alice, charlie, emporix, globex):
    theirs = ApiKey.objects.get(tenant=globex, kind=KeyKind.EMPORIX)
    ours_path = reverse("usage:key", kwargs={"code": "acme", "key_id": theirs.public_id})
    assert client_for(alice).get(ours_path).status_code == 404
    export_path = reverse("usage:key_export", kwargs={"code": "acme", "key_id": theirs.public_id})
    assert client_for(alice).get(export_path).status_code == 404
    # A tenant one is not a member of is 404 too, whatever the key.
    assert client_for(charlie).get(_url(emporix)).status_code == 404


@pytest.mark.parametrize("member", ["alice", "dave", "bob"])
def test_every_member_sees_usage(request, client_for, member, emporix):
    _calls(emporix)
    client = client_for(request.getfixturevalue(member))
    assert client.get(_url(emporix)).status_code == 200
    assert client.get(_url(emporix, "usage:key_export")).status_code == 200


def test_the_key_export_has_a_row_per_bucket_operation_and_outcome(client_for, alice, emporix):
    _calls(emporix)
    record(emporix, CREATE, counting.ALLOWED, 3, NOW, secret_id=99)  # another secret: summed with the first
    response = client_for(alice).get(_url(emporix, "usage:key_export", "?range=24h"))
    assert response.status_code == 200 and response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Cache-Control"] == "no-store"
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert [(row["bucket_start"], row["operation"], row["outcome"], row["calls"]) for row in rows] == [
        ("2026-12-06T11:00:00+00:00", counting.OPERATION_TOKEN, counting.WRONG_SECRET, "1"),
        ("2026-12-07T07:00:00+00:00", counting.OPERATION_TOKEN, counting.ISSUED, "7"),
        ("2026-12-07T09:00:00+00:00", CREATE, counting.INSUFFICIENT_SCOPE, "2"),
        ("2026-12-07T10:00:00+00:00", CREATE, counting.ALLOWED, "8"),
    ]
    assert {row["client_id"] for row in rows} == {emporix.client_id}
    assert rows[-1]["method"] == "POST" and rows[-1]["path"] == "/price/{tenant}/prices"
    assert set(rows[0]) == {"bucket_start", "key_name", "client_id", "operation", "method", "path", "outcome", "calls"}

    month = client_for(alice).get(_url(emporix, "usage:key_export", "?range=30d"))
    days = list(csv.DictReader(io.StringIO(b"".join(month.streaming_content).decode())))
    assert sum(int(row["calls"]) for row in days) == 1118
    assert all(row["bucket_start"].endswith("T00:00:00+00:00") for row in days)

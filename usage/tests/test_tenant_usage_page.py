"""The tenant's usage overview and its CSV export: calls over time, the success rate, the busiest
keys, keys whose failures are rising; only the tenant's own keys; a fixed number of queries."""

import csv
import io
import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from apikeys.models import ApiKey, KeyKind
from bench.key_list import add_custom_keys
from kernel import usage as counting

from .rollups import NOW, frozen, hours_ago, record  # noqa: F401 (frozen: a fixture)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen")]

OVERVIEW = reverse("usage:overview", kwargs={"code": "acme"})
EXPORT = reverse("usage:export", kwargs={"code": "acme"})
OPERATION = "GET-price-list-all-prices"


def _text(response) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.content.decode()))


def _section(text: str, heading: str) -> str:
    return text.split(heading, 1)[1][:600]


def test_the_overview_shows_calls_success_rate_and_busiest_keys(client_for, bob, acme, globex):
    busy, quiet, idle = add_custom_keys(acme, 3)
    record(busy, OPERATION, counting.ALLOWED, 30, NOW)
    record(busy, OPERATION, counting.INSUFFICIENT_SCOPE, 10, hours_ago(2))
    record(quiet, counting.OPERATION_TOKEN, counting.ISSUED, 8, hours_ago(5))
    record(quiet, counting.OPERATION_TOKEN, counting.WRONG_SECRET, 2, hours_ago(5))
    record(None, counting.OPERATION_UNKNOWN, counting.INVALID_TOKEN, 50, NOW, tenant=acme)  # no key to name
    # Another tenant's key calling acme's paths, and globex's own calls: not acme's to see.
    theirs = ApiKey.objects.get(tenant=globex, kind=KeyKind.EMPORIX)
    record(theirs, OPERATION, counting.OTHER_TENANT, 500, NOW, tenant=acme)
    record(theirs, OPERATION, counting.ALLOWED, 900, NOW)

    response = client_for(bob).get(OVERVIEW)  # a viewer may look
    assert response.status_code == 200
    text = _text(response)
    assert "Calls 100 " in text and "Failed calls 62 " in text
    assert "Success rate 38 %" in text  # 38 of 100
    busiest = _section(text, "Busiest keys")
    assert busiest.index(busy.name) < busiest.index(quiet.name)
    assert f"{busy.name} {busy.client_id} 40 10" in busiest and f"{quiet.name} {quiet.client_id} 10 2" in busiest
    assert idle.name not in text and theirs.client_id not in text
    assert reverse("usage:key", kwargs={"code": "acme", "key_id": busy.public_id}) in response.content.decode()
    # The tenant's navigation leads here.
    assert f'href="{OVERVIEW}" aria-current="page">Key usage</a>' in response.content.decode()


def test_keys_whose_failures_rise_are_listed_by_a_plain_rule(client_for, alice, acme):
    rising, steady, few = add_custom_keys(acme, 3)
    # 12 failures in the last 24 hours against 7 in the 7 days before (1 a day): rising.
    record(rising, OPERATION, counting.INSUFFICIENT_SCOPE, 12, hours_ago(2))
    record(rising, OPERATION, counting.INSUFFICIENT_SCOPE, 7, hours_ago(24 * 4))
    # 12 against 70 before (10 a day): not more than twice the average.
    record(steady, OPERATION, counting.INVALID_TOKEN, 12, hours_ago(1))
    record(steady, OPERATION, counting.INVALID_TOKEN, 70, hours_ago(24 * 3))
    # 9 with none before: under the minimum of 10.
    record(few, OPERATION, counting.WRONG_SECRET, 9, NOW)
    # Successes never count as failures.
    record(steady, OPERATION, counting.ALLOWED, 500, NOW)

    text = _text(client_for(alice).get(OVERVIEW))
    section = _section(text, "Keys whose failures are rising")
    assert f"{rising.name} {rising.client_id} 12 1.0" in section
    assert steady.name not in section and few.name not in section
    assert "at least 10 failed calls in the last 24 hours and more than 2 times" in section


def test_the_overview_costs_the_same_queries_with_many_keys_and_rows(client_for, alice, acme):
    client = client_for(alice)
    client.get(OVERVIEW)
    with CaptureQueriesContext(connection) as empty:
        assert client.get(OVERVIEW + "?range=30d").status_code == 200
    for index, key in enumerate(add_custom_keys(acme, 60)):
        record(key, OPERATION, counting.ALLOWED, index + 1, hours_ago(index))
        record(key, OPERATION, counting.INVALID_TOKEN, 20, hours_ago(index % 12))
    with CaptureQueriesContext(connection) as full:
        assert client.get(OVERVIEW + "?range=30d").status_code == 200
    assert len(full.captured_queries) == len(empty.captured_queries) == 7
    assert "oauth_accesstoken" not in " ".join(query["sql"] for query in full.captured_queries)


def test_an_unknown_range_is_a_form_error_on_the_overview_and_its_export(client_for, alice, acme):
    for path in (OVERVIEW, EXPORT):
        response = client_for(alice).get(path + "?range=all")
        assert response.status_code == 400
        assert "Choose a range of 24h, 7d or 30d." in response.content.decode()


def test_another_tenants_overview_is_404(client_for, charlie, acme):
    assert client_for(charlie).get(OVERVIEW).status_code == 404
    assert client_for(charlie).get(EXPORT).status_code == 404


def test_the_tenant_export_names_each_key_and_is_safe_in_a_spreadsheet(client_for, alice, acme, globex):
    (key,) = add_custom_keys(acme, 1)
    key.name = '=HYPERLINK("http://evil.example")'
    key.save(update_fields=["name"])
    record(key, OPERATION, counting.ALLOWED, 4, NOW, secret_id=77)
    record(key, OPERATION, counting.ALLOWED, 2, NOW - timedelta(days=3))
    record(None, counting.OPERATION_UNKNOWN, counting.INVALID_TOKEN, 5, hours_ago(1), tenant=acme)
    theirs = ApiKey.objects.get(tenant=globex, kind=KeyKind.EMPORIX)
    record(theirs, OPERATION, counting.OTHER_TENANT, 500, NOW, tenant=acme)

    response = client_for(alice).get(EXPORT + "?range=7d")
    assert response.status_code == 200 and response["Cache-Control"] == "no-store"
    assert 'filename="usage-acme-7d.csv"' in response["Content-Disposition"]
    body = b"".join(response.streaming_content).decode()
    rows = list(csv.DictReader(io.StringIO(body)))
    assert [(r["key_name"], r["client_id"], r["operation"], r["outcome"], r["calls"]) for r in rows] == [
        ("'" + key.name, key.client_id, OPERATION, counting.ALLOWED, "2"),
        ("", "", counting.OPERATION_UNKNOWN, counting.INVALID_TOKEN, "5"),
        ("'" + key.name, key.client_id, OPERATION, counting.ALLOWED, "4"),
    ]
    assert theirs.client_id not in body  # no other tenant's key
    assert not any("secret" in column for column in rows[0])
    assert rows[0]["method"] == "GET" and rows[0]["path"] == "/price/{tenant}/prices"


def test_the_exports_cost_the_same_queries_with_many_keys_and_rows(client_for, alice, acme):
    client = client_for(alice)
    client.get(OVERVIEW)
    (first,) = add_custom_keys(acme, 1)
    key_export = reverse("usage:key_export", kwargs={"code": "acme", "key_id": first.public_id})

    def count(path: str) -> tuple[int, int]:
        with CaptureQueriesContext(connection) as captured:
            response = client.get(path + "?range=7d")
            lines = b"".join(response.streaming_content).count(b"\n")
        return len(captured.captured_queries), lines

    few = {path: count(path) for path in (EXPORT, key_export)}
    for index, key in enumerate([first, *add_custom_keys(acme, 40, prefix="More")]):
        for hour in range(0, 150, 10):
            record(key, OPERATION, counting.ALLOWED, index + 1, hours_ago(hour))
            record(key, counting.OPERATION_TOKEN, counting.ISSUED, 1, hours_ago(hour))
    for path, (queries, lines) in few.items():
        now_queries, now_lines = count(path)
        assert now_queries == queries and lines == 1  # the header alone before
        assert now_lines == (1 + 41 * 15 * 2 if path == EXPORT else 1 + 15 * 2)

"""GET /api/v1/keys/{id}/usage: the key's usage as the roll-ups hold it, in a fixed number of
queries; a bad range is an invalid-request problem, another tenant's key a not-found one."""

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from apikeys.models import ApiKey, KeyKind
from kernel import usage as counting
from usage.models import LastUse
from usage.tests.rollups import NOW, hours_ago, record

pytestmark = pytest.mark.django_db

OPERATION = "GET-price-list-all-prices"


def _path(key) -> str:
    return reverse("api:key_usage", kwargs={"key_id": key.public_id})


@pytest.fixture
def frozen():
    """The clock at usage.tests' NOW (before the caller's token is issued, so that it is fresh)."""
    with time_machine.travel(NOW, tick=False):
        yield NOW


@pytest.fixture
def reader(frozen, caller, acme):
    return caller(acme, ["portal.key_read"])[2]


def test_it_answers_the_roll_ups_numbers(frozen, api, reader, target):
    key, _ = target
    record(key, OPERATION, counting.ALLOWED, 5, NOW)
    record(key, OPERATION, counting.INSUFFICIENT_SCOPE, 2, hours_ago(1))
    record(key, counting.OPERATION_TOKEN, counting.ISSUED, 3, hours_ago(1))
    record(key, OPERATION, counting.ALLOWED, 100, hours_ago(30))
    LastUse.objects.create(key=key, network="198.51.100.0/24", at=NOW)

    response = api("get", _path(key), reader)
    assert response.status_code == 200, response.content
    data = response.json()
    assert data["range"] == "24h" and data["bucket_seconds"] == 3600 and len(data["buckets"]) == 24
    assert (data["calls"], data["successes"], data["failures"]) == (10, 8, 2)
    assert data["buckets"][-1] == {"start": "2026-12-07T10:00:00Z", "calls": 5, "outcomes": {"allowed": 5}}
    assert data["buckets"][-2]["outcomes"] == {"insufficient_scope": 2, "issued": 3}
    assert data["operations"][0] == {
        "operation": OPERATION,
        "method": "GET",
        "path": "/price/{tenant}/prices",
        "calls": 7,
        "failures": 2,
    }
    assert data["errors"] == [{"outcome": "insufficient_scope", "label": "Missing scope", "calls": 2}]
    assert data["last_used"] == {"network": "198.51.100.0/24", "at": "2026-12-07T10:40:00Z"}

    week = api("get", _path(key) + "?range=7d", reader).json()
    assert week["calls"] == 110 and week["bucket_seconds"] == 6 * 3600 and len(week["buckets"]) == 28
    month = api("get", _path(key) + "?range=30d", reader).json()
    assert month["calls"] == 110 and len(month["buckets"]) == 30 and month["buckets"][-1]["calls"] == 10
    assert month["buckets"][-2] == {"start": "2026-12-06T00:00:00Z", "calls": 100, "outcomes": {"allowed": 100}}
    # The path as issue 21 spells it, without the final slash, answers the same.
    assert api("get", _path(key).rstrip("/"), reader).json() == data


def test_it_costs_the_same_queries_with_many_rows(frozen, api, reader, target):
    key, _ = target
    api("get", _path(key), reader)  # the caller's first call warms what every call then reuses
    with CaptureQueriesContext(connection) as empty:
        assert api("get", _path(key) + "?range=7d", reader).status_code == 200
    for hour in range(0, 160, 2):
        for outcome in (counting.ALLOWED, counting.INVALID_TOKEN, counting.WRONG_SECRET):
            record(key, f"op-{hour % 17}", outcome, hour + 1, hours_ago(hour))
    with CaptureQueriesContext(connection) as full:
        assert api("get", _path(key) + "?range=7d", reader).status_code == 200
    assert len(full.captured_queries) == len(empty.captured_queries)
    assert "oauth_accesstoken" not in " ".join(q["sql"] for q in full.captured_queries if "usage_" in q["sql"])


@pytest.mark.parametrize("query", ["?range=1y", "?range=", "?range=24H"])
def test_a_bad_range_is_an_invalid_request_problem(frozen, api, reader, target, query):
    key, _ = target
    response = api("get", _path(key) + query, reader)
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json; charset=utf-8"
    problem = response.json()
    assert problem["type"] == "urn:api-key-portal:problem:invalid-request" and "range" in problem["errors"]


def test_another_tenants_key_is_not_found(frozen, api, reader, globex):
    theirs = ApiKey.objects.get(tenant=globex, kind=KeyKind.EMPORIX)
    record(theirs, OPERATION, counting.ALLOWED, 5, NOW)
    response = api("get", _path(theirs), reader)
    assert response.status_code == 404
    assert response.json()["type"] == "urn:api-key-portal:problem:not-found"
    assert theirs.client_id not in response.content.decode()


def test_the_openapi_document_has_it(client):
    schema = client.get("/api/v1/schema/").json()
    operation = schema["paths"]["/api/v1/keys/{key_id}/usage/"]["get"]
    assert operation["operationId"] == "keys_usage" and operation["summary"] == "Read an API key's usage"
    (range_,) = [p for p in operation["parameters"] if p["name"] == "range"]
    assert range_["schema"]["enum"] == ["24h", "7d", "30d"]
    assert {"400", "401", "403", "404"} <= set(operation["responses"])
    assert "/api/v1/keys/{key_id}/usage" not in schema["paths"]

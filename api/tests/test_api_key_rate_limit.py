"""A key's rate limit over the management API: shown on every key, set and cleared with PATCH
(any kind of key) through the settings page's service and its bounds, refused as a problem
naming the field when out of bounds, recorded in the activity log, and described in the
OpenAPI document."""

import pytest

from activity.models import Action, ActivityEntry
from apikeys.auth import builtin_scope_names

from .conftest import TARGET_SCOPES

pytestmark = pytest.mark.django_db

MANAGER = [*TARGET_SCOPES, "portal.key_read", "portal.key_manage"]
KEYS = "/api/v1/keys/"


def test_a_key_shows_no_limit_until_one_is_set(api, caller, acme, target):
    key, _ = target
    _, _, token = caller(acme, MANAGER, name="Ops")
    url = f"{KEYS}{key.public_id}/"
    shown = api("get", url, token).json()
    assert (shown["rate_limit"], shown["rate_limit_period"]) == (None, "minute")

    response = api("patch", url, token, {"rate_limit": 20, "rate_limit_period": "second"})
    assert response.status_code == 200, response.content
    assert (response.json()["rate_limit"], response.json()["rate_limit_period"]) == (20, "second")
    key.refresh_from_db()
    assert (key.rate_limit, key.rate_limit_period) == (20, "second")
    entry = ActivityEntry.objects.filter(key=key, action=Action.KEY_CHANGED).latest("pk")
    assert entry.details == {"rate_limit": {"from": None, "to": "20 requests per second"}}
    assert entry.actor_email.startswith("API key Ops (")  # the calling key acted
    listed = {item["id"]: item for item in api("get", KEYS, token).json()["results"]}
    assert listed[str(key.public_id)]["rate_limit"] == 20

    # Only the number: the period stays; only the period: the number stays.
    assert api("patch", url, token, {"rate_limit": 300}).json()["rate_limit_period"] == "second"
    changed = api("patch", url, token, {"rate_limit_period": "minute"}).json()
    assert (changed["rate_limit"], changed["rate_limit_period"]) == (300, "minute")
    cleared = api("patch", url, token, {"rate_limit": None}).json()
    assert cleared["rate_limit"] is None
    key.refresh_from_db()
    assert key.rate_limit is None


def test_a_built_in_key_takes_a_limit(api, caller, acme, acme_secrets):
    emporix, _ = acme_secrets["emporix"]
    _, _, strong = caller(acme, [*builtin_scope_names("emporix"), "portal.key_manage"], name="Strong")
    response = api("patch", f"{KEYS}{emporix.public_id}/", strong, {"rate_limit": 5, "rate_limit_period": "minute"})
    assert response.status_code == 200, response.content
    emporix.refresh_from_db()
    assert emporix.rate_limit == 5


@pytest.mark.parametrize(
    ("body", "field", "detail"),
    [
        ({"rate_limit": 0}, "rate_limit", None),
        ({"rate_limit": -1}, "rate_limit", None),
        ({"rate_limit": "10"}, "rate_limit", None),
        ({"rate_limit": 1.5}, "rate_limit", None),
        ({"rate_limit": True}, "rate_limit", None),
        ({"rate_limit": 600_001}, "rate_limit", None),
        ({"rate_limit": 5, "rate_limit_period": "hour"}, "rate_limit_period", None),
        ({"rate_limit": 5, "rate_limit_period": None}, "rate_limit_period", None),
        # Within the field's bound but past the period's: the service's check, as on the page.
        ({"rate_limit": 10_001, "rate_limit_period": "second"}, None, "between 1 and 10,000 requests per second"),
    ],
)
def test_a_limit_out_of_bounds_is_a_problem_and_changes_nothing(api, caller, acme, target, body, field, detail):
    key, _ = target
    _, _, token = caller(acme, MANAGER, name="Ops")
    response = api("patch", f"{KEYS}{key.public_id}/", token, body)
    assert response.status_code == 400, response.content
    assert response.json()["type"] == "urn:api-key-portal:problem:invalid-request"
    if field is not None:
        assert field in response.json()["errors"]
    if detail is not None:
        assert detail in response.json()["detail"]
    key.refresh_from_db()
    assert key.rate_limit is None


def test_a_limit_needs_the_manage_scope(api, caller, acme, target):
    key, _ = target
    _, _, token = caller(acme, [*TARGET_SCOPES, "portal.key_read"], name="Reader")
    assert api("patch", f"{KEYS}{key.public_id}/", token, {"rate_limit": 5}).status_code == 403


def test_the_openapi_document_describes_the_limit(client):
    schemas = client.get("/api/v1/schema/").json()["components"]["schemas"]
    shown = schemas["Key"]["properties"]
    assert {"rate_limit", "rate_limit_period"} <= set(shown)
    assert {"rate_limit", "rate_limit_period"} <= set(schemas["Key"]["required"])
    sent = schemas["KeyUpdateRequestRequest"]["properties"]
    assert sent["rate_limit"]["minimum"] == 1 and sent["rate_limit"]["maximum"] == 600_000
    assert sent["rate_limit"]["type"] == ["integer", "null"]
    assert sent["rate_limit_period"]["allOf"] == [{"$ref": "#/components/schemas/RateLimitPeriodEnum"}]
    assert schemas["RateLimitPeriodEnum"]["enum"] == ["second", "minute"]

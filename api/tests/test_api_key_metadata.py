"""Key metadata over the management API (issue 20): in every key's representation, accepted on
create and update (any key, built-in ones too), checked as the portal checks it, recorded in the
activity log, and filterable in the list."""

import pytest

from activity.models import Action, ActivityEntry
from apikeys.models import ApiKey, KeyKind

from .conftest import TARGET_SCOPES

pytestmark = pytest.mark.django_db

MANAGER = [*TARGET_SCOPES, "portal.key_read", "portal.key_manage"]
KEYS = "/api/v1/keys/"


def test_create_takes_metadata_and_every_key_shows_it(api, caller, acme):
    _, _, token = caller(acme, MANAGER)
    body = {
        "name": "ERP",
        "scopes": ["tax.tax_read"],
        "description": "Nightly sync",
        "owner": "dave@example.com",
        "environment": "production",
        "labels": ["sync", "erp"],
    }
    response = api("post", KEYS, token, body)
    assert response.status_code == 201, response.content
    data = response.json()
    assert (data["description"], data["owner"], data["environment"], data["labels"]) == (
        "Nightly sync",
        "dave@example.com",
        "production",
        ["erp", "sync"],
    )
    listed = {key["name"]: key for key in api("get", KEYS, token).json()["results"]}
    assert listed["ERP"]["owner"] == "dave@example.com" and listed["ERP"]["labels"] == ["erp", "sync"]
    assert listed["Emporix API"]["environment"] is None and listed["Emporix API"]["owner"] is None
    assert listed["Emporix API"]["description"] == "" and listed["Emporix API"]["labels"] == []


def test_update_changes_only_the_fields_sent_and_records_them(api, caller, acme, target):
    key, _ = target
    _, _, token = caller(acme, MANAGER)
    url = f"{KEYS}{key.public_id}/"
    first = api("patch", url, token, {"description": "Tax", "labels": ["tax"], "owner": "alice@example.com"})
    assert first.status_code == 200, first.content
    second = api("patch", url, token, {"environment": "staging", "owner": None})
    data = second.json()
    assert (data["description"], data["labels"], data["environment"], data["owner"]) == (
        "Tax",
        ["tax"],
        "staging",
        None,
    )
    entries = ActivityEntry.objects.filter(key=key, action=Action.KEY_CHANGED).order_by("id")
    assert [entry.details for entry in entries] == [
        {
            "description": {"from": "", "to": "Tax"},
            "owner": {"from": None, "to": "alice@example.com"},
            "labels": {"from": [], "to": ["tax"]},
        },
        {"environment": {"from": "", "to": "staging"}, "owner": {"from": "alice@example.com", "to": None}},
    ]


def test_a_built_in_key_takes_metadata_too(api, caller, acme):
    _, _, token = caller(acme, MANAGER)
    storefront = ApiKey.objects.get(tenant=acme, kind=KeyKind.STOREFRONT)
    # The caller must hold the key's scopes (no escalation): a key with fewer cannot change it.
    refused = api("patch", f"{KEYS}{storefront.public_id}/", token, {"description": "Shop"})
    assert refused.status_code == 403
    storefront.refresh_from_db()
    assert storefront.description == ""


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"owner": "charlie@example.com"}, "owner"),  # a user of another tenant
        ({"owner": "nobody@example.com"}, "owner"),
        ({"environment": "prod"}, "environment"),
        ({"labels": ["Not_A_Label"]}, "labels"),
        ({"labels": [f"l{n}" for n in range(11)]}, "labels"),
        ({"description": "x" * 501}, "description"),
        ({"description": "bell\u0007"}, "description"),
        ({"labels": "erp"}, "labels"),
    ],
)
def test_bad_metadata_is_refused_with_the_field_named(api, caller, acme, globex, target, body, field):
    key, _ = target
    _, _, token = caller(acme, MANAGER)
    response = api("patch", f"{KEYS}{key.public_id}/", token, body)
    assert response.status_code == 400, response.content
    assert field in response.json()["errors"]
    key.refresh_from_db()
    assert (key.description, key.owner_id, key.environment, key.labels) == ("", None, "", "")


def test_the_list_filters_by_environment_label_owner_and_searches_descriptions(api, caller, acme, target):
    key, _ = target
    _, _, token = caller(acme, MANAGER)
    api(
        "patch",
        f"{KEYS}{key.public_id}/",
        token,
        {
            "description": "Quarterly tax export",
            "labels": ["tax", "fin"],
            "environment": "production",
            "owner": "bob@example.com",
        },
    )

    def names(**params):
        response = api("get", KEYS + "?" + "&".join(f"{k}={v}" for k, v in params.items()), token)
        assert response.status_code == 200, response.content
        return {item["name"] for item in response.json()["results"]}

    assert names(environment="production") == {"Target"}
    assert "Target" not in names(environment="none") and "Emporix API" in names(environment="none")
    assert names(label="fin") == {"Target"} and names(label="fi") == set()
    assert names(owner="bob@example.com") == {"Target"}
    assert names(search="quarterly") == {"Target"}
    for bad in ("environment=prod", "label=Bad!", "label=" + "x" * 40):
        assert api("get", f"{KEYS}?{bad}", token).status_code == 400, bad


def test_the_openapi_document_describes_the_metadata(client):
    schema = client.get("/api/v1/schema/").json()["components"]["schemas"]
    for name in ("Key", "KeyCreateRequestRequest", "KeyUpdateRequestRequest"):
        assert {"description", "owner", "environment", "labels"} <= set(schema[name]["properties"]), name
    assert schema["Key"]["properties"]["labels"]["type"] == "array"


def test_control_characters_in_list_parameters_are_refused(api, caller, acme):
    _, _, token = caller(acme, MANAGER)
    for bad in ("search=a%00b", "search=abc%0A", "owner=a%0A", "owner=x%7F"):
        assert api("get", f"{KEYS}?{bad}", token).status_code == 400, bad

"""The management API's `allowed_origins` of a key: read, set (normalised, with an activity
entry), refused with a problem when bad, and described in the OpenAPI document."""

from activity.models import Action, ActivityEntry
from apikeys.models import ApiKey, KeyKind
from apikeys.origins import MAX_ORIGINS, ORIGIN_PATTERN

from .conftest import TARGET_SCOPES

MANAGER = [*TARGET_SCOPES, "portal.key_read", "portal.key_manage"]
KEYS = "/api/v1/keys/"


def test_patch_sets_and_reads_the_allowed_origins(api, caller, acme, target):
    key, _ = target
    _, _, token = caller(acme, MANAGER, name="Ops")
    url = f"{KEYS}{key.public_id}/"
    assert api("get", url, token).json()["allowed_origins"] == []
    response = api("patch", url, token, {"allowed_origins": ["https://Shop.example.com/", "https://*.example.org"]})
    assert response.status_code == 200, response.content
    assert response.json()["allowed_origins"] == ["https://shop.example.com", "https://*.example.org"]
    entry = ActivityEntry.objects.get(key=key, action=Action.KEY_ORIGINS_CHANGED)
    assert entry.details["to"] == ["https://shop.example.com", "https://*.example.org"]
    assert api("patch", url, token, {"allowed_origins": []}).json()["allowed_origins"] == []


def test_bad_origins_are_problems_and_change_nothing(api, caller, acme, target):
    key, _ = target
    _, _, token = caller(acme, MANAGER, name="Ops")
    url = f"{KEYS}{key.public_id}/"
    for body, where in (
        ({"allowed_origins": ["https://shop.example.com/cart"]}, "allowed_origins"),
        ({"allowed_origins": ["shop.example.com"]}, "allowed_origins"),
        ({"allowed_origins": ["*"]}, "Storefront"),  # a custom key is used with a secret
        ({"allowed_origins": ["https://*.com"]}, "two labels"),
        ({"allowed_origins": [f"https://s{n}.example.com" for n in range(MAX_ORIGINS + 1)]}, "allowed_origins"),
    ):
        response = api("patch", url, token, body)
        assert response.status_code == 400, body
        assert where in response.content.decode(), (body, response.content)
    key.refresh_from_db()
    assert key.allowed_origins == ""


def test_the_emporix_key_has_none(api, caller, acme):
    from apikeys.auth import builtin_scope_names

    emporix = ApiKey.objects.get(tenant=acme, kind=KeyKind.EMPORIX)
    _, _, strong = caller(acme, [*builtin_scope_names("emporix"), "portal.key_manage"], name="Strong")
    response = api("patch", f"{KEYS}{emporix.public_id}/", strong, {"allowed_origins": ["https://shop.example.com"]})
    assert response.status_code == 409
    assert "servers" in response.json()["detail"]


def test_the_schema_states_the_pattern_and_the_bound(client):
    schema = client.get("/api/v1/schema/").json()["components"]["schemas"]
    field = schema["KeyUpdateRequestRequest"]["properties"][
        "allowed_origins"
    ]  # PATCH bodies are not split (COMPONENT_SPLIT_PATCH off)
    assert field["maxItems"] == MAX_ORIGINS
    assert field["items"]["pattern"] == ORIGIN_PATTERN
    assert "allowed_origins" in schema["Key"]["properties"]

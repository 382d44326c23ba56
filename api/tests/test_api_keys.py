"""Keys over the API: the secret-once rule and the audited reveal, no escalation, no silent
self-lockout, If-Match, strict input, listing with filters and cursors."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from activity.models import Action, ActivityEntry
from apikeys.models import ApiKey, ApiSecret, KeyKind
from apikeys.services import key_create
from scopes.models import Scope

from .conftest import TARGET_SCOPES, token_for

pytestmark = pytest.mark.django_db

MANAGER = [*TARGET_SCOPES, "portal.key_read", "portal.key_manage"]
KEYS = "/api/v1/keys/"


def test_create_shows_the_secret_once_and_records_the_key_as_actor(client, api, caller, acme):
    key, _, token = caller(acme, MANAGER, name="CI")
    response = api("post", KEYS, token, {"name": "Tax sync", "scopes": ["tax.tax_read"]})
    assert response.status_code == 201
    body = response.json()
    assert body["secret"] and body["scopes"] == ["tax.tax_read"] and body["kind"] == "custom"
    assert response["Location"] == f"{KEYS}{body['id']}/"
    assert response["Cache-Control"] == "no-store" and response["ETag"]
    # The secret works at the token endpoint ...
    created = ApiKey.objects.get(public_id=body["id"])
    assert token_for(client, created, body["secret"])
    # ... and is never shown again by reading the key.
    again = api("get", response["Location"], token)
    assert again.status_code == 200 and "secret" not in again.json()
    assert body["secret"] not in again.content.decode()
    listing = api("get", KEYS, token)
    assert body["secret"] not in listing.content.decode()
    entry = ActivityEntry.objects.get(action=Action.KEY_CREATED, key=created)
    assert entry.actor is None and entry.actor_key == key
    assert entry.actor_email == f"API key CI ({key.client_id})"


def test_reveal_needs_its_own_scope_and_is_audited(api, caller, acme, target):
    key, secret = target
    _, _, manager = caller(acme, MANAGER)
    assert api("post", f"{KEYS}{key.public_id}/reveal/", manager).status_code == 403
    revealer, _, token = caller(acme, [*TARGET_SCOPES, "portal.secret_reveal"], name="Revealer")
    response = api("post", f"{KEYS}{key.public_id}/reveal/", token)
    assert response.status_code == 200
    assert response.json() == {"client_id": key.client_id, "secret": secret}
    assert response["Cache-Control"] == "no-store"
    entry = ActivityEntry.objects.get(action=Action.SECRET_REVEALED, key=key)
    assert entry.actor_key == revealer and "Revealer" in entry.actor_email
    assert secret not in str(entry.details)


def test_a_key_cannot_create_or_widen_a_key_beyond_its_own_scopes(api, caller, acme, target):
    _, _, token = caller(acme, MANAGER)
    response = api("post", KEYS, token, {"name": "Wider", "scopes": ["tax.tax_read", "tax.tax_manage"]})
    assert response.status_code == 403
    assert response.json()["type"] == "urn:api-key-portal:problem:escalation"
    assert "tax.tax_manage" in response.json()["detail"]
    assert not ApiKey.objects.filter(name="Wider").exists()
    key, _ = target
    response = api("patch", f"{KEYS}{key.public_id}/", token, {"scopes": ["tax.tax_read", "tax.tax_manage"]})
    assert response.status_code == 403
    assert sorted(key.scopes.values_list("name", flat=True)) == ["tax.tax_read"]
    # Nor may it give a key a portal scope it does not hold.
    response = api("post", KEYS, token, {"name": "Revealer", "scopes": ["portal.secret_reveal"]})
    assert response.status_code == 403


def test_a_key_cannot_touch_a_more_powerful_key(api, caller, acme, acme_secrets):
    _, _, token = caller(acme, [*MANAGER, "portal.secret_reveal"])
    emporix, _ = acme_secrets["emporix"]
    strong, _ = key_create(
        tenant=acme, kind=KeyKind.CUSTOM, name="Strong", scopes=Scope.objects.filter(name="tax.tax_manage")
    )
    for key in (emporix, strong):
        base = f"{KEYS}{key.public_id}/"
        assert api("post", base + "reveal/", token).status_code == 403
        assert api("post", base + "renew/", token, {"grace_seconds": 0}).status_code == 403
        assert api("delete", base, token).status_code == 403
    assert api("patch", f"{KEYS}{strong.public_id}/", token, {"name": "Weak"}).status_code == 403
    assert ApiKey.objects.filter(pk=strong.pk).exists() and ApiSecret.objects.filter(key=emporix).count() == 1
    # Reading them is fine: reading reveals nothing.
    assert api("get", f"{KEYS}{emporix.public_id}/", token).status_code == 200


def test_it_refuses_to_lock_the_caller_out_without_saying_so(client, api, caller, acme):
    key, _, token = caller(acme, MANAGER, name="Self")
    base = f"{KEYS}{key.public_id}/"
    response = api("delete", base, token)
    assert response.status_code == 409
    assert response.json()["type"] == "urn:api-key-portal:problem:self-lockout"
    assert api("patch", base, token, {"scopes": TARGET_SCOPES}).status_code == 409
    assert api("post", base + "renew/", token, {"grace_seconds": 0}).status_code == 409
    assert ApiSecret.objects.filter(key=key).count() == 1
    # With a grace period the caller keeps working and gets its new secret.
    renewed = api("post", base + "renew/", token, {"grace_seconds": 3600})
    assert renewed.status_code == 200 and renewed.json()["old_secret_expires_at"]
    assert api("get", base, token).status_code == 200
    # Retiring the old secret would stop this token (minted by it): refused unless confirmed.
    assert api("post", base + "retire-old-secret/", token, {}).status_code == 409
    fresh = token_for(client, key, renewed.json()["secret"])
    assert api("post", base + "retire-old-secret/", fresh, {}).status_code == 200
    # Confirmed, the lock-out goes ahead.
    response = api("patch", base, fresh, {"scopes": TARGET_SCOPES, "lock_out_caller": True})
    assert response.status_code == 200 and response.json()["scopes"] == TARGET_SCOPES


def test_stale_if_match_is_refused(api, caller, acme, target):
    key, _ = target
    _, _, token = caller(acme, MANAGER)
    base = f"{KEYS}{key.public_id}/"
    etag = api("get", base, token)["ETag"]
    first = api("patch", base, token, {"name": "First"}, HTTP_IF_MATCH=etag)
    assert first.status_code == 200 and first["ETag"] != etag
    stale = api("patch", base, token, {"name": "Second"}, HTTP_IF_MATCH=etag)
    assert stale.status_code == 412
    assert stale.json()["type"] == "urn:api-key-portal:problem:precondition-failed"
    key.refresh_from_db()
    assert key.name == "First"
    assert api("patch", base, token, {"name": "Second"}, HTTP_IF_MATCH=first["ETag"]).status_code == 200


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "X", "scopes": ["tax.tax_read"], "admin": True}, "admin"),
        ({"name": "x" * 65, "scopes": ["tax.tax_read"]}, "name"),
        ({"name": "X", "scopes": []}, "scopes"),
        ({"name": "X", "scopes": ["s"] * 501}, "scopes"),
        ({"name": "X", "scopes": ["no.such_scope"]}, "scopes"),
        ({"name": "X", "scopes": ["portal.tenant_manage"]}, "scopes"),
        ({"name": "Emporix API", "scopes": ["tax.tax_read"]}, "name"),
        ({"name": "Bad\x07name", "scopes": ["tax.tax_read"]}, "name"),
        ({"name": "X", "scopes": ["tax.tax_read"], "expires_at": "2000-01-01T00:00:00Z"}, "expires_at"),
    ],
)
def test_bad_input_is_a_problem_naming_the_field(api, caller, acme, body, field):
    _, _, token = caller(acme, [*MANAGER, "portal.tenant_manage"])
    response = api("post", KEYS, token, body)
    assert response.status_code == 400, response.content
    assert response["Content-Type"] == "application/problem+json; charset=utf-8"
    assert response.json()["type"] == "urn:api-key-portal:problem:invalid-request"
    assert field in response.json()["errors"]


def test_not_json_is_a_problem(api, client, caller, acme):
    _, _, token = caller(acme, MANAGER)
    response = client.post(
        KEYS, "name=x", content_type="application/x-www-form-urlencoded", HTTP_AUTHORIZATION=f"Bearer {token}"
    )
    assert response.status_code == 415
    response = client.post(KEYS, "{", content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 400 and response.json()["type"].endswith(":malformed-request")
    response = api("post", KEYS, token, ["a list"])
    assert response.status_code == 400


def test_renew_gives_a_grace_period_of_at_most_seven_days(client, api, caller, acme, target):
    key, old = target
    _, _, token = caller(acme, MANAGER)
    base = f"{KEYS}{key.public_id}/renew/"
    assert api("post", base, token, {"grace_seconds": 7 * 86400 + 1}).status_code == 400
    response = api("post", base, token, {"grace_seconds": 86400})
    assert response.status_code == 200 and response["Cache-Control"] == "no-store"
    new = response.json()["secret"]
    assert new != old
    assert token_for(client, key, old) and token_for(client, key, new)  # both work during the grace
    entry = ActivityEntry.objects.get(action=Action.KEY_RENEWED, key=key)
    assert entry.details["grace_seconds"] == 86400 and entry.actor_key is not None


def test_builtin_keys_cannot_be_edited_or_deleted(api, caller, acme, acme_secrets):
    storefront, _ = acme_secrets["storefront"]
    from apikeys.auth import builtin_scope_names

    _, _, token = caller(acme, [*builtin_scope_names("storefront"), "portal.key_read", "portal.key_manage"])
    base = f"{KEYS}{storefront.public_id}/"
    assert api("delete", base, token).status_code == 409
    assert api("patch", base, token, {"name": "Mine"}).status_code == 409
    assert api("post", base + "renew/", token, {"grace_seconds": 60}).status_code == 200


def test_listing_filters_and_pages(api, caller, acme):
    _, _, token = caller(acme, MANAGER, name="Reader")
    for number in range(7):
        key_create(tenant=acme, kind="custom", name=f"Sync {number}", scopes=Scope.objects.filter(name="tax.tax_read"))
    seen, cursor = [], None
    while True:
        response = api("get", KEYS + "?limit=3" + (f"&cursor={cursor}" if cursor else ""), token)
        assert response.status_code == 200
        seen += [key["name"] for key in response.json()["results"]]
        cursor = response.json()["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == len(set(seen)) == 10  # 2 built-in, Reader, 7 syncs
    custom = api("get", KEYS + "?kind=custom&search=sync", token).json()["results"]
    assert sorted(key["name"] for key in custom) == [f"Sync {n}" for n in range(7)]
    assert api("get", KEYS + "?kind=nope", token).status_code == 400
    assert api("get", KEYS + "?limit=101", token).status_code == 400
    assert api("get", KEYS + "?cursor=%%%", token).status_code == 400


def test_a_page_shows_each_key_as_reading_it_does(api, caller, acme, target):
    """The page's own compiled query and the key's read give one representation."""
    from apikeys.services import key_disable, key_renew

    key, _ = target
    key_renew(key=key, grace=timedelta(hours=2))  # an old secret in its grace period
    spare, _ = key_create(tenant=acme, kind="custom", name="Spare", scopes=Scope.objects.filter(name="tax.tax_read"))
    key_disable(key=spare)
    _, _, token = caller(acme, MANAGER, name="Reader")
    listed = api("get", KEYS + "?limit=100", token).json()["results"]
    assert len(listed) == 5  # Emporix, Storefront, Target, Spare, Reader
    for item in listed:
        assert item == api("get", f"{KEYS}{item['id']}/", token).json()
    by_name = {item["name"]: item for item in listed}
    assert by_name["Target"]["old_secret_expires_at"] and by_name["Target"]["scopes"] == sorted(TARGET_SCOPES)
    assert by_name["Spare"]["disabled_at"] and by_name["Emporix API"]["scopes"][0].startswith(("a", "b", "c"))


def test_a_name_search_takes_its_text_literally(api, caller, acme):
    _, _, token = caller(acme, MANAGER, name="Reader")
    tax = Scope.objects.filter(name="tax.tax_read")
    for name in ["Sync 50%", "Sync 500", "Sync_a", "Syncba"]:
        key_create(tenant=acme, kind="custom", name=name, scopes=tax)

    def names(query):
        response = api("get", KEYS + query, token)
        assert response.status_code == 200
        return sorted(key["name"] for key in response.json()["results"])

    assert names("?search=50%25") == ["Sync 50%"]
    assert names("?search=c_a") == ["Sync_a"]
    assert names("?search=SYNC&kind=custom&limit=2") == ["Sync 50%", "Sync 500"]  # id order, then the cursor
    assert names("?search=%5C") == []
    assert api("get", KEYS + "?search=%00", token).status_code == 400


def test_listing_keys_costs_the_same_with_many(api, caller, acme):
    """A page is one query after the token's and the caller's, with 5 keys as with 5,000."""
    _, _, token = caller(acme, MANAGER)
    scope = Scope.objects.get(name="tax.tax_read")

    def page_queries(query):
        api("get", KEYS + query, token)  # warm the built-in keys' scope lists and the compiled query
        with CaptureQueriesContext(connection) as queries:
            response = api("get", KEYS + query, token)
        assert response.status_code == 200
        return len(queries), response.json()

    few, _ = page_queries("?limit=100")
    keys = ApiKey.objects.bulk_create(
        ApiKey(tenant=acme, kind="custom", name=f"Bulk {n:04}", client_id=f"bulk{n:028}") for n in range(5000)
    )
    ApiKey.scopes.through.objects.bulk_create(ApiKey.scopes.through(apikey=k, scope=scope) for k in keys)
    many, body = page_queries("?limit=100")
    assert few == many <= 3 and len(body["results"]) == 100
    later, body = page_queries("?limit=100&search=bulk&kind=custom&cursor=" + body["next_cursor"])
    assert later == many and len(body["results"]) == 100 and body["results"][0]["name"].startswith("Bulk")


def test_the_emporix_key_holds_no_portal_scope_and_custom_keys_may(acme_secrets):
    from apikeys.auth import builtin_scope_names

    held = builtin_scope_names("emporix")
    assert "tax.tax_read" in held
    assert not [name for name in held if name.startswith("portal.")]
    offered = set(Scope.objects.offered().values_list("name", flat=True))
    assert {"portal.key_read", "portal.key_manage", "portal.secret_reveal"} <= offered
    assert "portal.tenant_manage" not in offered


def test_old_secret_expiry_is_shown(api, caller, acme, target):
    from apikeys.services import key_renew

    key, _ = target
    key_renew(key=key, grace=timedelta(hours=2))
    _, _, token = caller(acme, MANAGER)
    assert api("get", f"{KEYS}{key.public_id}/", token).json()["old_secret_expires_at"]


@pytest.mark.filterwarnings("ignore:EdDSA is deprecated")
def test_a_jwt_access_token_works_too(client, api, acme):
    key, secret = key_create(
        tenant=acme, kind="custom", name="JWT", scopes=Scope.objects.filter(name__in=MANAGER), token_format="jwt"
    )
    token = token_for(client, key, secret)
    assert token.startswith("eyJ")
    assert api("get", KEYS, token).status_code == 200
    # The token came from the current secret: retiring nothing is needed, but a renew "now"
    # of the caller itself is refused without confirmation, as for opaque tokens.
    assert api("post", f"{KEYS}{key.public_id}/renew/", token, {"grace_seconds": 0}).status_code == 409


def test_disable_and_enable_over_the_api_as_on_the_settings_page(client, api, caller, acme, target):
    from apikeys.services import key_networks_set

    key, secret = target
    _, _, token = caller(acme, MANAGER, name="Ops")
    before = token_for(client, key, secret)
    response = api("post", f"{KEYS}{key.public_id}/disable/", token, {})
    assert response.status_code == 200
    assert response.json()["disabled_at"] is not None
    form = {"grant_type": "client_credentials", "client_id": key.client_id, "client_secret": secret}
    from urllib.parse import urlencode

    refused = client.post("/oauth/token", urlencode(form), content_type="application/x-www-form-urlencoded")
    assert refused.status_code == 401
    assert api("post", f"{KEYS}{key.public_id}/enable/", token, {}).json()["disabled_at"] is None
    assert token_for(client, key, secret)
    info = client.get("/oauth/tokeninfo", HTTP_AUTHORIZATION=f"Bearer {before}")
    assert info.status_code == 401  # tokens from before the switch stay dead
    actions = list(ActivityEntry.objects.filter(key=key).values_list("action", flat=True))
    assert Action.KEY_DISABLED in actions and Action.KEY_ENABLED in actions
    # The representation carries the key's hygiene state.
    key_networks_set(key=key, allowed_networks="203.0.113.0/24")
    body = api("get", f"{KEYS}{key.public_id}/", token).json()
    assert body["allowed_networks"] == ["203.0.113.0/24"]
    assert body["dormant"] is False and body["token_format"] == "default" and body["renew_by"] is None


def test_disabling_the_calling_key_needs_a_confirmation(api, caller, acme):
    key, _, token = caller(acme, MANAGER, name="Self")
    response = api("post", f"{KEYS}{key.public_id}/disable/", token, {})
    assert response.status_code == 409 and response.json()["type"].endswith("self-lockout")
    assert api("post", f"{KEYS}{key.public_id}/disable/", token, {"lock_out_caller": True}).status_code == 200
    assert api("get", KEYS, token).status_code == 401  # its token stopped with it


def test_a_dormant_key_is_flagged(api, caller, acme, target):
    key, _ = target
    _, _, token = caller(acme, MANAGER, name="Reader")
    ApiKey.objects.filter(pk=key.pk).update(created_at=key.created_at - timedelta(days=91), last_used_at=None)
    assert api("get", f"{KEYS}{key.public_id}/", token).json()["dormant"] is True


def test_patch_sets_the_keys_settings_as_its_settings_page_does(api, caller, acme, target, acme_secrets):
    from django.utils import timezone

    key, _ = target
    _, _, token = caller(acme, MANAGER, name="Ops")
    url = f"{KEYS}{key.public_id}/"
    expiry = (timezone.now() + timedelta(days=10)).replace(microsecond=0)
    response = api(
        "patch",
        url,
        token,
        {
            "allowed_networks": ["203.0.113.0/24", "2001:db8::/32"],
            "expires_at": expiry.isoformat(),
            "token_lifetime": 600,
        },
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["allowed_networks"] == ["203.0.113.0/24", "2001:db8::/32"] and body["token_lifetime"] == 600
    key.refresh_from_db()
    assert key.expires_at == expiry and key.token_lifetime == 600
    actions = set(ActivityEntry.objects.filter(key=key).values_list("action", flat=True))
    assert {Action.KEY_NETWORKS_CHANGED, Action.KEY_EXPIRY_CHANGED} <= actions
    # The services' own checks answer as problems.
    bad = api("patch", url, token, {"allowed_networks": ["203.0.113.5/24"]})
    assert bad.status_code == 400 and "did you mean 203.0.113.0/24" in bad.json()["detail"]
    past = api("patch", url, token, {"expires_at": (timezone.now() - timedelta(days=1)).isoformat()})
    assert past.status_code == 400 and "future" in past.json()["detail"]
    # A built-in key takes networks, not an expiry.
    emporix, _ = acme_secrets["emporix"]
    from apikeys.auth import builtin_scope_names

    _, _, strong = caller(acme, [*builtin_scope_names("emporix"), "portal.key_manage"], name="Strong")
    builtin = f"{KEYS}{emporix.public_id}/"
    assert api("patch", builtin, strong, {"allowed_networks": ["198.51.100.0/24"]}).status_code == 200
    assert api("patch", builtin, strong, {"token_lifetime": 600}).status_code == 409


def test_networks_that_leave_out_the_caller_need_a_confirmation(api, caller, acme):
    key, _, token = caller(acme, MANAGER, name="Self")
    url = f"{KEYS}{key.public_id}/"
    refused = api("patch", url, token, {"allowed_networks": ["198.51.100.0/24"]})
    assert refused.status_code == 409 and refused.json()["type"].endswith("self-lockout")
    assert api("patch", url, token, {"allowed_networks": ["127.0.0.0/8"]}).status_code == 200  # the test client

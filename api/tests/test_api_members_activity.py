"""Members, invitations and the activity log over the API, and the per-token rate limit."""

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext

from activity.models import Action, ActivityEntry
from tenants.models import Membership, Role

from .conftest import TARGET_SCOPES, every_offered_scope

pytestmark = pytest.mark.django_db


def test_members_invite_change_role_and_remove(api, caller, acme, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    # Making bob an admin needs a key that could do everything an admin does (test_api_role_grants.py).
    key, _, token = caller(acme, every_offered_scope(), name="HR sync")
    emails = [m["email"] for m in api("get", "/api/v1/members/", token).json()]
    assert emails == ["alice@example.com", "bob@example.com", "dave@example.com"]
    invited = api("post", "/api/v1/invitations/", token, {"email": "New@Example.com", "role": "developer"})
    assert invited.status_code == 201 and invited.json()["email"] == "new@example.com"
    assert invited["Location"].endswith(f"/{invited.json()['id']}/")
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["new@example.com"]
    # The UI's rules: an address invited already, or a member, is refused.
    again = api("post", "/api/v1/invitations/", token, {"email": "new@example.com", "role": "viewer"})
    assert again.status_code == 400 and "email" in again.json()["errors"]
    assert api("post", "/api/v1/invitations/", token, {"email": "bob@example.com", "role": "viewer"}).status_code == 400
    assert api("delete", invited["Location"], token).status_code == 204
    changed = api("patch", "/api/v1/members/bob@example.com/", token, {"role": "admin"})
    assert changed.status_code == 200 and changed.json()["role"] == "admin"
    assert api("patch", "/api/v1/members/bob@example.com/", token, {"role": "owner"}).status_code == 400
    assert api("delete", "/api/v1/members/dave@example.com/", token).status_code == 204
    actions = set(ActivityEntry.objects.filter(actor_key=key).values_list("action", flat=True))
    assert actions == {
        Action.INVITATION_SENT,
        Action.INVITATION_CANCELLED,
        Action.MEMBER_CHANGED,
        Action.MEMBER_REMOVED,
    }


def test_the_last_admin_stays(api, caller, acme):
    _, _, token = caller(acme, every_offered_scope())
    response = api("patch", "/api/v1/members/alice@example.com/", token, {"role": "viewer"})
    assert response.status_code == 409 and "admin" in response.json()["detail"]
    assert api("delete", "/api/v1/members/alice@example.com/", token).status_code == 409
    assert Membership.objects.get(tenant=acme, user__email="alice@example.com").role == Role.ADMIN


def test_activity_pages_and_filters(api, caller, acme, alice):
    _, _, token = caller(acme, ["portal.activity_read"])
    entries = ActivityEntry.objects.bulk_create(
        ActivityEntry(tenant=acme, action=Action.KEY_CHANGED, actor_email="alice@example.com", key_name="K")
        for _ in range(120)
    )
    assert entries
    seen, cursor = [], None
    while True:
        response = api("get", "/api/v1/activity/?limit=50" + (f"&cursor={cursor}" if cursor else ""), token)
        assert response.status_code == 200
        seen += response.json()["results"]
        cursor = response.json()["next_cursor"]
        if not cursor:
            break
    total = ActivityEntry.objects.filter(tenant=acme).count()
    assert len(seen) == total
    changed = api("get", "/api/v1/activity/?action=key.changed&limit=100", token).json()["results"]
    assert len(changed) == 100 and {e["action_label"] for e in changed} == {"Key changed"}
    assert api("get", "/api/v1/activity/?since=2026-13-01", token).status_code == 400
    assert api("get", "/api/v1/activity/?action=nope", token).status_code == 400


def test_activity_listing_costs_the_same_with_many_entries(api, caller, acme):
    """A page is one query after the token's and the caller's, with a few entries as with 50,000."""
    _, _, token = caller(acme, ["portal.activity_read"])

    def page_queries(path):
        with CaptureQueriesContext(connection) as queries:
            response = api("get", path, token)
        assert response.status_code == 200
        return len(queries), response.json()

    few, _ = page_queries("/api/v1/activity/?limit=100")
    ActivityEntry.objects.bulk_create(
        (
            ActivityEntry(tenant=acme, action=Action.KEY_CHANGED, actor_email=f"user{n % 50}@example.com", key_name="K")
            for n in range(50000)
        ),
        batch_size=5000,
    )
    many, body = page_queries("/api/v1/activity/?limit=100")
    assert few == many <= 3 and len(body["results"]) == 100
    later, body = page_queries(f"/api/v1/activity/?limit=100&cursor={body['next_cursor']}")
    assert later == many and len(body["results"]) == 100


def test_each_token_is_rate_limited_with_headers(api, caller, acme, settings):
    settings.API_RATE_LIMIT_PER_TOKEN = 3
    _, _, token = caller(acme, [*TARGET_SCOPES, "portal.key_read"])
    _, _, other = caller(acme, [*TARGET_SCOPES, "portal.key_read"])
    answers = [api("get", "/api/v1/keys/", token) for _ in range(4)]
    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    assert answers[0]["RateLimit-Policy"] == f'"token";q=3;w={settings.API_RATE_LIMIT_WINDOW}'
    assert answers[0]["RateLimit"].startswith('"token";r=2;t=')
    assert int(answers[3]["Retry-After"]) >= 1
    assert answers[3].json()["type"].endswith(":rate-limited")
    assert api("get", "/api/v1/keys/", other).status_code == 200  # another key has its own count


def test_invalid_tokens_are_limited_per_address_and_a_valid_one_never(api, caller, acme, settings):
    settings.AUTH_FAILURE_LIMIT_PER_ADDRESS = 2
    _, _, token = caller(acme, [*TARGET_SCOPES, "portal.key_read"])
    answers = [api("get", "/api/v1/keys/", "akpt_" + "x" * 43).status_code for _ in range(3)]
    assert answers == [401, 401, 429]
    assert api("get", "/api/v1/keys/", token).status_code == 200


def test_the_activity_key_filter_is_an_exact_client_id(api, caller, acme):
    """The page's key filter is a search; the API's stays an exact Client ID."""
    key, _, token = caller(acme, ["portal.activity_read"])
    ActivityEntry.objects.create(tenant=acme, action=Action.KEY_CHANGED, key_name="Shop", key_client_id=key.client_id)
    exact = api("get", f"/api/v1/activity/?key={key.client_id}&limit=100", token).json()["results"]
    assert exact and all(entry["key_client_id"] == key.client_id for entry in exact)
    assert api("get", f"/api/v1/activity/?key={key.client_id[:10]}", token).json()["results"] == []
    assert api("get", "/api/v1/activity/?key=Shop", token).json()["results"] == []

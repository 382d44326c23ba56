"""Single sign-on over the management API: the same settings as the tenant's SSO page, the
secret write-only, the changes in the activity log, and no key making admins it could not."""

import pytest

from activity.audit import SYSTEM
from activity.models import Action, ActivityEntry
from sso import services
from sso.models import Connection

from .conftest import TARGET_SCOPES, every_offered_scope

pytestmark = pytest.mark.django_db

BODY = {
    "issuer_url": "https://login.example.com/realms/acme",
    "client_id": "portal",
    "client_secret": "provider-secret-value",
    "scopes": "openid email groups",
    "developer_groups": ["portal-developers"],
    "default_role": "viewer",
}


def test_it_sets_and_reads_the_provider_without_the_secret(api, caller, acme):
    key, _, token = caller(acme, [*every_offered_scope(), "portal.member_manage"], name="IdP sync")
    before = api("get", "/api/v1/sso/", token).json()
    assert before["configured"] is False
    assert before["redirect_uri"] == "http://testserver/accounts/oidc/sso-acme/login/callback/"
    response = api("put", "/api/v1/sso/", token, BODY)
    assert response.status_code == 200, response.content
    answer = response.json()
    assert answer["configured"] and answer["developer_groups"] == ["portal-developers"]
    assert "provider-secret-value" not in response.content.decode()
    assert services.connection_secret(Connection.objects.get(tenant=acme)) == "provider-secret-value"
    entry = ActivityEntry.objects.get(action=Action.SSO_CONFIGURED)
    assert entry.actor_key == key and "provider-secret-value" not in str(entry.details)
    # Left out, the secret stays; the change is recorded by field.
    changed = api(
        "put", "/api/v1/sso/", token, {**{k: v for k, v in BODY.items() if k != "client_secret"}, "default_role": ""}
    )
    assert changed.status_code == 200 and changed.json()["default_role"] == ""
    assert services.connection_secret(Connection.objects.get(tenant=acme)) == "provider-secret-value"
    assert ActivityEntry.objects.get(action=Action.SSO_CHANGED).details == {
        "default_role": {"from": "viewer", "to": ""}
    }


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({**BODY, "issuer_url": "http://login.example.com"}, "issuer_url"),
        ({**BODY, "scopes": "email"}, "scopes"),
        ({**BODY, "client_secret": 42}, "client_secret"),
        ({**BODY, "admin_groups": "admins"}, "admin_groups"),
        ({**BODY, "surprise": True}, "surprise"),
        ({k: v for k, v in BODY.items() if k != "client_secret"}, "client_secret"),
    ],
)
def test_bad_settings_are_problems_naming_the_field(api, caller, acme, body, field):
    _, _, token = caller(acme, [*TARGET_SCOPES, "portal.key_read", "portal.member_manage"])
    response = api("put", "/api/v1/sso/", token, body)
    assert response.status_code == 400
    assert response["Content-Type"].startswith("application/problem+json")
    assert field in response.json()["errors"]
    assert not Connection.objects.exists()


def test_a_key_cannot_make_admins_through_group_mapping(api, caller, acme):
    _, _, token = caller(acme, [*TARGET_SCOPES, "portal.key_read", "portal.member_manage"])
    response = api("put", "/api/v1/sso/", token, {**BODY, "admin_groups": ["portal-admins"]})
    assert response.status_code == 403
    assert response.json()["type"].endswith("role-escalation")
    assert not Connection.objects.exists()


def test_sso_entries_are_in_the_activity_api(api, caller, acme):
    _, _, token = caller(acme, [*every_offered_scope(), "portal.member_manage", "portal.activity_read"])
    api("put", "/api/v1/sso/", token, BODY)
    entries = api("get", "/api/v1/activity/?action=sso.configured", token).json()["results"]
    assert [entry["action_label"] for entry in entries] == ["Single sign-on configured"]


def test_reading_costs_few_queries(api, caller, acme, django_assert_max_num_queries):
    _, _, token = caller(acme, [*TARGET_SCOPES, "portal.member_read"])
    for domain in ("a.example", "b.example", "c.example"):
        services.domain_claim(tenant=acme, audit=SYSTEM, domain=domain)
    # The token, its key and tenant, the rate limit's counter aside: connection, exempt, domains.
    with django_assert_max_num_queries(6):
        assert len(api("get", "/api/v1/sso/", token).json()["domains"]) == 3

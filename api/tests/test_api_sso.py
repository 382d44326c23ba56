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


METADATA = """<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="https://idp.example.com/saml">
 <md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">
  <md:KeyDescriptor use="signing"><ds:KeyInfo xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:X509Data>
   <ds:X509Certificate>MIIBkTCB+wIJAKHHIG11E2LOMA0GCSqGSIb3DQEBBQUAMBExDzANBgNVBAMMBmlkcC1jYTAeFw0y</ds:X509Certificate>
  </ds:X509Data></ds:KeyInfo></md:KeyDescriptor>
  <md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect"
    Location="https://idp.example.com/saml/sso"/>
 </md:IDPSSODescriptor>
</md:EntityDescriptor>"""
SAML_BODY = {"protocol": "saml", "saml_metadata_xml": METADATA, "email_claim": "mail", "default_role": "viewer"}


def test_it_sets_a_saml_idp_from_its_metadata(api, caller, acme):
    _, _, token = caller(acme, [*every_offered_scope(), "portal.member_manage"])
    before = api("get", "/api/v1/sso/", token).json()
    assert before["scim"] == {
        "url": "http://testserver/scim/v2",
        "token_in_use": False,
        "token_created_at": None,
        "token_last_used_at": None,
    }
    assert before["saml_service_provider"] == {
        "metadata_url": "http://testserver/accounts/saml/acme/metadata/",
        "entity_id": "http://testserver/accounts/saml/acme/metadata/",
        "acs_url": "http://testserver/accounts/saml/acme/acs/",
    }
    response = api("put", "/api/v1/sso/", token, SAML_BODY)
    assert response.status_code == 200, response.content
    answer = response.json()
    assert answer["protocol"] == "saml"
    assert answer["saml_entity_id"] == "https://idp.example.com/saml"
    assert answer["email_claim"] == "mail"
    assert "saml_metadata_xml" not in answer
    connection = Connection.objects.get(tenant=acme)
    assert connection.saml_metadata_xml == METADATA and connection.secret_key_id == ""
    details = ActivityEntry.objects.get(action=Action.SSO_CONFIGURED).details
    assert details["protocol"] == "saml" and details["saml_metadata_xml"] == "read"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"protocol": "saml"}, "saml_metadata_url"),
        ({**SAML_BODY, "saml_metadata_xml": "<not-metadata/>"}, "saml_metadata_xml"),
        ({**SAML_BODY, "saml_metadata_xml": "<unclosed"}, "saml_metadata_xml"),
        (
            {**SAML_BODY, "saml_metadata_xml": METADATA.replace("https://idp.example.com/saml/sso", "ftp://x")},
            "saml_metadata_xml",
        ),
        ({**SAML_BODY, "saml_entity_id": "https://other.example.com/"}, "saml_metadata_xml"),
        ({**SAML_BODY, "saml_metadata_url": "https://10.0.0.1/metadata"}, "saml_metadata_url"),
        ({**SAML_BODY, "saml_metadata_url": "http://idp.example.com/metadata"}, "saml_metadata_url"),
        ({**SAML_BODY, "protocol": "ws-fed"}, "protocol"),
    ],
)
def test_bad_saml_settings_are_problems_naming_the_field(api, caller, acme, body, field):
    _, _, token = caller(acme, [*TARGET_SCOPES, "portal.key_read", "portal.member_manage"])
    response = api("put", "/api/v1/sso/", token, body)
    assert response.status_code == 400, response.content
    assert field in response.json()["errors"]
    assert not Connection.objects.exists()


def test_it_says_whether_a_scim_token_is_in_use_never_the_token(api, caller, acme):
    _, _, token = caller(acme, [*every_offered_scope(), "portal.member_read"])
    scim_token = services.scim_token_issue(tenant=acme, audit=SYSTEM)
    response = api("get", "/api/v1/sso/", token)
    assert response.json()["scim"]["token_in_use"] is True
    assert scim_token not in response.content.decode()

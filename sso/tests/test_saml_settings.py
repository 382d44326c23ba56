"""The SSO page set to SAML 2.0: the portal's service-provider URLs to copy, the IdP's metadata
read from its URL (the real test IdP) or pasted, and what the portal refuses to fetch."""

import re

import pytest

from activity.models import Action, ActivityEntry
from sso.models import Connection

PAGE = "/tenants/acme/sso/"
FORM = {
    "protocol": "saml",
    "is_enabled": "on",
    "email_claim": "email",
    "groups_claim": "groups",
    "admin_groups": "portal-admins",
    "default_role": "viewer",
    "mfa_policy": "portal",
}

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin(client_for, alice, acme):
    return client_for(alice)


def test_the_page_shows_the_service_provider_urls_to_copy(admin, django_assert_max_num_queries):
    # 13: the SCIM token's is the last added.
    with django_assert_max_num_queries(13):
        response = admin.get(PAGE)
    page = response.content.decode()
    assert 'data-copy-text="http://testserver/accounts/saml/acme/metadata/"' in page
    assert 'data-copy-text="http://testserver/accounts/saml/acme/acs/"' in page


@pytest.mark.outside
def test_saving_a_metadata_url_reads_the_idps_metadata(admin, acme, saml_idp):
    response = admin.post("/tenants/acme/sso/provider/", {**FORM, "saml_metadata_url": saml_idp.metadata_url})
    assert response.status_code == 302, response.content
    connection = Connection.objects.get(tenant=acme)
    assert connection.protocol == "saml"
    assert connection.saml_entity_id == saml_idp.metadata_url  # pysaml2 names its entity so
    assert "X509Certificate" in connection.saml_metadata_xml
    assert connection.secret_key_id == ""
    details = ActivityEntry.objects.get(action=Action.SSO_CONFIGURED).details
    assert details["saml_metadata_url"] == saml_idp.metadata_url
    assert details["saml_metadata_xml"] == "read"
    page = admin.get(PAGE).content.decode()
    assert f'value="{saml_idp.metadata_url}"' in page


@pytest.mark.outside
def test_pasted_metadata_serves_as_well(admin, acme, saml_idp):
    response = admin.post("/tenants/acme/sso/provider/", {**FORM, "saml_metadata_xml": saml_idp.metadata()})
    assert response.status_code == 302, response.content
    assert Connection.objects.get(tenant=acme).saml_metadata_url == ""


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({}, "Enter the IdP&#x27;s metadata URL, or paste its metadata."),
        ({"saml_metadata_xml": "<md:EntityDescriptor"}, "The metadata is not a SAML metadata document."),
        ({"saml_metadata_url": "https://169.254.169.254/latest/"}, "The portal does not reach this host"),
        ({"saml_metadata_url": "https://127.0.0.1:1/metadata"}, "The metadata URL could not be read."),
    ],
)
def test_bad_metadata_is_a_form_error(admin, acme, fields, message):
    response = admin.post("/tenants/acme/sso/provider/", {**FORM, **fields})
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Connection.objects.exists()


def test_a_metadata_host_that_resolves_to_a_private_address_is_never_fetched(admin, acme, settings):
    settings.SSO_ALLOW_LOOPBACK = False  # as in production
    response = admin.post("/tenants/acme/sso/provider/", {**FORM, "saml_metadata_url": "https://localhost/metadata"})
    assert response.status_code == 400
    assert "The portal does not reach this host" in response.content.decode()


def test_a_scim_token_is_shown_once_and_recorded_without_its_value(admin, acme):
    response = admin.post("/tenants/acme/sso/scim-token/")
    assert response.status_code == 200
    token = re.search(r'id="scim-token">([^<]+)<', response.content.decode()).group(1)
    assert token.startswith("pscim_")
    assert "no-store" in response["Cache-Control"] or "no-cache" in response["Cache-Control"]
    page = admin.get(PAGE).content.decode()
    assert token not in page
    assert "A token is in use" in page and "not used yet" in page
    assert admin.get("/scim/v2/Users", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    assert "last used" in admin.get(PAGE).content.decode()
    assert admin.post("/tenants/acme/sso/scim-token/revoke/").status_code == 302
    assert admin.get("/scim/v2/Users", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    details = list(
        ActivityEntry.objects.filter(action=Action.SSO_CHANGED).order_by("id").values_list("details", flat=True)
    )
    assert details == [{"scim_token": "issued"}, {"scim_token": "revoked"}]

"""Signing in through a tenant's SAML 2.0 identity provider, against a real one (pysaml2's, in
Debian's python3: sso/tests/idp/saml_idp.py): the round trip, provisioning and group mapping,
MFA trust by AuthnContextClassRef, and every refusal."""

import base64
import logging
import zlib
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from activity.models import Action, ActivityEntry
from tenants.models import Membership, Role

from .conftest import connect_saml, provider_url, query_of, saml_idp_sign_in

pytestmark = pytest.mark.outside

MFA_CONTEXT = "https://refeds.org/profile/mfa"


def start(client, who: str = "acme") -> str:
    return provider_url(client.post("/accounts/sso/", {"who": who}))


def post_back(client, form: dict[str, str]):
    """The browser posts the IdP's answer to the portal's ACS and follows it to the end."""
    acs = urlsplit(form["action"]).path
    response = client.post(acs, {"SAMLResponse": form["SAMLResponse"], "RelayState": form.get("RelayState", "")})
    assert response.status_code == 302, response.content
    return client.get(response["Location"])


def sign_in(client, email: str, who: str = "acme"):
    """The whole round trip; the portal's answer at the end of its ACS."""
    return post_back(client, saml_idp_sign_in(start(client, who), email))


def refusals() -> list[dict]:
    return list(ActivityEntry.objects.filter(action=Action.SSO_LOGIN_REFUSED).values_list("details", flat=True))


@pytest.fixture
def client():
    """A test client that sends a Host header, as browsers do (python3-saml reads it)."""
    return Client(HTTP_HOST="testserver")


@pytest.fixture
def acme_saml(acme, saml_idp):
    return connect_saml(acme, saml_idp)


def test_it_sends_the_person_to_the_idp_with_a_request(client, acme_saml, saml_idp):
    location = start(client, "someone@example.com")
    assert location.startswith(f"{saml_idp.base}/sso/redirect?")
    request = zlib.decompress(base64.b64decode(query_of(location)["SAMLRequest"]), -15).decode()
    assert 'AssertionConsumerServiceURL="http://testserver/accounts/saml/acme/acs/"' in request
    assert "<saml:Issuer>http://testserver/accounts/saml/acme/metadata/</saml:Issuer>" in request


def test_an_existing_member_signs_in_and_lands_on_the_tenant(client, acme_saml, saml_idp, alice):
    saml_idp.people({"alice@example.com": {"groups": ["portal-admins"]}})
    response = sign_in(client, "alice@example.com")
    assert response.status_code == 302, response.content
    assert response["Location"] == "/tenants/acme/api-keys/"
    assert client.get("/tenants/acme/api-keys/").status_code == 200
    assert {**client.session["sso"], "at": 0} == {"tenant": "acme", "mfa": False, "at": 0}
    entry = ActivityEntry.objects.get(tenant=acme_saml.tenant, action=Action.SSO_LOGIN)
    assert entry.details["email"] == "alice@example.com"
    assert entry.details["role"] == "admin"
    assert alice.socialaccount_set.get().provider == "sso-acme"

"""A SAML tenant that requires single sign-on, and its MFA choice: the same rules as for an
OpenID Connect tenant (test_enforcement.py), against the real SAML IdP."""

import time

import pyotp
import pytest
import time_machine
from django.test import Client

from activity.audit import SYSTEM
from activity.models import Action, ActivityEntry
from conftest import PASSWORD, give_totp
from sso import services
from tenants.models import Membership

from .conftest import connect_saml
from .test_saml_login import MFA_CONTEXT, sign_in

pytestmark = pytest.mark.outside

KEYS = "/tenants/acme/api-keys/"


@pytest.fixture
def client():
    return Client(HTTP_HOST="testserver")


@pytest.fixture
def required(acme, saml_idp, alice):
    """acme requires SSO through its SAML IdP; alice is its break-glass admin."""
    connect_saml(acme, saml_idp)
    services.enforcement_set(tenant=acme, audit=SYSTEM, required=True, exempt_user_ids={alice.pk})
    saml_idp.people({"dave@example.com": {"groups": ["portal-developers"]}})
    return acme


def password_login(client, user) -> None:
    assert client.post("/accounts/login/", {"username": user.email, "password": PASSWORD}).status_code == 302


def test_a_password_login_does_not_open_the_tenant(client, required, dave):
    password_login(client, dave)
    response = client.get(KEYS)
    assert response.status_code == 403
    assert "Acme Corp requires signing in through its identity provider." in response.content.decode()


def test_a_break_glass_admin_opens_it_with_the_password(client, required, alice):
    password_login(client, alice)
    assert client.get(KEYS).status_code == 200


def test_a_sign_in_through_the_idp_opens_it_and_a_later_password_login_does_not(client, required, dave):
    assert sign_in(client, "dave@example.com")["Location"] == KEYS
    assert client.get(KEYS).status_code == 200
    client.post("/accounts/logout/")
    password_login(client, dave)
    assert client.get(KEYS).status_code == 403


def test_past_the_session_check_a_person_the_idp_dropped_from_the_groups_is_shut_out(
    client, acme, saml_idp, dave, settings
):
    settings.SSO_SESSION_MAX_AGE = 60  # within the portal's own idle timeout
    connect_saml(acme, saml_idp, default_role="")
    services.enforcement_set(tenant=acme, audit=SYSTEM, required=True, exempt_user_ids=set())
    saml_idp.people({"dave@example.com": {"groups": ["portal-developers"]}})
    assert sign_in(client, "dave@example.com")["Location"] == KEYS
    assert client.get(KEYS).status_code == 200
    saml_idp.people({"dave@example.com": {"groups": ["left-the-company"]}})
    later = time.time() + settings.SSO_SESSION_MAX_AGE + 1
    with time_machine.travel(later, tick=False):
        assert client.get(KEYS).status_code == 403
    # Signing in again (within the new assertion's window) is refused, and the membership goes.
    with time_machine.travel(later + 1):
        assert sign_in(client, "dave@example.com").status_code == 403
    assert not Membership.objects.filter(user=dave, tenant=acme).exists()


def test_the_portal_asks_for_its_second_factor_by_default(client, acme, saml_idp, alice):
    connect_saml(acme, saml_idp)
    secret = give_totp(alice)
    saml_idp.people({"alice@example.com": {"groups": ["portal-admins"], "acr": MFA_CONTEXT}})
    response = sign_in(client, "alice@example.com")
    assert response["Location"] == "/accounts/2fa/authenticate/"
    assert "_auth_user_id" not in client.session
    response = client.post("/accounts/2fa/authenticate/", {"code": pyotp.TOTP(secret).now()})
    assert response.status_code == 302 and response["Location"] == KEYS
    assert client.get(KEYS).status_code == 200
    assert ActivityEntry.objects.filter(action=Action.SSO_LOGIN).count() == 1


def test_a_trusted_mfa_context_replaces_the_portal_factor(client, acme, saml_idp, alice):
    connect_saml(acme, saml_idp, mfa_policy="provider", mfa_acr_values=[MFA_CONTEXT])
    give_totp(alice)
    saml_idp.people({"alice@example.com": {"groups": ["portal-admins"], "acr": MFA_CONTEXT}})
    assert sign_in(client, "alice@example.com")["Location"] == KEYS
    assert {**client.session["sso"], "at": 0} == {"tenant": "acme", "mfa": True, "at": 0}


def test_a_trusted_idp_without_an_mfa_context_leaves_the_portal_factor(client, acme, saml_idp, alice):
    connect_saml(acme, saml_idp, mfa_policy="provider", mfa_acr_values=[MFA_CONTEXT])
    give_totp(alice)
    saml_idp.people({"alice@example.com": {"groups": ["portal-admins"]}})
    assert sign_in(client, "alice@example.com")["Location"] == "/accounts/2fa/authenticate/"

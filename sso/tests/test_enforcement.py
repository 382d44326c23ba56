"""A tenant that requires single sign-on: password logins do not open it, break-glass admins
are exempt, and the provider's multi-factor claims count where the tenant trusts them."""

import time

import pyotp
import pytest
import time_machine

from activity.audit import SYSTEM
from activity.models import Action, ActivityEntry
from conftest import PASSWORD, give_totp
from sso import services
from tenants.models import Membership

from .conftest import ProviderRefused, callback_path, connect, idp_sign_in, provider_url

pytestmark = pytest.mark.outside

KEYS = "/tenants/acme/api-keys/"


def password_login(client, user):
    response = client.post("/accounts/login/", {"username": user.email, "password": PASSWORD})
    assert response.status_code == 302
    return response


def sso_sign_in(client, email: str):
    location = provider_url(client.post("/accounts/sso/", {"who": "acme"}))
    return client.get(callback_path(idp_sign_in(location, email)))


@pytest.fixture
def required(acme, idp, alice):
    """acme requires SSO; alice (its admin) is its break-glass admin."""
    connect(acme, idp)
    services.enforcement_set(tenant=acme, audit=SYSTEM, required=True, exempt_user_ids={alice.pk})
    acme.refresh_from_db()
    idp.people({"dave@example.com": {"sub": "d-1", "groups": ["portal-developers"]}})
    return acme


def test_a_password_login_does_not_open_the_tenant(client, required, dave):
    password_login(client, dave)
    response = client.get(KEYS)
    assert response.status_code == 403
    page = response.content.decode()
    assert "Acme Corp requires signing in through its identity provider." in page
    assert "Sign in with SSO" in page
    assert client.get("/tenants/acme/members/").status_code == 403


def test_fetch_gets_json(client, required, dave):
    password_login(client, dave)
    response = client.get(KEYS, headers={"accept": "application/json"})
    assert response.status_code == 403
    assert response.json()["error"] == "sso_required"


def test_a_break_glass_admin_opens_it_with_the_password(client, required, alice):
    password_login(client, alice)
    assert client.get(KEYS).status_code == 200


def test_a_sign_in_through_the_provider_opens_it_and_a_later_password_login_does_not(client, required, dave):
    assert sso_sign_in(client, "dave@example.com").status_code == 302
    assert client.get(KEYS).status_code == 200
    client.post("/accounts/logout/")
    password_login(client, dave)
    assert client.get(KEYS).status_code == 403


def test_past_the_session_check_the_person_signs_in_through_the_provider_again(client, required, idp, dave, settings):
    # A minute, so that the provider's cookies (ten minutes) outlive the moved clock.
    settings.SSO_SESSION_MAX_AGE = 60
    sso_sign_in(client, "dave@example.com")
    assert client.get(KEYS).status_code == 200
    with time_machine.travel(time.time() + settings.SSO_SESSION_MAX_AGE + 1, tick=False):
        assert client.get(KEYS).status_code == 403
    # The provider no longer admits dave: signing in again is refused and the membership goes.
    idp.people({})
    with time_machine.travel(time.time() + settings.SSO_SESSION_MAX_AGE + 1, tick=False):
        location = provider_url(client.post("/accounts/sso/", {"who": "acme"}))
        with pytest.raises(ProviderRefused, match=r"No such person here\."):
            idp_sign_in(location, "dave@example.com")
        assert client.get(KEYS).status_code == 403


def test_other_tenants_stay_open_to_the_password(client, required, globex, dave):
    Membership.objects.create(user=dave, tenant=globex, role="viewer")
    password_login(client, dave)
    assert client.get("/tenants/globex/api-keys/").status_code == 200


def test_the_requirement_costs_no_query(client, required, dave, django_assert_num_queries):
    password_login(client, dave)
    client.get(KEYS)
    # The session, the user, the membership with its tenant (all the guard reads), and the
    # page's tenant switcher.
    with django_assert_num_queries(4):
        assert client.get(KEYS).status_code == 403


def test_the_requirement_and_its_changes_are_recorded(required, alice, bob):
    services.enforcement_set(tenant=required, audit=SYSTEM, required=True, exempt_user_ids={alice.pk, bob.pk})
    entries = ActivityEntry.objects.filter(action=Action.SSO_ENFORCEMENT_CHANGED).order_by("id")
    # bob is a viewer: only admins can be exempt, so nothing changed the second time.
    assert [entry.details for entry in entries] == [
        {"exempt": ["alice@example.com"], "required": {"from": False, "to": True}}
    ]


# --- Two-factor authentication: the portal's, or the provider's claims ------------------------


def test_the_portal_asks_for_its_second_factor_by_default(client, acme, idp, alice):
    connect(acme, idp)
    secret = give_totp(alice)
    idp.people({"alice@example.com": {"sub": "a-1", "groups": ["portal-admins"], "amr": ["pwd", "otp"]}})
    response = sso_sign_in(client, "alice@example.com")
    assert response["Location"] == "/accounts/2fa/authenticate/"
    assert "_auth_user_id" not in client.session
    response = client.post("/accounts/2fa/authenticate/", {"code": pyotp.TOTP(secret).now()})
    assert response.status_code == 302 and response["Location"] == KEYS
    assert client.get(KEYS).status_code == 200
    assert ActivityEntry.objects.filter(action=Action.SSO_LOGIN).count() == 1


def test_a_trusted_provider_claim_of_mfa_replaces_the_portal_factor(client, acme, idp, alice):
    connect(acme, idp, mfa_policy="provider")
    give_totp(alice)
    idp.people({"alice@example.com": {"sub": "a-1", "groups": ["portal-admins"], "amr": ["pwd", "otp"]}})
    response = sso_sign_in(client, "alice@example.com")
    assert response["Location"] == KEYS
    assert {**client.session["sso"], "at": 0} == {"tenant": "acme", "mfa": True, "at": 0}


def test_a_trusted_provider_without_an_mfa_claim_leaves_the_portal_factor(client, acme, idp, alice):
    connect(acme, idp, mfa_policy="provider")
    give_totp(alice)
    idp.people({"alice@example.com": {"sub": "a-1", "groups": ["portal-admins"], "amr": ["pwd"]}})
    assert sso_sign_in(client, "alice@example.com")["Location"] == "/accounts/2fa/authenticate/"


def test_a_configured_acr_value_counts_as_mfa(client, acme, idp, alice):
    connect(acme, idp, mfa_policy="provider", mfa_acr_values=["urn:acme:loa:2"])
    give_totp(alice)
    idp.people(
        {"alice@example.com": {"sub": "a-1", "groups": ["portal-admins"], "amr": ["pwd"], "acr": "urn:acme:loa:2"}}
    )
    assert sso_sign_in(client, "alice@example.com")["Location"] == KEYS


def test_a_trusted_mfa_claim_satisfies_a_tenant_that_requires_mfa(client, acme, idp, bob):
    connect(acme, idp, mfa_policy="provider")
    acme.require_mfa = True
    acme.save()
    idp.people({"bob@example.com": {"sub": "b-1", "groups": [], "amr": ["pwd", "hwk"]}})
    sso_sign_in(client, "bob@example.com")
    assert client.get(KEYS).status_code == 200


def test_without_trust_a_tenant_that_requires_mfa_still_asks_to_set_one_up(client, acme, idp, bob):
    connect(acme, idp)
    acme.require_mfa = True
    acme.save()
    idp.people({"bob@example.com": {"sub": "b-1", "groups": [], "amr": ["pwd", "hwk"]}})
    sso_sign_in(client, "bob@example.com")
    assert client.get(KEYS)["Location"] == "/accounts/2fa/"


def test_an_admin_signed_in_through_the_provider_may_require_it_without_being_exempt(
    client, acme, idp, alice, reauthenticated
):
    connect(acme, idp)
    idp.people({"alice@example.com": {"sub": "a-1", "groups": ["portal-admins"]}})
    sso_sign_in(client, "alice@example.com")
    response = client.post("/tenants/acme/sso/enforcement/", {"required": "on"})
    assert response.status_code == 302
    acme.refresh_from_db()
    assert acme.sso_required
    assert client.get(KEYS).status_code == 200


# --- Re-authentication of an account made by single sign-on -----------------------------------


def test_a_provisioned_person_reauthenticates_through_the_provider(client, acme_with_erin, idp, settings):
    # Right after the sign-in, a sensitive page opens: the sign-in counts as a fresh proof.
    assert client.get("/tenants/acme/api-keys/new/").status_code == 200
    # A minute's window, so that the provider's cookies (ten minutes) outlive the moved clock.
    settings.ACCOUNT_REAUTHENTICATION_TIMEOUT = 60
    with time_machine.travel(time.time() + settings.ACCOUNT_REAUTHENTICATION_TIMEOUT + 5, tick=False):
        response = client.get("/tenants/acme/api-keys/new/")
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/sso/?next=")
        page = client.get(response["Location"]).content.decode()
        assert 'name="next" value="/tenants/acme/api-keys/new/"' in page
        started = client.post("/accounts/sso/", {"who": "acme", "next": "/tenants/acme/api-keys/new/"})
        back = client.get(callback_path(idp_sign_in(provider_url(started), "erin@example.com")))
        assert back["Location"] == "/tenants/acme/api-keys/new/"
        assert client.get("/tenants/acme/api-keys/new/").status_code == 200


def test_next_of_another_site_is_ignored(client, acme_with_erin, idp):
    started = client.post("/accounts/sso/", {"who": "acme", "next": "https://evil.example/"})
    back = client.get(callback_path(idp_sign_in(provider_url(started), "erin@example.com")))
    assert back["Location"] == KEYS


@pytest.fixture
def acme_with_erin(client, acme, idp):
    """erin, made an admin of acme by her first sign-in (no password, no second factor)."""
    connect(acme, idp)
    idp.people({"erin@example.com": {"sub": "e-1", "groups": ["portal-admins"]}})
    sso_sign_in(client, "erin@example.com")
    return acme

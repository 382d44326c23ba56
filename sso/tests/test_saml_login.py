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


def test_a_new_person_gets_an_account_and_the_default_role(client, acme_saml, saml_idp, django_user_model):
    saml_idp.people({"erin@example.com": {"groups": []}})
    assert sign_in(client, "erin@example.com")["Location"] == "/tenants/acme/api-keys/"
    erin = django_user_model.objects.get(email="erin@example.com")
    assert not erin.has_usable_password()
    assert Membership.objects.get(user=erin, tenant=acme_saml.tenant).role == Role.VIEWER
    assert ActivityEntry.objects.filter(tenant=acme_saml.tenant, action=Action.MEMBER_PROVISIONED).exists()
    assert client.get("/tenants/acme/api-keys/").status_code == 200


def test_groups_set_the_role_on_every_sign_in_demotion_included(client, acme_saml, saml_idp, bob):
    membership = Membership.objects.get(user=bob, tenant=acme_saml.tenant)
    for groups, role in (
        (["portal-developers", "other"], Role.DEVELOPER),
        (["portal-admins"], Role.ADMIN),
        ([], Role.VIEWER),
    ):
        saml_idp.people({"bob@example.com": {"groups": groups}})
        sign_in(client, "bob@example.com")
        membership.refresh_from_db()
        assert membership.role == role
        client.logout()
    changes = ActivityEntry.objects.filter(tenant=acme_saml.tenant, action=Action.MEMBER_CHANGED).order_by("id")
    assert [entry.details["to"] for entry in changes] == ["developer", "admin", "viewer"]


def test_a_person_the_groups_no_longer_admit_loses_access(client, acme, saml_idp, dave):
    connect_saml(acme, saml_idp, default_role="")
    saml_idp.people({"dave@example.com": {"groups": ["portal-developers"]}})
    sign_in(client, "dave@example.com")
    assert Membership.objects.filter(user=dave, tenant=acme).exists()
    client.logout()
    saml_idp.people({"dave@example.com": {"groups": ["left-the-company"]}})
    response = sign_in(client, "dave@example.com")
    assert response.status_code == 403
    assert "does not give dave@example.com access" in response.content.decode()
    assert not Membership.objects.filter(user=dave, tenant=acme).exists()
    assert "_auth_user_id" not in client.session


def test_the_idps_mfa_context_counts_when_the_tenant_trusts_it(client, acme, saml_idp, alice):
    connect_saml(acme, saml_idp, mfa_policy="provider", mfa_acr_values=[MFA_CONTEXT])
    saml_idp.people({"alice@example.com": {"groups": ["portal-admins"], "acr": MFA_CONTEXT}})
    sign_in(client, "alice@example.com")
    assert client.session["sso"]["mfa"] is True
    assert ActivityEntry.objects.get(action=Action.SSO_LOGIN).details["mfa_from_provider"] is True


def test_a_password_context_does_not_count_as_mfa(client, acme, saml_idp, alice):
    connect_saml(acme, saml_idp, mfa_policy="provider", mfa_acr_values=[MFA_CONTEXT])
    saml_idp.people({"alice@example.com": {"groups": ["portal-admins"]}})
    sign_in(client, "alice@example.com")
    assert client.session["sso"]["mfa"] is False


def test_a_person_of_another_domain_is_refused(client, acme_saml, saml_idp, django_user_model):
    saml_idp.people({"mallory@elsewhere.test": {"groups": ["portal-admins"]}})
    response = sign_in(client, "mallory@elsewhere.test")
    assert response.status_code == 403
    assert "mallory@elsewhere.test is not an address of a domain Acme Corp has proved" in response.content.decode()
    assert not django_user_model.objects.filter(email="mallory@elsewhere.test").exists()
    assert "_auth_user_id" not in client.session
    assert refusals() == [{"reason": "foreign_domain", "email": "mallory@elsewhere.test"}]


def test_an_error_status_from_the_idp_is_refused(client, acme_saml, saml_idp):
    saml_idp.people({"alice@example.com": {"mode": "error"}})
    response = sign_in(client, "alice@example.com")
    assert response.status_code == 403
    assert "The identity provider did not sign you in: it answered with an error status." in response.content.decode()
    assert "_auth_user_id" not in client.session
    assert refusals() == [{"reason": "provider_error"}]


@pytest.mark.parametrize(
    ("mode", "why"),
    [
        ("wrong_audience", "is not a valid audience"),
        ("unsigned", "No Signature found"),
        ("wrong_key", "Signature validation failed"),
    ],
)
def test_an_answer_that_cannot_be_trusted_is_refused(client, acme_saml, saml_idp, alice, caplog, mode, why):
    saml_idp.people({"alice@example.com": {"groups": ["portal-admins"], "mode": mode}})
    with caplog.at_level(logging.WARNING, logger="sso.adapter"):
        response = sign_in(client, "alice@example.com")
    assert response.status_code == 403
    assert "Nothing was signed in." in response.content.decode()
    assert "_auth_user_id" not in client.session
    assert refusals() == [{"reason": "invalid_response"}]
    assert why in caplog.text


def test_an_expired_assertion_is_refused(client, acme_saml, saml_idp, alice, caplog):
    saml_idp.people({"alice@example.com": {"groups": ["portal-admins"]}})
    form = saml_idp_sign_in(start(client), "alice@example.com")
    # The IdP's assertion is good for 5 minutes; python3-saml allows 5 more for clock drift.
    with time_machine.travel(timezone.now() + timedelta(minutes=11)), caplog.at_level(logging.WARNING, "sso.adapter"):
        response = post_back(client, form)
    assert response.status_code == 403
    assert "_auth_user_id" not in client.session
    assert refusals() == [{"reason": "invalid_response"}]
    assert "expired" in caplog.text


def test_a_replayed_answer_is_refused(client, acme_saml, saml_idp, alice):
    saml_idp.people({"alice@example.com": {"groups": ["portal-admins"]}})
    form = saml_idp_sign_in(start(client), "alice@example.com")
    assert post_back(client, form)["Location"] == "/tenants/acme/api-keys/"
    client.post("/accounts/logout/")
    replayed = post_back(client, form)
    assert replayed.status_code == 403
    assert "Nothing was signed in." in replayed.content.decode()
    assert "_auth_user_id" not in client.session
    assert refusals() == [{"reason": "invalid_response"}]


def test_a_sign_in_started_at_the_idp_is_refused(client, acme_saml, saml_idp, alice):
    saml_idp.people({"alice@example.com": {"groups": ["portal-admins"], "mode": "unsolicited"}})
    response = sign_in(client, "alice@example.com")
    assert response.status_code == 403
    assert "_auth_user_id" not in client.session
    assert refusals() == [{"reason": "invalid_response"}]


def test_the_acs_costs_few_queries(client, acme_saml, saml_idp, alice, django_assert_max_num_queries):
    saml_idp.people({"alice@example.com": {"groups": ["portal-admins"]}})
    form = saml_idp_sign_in(start(client), "alice@example.com")
    # Two requests (the ACS keeps the answer in a session of its own, its end reads it): the
    # tenant's connection once, the proved domain, the account by its SAML subject then by
    # address, the link; then the portal's login as after a password (the session cycled,
    # allauth's user sessions, the known device), the membership and the activity entries.
    # 58 when measured, nearly all of them the login's own.
    with django_assert_max_num_queries(60):
        assert post_back(client, form)["Location"] == "/tenants/acme/api-keys/"


def test_an_answer_posted_in_another_browser_is_refused(client, acme_saml, saml_idp, alice):
    saml_idp.people({"alice@example.com": {"groups": ["portal-admins"]}})
    form = saml_idp_sign_in(start(client), "alice@example.com")
    other = Client(HTTP_HOST="testserver")
    assert post_back(other, form).status_code == 403
    assert "_auth_user_id" not in other.session
    assert refusals() == [{"reason": "invalid_response"}]


def test_an_unknown_tenants_acs_is_404(client, db):
    assert client.post("/accounts/saml/nosuch/acs/", {"SAMLResponse": "x"}).status_code == 302
    assert client.get("/accounts/saml/nosuch/acs/finish/").status_code == 404


def test_garbage_posted_to_the_acs_is_refused(client, acme_saml):
    response = post_back(client, {"action": "/accounts/saml/acme/acs/", "SAMLResponse": "not base64!"})
    assert response.status_code == 403
    assert refusals() == [{"reason": "invalid_response"}]


def test_the_sp_metadata_names_the_acs(client, acme_saml):
    response = client.get("/accounts/saml/acme/metadata/")
    assert response.status_code == 200
    body = response.content.decode()
    assert 'entityID="http://testserver/accounts/saml/acme/metadata/"' in body
    assert 'Location="http://testserver/accounts/saml/acme/acs/"' in body


def test_single_logout_is_not_offered(client, acme_saml, alice):
    client.force_login(alice)
    assert client.get("/accounts/saml/acme/sls/", {"SAMLRequest": "x"}).status_code == 404
    assert "_auth_user_id" in client.session


def test_an_oidc_tenant_has_no_saml_metadata(client, acme):
    from activity.audit import SYSTEM
    from sso import services

    from .conftest import CLIENTS

    services.connection_save(
        tenant=acme,
        audit=SYSTEM,
        settings={"protocol": "oidc", "issuer_url": "https://idp.example.com", "client_id": "portal"},
        secret=CLIENTS["portal"],
    )
    assert client.get("/accounts/saml/acme/metadata/").status_code == 404


def test_a_browser_without_a_host_header_signs_in_all_the_same(client, acme_saml, saml_idp, alice):
    """python3-saml reads the Host header itself: the answer posted back without one (HTTP/1.0,
    or a client that leaves it out) is checked against the server's own name, never a 500."""
    saml_idp.people({"alice@example.com": {"groups": ["portal-admins"]}})
    form = saml_idp_sign_in(start(client), "alice@example.com")
    hostless = Client()  # Django's test client sends no Host header unless told to
    hostless.cookies = client.cookies  # the same browser session, which started the sign-in
    response = post_back(hostless, form)
    assert response.status_code == 302, response.content
    assert response["Location"] == "/tenants/acme/api-keys/"
    for path in ("login/", "metadata/"):
        assert Client().get(f"/accounts/saml/acme/{path}").status_code < 500, path

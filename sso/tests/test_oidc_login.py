"""Signing in through a tenant's OpenID Connect provider, against a real one (node's
oidc-provider): the round trip, provisioning and group mapping, and every refusal."""

import pytest

from activity.models import Action, ActivityEntry
from tenants.models import Membership, Role

from .conftest import callback_path, connect, idp_sign_in, provider_url, query_of

pytestmark = pytest.mark.outside


def start(client, who: str = "acme") -> str:
    return provider_url(client.post("/accounts/sso/", {"who": who}))


def sign_in(client, email: str, who: str = "acme"):
    """The whole round trip; the portal's answer to the provider's callback."""
    return client.get(callback_path(idp_sign_in(start(client, who), email)))


def actions(tenant) -> list[str]:
    return list(ActivityEntry.objects.filter(tenant=tenant).order_by("id").values_list("action", flat=True))


def test_it_sends_a_tenant_code_to_the_tenants_provider(client, acme_sso, idp):
    location = start(client, "acme")
    assert location.startswith(f"{idp.issuer}/auth?")
    query = query_of(location)
    assert query["client_id"] == "portal"
    assert set(query["scope"].split()) == {"openid", "email", "profile", "groups"}
    assert query["code_challenge_method"] == "S256"
    assert query["redirect_uri"] == "http://testserver/accounts/oidc/sso-acme/login/callback/"


def test_it_sends_an_email_of_a_proved_domain_to_its_tenants_provider(client, acme_sso, idp):
    assert start(client, "Someone@Example.com").startswith(f"{idp.issuer}/auth?")


@pytest.mark.parametrize("who", ["nosuch", "someone@elsewhere.test", "globex"])
def test_it_refuses_what_has_no_sso_with_one_answer(client, acme_sso, globex, who):
    response = client.post("/accounts/sso/", {"who": who})
    assert response.status_code == 400
    assert "No single sign-on is set up for that tenant code or e-mail domain." in response.content.decode()


def test_an_unproved_domain_leads_nowhere(client, acme, idp):
    connect(acme, idp, domain="")
    from activity.audit import SYSTEM
    from sso import services

    services.domain_claim(tenant=acme, audit=SYSTEM, domain="example.com")
    assert client.post("/accounts/sso/", {"who": "alice@example.com"}).status_code == 400


def test_an_existing_member_signs_in_and_lands_on_the_tenant(client, acme_sso, idp, alice):
    idp.people({"alice@example.com": {"sub": "a-1", "groups": ["portal-admins"]}})
    response = sign_in(client, "alice@example.com")
    assert response.status_code == 302
    assert response["Location"] == "/tenants/acme/api-keys/"
    assert client.get("/tenants/acme/api-keys/").status_code == 200
    assert {**client.session["sso"], "at": 0} == {"tenant": "acme", "mfa": False, "at": 0}
    entry = ActivityEntry.objects.filter(tenant=acme_sso.tenant, action=Action.SSO_LOGIN).get()
    assert entry.details["email"] == "alice@example.com"
    assert entry.details["role"] == "admin"
    # The account is linked: the next sign-in finds it by the provider's subject.
    assert alice.socialaccount_set.get().uid == "a-1"


def test_the_password_of_a_linked_account_is_kept(client, acme_sso, idp, alice):
    idp.people({"alice@example.com": {"sub": "a-1", "groups": ["portal-admins"]}})
    sign_in(client, "alice@example.com")
    alice.refresh_from_db()
    assert alice.has_usable_password()


def test_a_new_person_gets_an_account_and_the_default_role(client, acme_sso, idp, django_user_model):
    idp.people({"erin@example.com": {"sub": "e-1", "groups": []}})
    assert sign_in(client, "erin@example.com").status_code == 302
    erin = django_user_model.objects.get(email="erin@example.com")
    assert not erin.has_usable_password()
    membership = Membership.objects.get(user=erin, tenant=acme_sso.tenant)
    assert membership.role == Role.VIEWER
    assert Action.MEMBER_PROVISIONED in actions(acme_sso.tenant)
    assert client.get("/tenants/acme/api-keys/").status_code == 200


def test_groups_set_the_role_on_every_sign_in_demotion_included(client, acme_sso, idp, bob):
    idp.people({"bob@example.com": {"sub": "b-1", "groups": ["portal-developers", "other"]}})
    sign_in(client, "bob@example.com")
    membership = Membership.objects.get(user=bob, tenant=acme_sso.tenant)
    assert membership.role == Role.DEVELOPER
    client.logout()
    idp.people({"bob@example.com": {"sub": "b-1", "groups": ["portal-admins"]}})
    sign_in(client, "bob@example.com")
    membership.refresh_from_db()
    assert membership.role == Role.ADMIN
    client.logout()
    idp.people({"bob@example.com": {"sub": "b-1", "groups": []}})
    sign_in(client, "bob@example.com")
    membership.refresh_from_db()
    assert membership.role == Role.VIEWER
    changes = ActivityEntry.objects.filter(tenant=acme_sso.tenant, action=Action.MEMBER_CHANGED).order_by("id")
    assert [entry.details["to"] for entry in changes] == ["developer", "admin", "viewer"]


def test_a_person_the_groups_no_longer_admit_loses_access(client, acme, idp, dave):
    connect(acme, idp, default_role="")
    idp.people({"dave@example.com": {"sub": "d-1", "groups": ["portal-developers"]}})
    sign_in(client, "dave@example.com")
    assert Membership.objects.filter(user=dave, tenant=acme).exists()
    client.logout()
    idp.people({"dave@example.com": {"sub": "d-1", "groups": ["left-the-company"]}})
    response = sign_in(client, "dave@example.com")
    assert response.status_code == 403
    assert "does not give dave@example.com access" in response.content.decode()
    assert not Membership.objects.filter(user=dave, tenant=acme).exists()
    assert "_auth_user_id" not in client.session
    assert actions(acme)[-2:] == [Action.MEMBER_REMOVED, Action.SSO_LOGIN_REFUSED]


def test_the_last_admin_is_not_demoted_by_groups(client, acme_sso, idp, alice):
    idp.people({"alice@example.com": {"sub": "a-1", "groups": []}})
    sign_in(client, "alice@example.com")
    assert Membership.objects.get(user=alice, tenant=acme_sso.tenant).role == Role.ADMIN
    entry = ActivityEntry.objects.filter(action=Action.SSO_LOGIN).get()
    assert entry.details["kept"] == "last admin: not demoted"


def test_a_person_of_another_domain_is_refused(client, acme_sso, idp, django_user_model):
    idp.people({"mallory@elsewhere.test": {"sub": "m-1", "groups": ["portal-admins"]}})
    response = sign_in(client, "mallory@elsewhere.test")
    assert response.status_code == 403
    assert "mallory@elsewhere.test is not an address of a domain Acme Corp has proved" in response.content.decode()
    assert not django_user_model.objects.filter(email="mallory@elsewhere.test").exists()
    assert "_auth_user_id" not in client.session
    entry = ActivityEntry.objects.filter(action=Action.SSO_LOGIN_REFUSED).get()
    assert entry.details == {"reason": "foreign_domain", "email": "mallory@elsewhere.test"}


def test_a_provider_error_is_refused(client, acme_sso, idp):
    location = idp_sign_in(start(client), None, deny=True)
    assert query_of(location)["error"] == "access_denied"
    response = client.get(callback_path(location))
    assert response.status_code == 403
    assert "The identity provider did not sign you in: it refused the request." in response.content.decode()
    assert "_auth_user_id" not in client.session
    assert ActivityEntry.objects.get(action=Action.SSO_LOGIN_REFUSED).details == {"reason": "provider_error"}


def test_a_state_that_does_not_match_is_refused(client, acme_sso, idp, alice):
    idp.people({"alice@example.com": {"sub": "a-1", "groups": ["portal-admins"]}})
    location = idp_sign_in(start(client), "alice@example.com")
    response = client.get(callback_path(location).replace("state=", "state=x"))
    assert response.status_code == 403
    assert "Nothing was signed in." in response.content.decode()
    assert "_auth_user_id" not in client.session
    assert ActivityEntry.objects.get(action=Action.SSO_LOGIN_REFUSED).details == {"reason": "invalid_response"}


def test_a_callback_from_another_browser_is_refused(client, acme_sso, idp, alice):
    idp.people({"alice@example.com": {"sub": "a-1", "groups": ["portal-admins"]}})
    location = idp_sign_in(start(client), "alice@example.com")
    from django.test import Client

    other = Client()
    assert other.get(callback_path(location)).status_code == 403
    assert "_auth_user_id" not in other.session


@pytest.mark.parametrize("client_id", ["wrongaud-portal", "expired-portal"])
def test_an_id_token_for_another_client_or_expired_is_refused(client, acme, idp, alice, client_id):
    connect(acme, idp, client_id=client_id)
    idp.people({"alice@example.com": {"sub": "a-1", "groups": ["portal-admins"]}})
    response = sign_in(client, "alice@example.com")
    assert response.status_code == 403
    assert "Nothing was signed in." in response.content.decode()
    assert "_auth_user_id" not in client.session
    assert ActivityEntry.objects.get(action=Action.SSO_LOGIN_REFUSED).details == {"reason": "invalid_response"}


def test_a_provider_out_of_reach_is_a_form_error(client, acme, idp):
    from conftest import free_port

    connect(acme, idp)
    acme.sso.issuer_url = f"http://127.0.0.1:{free_port()}"
    acme.sso.save()
    response = client.post("/accounts/sso/", {"who": "acme"})
    assert response.status_code == 400
    assert "identity provider cannot be reached" in response.content.decode()


def test_a_turned_off_connection_leads_nowhere(client, acme, idp):
    connect(acme, idp, is_enabled=False)
    assert client.post("/accounts/sso/", {"who": "acme"}).status_code == 400


def test_starts_are_limited_per_address(client, acme_sso, settings):
    settings.SSO_START_LIMIT_PER_ADDRESS = 2
    for _ in range(2):
        assert client.post("/accounts/sso/", {"who": "nosuch"}).status_code == 400
    response = client.post("/accounts/sso/", {"who": "acme"})
    assert response.status_code == 429
    assert int(response["Retry-After"]) >= 1
    assert "Too many sign-ins with SSO were started from your address." in response.content.decode()


def test_the_start_page_and_a_start_cost_few_queries(client, acme_sso, django_assert_max_num_queries):
    with django_assert_max_num_queries(0):
        assert client.get("/accounts/sso/").status_code == 200
    # The proved domain's tenant, the connection with its tenant, and the session made and
    # written (allauth keeps the state in it), each write in a savepoint.
    with django_assert_max_num_queries(10):
        start(client, "someone@example.com")


def test_a_replayed_callback_is_refused(client, acme_sso, idp, alice):
    idp.people({"alice@example.com": {"sub": "a-1", "groups": ["portal-admins"]}})
    location = idp_sign_in(start(client), "alice@example.com")
    assert client.get(callback_path(location)).status_code == 302
    client.post("/accounts/logout/")
    replayed = client.get(callback_path(location))
    assert replayed.status_code == 403
    assert "Nothing was signed in." in replayed.content.decode()
    assert "_auth_user_id" not in client.session
    assert ActivityEntry.objects.filter(action=Action.SSO_LOGIN_REFUSED).get().details == {"reason": "invalid_response"}


def test_a_provider_on_a_refused_address_is_never_called(client, acme, idp, settings):
    connect(acme, idp)
    settings.SSO_ALLOW_LOOPBACK = False  # as in production
    response = client.post("/accounts/sso/", {"who": "acme"})
    assert response.status_code == 400
    assert "identity provider cannot be reached" in response.content.decode()

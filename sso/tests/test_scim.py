"""The tenant's SCIM 2.0 Users endpoint, driven by a standard SCIM client (scim2-client, with its
WSGI engine: the portal's own WSGI application, in process): create, look up, deactivate,
activate again and delete; the token made on the SSO page, stored as a digest; every refusal
in SCIM's error format."""

import pytest
from django.core.wsgi import get_wsgi_application
from scim2_client.engines.wsgi import WSGISCIMClient
from scim2_models import Error, ListResponse, PatchOp, PatchOperation, ScimProvider, User

from activity.audit import SYSTEM
from activity.models import Action, ActivityEntry
from kernel import crypto
from sso import services
from sso.models import ClaimedDomain, ScimToken, ScimUser
from tenants.models import Membership, Role

pytestmark = pytest.mark.django_db(transaction=True)

BASE = "http://testserver/scim/v2"


def prove(tenant, domain: str = "example.com") -> None:
    claimed = services.domain_claim(tenant=tenant, audit=SYSTEM, domain=domain)
    services.domain_verified(claimed=claimed, audit=SYSTEM, proof=ClaimedDomain.Proof.OPERATOR)


def scim_client(token: str) -> WSGISCIMClient:
    return WSGISCIMClient(
        get_wsgi_application(),
        base_url=BASE,
        headers={"Authorization": f"Bearer {token}"},
        provider=ScimProvider(models=[User]),
    )


@pytest.fixture
def token(acme):
    prove(acme)
    return services.scim_token_issue(tenant=acme, audit=SYSTEM)


@pytest.fixture
def scim(token):
    return scim_client(token)


def test_the_token_is_stored_as_its_digest_only(acme, token):
    stored = ScimToken.objects.get(tenant=acme)
    assert bytes(stored.digest) == crypto.digest(token)
    assert token.encode() not in bytes(stored.digest)
    assert ActivityEntry.objects.get(action=Action.SSO_CHANGED).details == {"scim_token": "issued"}


def test_the_provider_creates_a_person_who_becomes_a_member(scim, acme, django_user_model):
    created = scim.create(User(user_name="erin@example.com", external_id="okta-17", active=True))
    assert created.id and created.user_name == "erin@example.com" and created.active is True
    erin = django_user_model.objects.get(email="erin@example.com")
    assert not erin.has_usable_password()
    assert Membership.objects.get(user=erin, tenant=acme).role == Role.VIEWER
    entry = ActivityEntry.objects.get(action=Action.MEMBER_PROVISIONED)
    assert entry.details == {"email": "erin@example.com", "role": "viewer", "by": "scim"}
    assert scim.query(User, created.id).external_id == "okta-17"


def test_the_provider_finds_a_person_by_user_name(scim):
    scim.create(User(user_name="erin@example.com"))
    from scim2_models import SearchRequest

    found = scim.query(User, query_parameters=SearchRequest(filter='userName eq "Erin@Example.com"'))
    assert isinstance(found, ListResponse)
    assert found.total_results == 1 and found.resources[0].user_name == "erin@example.com"
    none = scim.query(User, query_parameters=SearchRequest(filter='userName eq "nobody@example.com"'))
    assert none.total_results == 0


def test_deactivating_removes_the_membership_and_activating_gives_it_back(scim, acme, dave):
    created = scim.create(User(user_name="dave@example.com"))
    assert Membership.objects.get(user=dave, tenant=acme).role == Role.DEVELOPER  # kept as it was
    patch = PatchOp[User](operations=[PatchOperation[User](op=PatchOperation.Op.replace_, path="active", value=False)])
    deactivated = scim.modify(User, created.id, patch)
    assert deactivated.active is False
    assert not Membership.objects.filter(user=dave, tenant=acme).exists()
    assert ActivityEntry.objects.filter(action=Action.MEMBER_REMOVED).count() == 1
    replaced = scim.replace(User(id=created.id, user_name="dave@example.com", active=True))
    assert replaced.active is True
    assert Membership.objects.get(user=dave, tenant=acme).role == Role.VIEWER


def test_deleting_deactivates_and_forgets(scim, acme, dave):
    created = scim.create(User(user_name="dave@example.com"))
    scim.delete(User, created.id)
    assert not Membership.objects.filter(user=dave, tenant=acme).exists()
    assert not ScimUser.objects.exists()
    assert isinstance(scim.query(User, created.id, raise_scim_errors=False), Error)


def test_an_address_of_an_unproved_domain_is_refused(scim, django_user_model):
    error = scim.create(User(user_name="mallory@elsewhere.test"), raise_scim_errors=False)
    assert isinstance(error, Error) and error.status == 400 and error.scim_type == "invalidValue"
    assert not django_user_model.objects.filter(email="mallory@elsewhere.test").exists()


def test_a_person_provisioned_twice_is_a_conflict(scim):
    scim.create(User(user_name="erin@example.com"))
    error = scim.create(User(user_name="erin@example.com"), raise_scim_errors=False)
    assert isinstance(error, Error) and error.status == 409 and error.scim_type == "uniqueness"


def test_a_wrong_or_revoked_token_is_401(acme, token):
    error = scim_client("pscim_" + "x" * 43).query(User, raise_scim_errors=False)
    assert isinstance(error, Error) and error.status == 401
    services.scim_token_revoke(tenant=acme, audit=SYSTEM)
    error = scim_client(token).query(User, raise_scim_errors=False)
    assert isinstance(error, Error) and error.status == 401


def test_another_tenants_people_are_not_found(scim, token, globex):
    prove(globex, "globex.com")
    other = scim_client(services.scim_token_issue(tenant=globex, audit=SYSTEM))
    created = other.create(User(user_name="gina@globex.com"))
    error = scim.query(User, created.id, raise_scim_errors=False)
    assert isinstance(error, Error) and error.status == 404
    assert scim.query(User).total_results == 0
    assert isinstance(scim.delete(User, created.id, raise_scim_errors=False), Error)
    assert ScimUser.objects.filter(tenant=globex).exists()


def test_an_unsupported_filter_or_patch_is_a_scim_error(client, token):
    headers = {"Authorization": f"Bearer {token}"}
    response = client.get("/scim/v2/Users", {"filter": 'emails co "x"'}, headers=headers)
    assert response.status_code == 400 and response.json()["scimType"] == "invalidFilter"
    assert response["Content-Type"].startswith("application/scim+json")
    response = client.post("/scim/v2/Users", "not json", content_type="application/scim+json", headers=headers)
    assert response.status_code == 400 and response.json()["scimType"] == "invalidSyntax"
    assert client.get("/scim/v2/Users/not-a-uuid", headers=headers).status_code == 404


def test_listing_costs_few_queries(scim, token, client, django_assert_max_num_queries):
    for number in range(5):
        scim.create(User(user_name=f"person{number}@example.com"))
    # The token (with its tenant) and its use, the count and the page.
    with django_assert_max_num_queries(4):
        response = client.get("/scim/v2/Users", headers={"Authorization": f"Bearer {token}"})
    assert response.json()["totalResults"] == 5

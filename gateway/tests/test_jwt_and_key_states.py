"""The gateway check with JWT access tokens (RFC 9068) and with the key-hygiene states: a JWT
opens what its scopes open; its revocation, a renew-now and disabling the key end access
within GATEWAY_CACHE_SECONDS, as for opaque tokens; an expired key's tokens are refused."""

from datetime import timedelta
from urllib.parse import urlencode

import pytest
from django.utils import timezone

from apikeys.services import key_create, key_disable, key_expiry_set, key_renew
from scopes.models import Scope

pytestmark = pytest.mark.django_db

ROUTE = "/customer/acme/customers"


@pytest.fixture
def jwt_reader(acme):
    return key_create(
        tenant=acme,
        kind="custom",
        name="JWT reader",
        scopes=Scope.objects.filter(name="customer.customer_read"),
        token_format="jwt",
    )


def test_a_jwt_opens_its_routes_and_nothing_else(check, mint, jwt_reader, django_assert_num_queries):
    token = mint(*jwt_reader)
    assert token.count(".") == 2  # a JWS, not an opaque token
    allowed = check("GET", ROUTE, token)
    assert allowed.status_code == 200
    assert allowed["X-Portal-Tenant"] == "acme" and allowed["X-Portal-Scopes"] == "customer.customer_read"
    assert check("POST", ROUTE, token).status_code == 403  # customer.customer_manage needed
    assert check("GET", "/customer/globex/customers", token).status_code == 403
    with django_assert_num_queries(0):  # cached
        assert check("GET", ROUTE, token).status_code == 200


def test_a_revoked_jwt_is_refused_within_the_bound(client, check, mint, jwt_reader, settings, clock):
    settings.GATEWAY_CACHE_SECONDS = 2
    key, secret = jwt_reader
    token = mint(key, secret)
    assert check("GET", ROUTE, token).status_code == 200
    revoked = client.post(
        "/oauth/revoke",
        urlencode({"token": token, "client_id": key.client_id, "client_secret": secret}),
        content_type="application/x-www-form-urlencoded",
    )
    assert revoked.status_code == 200
    clock.now += 2.01
    assert check("GET", ROUTE, token).status_code == 401


@pytest.mark.parametrize("change", ["renew now", "disable", "expire"])
def test_key_changes_end_jwt_access_within_the_bound(check, mint, jwt_reader, settings, clock, time_machine, change):
    settings.GATEWAY_CACHE_SECONDS = 2
    key, secret = jwt_reader
    token = mint(key, secret)
    assert check("GET", ROUTE, token).status_code == 200
    if change == "renew now":
        key_renew(key=key)
    elif change == "disable":
        key_disable(key=key)
    else:
        expires_at = timezone.now() + timedelta(seconds=1)
        key_expiry_set(key=key, expires_at=expires_at)
        time_machine.move_to(expires_at, tick=False)  # the wall clock reaches the expiry
    clock.now += 2.01
    assert check("GET", ROUTE, token).status_code == 401


def test_a_disabled_keys_opaque_token_is_refused(check, mint, reader, settings, clock):
    settings.GATEWAY_CACHE_SECONDS = 2
    key, secret = reader
    token = mint(key, secret)
    assert check("GET", ROUTE, token).status_code == 200
    key_disable(key=key)
    clock.now += 2.01
    assert check("GET", ROUTE, token).status_code == 401

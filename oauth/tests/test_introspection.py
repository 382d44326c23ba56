from datetime import timedelta
from unittest import mock

from django.utils import timezone

from apikeys.services import key_create, secret_plaintext

from .conftest import basic


def test_an_active_token_is_described_to_any_key_of_its_tenant(issue, introspect, emporix, custom):
    key, secret = custom
    token = issue(key, secret)
    caller, caller_secret = emporix
    body = introspect(caller, caller_secret, token)
    assert body["active"] is True
    assert body["client_id"] == key.client_id
    assert body["tenant"] == "acme"
    assert body["token_type"] == "Bearer"
    assert body["scope"].endswith("tenant=acme")
    assert set(body["scope"].split()) - {"tenant=acme"} == set(key.scopes.values_list("name", flat=True))
    assert body["exp"] - body["iat"] == 3600


def test_another_tenants_token_is_inactive(issue, introspect, emporix, globex):
    other_key = globex.apikeys.get(kind="emporix")
    token = issue(other_key, secret_plaintext(other_key.secrets.get()))
    key, secret = emporix
    assert introspect(key, secret, token) == {"active": False}
    # ...and active for globex itself.
    assert introspect(other_key, secret_plaintext(other_key.secrets.get()), token)["active"] is True


def test_garbage_expired_and_revoked_tokens_are_inactive(issue, introspect, post_token, emporix):
    key, secret = emporix
    assert introspect(key, secret, "garbage") == {"active": False}
    assert introspect(key, secret, "akpt_" + "A" * 43) == {"active": False}

    token = issue(key, secret)
    later = timezone.now() + timedelta(seconds=3601)
    with mock.patch("django.utils.timezone.now", return_value=later):
        assert introspect(key, secret, token) == {"active": False}

    post_token({"token": token}, auth=basic(key.client_id, secret), url="/oauth/revoke")
    assert introspect(key, secret, token) == {"active": False}


def test_introspection_needs_client_credentials(issue, post_token, emporix):
    key, secret = emporix
    token = issue(key, secret)
    response = post_token({"token": token}, url="/oauth/introspect")
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"
    response = post_token({"token": token}, auth=basic(key.client_id, secret + "x"), url="/oauth/introspect")
    assert response.status_code == 401


def test_a_new_key_of_the_tenant_can_introspect(issue, introspect, acme, emporix):
    from scopes.models import Scope

    key, secret = emporix
    token = issue(key, secret)
    reader, reader_secret = key_create(tenant=acme, kind="custom", name="Gateway", scopes=[Scope.objects.first()])
    assert introspect(reader, reader_secret, token)["active"] is True

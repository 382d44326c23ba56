from datetime import timedelta
from unittest import mock

import pytest
from django.utils import timezone

from apikeys.services import key_renew, secret_plaintext

LOGIN = "/customerlogin/auth/anonymous/login"
REFRESH = "/customerlogin/auth/anonymous/refresh"


def login(client, key, tenant="acme"):
    return client.get(LOGIN, {"tenant": tenant, "client_id": key.client_id})


def test_a_storefront_key_gets_an_anonymous_session(client, storefront, introspect, emporix):
    key, _ = storefront
    response = login(client, key)
    assert response.status_code == 200
    body = response.json()
    assert body["access_token"].startswith("akpt_")
    assert body["refresh_token"].startswith("akpr_")
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 3599
    assert body["refresh_token_expires_in"] == 86400
    assert body["scope"].endswith("tenant=acme")
    assert body["sessionId"]
    assert response["Cache-Control"] == "no-store"
    described = introspect(*emporix, body["access_token"])
    assert described["active"] is True
    assert described["sessionId"] == body["sessionId"]
    assert described["client_id"] == key.client_id


@pytest.mark.parametrize("which", ["emporix", "custom"])
def test_other_kinds_of_key_are_refused(client, acme_secrets, custom, which):
    key = custom[0] if which == "custom" else acme_secrets["emporix"][0]
    response = login(client, key)
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"


def test_a_wrong_tenant_or_unknown_id_is_refused(client, storefront, globex):
    key, _ = storefront
    assert login(client, key, tenant="globex").status_code == 401
    assert client.get(LOGIN, {"tenant": "acme", "client_id": "Z" * 32}).status_code == 401
    assert client.get(LOGIN, {"tenant": "acme"}).status_code == 401
    assert client.get(LOGIN, {"tenant": "acme\x00", "client_id": key.client_id + "\x00"}).status_code == 401


def test_refresh_keeps_the_session_and_rotates_the_refresh_token(client, storefront, introspect, emporix):
    key, _ = storefront
    first = login(client, key).json()
    response = client.get(
        REFRESH, {"tenant": "acme", "client_id": key.client_id, "refresh_token": first["refresh_token"]}
    )
    assert response.status_code == 200
    second = response.json()
    assert second["sessionId"] == first["sessionId"]
    assert second["access_token"] != first["access_token"]
    assert second["refresh_token"] != first["refresh_token"]
    # Single use: the old refresh token is spent, and its access token revoked.
    again = client.get(REFRESH, {"tenant": "acme", "client_id": key.client_id, "refresh_token": first["refresh_token"]})
    assert again.status_code == 400
    assert again.json()["error"] == "invalid_grant"
    assert introspect(*emporix, first["access_token"]) == {"active": False}
    assert introspect(*emporix, second["access_token"])["active"] is True


def test_the_older_anonymous_token_parameter_is_accepted(client, storefront):
    key, _ = storefront
    first = login(client, key).json()
    later = timezone.now() + timedelta(hours=2)  # access token expired, refresh window open
    with mock.patch("django.utils.timezone.now", return_value=later):
        response = client.get(
            REFRESH, {"tenant": "acme", "client_id": key.client_id, "anonymous_token": first["access_token"]}
        )
    assert response.status_code == 200
    assert response.json()["sessionId"] == first["sessionId"]


def test_refresh_is_refused_for_another_client_or_an_expired_refresh_token(client, storefront, globex):
    key, _ = storefront
    first = login(client, key).json()
    other = globex.apikeys.get(kind="storefront")
    response = client.get(
        REFRESH, {"tenant": "globex", "client_id": other.client_id, "refresh_token": first["refresh_token"]}
    )
    assert response.status_code == 400
    later = timezone.now() + timedelta(seconds=86401)
    with mock.patch("django.utils.timezone.now", return_value=later):
        response = client.get(
            REFRESH, {"tenant": "acme", "client_id": key.client_id, "refresh_token": first["refresh_token"]}
        )
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"


def test_renewing_the_storefront_key_now_ends_its_sessions(client, storefront):
    key, _ = storefront
    first = login(client, key).json()
    key_renew(key=key, grace=None)
    response = client.get(
        REFRESH, {"tenant": "acme", "client_id": key.client_id, "refresh_token": first["refresh_token"]}
    )
    assert response.status_code == 400
    assert login(client, key).status_code == 200  # the Client ID stays; the new secret mints
    assert secret_plaintext(key.secrets.get(expires_at__isnull=True))


def test_post_is_405(client, storefront):
    response = client.post(LOGIN)
    assert response.status_code == 405
    assert response["Allow"] == "GET"

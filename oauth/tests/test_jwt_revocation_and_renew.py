"""Revocation (RFC 7009) and the key's own changes reach JWTs at once through introspection
and bearer_verify: the jti is recorded until the token would have expired (purge_tokens
deletes it then); renew-now, retiring the minting secret and deleting the key stop them."""

from datetime import timedelta
from io import StringIO
from unittest import mock

import jwt
from django.core.management import call_command
from django.utils import timezone

from apikeys.services import (
    key_delete,
    key_disable,
    key_enable,
    key_renew,
    key_token_lifetime_set,
    secret_retire,
)
from oauth.bearer import bearer_verify
from oauth.models import RevokedJwt
from oauth.services import tokens_purge

from .conftest import basic


def revoke(post_token, key, secret, token):
    response = post_token({"token": token}, auth=basic(key.client_id, secret), url="/oauth/revoke")
    assert response.status_code == 200 and response.json() == {}


def test_a_revoked_jwt_is_inactive_at_once(issue, introspect, post_token, jwt_custom, custom):
    key, secret = jwt_custom
    token, other = issue(key, secret), issue(key, secret)
    assert introspect(key, secret, token)["active"] is True
    revoke(post_token, key, secret, token)
    assert introspect(key, secret, token) == {"active": False}
    assert bearer_verify(token, now=timezone.now()) is None
    assert introspect(key, secret, other)["active"] is True  # only that token
    claims = jwt.decode(token, options={"verify_signature": False})
    row = RevokedJwt.objects.get()
    assert row.jti == claims["jti"] and int(row.expires_at.timestamp()) == claims["exp"]
    revoke(post_token, key, secret, token)  # again: still one row, still 200
    assert RevokedJwt.objects.count() == 1


def test_another_key_cannot_revoke_it(issue, introspect, post_token, jwt_custom, emporix):
    key, secret = jwt_custom
    token = issue(key, secret)
    revoke(post_token, *emporix, token)
    assert not RevokedJwt.objects.exists()
    assert introspect(key, secret, token)["active"] is True


def test_garbage_that_looks_like_a_jwt_is_200_and_records_nothing(post_token, jwt_custom):
    key, secret = jwt_custom
    revoke(post_token, key, secret, "eyJhbGciOiJub25lIn0.e30.")
    assert not RevokedJwt.objects.exists()


def test_renew_now_stops_its_jwts_at_once(issue, introspect, jwt_custom, emporix):
    key, secret = jwt_custom
    token = issue(key, secret)
    key_renew(key=key, grace=None)
    assert introspect(*emporix, token) == {"active": False}
    assert bearer_verify(token, now=timezone.now()) is None


def test_with_grace_they_work_until_the_old_secret_is_retired(issue, introspect, jwt_custom, emporix):
    key, secret = jwt_custom
    token = issue(key, secret)
    _, _, new_secret = key_renew(key=key, grace=timedelta(hours=1))
    assert introspect(*emporix, token)["active"] is True
    assert issue(key, new_secret)  # the new secret issues its own
    secret_retire(secret=key.secrets.get(expires_at__isnull=False))
    assert introspect(*emporix, token) == {"active": False}


def test_deleting_the_key_stops_its_jwts(issue, introspect, jwt_custom, emporix):
    key, secret = jwt_custom
    token = issue(key, secret)
    key_delete(key=key)
    assert introspect(*emporix, token) == {"active": False}


def test_purge_deletes_revoked_jtis_once_their_tokens_have_expired(issue, post_token, jwt_custom):
    key, secret = jwt_custom
    token = issue(key, secret)
    revoke(post_token, key, secret, token)
    call_command("purge_tokens", stdout=StringIO())
    assert RevokedJwt.objects.count() == 1  # the token has not expired yet
    expiry = RevokedJwt.objects.get().expires_at
    assert tokens_purge(now=expiry - timedelta(seconds=1)) == 0
    assert tokens_purge(now=expiry) == 1
    assert not RevokedJwt.objects.exists()


def test_disabling_the_key_stops_its_jwts_and_enabling_it_does_not_revive_them(issue, introspect, jwt_custom, emporix):
    key, secret = jwt_custom
    # A JWT's iat has whole seconds: the token before is from a second before the enabling.
    with mock.patch("django.utils.timezone.now", return_value=timezone.now() - timedelta(seconds=2)):
        before = issue(key, secret)
    key_disable(key=key)
    assert introspect(*emporix, before) == {"active": False}
    key_enable(key=key)
    after = issue(key, secret)  # in the same second as the enabling, as like as not
    assert introspect(*emporix, before) == {"active": False}
    assert introspect(*emporix, after)["active"] is True


def test_a_keys_own_lifetime_shortens_its_jwts_but_never_lengthens_them(post_token, jwt_custom):
    key, secret = jwt_custom
    form = {"grant_type": "client_credentials", "client_id": key.client_id, "client_secret": secret}
    key_token_lifetime_set(key=key, seconds=60)
    token = post_token(form).json()
    claims = jwt.decode(token["access_token"], options={"verify_signature": False})
    assert token["expires_in"] == 60 and claims["exp"] - claims["iat"] == 60
    key_token_lifetime_set(key=key, seconds=7200)
    token = post_token(form).json()
    claims = jwt.decode(token["access_token"], options={"verify_signature": False})
    assert token["expires_in"] == 300 and claims["exp"] - claims["iat"] == 300


def test_token_info_answers_for_a_jwt_until_it_is_revoked(client, issue, post_token, jwt_custom):
    key, secret = jwt_custom
    token = issue(key, secret)
    info = client.get("/oauth/tokeninfo", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert info.status_code == 200
    assert info.json()["token_format"] == "jwt" and info.json()["client_id"] == key.client_id
    assert 295 <= info.json()["expires_in"] <= 300
    revoke(post_token, key, secret, token)
    refused = client.get("/oauth/tokeninfo", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert refused.status_code == 401 and 'error="invalid_token"' in refused["WWW-Authenticate"]

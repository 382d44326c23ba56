"""Signing-key rotation with overlap, on a moved clock: a next key is in the JWK Set before it
signs; it signs only after JWKS_PUBLISH_AHEAD; a token signed by the old key verifies until it
expires, and the old key leaves the JWK Set only after that. The command runs the stages."""

from datetime import timedelta
from io import StringIO

import jwt
import pytest
from django.core.management import call_command
from django.utils import timezone

from oauth import services, signing
from oauth.bearer import bearer_verify
from oauth.models import SigningKey, SigningKeyState

pytestmark = pytest.mark.django_db


def grant(key, secret, now):
    outcome = services.client_credentials_grant(
        client_id=key.client_id,
        client_secret=secret,
        grant_type="client_credentials",
        scope=None,
        address="192.0.2.1",
        now=now,
    )
    assert outcome.status == 200, outcome.body
    return outcome.body["access_token"]


def kid_of(token: str) -> str:
    return jwt.get_unverified_header(token)["kid"]


def published(now) -> list[str]:
    return [jwk["kid"] for jwk in signing.jwks(now)["keys"]]


def states() -> dict[str, str]:
    return dict(SigningKey.objects.values_list("kid", "state"))


def test_rotation_publishes_ahead_and_keeps_the_old_key_until_its_tokens_expire(jwt_custom, settings):
    key, secret = jwt_custom
    t0 = timezone.now()
    signing.signing_keys_rotate(now=t0)
    old = SigningKey.objects.get(state=SigningKeyState.ACTIVE).kid
    upcoming = SigningKey.objects.get(state=SigningKeyState.NEXT).kid
    # The next key is published before it signs.
    assert set(published(t0)) == {old, upcoming}
    assert kid_of(grant(key, secret, t0)) == old

    # Within JWKS_PUBLISH_AHEAD a second run changes nothing.
    before = states()
    lines = signing.signing_keys_rotate(now=t0 + timedelta(minutes=59))
    assert states() == before
    assert any("run this again then" in line for line in lines)
    signing.cache_clear()
    assert kid_of(grant(key, secret, t0 + timedelta(minutes=59))) == old

    # After it, the next key signs and the old one is retired but published.
    t1 = t0 + timedelta(seconds=settings.JWKS_PUBLISH_AHEAD)
    last_of_old = grant(key, secret, t1 - timedelta(seconds=1))
    assert kid_of(last_of_old) == old
    signing.signing_keys_rotate(now=t1)
    assert states()[old] == SigningKeyState.RETIRED and states()[upcoming] == SigningKeyState.ACTIVE
    newest = SigningKey.objects.get(state=SigningKeyState.NEXT).kid  # the following rotation's
    assert set(published(t1)) == {old, upcoming, newest}
    signing.cache_clear()  # another process, or this one SIGNER_CACHE_SECONDS later
    first_of_new = grant(key, secret, t1)
    assert kid_of(first_of_new) == upcoming

    # The old key's last token verifies until it expires, then not.
    expiry = t1 - timedelta(seconds=1) + timedelta(seconds=settings.JWT_ACCESS_TOKEN_LIFETIME)
    assert bearer_verify(last_of_old, now=expiry - timedelta(seconds=1)) is not None
    assert bearer_verify(last_of_old, now=expiry) is None
    assert bearer_verify(first_of_new, now=t1 + timedelta(seconds=10)) is not None

    # The old key stays published past its tokens' expiry (by the signer cache and clock leeway),
    # and a run after that unpublishes it.
    until = SigningKey.objects.get(kid=old).publish_until
    assert until >= expiry + timedelta(seconds=signing.SIGNER_CACHE_SECONDS)
    signing.signing_keys_rotate(now=until - timedelta(seconds=1))
    assert old in published(until - timedelta(seconds=1))
    assert old not in published(until)  # no longer published, even before the row goes
    lines = signing.signing_keys_rotate(now=until)
    assert not SigningKey.objects.filter(kid=old).exists()
    assert any(f"Unpublished retired key {old}" in line for line in lines)
    assert set(published(until)) == {upcoming, newest}


def test_the_jwks_endpoint_serves_the_next_key_before_it_signs(client, jwt_custom, post_token):
    signing.signing_keys_rotate(now=timezone.now())
    upcoming = SigningKey.objects.get(state=SigningKeyState.NEXT).kid
    assert upcoming in [jwk["kid"] for jwk in client.get("/.well-known/jwks.json").json()["keys"]]
    key, secret = jwt_custom
    token = post_token({"grant_type": "client_credentials", "client_id": key.client_id, "client_secret": secret})
    assert kid_of(token.json()["access_token"]) != upcoming


def test_a_jwks_request_on_a_fresh_deployment_creates_the_active_key(client):
    assert not SigningKey.objects.exists()
    response = client.get("/.well-known/jwks.json")
    assert response.status_code == 200
    (jwk,) = response.json()["keys"]
    assert jwk == SigningKey.objects.get(state=SigningKeyState.ACTIVE).public_jwk
    assert set(jwk) == {"kty", "crv", "x", "kid", "alg", "use"}
    assert client.get("/.well-known/jwks.json").json()["keys"] == [jwk]  # not a second one


def test_the_command_runs_one_stage_per_run_and_now_promotes_at_once(jwt_custom):
    out = StringIO()
    call_command("rotate_signing_key", stdout=out)
    assert "created key" in out.getvalue() and "Published next key" in out.getvalue()
    first = states()
    out = StringIO()
    call_command("rotate_signing_key", stdout=out)
    assert states() == first  # idempotent within JWKS_PUBLISH_AHEAD
    assert "--now" in out.getvalue()

    call_command("rotate_signing_key", "--now", stdout=StringIO())
    after = states()
    (upcoming,) = [kid for kid, state in first.items() if state == SigningKeyState.NEXT]
    (old,) = [kid for kid, state in first.items() if state == SigningKeyState.ACTIVE]
    assert after[upcoming] == SigningKeyState.ACTIVE and after[old] == SigningKeyState.RETIRED
    assert list(after.values()).count(SigningKeyState.NEXT) == 1


def test_now_without_a_next_key_publishes_one_and_promotes_it(jwt_custom):
    active = signing.signing_key_active(timezone.now()).kid
    signing.signing_keys_rotate(now=timezone.now(), force=True)
    assert states()[active] == SigningKeyState.RETIRED
    assert sorted(states().values()) == sorted([SigningKeyState.RETIRED, SigningKeyState.ACTIVE, SigningKeyState.NEXT])

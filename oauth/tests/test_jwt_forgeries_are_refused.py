"""JWTs that are not the portal's own, unaltered and current are refused by bearer_verify and
answered {"active": false} by introspection: altered payloads or signatures, alg none or HS256,
unknown or reused kids, the wrong type, issuer or audience, expiry, and claims that name a
secret other than the one that minted the token."""

import base64
import json
from datetime import timedelta

import jwt
import pytest
from django.utils import timezone

from apikeys.services import key_create
from kernel.crypto import decrypt as at_rest_decrypt
from kernel.crypto import signing_key_generate
from oauth.bearer import bearer_verify
from oauth.models import SigningKey
from scopes.models import Scope


@pytest.fixture
def real(issue, jwt_custom):
    """(token, header, claims) of a JWT the portal issued just now."""
    key, secret = jwt_custom
    token = issue(key, secret)
    return token, jwt.get_unverified_header(token), jwt.decode(token, options={"verify_signature": False})


def b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def signed_by_another_key(claims: dict, header: dict) -> str:
    _, private, _ = signing_key_generate()
    key = jwt.PyJWK(private, algorithm="EdDSA").key
    return jwt.encode(claims, key, algorithm="EdDSA", headers={k: v for k, v in header.items() if k != "alg"})


def signed_by_the_real_key(claims: dict, header: dict) -> str:
    """As a bug or a stolen signing key would sign: every claim must still be checked."""
    signing = SigningKey.objects.get()
    private = json.loads(at_rest_decrypt(signing.ciphertext, key_id=signing.encryption_key_id, binding=signing.binding))
    return jwt.encode(claims, jwt.PyJWK(private).key, algorithm="EdDSA", headers=header)


def forgeries(token: str, header: dict, claims: dict) -> dict[str, str]:
    head, body, signature = token.split(".")
    now = int(timezone.now().timestamp())
    active_kid = SigningKey.objects.get().kid
    public_x = SigningKey.objects.get().public_jwk["x"]
    return {
        "altered scope": f"{head}.{b64({**claims, 'scope': claims['scope'] + ' order.order_manage'})}.{signature}",
        "altered signature": f"{head}.{body}.{signature[:-4]}{'AAAA' if signature[-4:] != 'AAAA' else 'BBBB'}",
        "no signature": f"{head}.{body}.",
        "alg none": f"{b64({**header, 'alg': 'none'})}.{body}.",
        "HS256 with the public key": jwt.encode(
            claims,
            base64.urlsafe_b64decode(public_x + "=="),
            algorithm="HS256",
            headers={"kid": active_kid, "typ": "at+jwt"},
        ),
        "unknown kid": signed_by_another_key(claims, {**header, "kid": "no-such-kid"}),
        "the active kid, another key": signed_by_another_key(claims, header),
        # Signed with the real key: refused for what they say.
        "typ JWT": signed_by_the_real_key(claims, {**header, "typ": "JWT"}),
        "no typ": signed_by_the_real_key(claims, {k: v for k, v in header.items() if k != "typ"}),
        "other issuer": signed_by_the_real_key({**claims, "iss": "https://evil.example"}, header),
        "expired": signed_by_the_real_key({**claims, "iat": now - 400, "exp": now - 100}, header),
        "exp missing": signed_by_the_real_key({k: v for k, v in claims.items() if k != "exp"}, header),
        "exp as text": signed_by_the_real_key({**claims, "exp": str(claims["exp"])}, header),
        "sub not the client": signed_by_the_real_key({**claims, "sub": "someone-else"}, header),
    }


def test_forgeries_are_refused_by_bearer_verify_and_introspection(real, introspect, jwt_custom):
    token, header, claims = real
    key, secret = jwt_custom
    now = timezone.now()
    assert bearer_verify(token, now=now) is not None
    assert introspect(key, secret, token)["active"] is True
    for name, forged in forgeries(token, header, claims).items():
        assert bearer_verify(forged, now=now) is None, name
        assert introspect(key, secret, forged) == {"active": False}, name


def test_the_token_stops_at_its_expiry(real):
    token, _, claims = real
    expiry = timezone.datetime.fromtimestamp(claims["exp"], tz=timezone.get_current_timezone())
    assert bearer_verify(token, now=expiry - timedelta(seconds=1)) is not None
    assert bearer_verify(token, now=expiry) is None
    assert bearer_verify(token, now=expiry + timedelta(days=1)) is None


def test_a_token_from_the_future_is_refused(real):
    token, _, claims = real
    issued = timezone.datetime.fromtimestamp(claims["iat"], tz=timezone.get_current_timezone())
    assert bearer_verify(token, now=issued - timedelta(seconds=30)) is not None  # clocks differ a little
    assert bearer_verify(token, now=issued - timedelta(minutes=5)) is None


@pytest.mark.parametrize(
    ("claim", "value"),
    [
        ("aud", "https://other.example"),
        ("iss", "https://evil.example"),
        ("cred_id", "not-a-uuid"),
        ("tenant", "globex"),
    ],
)
def test_claims_are_checked_even_under_a_valid_signature(real, claim, value):
    _, header, claims = real
    assert bearer_verify(signed_by_the_real_key(claims, header), now=timezone.now()) is not None
    assert bearer_verify(signed_by_the_real_key({**claims, claim: value}, header), now=timezone.now()) is None


def test_another_secret_of_the_tenant_is_not_a_credential_for_the_token(real, emporix):
    _, header, claims = real
    other = str(emporix[0].secrets.get().public_id)
    assert bearer_verify(signed_by_the_real_key({**claims, "cred_id": other}, header), now=timezone.now()) is None


def test_introspection_by_another_tenant_says_inactive(real, introspect, globex):
    token, _, _ = real
    key, secret = key_create(tenant=globex, kind="custom", name="G", scopes=Scope.objects.offered()[:1])
    assert introspect(key, secret, token) == {"active": False}


def test_bearer_verify_describes_a_valid_jwt_in_one_query(real, jwt_custom, django_assert_num_queries):
    token, _, claims = real
    key, _ = jwt_custom
    bearer_verify(token, now=timezone.now())  # loads the published keys into the process
    with django_assert_num_queries(1):
        found = bearer_verify(token, now=timezone.now())
    assert found.format == "jwt" and found.token_id == claims["jti"]
    assert (found.key_id, found.client_id, found.key_name) == (key.pk, key.client_id, "Edge")
    assert (found.tenant_id, found.tenant_code, found.kind) == (key.tenant_id, "acme", "service")
    assert found.scopes == frozenset(claims["scope"].split()) and len(found.scopes) == 3
    assert int(found.expires_at.timestamp()) == claims["exp"] and int(found.issued_at.timestamp()) == claims["iat"]

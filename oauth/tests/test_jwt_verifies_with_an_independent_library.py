"""JWT access tokens as an offline verifier sees them: fetched from the live server, checked
with joserfc (the project signs with PyJWT) against the JWK Set the live server publishes at
the metadata's jwks_uri."""

import time

import pytest
import requests
from joserfc import jwt
from joserfc.errors import ExpiredTokenError
from joserfc.jwk import KeySet
from joserfc.jwt import JWTClaimsRegistry

from apikeys.models import ApiKey

# RFC 9864 (2025) names the algorithm "Ed25519" and deprecates "EdDSA", which joserfc notes;
# the portal still signs as "EdDSA", the name verifiers widely know today.
pytestmark = pytest.mark.filterwarnings("ignore:EdDSA is deprecated")


@pytest.fixture
def jwt_key(transactional_db, acme_secrets):
    key, secret = acme_secrets["emporix"]
    ApiKey.objects.filter(pk=key.pk).update(token_format="jwt")
    return key, secret


def fetch(site, key, secret, **form):
    response = requests.post(
        f"{site.url}/oauth/token",
        data={"grant_type": "client_credentials", **form},
        auth=(key.client_id, secret),
        timeout=10,
    )
    assert response.status_code == 200, response.text
    return response.json()


def published_keys(site) -> KeySet:
    metadata = requests.get(f"{site.url}/.well-known/oauth-authorization-server", timeout=10).json()
    assert metadata["jwks_uri"] == f"{site.url}/.well-known/jwks.json"
    response = requests.get(metadata["jwks_uri"], timeout=10)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "public, max-age=300"
    assert response.headers["Content-Type"] == "application/jwk-set+json; charset=utf-8"
    document = response.json()
    assert document["keys"] and all("d" not in jwk for jwk in document["keys"])
    return KeySet.import_key_set(document)


def test_a_jwt_verifies_with_joserfc_against_the_published_keys(site, jwt_key):
    key, secret = jwt_key
    answer = fetch(site, key, secret, scope="product.product_manage")
    assert answer["expires_in"] == 300
    assert answer["scope"] == "product.product_manage"

    token = jwt.decode(answer["access_token"], published_keys(site), algorithms=["EdDSA"])
    assert token.header["typ"] == "at+jwt"
    assert token.header["alg"] == "EdDSA"
    claims = token.claims
    JWTClaimsRegistry(
        iss={"essential": True, "value": site.url},
        aud={"essential": True, "value": site.url},
        sub={"essential": True, "value": key.client_id},
        exp={"essential": True},
        iat={"essential": True},
        jti={"essential": True},
    ).validate(claims)
    assert claims["client_id"] == key.client_id
    assert claims["scope"] == "product.product_manage"
    assert claims["tenant"] == "acme"
    assert claims["exp"] - claims["iat"] == 300
    assert abs(claims["iat"] - time.time()) < 30
    # The secret is named by its public id only.
    assert secret not in answer["access_token"] and claims["cred_id"] == str(key.secrets.get().public_id)


def test_joserfc_refuses_the_jwt_once_it_has_expired(site, jwt_key):
    key, secret = jwt_key
    token = jwt.decode(fetch(site, key, secret)["access_token"], published_keys(site), algorithms=["EdDSA"])
    JWTClaimsRegistry(now=token.claims["exp"] - 1).validate(token.claims)
    with pytest.raises(ExpiredTokenError):
        JWTClaimsRegistry(now=token.claims["exp"] + 1).validate(token.claims)


def test_a_configured_audience_is_the_aud(site, jwt_key, settings):
    settings.JWT_AUDIENCE = "https://api.example.com"
    key, secret = jwt_key
    token = jwt.decode(fetch(site, key, secret)["access_token"], published_keys(site), algorithms=["EdDSA"])
    assert token.claims["aud"] == "https://api.example.com"
    assert token.claims["iss"] == site.url


def test_the_live_server_introspects_its_jwt(site, jwt_key):
    key, secret = jwt_key
    access = fetch(site, key, secret)["access_token"]
    answer = requests.post(
        f"{site.url}/oauth/introspect", data={"token": access}, auth=(key.client_id, secret), timeout=10
    ).json()
    assert answer["active"] is True and answer["client_id"] == key.client_id and answer["tenant"] == "acme"

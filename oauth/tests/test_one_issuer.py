"""One issuer (RFC 8414, RFC 9068): PORTAL_URL from configuration, the same whichever allowed
Host a client used; the metadata, its jwks_uri, and a JWT's iss and aud agree."""

import jwt
import pytest
from django.test import Client

from apikeys.models import ApiKey
from oauth.tests.conftest import basic

PUBLIC = "https://portal.example.com"
HOSTS = ["portal.example.com", "keys.internal.example"]
GRANT, FORM = "grant_type=client_credentials", "application/x-www-form-urlencoded"


@pytest.fixture
def two_hosts(settings):
    settings.ALLOWED_HOSTS = [*HOSTS, "testserver"]
    settings.PORTAL_URL = PUBLIC


@pytest.mark.parametrize("host", HOSTS)
def test_the_metadata_names_the_configured_issuer_for_every_host(db, two_hosts, host):
    body = Client(HTTP_HOST=host).get("/.well-known/oauth-authorization-server").json()
    assert body["issuer"] == PUBLIC
    assert body["jwks_uri"] == f"{PUBLIC}/.well-known/jwks.json"
    assert body["token_endpoint"] == f"{PUBLIC}/oauth/token"
    assert body["introspection_endpoint"] == f"{PUBLIC}/oauth/introspect"
    assert body["revocation_endpoint"] == f"{PUBLIC}/oauth/revoke"


def test_a_jwt_names_the_configured_issuer_and_audience_whichever_host_minted_it(db, two_hosts, acme_secrets):
    key, secret = acme_secrets["emporix"]
    ApiKey.objects.filter(pk=key.pk).update(token_format="jwt")
    tokens = []
    for host in HOSTS:
        response = Client(HTTP_HOST=host).post(
            "/oauth/token", GRANT, FORM, HTTP_AUTHORIZATION=basic(key.client_id, secret)
        )
        assert response.status_code == 200, response.content
        tokens.append(response.json()["access_token"])
    for token in tokens:
        claims = jwt.decode(token, options={"verify_signature": False})
        assert claims["iss"] == PUBLIC
        assert claims["aud"] == PUBLIC
        # Minted through one host, accepted through the other (and through the first).
        for host in HOSTS:
            info = Client(HTTP_HOST=host).get("/oauth/tokeninfo", HTTP_AUTHORIZATION=f"Bearer {token}")
            assert info.status_code == 200, info.content


def test_a_jwt_for_another_issuer_is_refused(db, two_hosts, acme_secrets, settings):
    key, secret = acme_secrets["emporix"]
    ApiKey.objects.filter(pk=key.pk).update(token_format="jwt")
    client = Client(HTTP_HOST=HOSTS[0])
    token = client.post("/oauth/token", GRANT, FORM, HTTP_AUTHORIZATION=basic(key.client_id, secret)).json()[
        "access_token"
    ]
    # The same signing key, but the portal now answers as another issuer: the old iss is refused.
    settings.PORTAL_URL = "https://other.example.com"
    assert client.get("/oauth/tokeninfo", HTTP_AUTHORIZATION=f"Bearer {token}").status_code == 401

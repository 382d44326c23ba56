import base64
from urllib.parse import quote_plus, urlencode

import pytest

from apikeys.services import key_create
from scopes.models import Scope

TOKEN_URL = "/oauth/token"


def basic(client_id: str, secret: str) -> str:
    raw = f"{quote_plus(client_id)}:{quote_plus(secret)}".encode()
    return "Basic " + base64.b64encode(raw).decode()


@pytest.fixture
def emporix(acme_secrets):
    """(key, secret) of acme's Emporix API key."""
    return acme_secrets["emporix"]


@pytest.fixture
def storefront(acme_secrets):
    return acme_secrets["storefront"]


@pytest.fixture
def custom(acme):
    """(key, secret) of a custom acme key with three scopes."""
    scopes = list(Scope.objects.offered().order_by("name")[:3])
    return key_create(tenant=acme, kind="custom", name="Orders", scopes=scopes)


@pytest.fixture
def post_token(client):
    """post_token(data, auth=None, **extra) -> response of POST /oauth/token (form body)."""

    def post(data: dict, auth: str | None = None, url: str = TOKEN_URL, **extra):
        if auth is not None:
            extra["HTTP_AUTHORIZATION"] = auth
        body = data if isinstance(data, (str, bytes)) else urlencode(data, doseq=True)
        return client.post(url, body, content_type="application/x-www-form-urlencoded", **extra)

    return post


@pytest.fixture
def issue(post_token):
    """issue(key, secret, **form) -> a fresh access token."""

    def mint(key, secret, **form):
        response = post_token(
            {"grant_type": "client_credentials", "client_id": key.client_id, "client_secret": secret, **form}
        )
        assert response.status_code == 200, response.content
        return response.json()["access_token"]

    return mint


@pytest.fixture
def introspect(post_token):
    """introspect(caller_key, caller_secret, token) -> parsed JSON."""

    def call(key, secret, token):
        response = post_token({"token": token}, auth=basic(key.client_id, secret), url="/oauth/introspect")
        assert response.status_code == 200, response.content
        return response.json()

    return call


@pytest.fixture
def jwt_custom(acme):
    """(key, secret) of a custom acme key of three scopes that issues JWT access tokens."""
    scopes = list(Scope.objects.offered().order_by("name")[:3])
    return key_create(tenant=acme, kind="custom", name="Edge", scopes=scopes, token_format="jwt")

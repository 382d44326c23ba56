import time
from urllib.parse import urlencode

import pytest

from apikeys.services import key_create
from gateway import decisions
from gateway.decisions import tokens
from scopes.models import Scope


@pytest.fixture(autouse=True)
def _forget_verified_tokens():
    # Each test starts with an empty gateway cache, as a fresh worker does.
    tokens.clear()
    yield
    tokens.clear()


@pytest.fixture
def mint(client):
    """mint(key, secret, **form) -> a fresh access token from POST /oauth/token."""

    def issue(key, secret, **form):
        body = urlencode(
            {"grant_type": "client_credentials", "client_id": key.client_id, "client_secret": secret, **form}
        )
        response = client.post("/oauth/token", body, content_type="application/x-www-form-urlencoded")
        assert response.status_code == 200, response.content
        return response.json()["access_token"]

    return issue


@pytest.fixture
def reader(acme):
    """(key, secret) of a custom acme key that may read customers and nothing else."""
    return key_create(
        tenant=acme, kind="custom", name="Customer reader", scopes=Scope.objects.filter(name="customer.customer_read")
    )


@pytest.fixture
def check(client):
    """check(method, uri, token=None, **headers) -> the answer of /gateway/nginx, with the
    headers deploy/nginx-gateway.conf sets."""

    def ask(method: str, uri: str, token: str | None = None, **extra):
        if token is not None:
            extra["HTTP_AUTHORIZATION"] = f"Bearer {token}"
        return client.get("/gateway/nginx", HTTP_X_ORIGINAL_METHOD=method, HTTP_X_ORIGINAL_URI=uri, **extra)

    return ask


@pytest.fixture
def emporix_key(acme_secrets):
    """(key, secret) of acme's Emporix API key: every scope."""
    return acme_secrets["emporix"]


class Clock:
    """time.monotonic of gateway.decisions, moved by hand."""

    def __init__(self) -> None:
        self.now = time.monotonic()

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch):
    clock = Clock()
    monkeypatch.setattr(decisions.time, "monotonic", clock)
    return clock

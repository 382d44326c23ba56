"""Keys and tokens for calling the management API: `caller(tenant, scopes)` makes a custom key
holding `scopes` and returns (key, secret, access token from POST /oauth/token)."""

from urllib.parse import urlencode

import pytest
from django.db import transaction

from apikeys.models import KeyKind
from apikeys.services import key_create
from scopes.models import Scope

TARGET_SCOPES = ["tax.tax_read"]


def every_offered_scope() -> list[str]:
    """Every scope a tenant's key may hold, every portal.* one included: what a key needs to
    give the admin role (api/grants.py)."""
    return list(Scope.objects.offered().values_list("name", flat=True))


def token_for(client, key, secret: str) -> str:
    form = {"grant_type": "client_credentials", "client_id": key.client_id, "client_secret": secret}
    response = client.post("/oauth/token", urlencode(form), content_type="application/x-www-form-urlencoded")
    assert response.status_code == 200, response.content
    return response.json()["access_token"]


@pytest.fixture
def caller(client):
    made = {}

    def make(tenant, scopes, name=None):
        with transaction.atomic():
            key, secret = key_create(
                tenant=tenant,
                kind=KeyKind.CUSTOM,
                name=name or f"caller {len(made)}",
                scopes=Scope.objects.filter(name__in=scopes),
            )
        made[key.pk] = key
        return key, secret, token_for(client, key, secret)

    return make


@pytest.fixture
def api(client):
    """api(method, path, token=None, body=None, **headers) -> response."""

    def call(method, path, token=None, body=None, **headers):
        if token:
            headers["HTTP_AUTHORIZATION"] = f"Bearer {token}"
        kwargs = {"content_type": "application/json"} if body is not None else {}
        return (
            getattr(client, method)(path, body, **kwargs, **headers)
            if body is not None
            else getattr(client, method)(path, **headers)
        )

    return call


@pytest.fixture
def target(acme):
    """A custom key of acme's that the callers may act on (its scopes are theirs too)."""
    key, secret = key_create(
        tenant=acme, kind=KeyKind.CUSTOM, name="Target", scopes=Scope.objects.filter(name__in=TARGET_SCOPES)
    )
    return key, secret

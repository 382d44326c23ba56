"""The fixed cast: alice (admin of acme), dave (developer in acme), bob (viewer in acme) and
charlie (admin of globex, another tenant). Every tenant is made through `tenant_create`, so
each has its Emporix API and Storefront API keys; `acme_secrets` holds their plaintexts."""

import pytest
from django.core.cache import cache

from tenants.models import Membership, Role
from tenants.services import tenant_create

PASSWORD = "correct-horse-battery-staple"


@pytest.fixture(autouse=True)
def _clear_cache():
    cache.clear()
    yield
    cache.clear()


def make_user(django_user_model, email: str):
    return django_user_model.objects.create_user(email=email, password=PASSWORD)


@pytest.fixture
def alice(django_user_model):
    return make_user(django_user_model, "alice@example.com")


@pytest.fixture
def bob(django_user_model):
    return make_user(django_user_model, "bob@example.com")


@pytest.fixture
def dave(django_user_model):
    return make_user(django_user_model, "dave@example.com")


@pytest.fixture
def charlie(django_user_model):
    return make_user(django_user_model, "charlie@example.com")


@pytest.fixture
def acme_provisioned(alice, bob, dave):
    tenant, keys = tenant_create(code="acme", name="Acme Corp", creator=alice)
    Membership.objects.create(user=bob, tenant=tenant, role=Role.VIEWER)
    Membership.objects.create(user=dave, tenant=tenant, role=Role.DEVELOPER)
    return tenant, keys


@pytest.fixture
def acme(acme_provisioned):
    return acme_provisioned[0]


@pytest.fixture
def acme_secrets(acme_provisioned):
    """{kind: (key, plaintext secret)} for acme's built-in keys."""
    return {key.kind: (key, secret) for key, secret in acme_provisioned[1]}


@pytest.fixture
def globex(charlie):
    tenant, _ = tenant_create(code="globex", name="Globex", creator=charlie)
    return tenant


@pytest.fixture
def client_for(client):
    """Log a cast member in: client_for(alice)."""

    def login(user):
        client.force_login(user)
        return client

    return login

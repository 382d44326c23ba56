"""No page holds a secret until an admin or developer asks for it: not in the HTML, a data
attribute, a script or a hidden field."""

import contextlib
from datetime import timedelta

import pytest
from django.urls import NoReverseMatch, reverse

from apikeys.models import ApiSecret
from apikeys.services import key_create, key_renew
from scopes.models import Scope

pytestmark = pytest.mark.django_db


@pytest.fixture
def plaintexts(acme, acme_secrets):
    """Every plaintext acme has had: its built-in keys, a custom key, and an old secret still
    in its grace period."""
    found = [plaintext for _, plaintext in acme_secrets.values()]
    _, custom = key_create(tenant=acme, kind="custom", name="Orders", scopes=Scope.objects.offered()[:2])
    key, _ = acme_secrets["storefront"]
    _, _, renewed = key_renew(key=key, grace=timedelta(days=1))
    return [*found, custom, renewed]


def _pages(acme):
    keys = list(acme.apikeys.all())
    old = ApiSecret.objects.filter(key__tenant=acme, expires_at__isnull=False).select_related("key").first()
    urls = [
        "/",
        reverse("tenants:list"),
        reverse("apikeys:list", kwargs={"code": acme.code}),
        reverse("apikeys:list", kwargs={"code": acme.code}) + f"?created={keys[-1].public_id}",
        reverse("apikeys:retire", kwargs={"code": acme.code, "key_id": old.key.public_id, "secret_id": old.public_id}),
    ]
    for key in keys:
        for name in ("renew", "get_started", "edit", "delete"):
            urls.append(reverse(f"apikeys:{name}", kwargs={"code": acme.code, "key_id": key.public_id}))
    for name in ("activity:list", "activity:csv", "apikeys:create"):
        with contextlib.suppress(NoReverseMatch):
            urls.append(reverse(name, kwargs={"code": acme.code}))
    return urls


def test_no_page_a_member_can_open_holds_a_secret(client, alice, dave, bob, acme, plaintexts):
    fetched = 0
    for user in (alice, dave, bob):
        client.force_login(user)
        for url in _pages(acme):
            response = client.get(url, follow=True)
            body = response.content.decode()
            for plaintext in plaintexts:
                assert plaintext not in body, f"{user.email} saw a secret at {url}"
            assert "akps_" not in body, f"{user.email} saw something secret-shaped at {url}"
            fetched += response.status_code == 200
    assert fetched >= 6  # the list and the confirmation pages at least


def test_the_list_for_a_developer_has_no_secret_in_attributes_or_hidden_fields(client_for, dave, acme, plaintexts):
    body = client_for(dave).get(reverse("apikeys:list", kwargs={"code": acme.code})).content.decode()
    assert "data-secret=" not in body
    # The only "secret" fields name which secret to fetch (an old one's public id), never a secret.
    import re

    named = re.findall(r'name="secret" value="([^"]*)"', body)
    assert all(re.fullmatch(r"[0-9a-f-]{36}", value) for value in named)
    old = ApiSecret.objects.filter(key__tenant=acme, expires_at__isnull=False).count()
    assert len(named) == 2 * old
    assert body.count('name="purpose"') == 2 * (acme.apikeys.count() + old)

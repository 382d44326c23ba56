"""The Portal API scopes are chosen in the portal's own custom key form, like any other scope;
the operators' scope is offered to no tenant key."""

import pytest

from apikeys.models import ApiKey

pytestmark = pytest.mark.django_db

CREATE = "/tenants/acme/api-keys/new/"


def test_the_picker_offers_the_portal_api_scopes(client_for, alice, acme):
    page = client_for(alice).get(CREATE).content.decode()
    assert "Portal API" in page and "portal.key_manage" in page and "portal.secret_reveal" in page
    assert "portal.tenant_manage" not in page


def test_a_custom_key_can_hold_them_and_not_the_operators_scope(client_for, alice, acme):
    client = client_for(alice)
    response = client.post(CREATE, {"name": "CI", "scopes": ["portal.key_read", "portal.key_manage"]})
    assert response.status_code == 302
    assert sorted(ApiKey.objects.get(name="CI").scopes.values_list("name", flat=True)) == [
        "portal.key_manage",
        "portal.key_read",
    ]
    response = client.post(CREATE, {"name": "Ops", "scopes": ["portal.tenant_manage"]})
    assert response.status_code == 400 and "for operator keys only" in response.content.decode()

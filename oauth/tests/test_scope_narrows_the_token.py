import pytest

from apikeys.auth import builtin_scope_names
from scopes.models import Scope

GRANT = {"grant_type": "client_credentials"}


def request_scope(post_token, key, secret, scope):
    return post_token({**GRANT, "client_id": key.client_id, "client_secret": secret, "scope": scope})


def test_a_subset_of_the_keys_scopes_is_granted(post_token, custom):
    key, secret = custom
    first = key.scopes.order_by("name").first().name
    response = request_scope(post_token, key, secret, first)
    assert response.status_code == 200
    # Exactly what was asked for: no tenant= added (RFC 6749 5.1; oauthlib raises otherwise).
    assert response.json()["scope"] == first


def test_the_emporix_tenant_scope_is_accepted_for_the_keys_tenant(post_token, emporix):
    key, secret = emporix
    response = request_scope(post_token, key, secret, "tenant=acme")
    assert response.status_code == 200
    assert (
        len(response.json()["scope"].split()) == len(builtin_scope_names("emporix")) + 1
    )  # every offered but the Portal API's


def test_scopes_and_tenant_together(post_token, custom):
    key, secret = custom
    names = sorted(key.scopes.values_list("name", flat=True))[:2]
    response = request_scope(post_token, key, secret, " ".join([*names, "tenant=acme"]))
    assert response.json()["scope"] == " ".join([*names, "tenant=acme"])


@pytest.mark.parametrize("scope", ["tenant=globex", "nosuch.scope_read", "tenant=acme tenant=globex"])
def test_other_scopes_are_invalid_scope(post_token, custom, scope):
    key, secret = custom
    response = request_scope(post_token, key, secret, scope)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_scope"


def test_a_scope_the_custom_key_does_not_hold_is_invalid_scope(post_token, custom, emporix):
    key, secret = custom
    held = set(key.scopes.values_list("name", flat=True))
    other = next(name for name in Scope.objects.offered().values_list("name", flat=True) if name not in held)
    response = request_scope(post_token, key, secret, other)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_scope"


def test_the_storefront_key_cannot_ask_for_more_than_storefront_scopes(post_token, storefront):
    key, secret = storefront
    from scopes.models import Scope

    admin_scope = Scope.objects.offered().filter(storefront=False).first().name
    response = request_scope(post_token, key, secret, admin_scope)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_scope"

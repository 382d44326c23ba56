from datetime import timedelta

from apikeys.auth import builtin_scope_names
from apikeys.models import ApiSecret
from scopes.models import Scope

from .conftest import basic

GRANT = {"grant_type": "client_credentials"}


def test_it_issues_a_token_for_credentials_in_the_body(post_token, emporix, acme):
    key, secret = emporix
    response = post_token({**GRANT, "client_id": key.client_id, "client_secret": secret})
    assert response.status_code == 200
    body = response.json()
    assert body["access_token"].startswith("akpt_")
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 3600
    assert "refresh_token" not in body  # none: an empty string would break standard clients
    assert body["refresh_token_expires_in"] == 0
    assert body["session_idle_time"] == 120
    assert body["scope"].endswith(" tenant=acme")
    assert len(body["scope"].split()) == len(builtin_scope_names("emporix")) + 1  # every offered but the Portal API's
    assert response["Content-Type"] == "application/json; charset=utf-8"


def test_it_issues_a_token_for_http_basic(post_token, emporix):
    key, secret = emporix
    response = post_token(GRANT, auth=basic(key.client_id, secret))
    assert response.status_code == 200
    assert response.json()["access_token"].startswith("akpt_")


def test_basic_scheme_name_is_case_insensitive(post_token, emporix):
    key, secret = emporix
    auth = basic(key.client_id, secret).replace("Basic", "bAsIc")
    assert post_token(GRANT, auth=auth).status_code == 200


def test_basic_credentials_are_url_decoded(post_token, emporix):
    """RFC 6749 2.3.1: form-urlencoded before base64; an encoded id still matches."""
    import base64

    key, secret = emporix
    encoded_id = "".join(f"%{ord(c):02X}" for c in key.client_id)
    auth = "Basic " + base64.b64encode(f"{encoded_id}:{secret}".encode()).decode()
    assert post_token(GRANT, auth=auth).status_code == 200


def test_a_storefront_key_authenticates_with_its_storefront_scopes(post_token, storefront):
    key, secret = storefront
    response = post_token({**GRANT, "client_id": key.client_id, "client_secret": secret})
    assert response.status_code == 200
    granted = set(response.json()["scope"].split()) - {"tenant=acme"}
    assert granted == set(Scope.objects.offered().filter(storefront=True).values_list("name", flat=True))


def test_a_custom_key_gets_its_chosen_scopes(post_token, custom):
    key, secret = custom
    response = post_token({**GRANT, "client_id": key.client_id, "client_secret": secret})
    assert response.status_code == 200
    granted = set(response.json()["scope"].split()) - {"tenant=acme"}
    assert granted == set(key.scopes.values_list("name", flat=True))


def test_authentication_is_one_query_and_issuing_one_insert(post_token, emporix, django_assert_max_num_queries):
    key, secret = emporix
    post_token({**GRANT, "client_id": key.client_id, "client_secret": secret})  # warms the scope cache
    # A first use this minute writes last_used (secret and key); later ones do not.
    with django_assert_max_num_queries(2):
        assert post_token({**GRANT, "client_id": key.client_id, "client_secret": secret}).status_code == 200


def test_a_grace_secret_still_authenticates(post_token, emporix):
    from apikeys.services import key_renew

    key, old = emporix
    key_renew(key=key, grace=timedelta(hours=1))
    assert ApiSecret.objects.filter(key=key).count() == 2
    assert post_token({**GRANT, "client_id": key.client_id, "client_secret": old}).status_code == 200


def test_a_custom_key_costs_one_query_and_one_insert(post_token, custom, django_assert_num_queries):
    from apikeys.auth import key_forget

    key, secret = custom
    form = {**GRANT, "client_id": key.client_id, "client_secret": secret}
    post_token(form)  # first use this minute writes last_used
    key_forget(key.client_id)
    with django_assert_num_queries(2):  # a key this process does not keep: the check, the INSERT
        response = post_token(form)
    assert set(response.json()["scope"].split()) == {*key.scopes.values_list("name", flat=True), "tenant=acme"}
    with django_assert_num_queries(1):  # kept since: the INSERT, which checks the key again
        again = post_token(form)
    assert again.json()["scope"] == response.json()["scope"]

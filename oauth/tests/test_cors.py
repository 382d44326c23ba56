"""Browser pages on other origins at the token service (docs/cors.md): preflights, the
headers on allowed answers, refusals of origins a key does not list, and that requests
without an Origin header are unaffected."""

import pytest

from apikeys.origins import KNOWN_CACHE_KEY
from apikeys.services import key_origins_set

LOGIN = "/customerlogin/auth/anonymous/login"
REFRESH = "/customerlogin/auth/anonymous/refresh"
TOKENINFO = "/oauth/tokeninfo"
TOKEN = "/oauth/token"
SHOP = "https://shop.example.com"


def login(client, key, origin=None):
    extra = {"HTTP_ORIGIN": origin} if origin else {}
    return client.get(LOGIN, {"tenant": "acme", "client_id": key.client_id}, **extra)


def preflight(client, path, origin, method="GET", headers="authorization"):
    return client.options(
        path,
        HTTP_ORIGIN=origin,
        HTTP_ACCESS_CONTROL_REQUEST_METHOD=method,
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS=headers,
    )


@pytest.fixture
def shop(storefront):
    key, secret = storefront
    key_origins_set(key=key, allowed_origins=f"{SHOP}\nhttps://*.example.org")
    key.refresh_from_db()
    return key, secret


def test_an_allowed_origin_gets_a_token_and_its_own_origin_back(client, shop):
    key, _ = shop
    response = login(client, key, SHOP)
    assert response.status_code == 200
    assert response.json()["access_token"].startswith("akpt_")
    assert response["Access-Control-Allow-Origin"] == SHOP
    assert "Origin" in response["Vary"]
    assert "Access-Control-Allow-Credentials" not in response


@pytest.mark.parametrize(
    "origin",
    [
        "https://evil.example.net",
        "http://shop.example.com",  # another scheme
        "https://shop.example.com:8443",  # another port
        "https://example.org",  # the wildcard's own domain is not a subdomain of it
        "https://evil-example.org",
        "https://example.org.evil.io",
        "null",
    ],
)
def test_an_origin_not_on_the_list_gets_no_token_and_no_cors_headers(client, shop, origin):
    key, _ = shop
    response = login(client, key, origin)
    assert response.status_code == 403
    body = response.json()
    assert body["error"] == "unauthorized_client"
    assert "access_token" not in body
    assert "Access-Control-Allow-Origin" not in response
    assert response["Cache-Control"] == "no-store"


def test_subdomains_match_the_wildcard(client, shop):
    key, _ = shop
    for origin in ("https://a.example.org", "https://b.c.example.org"):
        response = login(client, key, origin)
        assert response.status_code == 200
        assert response["Access-Control-Allow-Origin"] == origin


def test_a_key_without_origins_refuses_every_browser_page(client, storefront):
    key, _ = storefront
    response = login(client, key, SHOP)
    assert response.status_code == 403
    assert "Access-Control-Allow-Origin" not in response


def test_requests_without_an_origin_or_from_the_portal_itself_are_unaffected(client, storefront):
    key, _ = storefront
    assert login(client, key).status_code == 200
    own = login(client, key, "http://testserver")
    assert own.status_code == 200
    assert "Access-Control-Allow-Origin" not in own


def test_star_lets_any_page_use_the_storefront_keys_anonymous_login(client, storefront):
    key, _ = storefront
    key_origins_set(key=key, allowed_origins="*")
    response = login(client, key, "https://anything.example")
    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == "https://anything.example"
    # ... but not the token endpoint, where the key is used with its secret.
    assert (
        preflight(client, TOKEN, "https://anything.example", "POST").has_header("Access-Control-Allow-Origin") is False
    )


def test_refresh_follows_the_same_rule(client, shop):
    key, _ = shop
    first = login(client, key, SHOP).json()
    params = {"tenant": "acme", "client_id": key.client_id, "refresh_token": first["refresh_token"]}
    refused = client.get(REFRESH, params, HTTP_ORIGIN="https://evil.example.net")
    assert refused.status_code == 403
    assert "access_token" not in refused.json()
    response = client.get(REFRESH, params, HTTP_ORIGIN=SHOP)
    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == SHOP
    # An error after the origin was approved is readable by the page (its CORS headers are there).
    again = client.get(REFRESH, params, HTTP_ORIGIN=SHOP)
    assert again.status_code == 400
    assert again.json()["error"] == "invalid_grant"
    assert again["Access-Control-Allow-Origin"] == SHOP


def test_preflights_echo_only_an_origin_some_key_allows(client, shop):
    response = preflight(client, TOKENINFO, SHOP)
    assert response.status_code == 204
    assert response["Access-Control-Allow-Origin"] == SHOP
    assert response["Access-Control-Allow-Methods"] == "GET"
    assert "Authorization" in response["Access-Control-Allow-Headers"]
    assert int(response["Access-Control-Max-Age"]) > 0
    assert "Origin" in response["Vary"]
    assert "Access-Control-Allow-Credentials" not in response
    for path in (LOGIN, REFRESH):
        assert (
            preflight(client, path, "https://x.example.org")["Access-Control-Allow-Origin"] == "https://x.example.org"
        )
    for origin in ("https://evil.example.net", "https://evil-example.org", "null", "*"):
        refused = preflight(client, LOGIN, origin)
        assert refused.status_code == 204
        assert "Access-Control-Allow-Origin" not in refused
        assert "Access-Control-Allow-Methods" not in refused
    # Another method than the endpoint's is not offered.
    assert "Access-Control-Allow-Origin" not in preflight(client, LOGIN, SHOP, method="DELETE")


def test_a_preflight_sees_a_changed_list_at_once(client, shop, django_capture_on_commit_callbacks):
    key, _ = shop
    assert preflight(client, LOGIN, "https://new.example.com").has_header("Access-Control-Allow-Origin") is False
    with django_capture_on_commit_callbacks(execute=True):  # the cached union is forgotten on commit
        key_origins_set(key=key, allowed_origins="https://new.example.com")
    assert (
        preflight(client, LOGIN, "https://new.example.com")["Access-Control-Allow-Origin"] == "https://new.example.com"
    )
    assert preflight(client, LOGIN, SHOP).has_header("Access-Control-Allow-Origin") is False


def test_an_options_request_that_is_no_preflight_is_still_405(client):
    response = client.options(LOGIN)
    assert response.status_code == 405
    assert response.json()["error"] == "invalid_request"


def test_tokeninfo_answers_an_allowed_page_of_the_tokens_key_only(client, shop, custom):
    key, _ = shop
    token = login(client, key, SHOP).json()["access_token"]
    response = client.get(TOKENINFO, HTTP_AUTHORIZATION=f"Bearer {token}", HTTP_ORIGIN=SHOP)
    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == SHOP
    other = client.get(TOKENINFO, HTTP_AUTHORIZATION=f"Bearer {token}", HTTP_ORIGIN="https://evil.example.net")
    assert "Access-Control-Allow-Origin" not in other
    assert "Origin" in other["Vary"]


class TestTokenEndpoint:
    def post(self, client, key, secret, origin=None):
        extra = {"HTTP_ORIGIN": origin} if origin else {}
        return client.post(
            TOKEN,
            f"grant_type=client_credentials&client_id={key.client_id}&client_secret={secret}",
            content_type="application/x-www-form-urlencoded",
            **extra,
        )

    def test_a_listed_origin_gets_a_token(self, client, custom):
        key, secret = custom
        key_origins_set(key=key, allowed_origins="http://127.0.0.2:8123")
        response = self.post(client, key, secret, "http://127.0.0.2:8123")
        assert response.status_code == 200
        assert response["Access-Control-Allow-Origin"] == "http://127.0.0.2:8123"
        assert (
            preflight(client, TOKEN, "http://127.0.0.2:8123", "POST", "content-type")["Access-Control-Allow-Methods"]
            == "POST"
        )

    def test_another_origin_is_refused_as_a_wrong_secret_is(self, client, custom, emporix):
        key, secret = custom
        key_origins_set(key=key, allowed_origins="http://127.0.0.2:8123")
        wrong_secret = self.post(client, key, "akps_" + "x" * 40)
        for refused in (self.post(client, key, secret, "http://127.0.0.3:8123"), self.post(client, *emporix, SHOP)):
            assert refused.status_code == 401
            assert refused.json() == wrong_secret.json()
            assert refused["WWW-Authenticate"] == wrong_secret["WWW-Authenticate"]
            assert "Access-Control-Allow-Origin" not in refused
        # Servers (no Origin header) are unaffected.
        assert self.post(client, key, secret).status_code == 200

    def test_a_storefront_keys_star_does_not_open_the_token_endpoint(self, client, storefront):
        key, secret = storefront
        key_origins_set(key=key, allowed_origins="*")
        assert self.post(client, key, secret, SHOP).status_code == 401
        assert self.post(client, key, secret).status_code == 200


def test_the_preflight_union_is_cached_and_forgotten_on_change(
    client, shop, django_assert_num_queries, django_capture_on_commit_callbacks
):
    from django.core.cache import cache

    preflight(client, LOGIN, SHOP)
    assert cache.get(KNOWN_CACHE_KEY) is not None
    with django_assert_num_queries(0):
        assert preflight(client, LOGIN, SHOP).has_header("Access-Control-Allow-Origin")
    key, _ = shop
    with django_capture_on_commit_callbacks(execute=True):
        key_origins_set(key=key, allowed_origins="")
    assert cache.get(KNOWN_CACHE_KEY) is None


def test_the_anonymous_login_tells_nothing_more_of_other_kinds_of_key(client, custom):
    key, _ = custom
    key_origins_set(key=key, allowed_origins="https://other.example.com")
    response = login(client, key, SHOP)
    assert response.status_code == 401  # as without an Origin: not a Storefront key
    assert response.json() == login(client, key).json()


def test_a_cross_origin_request_costs_one_query_more_and_others_none(client, shop):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    key, _ = shop

    def queries(origin):
        with CaptureQueriesContext(connection) as captured:
            assert login(client, key, origin).status_code == 200
        return len(captured.captured_queries)

    queries(None)  # the first one fills per-process caches (the key's scope list)
    without = queries(None)
    assert queries("http://testserver") == without  # the portal's own origin
    assert queries(SHOP) == without + 1  # the key's list, by its Client ID

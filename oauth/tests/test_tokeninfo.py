"""GET /oauth/tokeninfo: what a Bearer token is (the Get started samples' step 2), and the
RFC 6750 refusals of oauth.resource.bearer_required for a missing, broken, invalid, expired
or revoked token."""

import time

import pytest
import time_machine
from django.conf import settings

from apikeys.services import key_renew

from .conftest import basic

TOKENINFO = "/oauth/tokeninfo"


def tokeninfo(client, token: str | None = None, **extra):
    if token is not None:
        extra["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    return client.get(TOKENINFO, **extra)


def assert_invalid_token(response):
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith('Bearer realm="API Key Portal", error="invalid_token"')
    assert response.json()["error"] == "invalid_token"
    assert response["Cache-Control"] == "no-store"


def test_it_describes_the_token(client, issue, emporix):
    key, secret = emporix
    before = int(time.time())
    response = tokeninfo(client, issue(key, secret, scope="tax.tax_read brand.brand_manage"))
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    body = response.json()
    assert body["tenant"] == "acme"
    assert body["client_id"] == key.client_id
    assert body["key_name"] == key.name
    assert body["scopes"] == ["brand.brand_manage", "tax.tax_read"]
    assert (body["token_type"], body["token_format"], body["kind"]) == ("Bearer", "opaque", "service")
    assert before - 1 <= body["iat"] <= time.time() + 1
    assert body["exp"] == body["iat"] + settings.ACCESS_TOKEN_LIFETIME
    assert settings.ACCESS_TOKEN_LIFETIME - 5 <= body["expires_in"] <= settings.ACCESS_TOKEN_LIFETIME
    assert "sessionId" not in body


def test_it_describes_an_anonymous_storefront_token(client, storefront):
    key, _ = storefront
    login = client.get("/customerlogin/auth/anonymous/login", {"tenant": "acme", "client_id": key.client_id}).json()
    body = tokeninfo(client, login["access_token"]).json()
    assert (body["tenant"], body["client_id"], body["kind"]) == ("acme", key.client_id, "anonymous")
    assert body["sessionId"] == login["sessionId"]
    assert body["scopes"] == sorted(login["scope"].split()[:-1])


def test_it_costs_one_query_and_loads_no_session(client, issue, emporix, django_assert_num_queries):
    token = issue(*emporix)
    with django_assert_num_queries(1):
        response = tokeninfo(client, token)
    assert response.status_code == 200
    assert "sessionid" not in response.cookies and "Cookie" not in response.get("Vary", "")


def test_no_token_is_401_with_a_bare_challenge(client, db):
    response = tokeninfo(client)
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer realm="API Key Portal"'
    assert "error" not in response.json()
    assert response["Cache-Control"] == "no-store"
    # Another scheme is no Bearer token either; a token in the query string is never read.
    assert (
        tokeninfo(client, HTTP_AUTHORIZATION="Basic Zm9vOmJhcg==")["WWW-Authenticate"]
        == 'Bearer realm="API Key Portal"'
    )
    assert client.get(TOKENINFO, {"access_token": "akpt_whatever"}).status_code == 401


@pytest.mark.parametrize(
    "header", ["Bearer", "Bearer ", "Bearer two words", "Bearer t\u00f6ken", "Bearer " + "a" * 20000]
)
def test_a_broken_bearer_header_is_400_invalid_request(client, db, header):
    response = tokeninfo(client, HTTP_AUTHORIZATION=header)
    assert response.status_code == 400
    assert response["WWW-Authenticate"].startswith('Bearer realm="API Key Portal", error="invalid_request"')
    assert response.json()["error"] == "invalid_request"


def test_an_unknown_token_is_invalid(client, db):
    assert_invalid_token(tokeninfo(client, "akpt_" + "A" * 43))
    assert_invalid_token(tokeninfo(client, "garbage"))


def test_an_expired_token_is_invalid(client, issue, emporix):
    token = issue(*emporix)
    assert tokeninfo(client, token).status_code == 200
    with time_machine.travel(time.time() + settings.ACCESS_TOKEN_LIFETIME + 1, tick=False):
        assert_invalid_token(tokeninfo(client, token))


def test_a_revoked_token_is_invalid(client, issue, post_token, emporix):
    key, secret = emporix
    token = issue(key, secret)
    assert post_token({"token": token}, auth=basic(key.client_id, secret), url="/oauth/revoke").status_code == 200
    assert_invalid_token(tokeninfo(client, token))


def test_renewing_the_secret_now_invalidates_its_tokens(client, issue, emporix):
    key, secret = emporix
    token = issue(key, secret)
    key_renew(key=key)
    assert_invalid_token(tokeninfo(client, token))


def test_only_get_is_allowed(client, issue, emporix):
    response = client.post(TOKENINFO, HTTP_AUTHORIZATION=f"Bearer {issue(*emporix)}")
    assert response.status_code == 405
    assert response["Allow"] == "GET"


def test_a_trailing_slash_reaches_it_too(client, issue, emporix):
    # As with the other endpoints: a client configured with one gets JSON, not an HTML 404.
    response = client.get(TOKENINFO + "/", HTTP_AUTHORIZATION=f"Bearer {issue(*emporix)}")
    assert response.status_code == 200 and response.json()["tenant"] == "acme"

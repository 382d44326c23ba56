"""Introspection (RFC 7662 2.1) and revocation (RFC 7009 2.1) REQUIRE `token`: without one the
answer is 400 invalid_request, after the client authenticated (a wrong secret is still 401)."""

import pytest

from .conftest import basic

HINT = {"token_type_hint": "access_token"}


@pytest.mark.parametrize("url", ["/oauth/introspect", "/oauth/revoke"])
# token_type_hint keeps the body non-empty: Django's test client sends no Content-Type without one.
@pytest.mark.parametrize("form", [HINT, {**HINT, "token": ""}], ids=["absent", "empty"])
def test_no_token_is_invalid_request(post_token, emporix, url, form):
    key, secret = emporix
    response = post_token(form, auth=basic(key.client_id, secret), url=url)
    assert response.status_code == 400
    assert response.json() == {"error": "invalid_request", "error_description": "token is missing."}
    assert response["Cache-Control"] == "no-store"


@pytest.mark.parametrize("url", ["/oauth/introspect", "/oauth/revoke"])
def test_a_wrong_secret_without_token_is_still_invalid_client(post_token, emporix, url):
    key, secret = emporix
    response = post_token(HINT, auth=basic(key.client_id, secret + "x"), url=url)
    assert response.status_code == 401, response.content
    assert response.json()["error"] == "invalid_client"

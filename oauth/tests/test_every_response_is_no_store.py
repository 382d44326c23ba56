import pytest

from .conftest import basic

GRANT = {"grant_type": "client_credentials"}


def assert_no_store(response):
    assert response["Cache-Control"] == "no-store"
    assert response["Pragma"] == "no-cache"
    assert response["Content-Type"] == "application/json; charset=utf-8"


@pytest.mark.parametrize(
    "form",
    [
        {**GRANT},
        {"grant_type": "password"},
        {},
        {**GRANT, "client_id": "Z" * 32, "client_secret": "x"},
        {**GRANT, "scope": "tenant=globex"},
        {**GRANT, "scope": "nope"},
        None,
    ],
)
def test_token_responses_are_no_store(post_token, emporix, form):
    key, secret = emporix
    if form is None:
        response = post_token(GRANT, auth=basic(key.client_id, secret))
    else:
        form = dict(form)
        if "scope" in form:
            form.update(client_id=key.client_id, client_secret=secret)
        response = post_token(form)
    assert_no_store(response)


@pytest.mark.parametrize("url", ["/oauth/introspect", "/oauth/revoke"])
def test_introspection_and_revocation_are_no_store(post_token, emporix, url):
    key, secret = emporix
    assert_no_store(post_token({"token": "x"}, auth=basic(key.client_id, secret), url=url))
    assert_no_store(post_token({"token": "x"}, url=url))  # 401


def test_errors_of_other_kinds_are_no_store(client, post_token, db):
    assert_no_store(client.get("/oauth/token"))
    assert_no_store(client.post("/oauth/token", {"a": "b"}, content_type="application/json"))
    assert_no_store(client.get("/customerlogin/auth/anonymous/login?tenant=acme&client_id=x"))
    assert_no_store(client.get("/customerlogin/auth/anonymous/refresh?tenant=acme&client_id=x&refresh_token=y"))
    assert_no_store(client.get("/.well-known/oauth-authorization-server"))

"""requests-oauthlib, as an API client would use it, against the live server."""

import pytest
import requests
from oauthlib.oauth2 import BackendApplicationClient
from requests_oauthlib import OAuth2Session


@pytest.fixture
def oauth_env(monkeypatch):
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")  # the live server speaks plain HTTP


def test_client_credentials_with_basic_auth(transactional_db, site, acme_secrets, oauth_env):
    key, secret = acme_secrets["emporix"]
    session = OAuth2Session(client=BackendApplicationClient(client_id=key.client_id))
    token = session.fetch_token(f"{site.url}/oauth/token", client_id=key.client_id, client_secret=secret)
    assert token["token_type"] == "Bearer"
    assert token["access_token"].startswith("akpt_")
    assert "tenant=acme" in token["scope"]

    described = requests.post(
        f"{site.url}/oauth/introspect", data={"token": token["access_token"]}, auth=(key.client_id, secret), timeout=10
    ).json()
    assert described["active"] is True


def test_client_credentials_with_the_secret_in_the_body(transactional_db, site, acme_secrets, oauth_env):
    key, secret = acme_secrets["storefront"]
    session = OAuth2Session(client=BackendApplicationClient(client_id=key.client_id))
    token = session.fetch_token(
        f"{site.url}/oauth/token", client_id=key.client_id, client_secret=secret, include_client_id=True
    )
    assert token["access_token"].startswith("akpt_")


def test_a_wrong_secret_raises_the_libraries_invalid_client(transactional_db, site, acme_secrets, oauth_env):
    from oauthlib.oauth2.rfc6749.errors import InvalidClientError

    key, secret = acme_secrets["emporix"]
    session = OAuth2Session(client=BackendApplicationClient(client_id=key.client_id))
    with pytest.raises(InvalidClientError):
        session.fetch_token(f"{site.url}/oauth/token", client_id=key.client_id, client_secret=secret + "x")


def test_metadata_is_served(transactional_db, site):
    body = requests.get(f"{site.url}/.well-known/oauth-authorization-server", timeout=10).json()
    assert body["token_endpoint"] == f"{site.url}/oauth/token"

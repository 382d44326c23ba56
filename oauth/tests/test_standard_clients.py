"""Standard OAuth 2.0 and JOSE clients against the live server, each used as its documentation
shows, with no wrapper and no workaround (docs/token-service.md, Standard clients): authlib
(sync and async), requests-oauthlib's BackendApplicationClient, node's openid-client and jose,
and PyJWT's PyJWKClient. Only the plain-HTTP live server needs each library's own switch for
insecure transport; nothing else is relaxed."""

import asyncio
import concurrent.futures
import json
import shutil
import subprocess
from pathlib import Path

import jwt
import pytest
import requests
from authlib.integrations.httpx_client import AsyncOAuth2Client
from authlib.integrations.requests_client import OAuth2Session as AuthlibSession
from oauthlib.oauth2 import BackendApplicationClient
from requests_oauthlib import OAuth2Session

from apikeys.models import ApiKey

ROOT = Path(__file__).resolve().parents[2]
NODE_SCRIPTS = Path(__file__).resolve().parent / "node"


@pytest.fixture
def insecure_transport(monkeypatch):
    # The live server speaks plain HTTP; both libraries refuse it unless told (not a server issue).
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")
    monkeypatch.setenv("AUTHLIB_INSECURE_TRANSPORT", "1")


@pytest.fixture
def emporix_key(transactional_db, acme_secrets):
    return acme_secrets["emporix"]


@pytest.fixture
def jwt_key(transactional_db, acme_secrets):
    key, secret = acme_secrets["emporix"]
    ApiKey.objects.filter(pk=key.pk).update(token_format="jwt")
    return key, secret


def some_scopes(key, secret, site) -> list[str]:
    """Two of the key's scopes, read from a token answer (no tenant=)."""
    body = requests.post(
        f"{site.url}/oauth/token", data={"grant_type": "client_credentials"}, auth=(key.client_id, secret), timeout=10
    ).json()
    return [name for name in body["scope"].split() if not name.startswith("tenant=")][:2]


def tokeninfo(site, access_token: str) -> dict:
    response = requests.get(
        f"{site.url}/oauth/tokeninfo", headers={"Authorization": f"Bearer {access_token}"}, timeout=10
    )
    assert response.status_code == 200, response.text
    return response.json()


def node(script: str, *args: str) -> dict:
    if shutil.which("node") is None or not (ROOT / "node_modules" / "openid-client").is_dir():
        pytest.skip("node and the npm packages (make node axe: npm ci) are needed")
    done = subprocess.run(
        ["node", str(NODE_SCRIPTS / script), *args], capture_output=True, text=True, timeout=60, cwd=ROOT
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


# --- authlib --------------------------------------------------------------------------------


def test_authlib_sync_client_credentials(emporix_key, site, insecure_transport):
    key, secret = emporix_key
    session = AuthlibSession(key.client_id, secret)
    token = session.fetch_token(f"{site.url}/oauth/token", grant_type="client_credentials")
    assert token["token_type"] == "Bearer"
    assert "refresh_token" not in token
    # The session sends its token on the next call by itself.
    response = session.get(f"{site.url}/oauth/tokeninfo", timeout=10)
    assert response.status_code == 200
    assert response.json()["client_id"] == key.client_id


def test_authlib_async_client_credentials_with_a_scope(emporix_key, site, insecure_transport):
    key, secret = emporix_key
    wanted = some_scopes(key, secret, site)

    async def run() -> tuple[dict, dict]:
        async with AsyncOAuth2Client(key.client_id, secret, scope=" ".join(wanted)) as client:
            token = await client.fetch_token(f"{site.url}/oauth/token", grant_type="client_credentials")
            response = await client.get(f"{site.url}/oauth/tokeninfo")
            assert response.status_code == 200
            return dict(token), response.json()

    # Its own event loop in its own thread: Playwright's sync API (the browser tests) may have
    # left one running in this thread, where asyncio.run() refuses to start another.
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        token, info = pool.submit(asyncio.run, run()).result(timeout=60)
    assert token["scope"] == " ".join(wanted)
    assert info["scopes"] == sorted(wanted)


# --- requests-oauthlib ----------------------------------------------------------------------


def test_requests_oauthlib_with_a_scope_without_tenant(emporix_key, site, insecure_transport):
    """oauthlib raises "Scope has changed" if the answer's scope differs from the request's."""
    key, secret = emporix_key
    wanted = some_scopes(key, secret, site)
    session = OAuth2Session(client=BackendApplicationClient(client_id=key.client_id, scope=wanted))
    token = session.fetch_token(f"{site.url}/oauth/token", client_id=key.client_id, client_secret=secret)
    assert set(token["scope"]) == set(wanted)
    assert sorted(tokeninfo(site, token["access_token"])["scopes"]) == sorted(wanted)


def test_requests_oauthlib_with_tenant_in_the_scope(emporix_key, site, insecure_transport):
    key, secret = emporix_key
    wanted = [*some_scopes(key, secret, site), "tenant=acme"]
    session = OAuth2Session(client=BackendApplicationClient(client_id=key.client_id, scope=wanted))
    token = session.fetch_token(f"{site.url}/oauth/token", client_id=key.client_id, client_secret=secret)
    assert set(token["scope"]) == set(wanted)


# --- node: openid-client and jose -----------------------------------------------------------


def test_openid_client_client_credentials_grant(emporix_key, site):
    key, secret = emporix_key
    tokens = node("openid_client_credentials.mjs", site.url, key.client_id, secret)
    assert tokens["token_type"].lower() == "bearer"
    assert "refresh_token" not in tokens
    assert tokeninfo(site, tokens["access_token"])["client_id"] == key.client_id

    wanted = some_scopes(key, secret, site)
    narrowed = node("openid_client_credentials.mjs", site.url, key.client_id, secret, " ".join(wanted))
    assert narrowed["scope"] == " ".join(wanted)


def test_jose_verifies_a_jwt_through_jwks_uri(jwt_key, site):
    key, secret = jwt_key
    token = requests.post(
        f"{site.url}/oauth/token", data={"grant_type": "client_credentials"}, auth=(key.client_id, secret), timeout=10
    ).json()["access_token"]
    verified = node("jose_remote_jwks.mjs", site.url, token)
    assert verified["payload"]["client_id"] == key.client_id
    assert verified["payload"]["tenant"] == "acme"
    assert verified["header"]["typ"] == "at+jwt"


def test_jose_refuses_a_tampered_jwt(jwt_key, site):
    key, secret = jwt_key
    token = requests.post(
        f"{site.url}/oauth/token", data={"grant_type": "client_credentials"}, auth=(key.client_id, secret), timeout=10
    ).json()["access_token"]
    header, payload, signature = token.split(".")
    forged = ".".join([header, payload, ("A" if signature[0] != "A" else "B") + signature[1:]])
    done = subprocess.run(
        ["node", str(NODE_SCRIPTS / "jose_remote_jwks.mjs"), site.url, forged],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
    )
    assert done.returncode != 0
    assert "signature verification failed" in done.stderr


# --- PyJWT ----------------------------------------------------------------------------------


def test_pyjwt_pyjwkclient_verifies_a_jwt(jwt_key, site):
    key, secret = jwt_key
    token = requests.post(
        f"{site.url}/oauth/token", data={"grant_type": "client_credentials"}, auth=(key.client_id, secret), timeout=10
    ).json()["access_token"]
    metadata = requests.get(f"{site.url}/.well-known/oauth-authorization-server", timeout=10).json()
    signing_key = jwt.PyJWKClient(metadata["jwks_uri"]).get_signing_key_from_jwt(token)
    claims = jwt.decode(
        token,
        signing_key,
        algorithms=[jwt.get_unverified_header(token)["alg"]],
        audience=metadata["issuer"],
        issuer=metadata["issuer"],
    )
    assert claims["client_id"] == key.client_id
    assert claims["scope"]

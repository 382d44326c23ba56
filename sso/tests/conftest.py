"""A real OpenID Connect provider for the SSO tests: node's oidc-provider (pinned in
package.json) started on a loopback port for the session (sso/tests/idp/oidc_idp.mjs), its
people in a JSON file each test writes; and acme's connection to it."""

import html
import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from urllib.parse import parse_qs, urljoin, urlsplit

import pytest
import requests

from activity.audit import SYSTEM
from conftest import free_port, wait_until
from sso import services
from sso.models import ClaimedDomain

IDP_SCRIPT = Path(__file__).parent / "idp" / "oidc_idp.mjs"
ROOT = Path(__file__).resolve().parents[2]
CALLBACK = "/accounts/oidc/sso-{code}/login/callback/"
# The clients the test provider knows: the portal, and two that misbehave on purpose.
CLIENTS = {"portal": "portal-client-secret", "wrongaud-portal": "wrongaud-secret", "expired-portal": "expired-secret"}


class Idp:
    """The running provider: its issuer, and the people it knows (rewritten per test)."""

    def __init__(self, issuer: str, users_file: Path) -> None:
        self.issuer = issuer
        self.users_file = users_file

    def people(self, people: dict) -> None:
        """{email: {"sub", "groups", "amr", "acr"}}: who the provider signs in, from now on."""
        self.users_file.write_text(json.dumps(people))


@pytest.fixture(scope="session")
def oidc_idp(tmp_path_factory):
    node = shutil.which("node")
    if node is None or not (ROOT / "node_modules" / "oidc-provider").exists():
        pytest.skip("node and the oidc-provider package (npm ci) are needed")
    folder = tmp_path_factory.mktemp("idp")
    port = free_port()
    users_file = folder / "users.json"
    users_file.write_text("{}")
    # The live server's port is not known here: the provider also accepts the callback path on
    # any loopback port (oidc_idp.mjs).
    redirect_uris = [f"http://testserver{CALLBACK.format(code=code)}" for code in ("acme", "globex")]
    config = {
        "port": port,
        "users_file": str(users_file),
        "clients": [
            {"client_id": client_id, "client_secret": secret, "redirect_uris": redirect_uris}
            for client_id, secret in CLIENTS.items()
        ],
    }
    (folder / "config.json").write_text(json.dumps(config))
    log = open(folder / "idp.log", "w")  # noqa: SIM115  (closed below)
    process = subprocess.Popen(
        [node, str(IDP_SCRIPT), str(folder / "config.json")],
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
        env={**os.environ, "NODE_ENV": "test"},
    )
    try:
        wait_until(
            lambda: "listening" in (folder / "idp.log").read_text() or process.poll() is not None,
            timeout=20,
            what="the test identity provider to start",
        )
        assert process.poll() is None, (folder / "idp.log").read_text()
        yield Idp(f"http://127.0.0.1:{port}", users_file)
    finally:
        process.terminate()
        process.wait(timeout=10)
        log.close()


@pytest.fixture
def idp(oidc_idp):
    oidc_idp.people({})
    return oidc_idp


def connect(tenant, idp: Idp, *, client_id: str = "portal", domain: str = "example.com", **settings):
    """`tenant` signs in through the test provider, with `domain` proved."""
    defaults = {
        "is_enabled": True,
        "issuer_url": idp.issuer,
        "client_id": client_id,
        "scopes": "openid email profile groups",
        "email_claim": "email",
        "groups_claim": "groups",
        "admin_groups": ["portal-admins"],
        "developer_groups": ["portal-developers"],
        "viewer_groups": [],
        "default_role": "viewer",
        "mfa_policy": "portal",
        "mfa_acr_values": [],
    }
    connection = services.connection_save(
        tenant=tenant, audit=SYSTEM, settings={**defaults, **settings}, secret=CLIENTS[client_id]
    )
    if domain and not ClaimedDomain.objects.filter(tenant=tenant, domain=domain).exists():
        claimed = services.domain_claim(tenant=tenant, audit=SYSTEM, domain=domain)
        services.domain_verified(claimed=claimed, audit=SYSTEM, proof=ClaimedDomain.Proof.OPERATOR)
    return connection


@pytest.fixture
def acme_sso(acme, idp):
    return connect(acme, idp)


class ProviderRefused(AssertionError):
    """The provider did not sign the person in (it does not know them)."""


def idp_sign_in(authorize_url: str, email: str | None, *, deny: bool = False) -> str:
    """A person at the provider, with a plain HTTP client: follows its redirects, signs in as
    `email` (or denies), and returns the URL it sends the browser back to (the portal's
    callback, with the code and state, or the error)."""
    session = requests.Session()
    url = authorize_url
    for _ in range(10):
        response = session.get(url, allow_redirects=False, timeout=10)
        if response.status_code in (302, 303):
            location = urljoin(url, response.headers["Location"])
            if urlsplit(location).path.startswith("/accounts/oidc/"):
                return location
            url = location
            continue
        assert response.status_code == 200, response.text
        uid = re.search(r"/interaction/([^/\"]+)/login", response.text).group(1)
        base = f"{urlsplit(url).scheme}://{urlsplit(url).netloc}"
        action = "deny" if deny else "login"
        posted = session.post(
            f"{base}/interaction/{uid}/{action}", data={"email": email or ""}, allow_redirects=False, timeout=10
        )
        if posted.status_code == 400:
            raise ProviderRefused(posted.text)
        assert posted.status_code in (302, 303), posted.text
        url = urljoin(url, posted.headers["Location"])
    raise AssertionError("the provider never sent the browser back")


def provider_url(response) -> str:
    """Where the portal's "Signing in with SSO" page sends the browser on."""
    assert response.status_code == 200, response.content
    match = re.search(r'id="provider-link" href="([^"]+)"', response.content.decode())
    return html.unescape(match.group(1))


def callback_path(url: str) -> str:
    """The portal-relative part of a callback URL, for the test client."""
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


def query_of(url: str) -> dict[str, str]:
    return {name: values[0] for name, values in parse_qs(urlsplit(url).query).items()}

"""A real OpenID Connect provider for the SSO tests: node's oidc-provider (pinned in
package.json) started on a loopback port for the session (sso/tests/idp/oidc_idp.mjs), its
people in a JSON file each test writes; and acme's connection to it."""

import html
import json
import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
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


@contextmanager
def _serving(command: list[str], folder: Path, what: str, env: dict[str, str] | None = None) -> Iterator[None]:
    """Run a test identity provider (`command`, which prints "listening" once it serves; its
    output in folder/idp.log) until the block ends."""
    log = open(folder / "idp.log", "w")  # noqa: SIM115  (closed below)
    process = subprocess.Popen(command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, env=env)
    try:
        wait_until(
            lambda: "listening" in (folder / "idp.log").read_text() or process.poll() is not None,
            timeout=20,
            what=f"{what} to start",
        )
        assert process.poll() is None, (folder / "idp.log").read_text()
        yield
    finally:
        process.terminate()
        process.wait(timeout=10)
        log.close()


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
    command = [node, str(IDP_SCRIPT), str(folder / "config.json")]
    with _serving(command, folder, "the test identity provider", env={**os.environ, "NODE_ENV": "test"}):
        yield Idp(f"http://127.0.0.1:{port}", users_file)


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


# --- SAML 2.0 ---------------------------------------------------------------------------------
SAML_IDP_SCRIPT = Path(__file__).parent / "idp" / "saml_idp.py"
# Debian's python3 with Debian's python3-pysaml2 (`make saml-idp`): see saml_idp.py.
SYSTEM_PYTHON = "/usr/bin/python3"


def _key_and_certificate(folder: Path, name: str) -> tuple[Path, Path]:
    """A fresh RSA key and a self-signed certificate for it, as PEM files."""
    import datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=7))
        .sign(key, hashes.SHA256())
    )
    key_file, cert_file = folder / f"{name}.key", folder / f"{name}.crt"
    key_file.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    return key_file, cert_file


class SamlIdp:
    """The running SAML IdP: its base URL, its metadata URL, and its people (per test)."""

    def __init__(self, base: str, people_file: Path) -> None:
        self.base = base
        self.metadata_url = f"{base}/metadata"
        self.people_file = people_file

    def people(self, people: dict) -> None:
        """{email: {"groups", "acr", "mode"}}: who the IdP signs in, and how (saml_idp.py)."""
        self.people_file.write_text(json.dumps(people))

    def metadata(self) -> str:
        return requests.get(self.metadata_url, timeout=10).text


@pytest.fixture(scope="session")
def saml_idp_server(tmp_path_factory):
    probe = (
        subprocess.run([SYSTEM_PYTHON, "-c", "import saml2"], capture_output=True)
        if os.path.exists(SYSTEM_PYTHON)
        else None
    )
    if probe is None or probe.returncode != 0 or shutil.which("xmlsec1") is None:
        pytest.skip("Debian's python3-pysaml2 and xmlsec1 are needed (make saml-idp)")
    folder = tmp_path_factory.mktemp("saml-idp")
    key_file, cert_file = _key_and_certificate(folder, "idp")
    other_key_file, other_cert_file = _key_and_certificate(folder, "impostor")
    (folder / "maps").mkdir()
    people_file = folder / "people.json"
    people_file.write_text("{}")
    port = free_port()
    config = {
        "port": port,
        "key_file": str(key_file),
        "cert_file": str(cert_file),
        "other_key_file": str(other_key_file),
        "other_cert_file": str(other_cert_file),
        "people_file": str(people_file),
        "map_dir": str(folder / "maps"),
    }
    (folder / "config.json").write_text(json.dumps(config))
    with _serving([SYSTEM_PYTHON, str(SAML_IDP_SCRIPT), str(folder / "config.json")], folder, "the test SAML IdP"):
        yield SamlIdp(f"http://127.0.0.1:{port}", people_file)


@pytest.fixture
def saml_idp(saml_idp_server):
    saml_idp_server.people({})
    return saml_idp_server


def connect_saml(tenant, idp: SamlIdp, *, domain: str = "example.com", **settings):
    """`tenant` signs in through the test SAML IdP (its metadata read as the form does), with
    `domain` proved."""
    from sso import saml

    xml = saml.metadata_fetch(idp.metadata_url)
    defaults = {
        "protocol": "saml",
        "is_enabled": True,
        "saml_metadata_url": idp.metadata_url,
        "saml_metadata_xml": xml,
        "saml_entity_id": saml.metadata_parse(xml)["entity_id"],
        "email_claim": "email",
        "groups_claim": "groups",
        "admin_groups": ["portal-admins"],
        "developer_groups": ["portal-developers"],
        "viewer_groups": [],
        "default_role": "viewer",
        "mfa_policy": "portal",
        "mfa_acr_values": [],
    }
    connection = services.connection_save(tenant=tenant, audit=SYSTEM, settings={**defaults, **settings}, secret=None)
    if domain and not ClaimedDomain.objects.filter(tenant=tenant, domain=domain).exists():
        claimed = services.domain_claim(tenant=tenant, audit=SYSTEM, domain=domain)
        services.domain_verified(claimed=claimed, audit=SYSTEM, proof=ClaimedDomain.Proof.OPERATOR)
    return connection


def saml_idp_sign_in(login_url: str, email: str) -> dict[str, str]:
    """A person at the SAML IdP with a plain HTTP client: opens the login form the portal sent
    them to, signs in as `email`, and returns the form the IdP posts back to the portal's ACS
    ({"action", "SAMLResponse", "RelayState"})."""
    session = requests.Session()
    page = session.get(login_url, timeout=10)
    assert page.status_code == 200, page.text
    key = re.search(r'name="key" value="([^"]+)"', page.text).group(1)
    base = f"{urlsplit(login_url).scheme}://{urlsplit(login_url).netloc}"
    posted = session.post(f"{base}/login", data={"key": key, "email": email}, timeout=30)
    if posted.status_code == 400:
        raise ProviderRefused(posted.text)
    assert posted.status_code == 200, posted.text
    fields = dict(re.findall(r'name="(SAMLResponse|RelayState)" value="([^"]*)"', posted.text))
    fields["action"] = html.unescape(re.search(r'action="([^"]+)"', posted.text).group(1))
    return {name: html.unescape(value) for name, value in fields.items()}

"""The Get started samples run as a user would run them. Each one is taken from the page as an
admin who copied it gets it (the page over HTTP, the snippet's text, the mask swapped for the
secret the Copy button fetches from the secret endpoint, as get-started.js does), written to a
file and run against the live server: the cURL sample with bash, the Python one with the
project's Python, the JavaScript one with the machine's Node. Each must print a successful
token-info answer naming the key's tenant and Client ID. With API_BASE_URL set to a small
local HTTP server (the operator's API), the samples' third step reaches it with a token the
portal accepts, on the route the page names."""

import html
import http.server
import json
import re
import shutil
import subprocess
import sys
import threading
import urllib.request
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode

import pytest
from django.utils import timezone

from apikeys.display import SECRET_MASK
from apikeys.models import KeyKind
from apikeys.services import key_create
from oauth.bearer import bearer_verify
from scopes.models import Scope

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.outside]  # bash with curl, Python, Node

NODE = shutil.which("node")
RUNNERS = {
    "curl": (["bash"], "sh"),
    "python": ([sys.executable], "py"),  # the project's Python: the one running the tests
    "javascript": ([NODE or "node"], "js"),
}
SNIPPET = re.compile(r'<code id="snippet-(\w+)-code">(.*?)</code>', re.S)


class Browserless:
    """The page and the secret endpoint over HTTP, with the session of a logged-in,
    recently re-authenticated member (made by the test client, kept in the database)."""

    def __init__(self, base_url: str, session_cookie: str) -> None:
        self.base_url = base_url
        self.cookies = {"sessionid": session_cookie}

    def _open(self, path: str, data: dict | None = None, headers: dict | None = None) -> str:
        cookie = "; ".join(f"{name}={value}" for name, value in self.cookies.items())
        request = urllib.request.Request(
            self.base_url + path,
            data=urlencode(data).encode() if data is not None else None,
            headers={"Cookie": cookie, **(headers or {})},
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            for value in response.headers.get_all("Set-Cookie") or []:
                self.cookies.update({name: morsel.value for name, morsel in SimpleCookie(value).items()})
            return response.read().decode()

    def copied_snippets(self, key) -> dict[str, str]:
        """{slug: text} of every snippet as its Copy button puts it on the clipboard."""
        page = self._open(f"/tenants/acme/api-keys/{key.public_id}/get-started/")
        snippets = {slug: html.unescape(code) for slug, code in SNIPPET.findall(page)}
        assert set(snippets) == set(RUNNERS)
        if 'data-secret-url="' not in page:  # the Storefront API key: copied as shown
            return snippets
        secret_url = html.unescape(re.search(r'data-secret-url="([^"]+)"', page).group(1))
        csrf = re.search(r'data-csrf="([^"]+)"', page).group(1)
        answer = self._open(
            secret_url,
            {"csrfmiddlewaretoken": csrf, "purpose": "copy"},
            {"Accept": "application/json", "X-CSRFToken": csrf},
        )
        secret = json.loads(answer)["secret"]
        # get-started.js: text.split(mask).join(secret)
        return {slug: secret.join(text.split(SECRET_MASK)) for slug, text in snippets.items()}


@pytest.fixture
def browserless(site, client_for, alice):
    client = client_for(alice)
    return Browserless(site.url, client.cookies["sessionid"].value)


def execute(slug: str, code: str, tmp_path: Path) -> subprocess.CompletedProcess:
    """Run one sample from a file, as a user would."""
    command, ext = RUNNERS[slug]
    if slug == "javascript" and NODE is None:
        pytest.skip("node is not installed (make test installs Debian's nodejs)")
    path = tmp_path / f"get-started-{slug}.{ext}"
    path.write_text(code + "\n", encoding="utf-8")
    return subprocess.run(
        [*command, str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
        env={"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": str(tmp_path)},
    )


def run(slug: str, code: str, tmp_path: Path) -> list[dict]:
    """Run one sample, which must succeed; the JSON objects it printed, in order."""
    done = execute(slug, code, tmp_path)
    assert done.returncode == 0, (slug, done.stdout, done.stderr)
    assert "No access token" not in done.stderr
    decoder, found, text = json.JSONDecoder(), [], done.stdout
    for start in (match.start() for match in re.finditer(r"^\{", text, re.M)):
        found.append(decoder.raw_decode(text, start)[0])
    assert found, (slug, done.stdout)
    return found


def assert_token_info(info: dict, key) -> None:
    assert info["tenant"] == "acme"
    assert info["client_id"] == key.client_id
    assert info["key_name"] == key.name
    assert info["scopes"] and info["token_type"] == "Bearer"
    assert 0 < info["expires_in"] <= info["exp"] - info["iat"]


@pytest.fixture
def custom_key(acme, catalogue):
    key, _ = key_create(
        tenant=acme, kind=KeyKind.CUSTOM, name="Tax sync", scopes=Scope.objects.filter(name__in=["tax.tax_read"])
    )
    return key


@pytest.mark.parametrize("kind", [KeyKind.EMPORIX, KeyKind.STOREFRONT, KeyKind.CUSTOM])
def test_every_sample_prints_a_successful_token_info(browserless, acme_secrets, custom_key, tmp_path, settings, kind):
    settings.API_BASE_URL = ""
    key = custom_key if kind == KeyKind.CUSTOM else acme_secrets[kind][0]
    for slug, code in browserless.copied_snippets(key).items():
        (info,) = run(slug, code, tmp_path)
        assert_token_info(info, key)
        if kind == KeyKind.STOREFRONT:
            assert info["kind"] == "anonymous" and info["sessionId"]


def test_a_sample_copied_without_the_secret_fails_saying_why(client_for, bob, site, acme_secrets, tmp_path):
    # A viewer copies the snippets with the mask in place of the secret (no secret endpoint).
    key, _ = acme_secrets[KeyKind.EMPORIX]
    snippets = Browserless(site.url, client_for(bob).cookies["sessionid"].value).copied_snippets(key)
    assert all(SECRET_MASK in code for code in snippets.values())
    for slug, code in snippets.items():
        done = execute(slug, code, tmp_path)
        assert "invalid_client" in done.stdout + done.stderr, (slug, done.stdout, done.stderr)
        assert "tokeninfo" not in done.stdout  # it stopped at step 1
        if slug == "curl":
            assert done.stderr.startswith("No access token: {")
        else:
            assert done.returncode != 0 and "401" in done.stdout + done.stderr


class OperatorApi(http.server.BaseHTTPRequestHandler):
    """The operator's API: answers JSON and remembers what it was asked, token included."""

    seen: list[tuple[str, str]] = []

    def do_GET(self) -> None:
        OperatorApi.seen.append((self.path, self.headers.get("Authorization", "")))
        body = json.dumps({"served": self.path}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:  # the request line would carry nothing secret, but keep quiet
        pass


@pytest.fixture
def operator_api(settings):
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), OperatorApi)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    OperatorApi.seen = []
    settings.API_BASE_URL = f"http://127.0.0.1:{server.server_address[1]}"
    yield OperatorApi.seen
    server.shutdown()
    server.server_close()


def test_with_api_base_url_the_samples_call_the_operators_api_with_a_working_token(
    browserless, custom_key, operator_api, tmp_path
):
    for slug, code in browserless.copied_snippets(custom_key).items():
        assert "# 3. Call your API" in code or "// 3. Call your API" in code
        info, answer = run(slug, code, tmp_path)
        assert_token_info(info, custom_key)
        assert answer == {"served": "/tax/acme/taxes"}
    assert [path for path, _ in operator_api] == ["/tax/acme/taxes"] * 3
    for _, authorization in operator_api:
        scheme, token = authorization.split(" ", 1)
        bearer = bearer_verify(token, now=timezone.now())
        assert scheme == "Bearer" and bearer is not None
        assert (bearer.tenant_code, bearer.client_id) == ("acme", custom_key.client_id)
        assert "tax.tax_read" in bearer.scopes

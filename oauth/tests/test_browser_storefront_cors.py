"""A storefront page on another origin, in a real Chromium: from an origin its Storefront key
lists, its script logs in anonymously with fetch and calls token info with the token; the same
page served from an origin not on the list gets nothing (docs/cors.md).

The page is served by a small http.server on other loopback addresses (127.0.0.2, 127.0.0.3)
than the live server's, so each is a separate origin to the browser."""

import http.server
import socket
import threading
from collections.abc import Iterator

import pytest

from apikeys.models import ApiKey, KeyKind
from apikeys.services import key_origins_set
from oauth.models import AccessToken

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# The shop's page: its own script, no framework. It reports what it got into #result.
PAGE = b"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Shop</title></head>
<body><p id="result">working</p>
<script>
(async () => {
  const params = new URLSearchParams(location.search);
  const api = params.get("api");
  const result = document.getElementById("result");
  try {
    const login = await fetch(`${api}/customerlogin/auth/anonymous/login?tenant=${params.get("tenant")}` +
                              `&client_id=${params.get("client_id")}`);
    const session = await login.json();
    const info = await fetch(`${api}/oauth/tokeninfo`, {
      headers: { Authorization: `Bearer ${session.access_token}` },
    });
    const described = await info.json();
    result.textContent = `token for ${described.client_id} ${described.kind} session ${described.sessionId === session.sessionId}`;
  } catch (error) {
    result.textContent = `refused: ${error.name}`;
  }
  result.dataset.done = "yes";
})();
</script></body></html>
"""


class _Shop(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(PAGE)))
        self.end_headers()
        self.wfile.write(PAGE)

    def log_message(self, *args) -> None:  # quiet: the test's output is its assertions
        pass


def _serve(address: str) -> tuple[http.server.ThreadingHTTPServer, str]:
    with socket.socket() as probe:
        probe.bind((address, 0))
        port = probe.getsockname()[1]
    server = http.server.ThreadingHTTPServer((address, port), _Shop)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://{address}:{port}"


@pytest.fixture
def shops() -> Iterator[tuple[str, str]]:
    """(allowed origin, other origin): the same page served from 127.0.0.2 and 127.0.0.3."""
    allowed, allowed_origin = _serve("127.0.0.2")
    other, other_origin = _serve("127.0.0.3")
    yield allowed_origin, other_origin
    for server in (allowed, other):
        server.shutdown()
        server.server_close()


def _run_page(browser, origin: str, site, key: ApiKey) -> str:
    context = browser.new_context()
    context.set_default_timeout(10_000)
    try:
        page = context.new_page()
        page.goto(f"{origin}/shop.html?api={site.url}&tenant=acme&client_id={key.client_id}")
        page.locator("#result[data-done=yes]").wait_for()
        return page.locator("#result").inner_text()
    finally:
        context.close()


def test_a_listed_origin_gets_a_token_and_token_info_and_another_gets_nothing(browser, site, acme_secrets, shops):
    allowed_origin, other_origin = shops
    key = ApiKey.objects.get(tenant__code="acme", kind=KeyKind.STOREFRONT)
    key_origins_set(key=key, allowed_origins=allowed_origin)

    assert _run_page(browser, allowed_origin, site, key) == f"token for {key.client_id} anonymous session true"
    issued = AccessToken.objects.filter(key=key).count()
    assert issued == 1

    assert _run_page(browser, other_origin, site, key) == "refused: TypeError"
    # The request reached the server and was refused there: no token was issued to that page.
    assert AccessToken.objects.filter(key=key).count() == issued

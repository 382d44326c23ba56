"""deploy/nginx-gateway.conf as an operator runs it: Debian's nginx (loopback ports, a
self-signed certificate) in front of a small API (an HTTP server in this process that echoes
what it got) and the portal under gunicorn (its own database, GATEWAY_CACHE_SECONDS=1, unknown
routes passing only under /my-own-api and /price), asking the portal's gateway check before
every request. The API sees only what the check allowed, with the caller's tenant, Client ID
and scopes; refusals never reach it."""

import base64
import json
import shutil
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from conftest import wait_until
from portal.tests.serving import (
    ROOT,
    free_port,
    gunicorn,
    manage,
    nginx,
    nginx_binary,
    nginx_test,
    nginx_version,
    render_config,
    request,
    self_signed_certificate,
    served_database,
    token_request,
)

pytestmark = pytest.mark.outside  # nginx, gunicorn

SITE = ROOT / "deploy" / "nginx-gateway.conf"
HOST = "api.example.com"
# gunicorn's clock cannot be moved from here: the tests about the bound watch it pass, so it is
# the shortest the setting allows with the cache on (whole seconds).
CACHE_SECONDS = 1
# An operator's own API beside Emporix's, and newer endpoints of one Emporix service.
PASSTHROUGH = "/my-own-api,/price"

KEYS = """
import json
from apikeys.services import key_create
from scopes.models import Scope
from tenants.models import Tenant
tenant = Tenant.objects.get(code="edge")
keys = {}
for name in ("reader", "renewed", "limited"):
    key, secret = key_create(tenant=tenant, kind="custom", name=name, scopes=Scope.objects.filter(name="customer.customer_read"))
    keys[name] = {"client_id": key.client_id, "secret": secret}
from apikeys.services import key_rate_limit_set
key_rate_limit_set(key=key, limit=1, period="minute")
from apikeys.models import ApiKey, ApiSecret
from apikeys.services import secret_plaintext
storefront = ApiKey.objects.get(tenant=tenant, kind="storefront")
keys["storefront"] = {"client_id": storefront.client_id, "secret": secret_plaintext(ApiSecret.objects.current().get(key=storefront))}
print(json.dumps(keys))
"""

RENEW_NOW = """
from apikeys.models import ApiKey
from apikeys.services import key_renew
key_renew(key=ApiKey.objects.get(client_id={client_id!r}))
"""


class EchoApi(BaseHTTPRequestHandler):
    """The operator's API: answers every request with its method, raw target and headers,
    and keeps a copy of each in `server.seen`."""

    def _echo(self) -> None:
        seen = {"method": self.command, "target": self.path, "headers": dict(self.headers.items())}
        self.server.seen.append(seen)
        body = json.dumps(seen).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _echo

    def log_message(self, *args) -> None:
        pass


@pytest.fixture(scope="module")
def api():
    server = ThreadingHTTPServer(("127.0.0.1", 0), EchoApi)
    server.seen = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def gateway(api):
    nginx_binary()
    # A short path, like the edge test's.
    tmp = Path(tempfile.mkdtemp(prefix="portal-gw-"))
    try:
        with served_database(
            tmp, name="gateway", GATEWAY_CACHE_SECONDS=str(CACHE_SECONDS), GATEWAY_PASSTHROUGH_PREFIXES=PASSTHROUGH
        ) as (env, client_id, secret):
            keys = json.loads(manage(env, "shell", "-c", KEYS).strip().splitlines()[-1])
            keys["emporix"] = {"client_id": client_id, "secret": secret}
            self_signed_certificate(tmp, HOST)
            portal_port, https_port = free_port(), free_port()
            # The file as shipped (`http2 on;`, nginx 1.25.1+); on an older nginx (Debian 12's
            # 1.22) the one directive it lacks becomes the old `listen ... http2` form, as the
            # file's comment tells operators.
            current = nginx_version() >= (1, 25, 1)
            site = render_config(
                SITE,
                {
                    "listen 443 ssl;": f"listen 127.0.0.1:{https_port} ssl{'' if current else ' http2'};",
                    "listen [::]:443 ssl;": "",
                    "    http2 on;\n": "    http2 on;\n" if current else "",
                    "/etc/letsencrypt/live/api.example.com/fullchain.pem": str(tmp / "cert.pem"),
                    "/etc/letsencrypt/live/api.example.com/privkey.pem": str(tmp / "key.pem"),
                    "server 127.0.0.1:9000;": f"server 127.0.0.1:{api.server_port};",
                    "server unix:/run/api-key-portal/gunicorn.sock;": f"server 127.0.0.1:{portal_port};",
                    "/var/log/nginx/api-gateway.access.log": str(tmp / "access.log"),
                    "/var/log/nginx/api-gateway.error.log": str(tmp / "error.log"),
                },
            )
            # No warning from nginx -t (a deprecated directive, a duplicate header, ...).
            warnings = [line for line in nginx_test(tmp, site).splitlines() if "[warn]" in line]
            assert not warnings, warnings
            base = f"https://127.0.0.1:{https_port}"
            with (
                gunicorn(env, tmp / "gunicorn.log", port=portal_port),
                # A route that needs no token: the API answers once the whole chain is up.
                nginx(tmp, site, f"{base}/category/edge/categories", HOST),
            ):
                yield {"base": base, "portal": f"http://127.0.0.1:{portal_port}", "env": env, "keys": keys, "tmp": tmp}
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def mint(gateway, name: str) -> str:
    key = gateway["keys"][name]
    answer = token_request(gateway["portal"], key["client_id"], key["secret"])
    assert answer.status == 200, answer.body
    return answer.json()["access_token"]


def call(gateway, method: str, target: str, token: str | None = None, **headers: str):
    """One request to the API through nginx, with the target sent exactly as given."""
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    return request(gateway["base"] + target, method, headers={"Host": HOST, **headers})


def reached(api, target: str) -> bool:
    return any(seen["target"] == target for seen in api.seen)


def test_an_allowed_route_reaches_the_api_with_the_callers_tenant(gateway, api):
    answer = call(gateway, "GET", "/customer/edge/customers?pageSize=5", mint(gateway, "reader"))
    assert answer.status == 200, answer.body
    seen = answer.json()
    assert seen["target"] == "/customer/edge/customers?pageSize=5"
    assert seen["headers"]["X-Portal-Tenant"] == "edge"
    assert seen["headers"]["X-Portal-Client-Id"] == gateway["keys"]["reader"]["client_id"]
    assert seen["headers"]["X-Portal-Scopes"] == "customer.customer_read"
    assert seen["headers"]["X-Portal-Operation"] == "GET-customer-tenant-list-customers"
    assert seen["headers"]["Authorization"].startswith("Bearer ")


def test_the_emporix_key_passes_all_its_174_scopes(gateway):
    answer = call(gateway, "DELETE", "/customer/edge/customers/C1", mint(gateway, "emporix"))
    assert answer.status == 200, answer.body
    assert len(answer.json()["headers"]["X-Portal-Scopes"].split()) == 174


def test_a_route_of_another_scope_is_403_and_never_reaches_the_api(gateway, api):
    answer = call(gateway, "POST", "/customer/edge/customers", mint(gateway, "reader"))
    assert answer.status == 403
    assert answer.json() == {"error": "insufficient_scope"}
    assert answer.headers.get_all("WWW-Authenticate") == [
        'Bearer error="insufficient_scope", error_description="The access token holds none of the scopes this '
        'route accepts.", scope="customer.customer_manage customer.customer_manage_own"'
    ]
    assert not any(seen["method"] == "POST" for seen in api.seen)


def test_another_tenants_path_is_403(gateway, api):
    answer = call(gateway, "GET", "/customer/other/customers", mint(gateway, "reader"))
    assert answer.status == 403
    assert "another tenant" in answer.headers["WWW-Authenticate"]
    assert not reached(api, "/customer/other/customers")


def test_no_token_is_401_with_one_bare_challenge(gateway):
    answer = call(gateway, "GET", "/customer/edge/customers")
    assert answer.status == 401
    assert answer.headers.get_all("WWW-Authenticate") == ["Bearer"]
    assert answer.headers["Cache-Control"] == "no-store"


def test_a_malformed_authorization_is_400_with_the_checks_challenge(gateway, api):
    """RFC 6750 3.1: invalid_request is 400, with WWW-Authenticate like 401 and 403."""
    answer = call(gateway, "GET", "/customer/edge/customers", Authorization="Bearer two words")
    assert answer.status == 400, answer.body
    challenges = answer.headers.get_all("WWW-Authenticate")
    assert len(challenges) == 1 and challenges[0].startswith("Bearer ") and 'error="invalid_request"' in challenges[0]
    assert not reached(api, "/customer/edge/customers")


def test_a_keys_rate_limit_is_429_with_retry_after_and_never_reaches_the_api(gateway, api):
    """The key `limited` has 1 call a minute. The servers count in each worker's memory here
    (no Redis), so a few calls may pass, one per worker: then nginx answers the check's 429."""
    token = mint(gateway, "limited")
    answers = [call(gateway, "GET", f"/customer/edge/customers?limited={number}", token) for number in range(12)]
    refused = [number for number, answer in enumerate(answers) if answer.status == 429]
    assert refused and all(answer.status in (200, 429) for answer in answers)
    for number in refused:
        assert answers[number].json() == {"error": "slow_down"}
        assert 1 <= int(answers[number].headers["Retry-After"]) <= 60
        assert answers[number].headers["Cache-Control"] == "no-store"
        assert not answers[number].headers.get("WWW-Authenticate")
        assert not reached(api, f"/customer/edge/customers?limited={number}")
    assert all(reached(api, f"/customer/edge/customers?limited={n}") for n in range(12) if n not in refused)


def test_a_revoked_token_is_401(gateway, api):
    token = mint(gateway, "reader")
    key = gateway["keys"]["reader"]
    credentials = base64.b64encode(f"{key['client_id']}:{key['secret']}".encode()).decode()
    revoked = request(
        gateway["portal"] + "/oauth/revoke",
        "POST",
        f"token={token}".encode(),
        {"Authorization": f"Basic {credentials}", "Content-Type": "application/x-www-form-urlencoded"},
    )
    assert revoked.status == 200
    answer = call(gateway, "GET", "/customer/edge/customers?revoked=1", token)
    assert answer.status == 401
    assert answer.headers.get_all("WWW-Authenticate") == [
        'Bearer error="invalid_token", error_description="The access token is invalid, expired or revoked."'
    ]
    assert not reached(api, "/customer/edge/customers?revoked=1")


def test_renew_now_ends_access_within_the_cache_bound_and_other_tokens_keep_working(gateway):
    token, other = mint(gateway, "renewed"), mint(gateway, "reader")
    for _ in range(4):  # both workers have both tokens cached
        assert call(gateway, "GET", "/customer/edge/customers", token).status == 200
        assert call(gateway, "GET", "/customer/edge/customers", other).status == 200
    manage(gateway["env"], "shell", "-c", RENEW_NOW.format(client_id=gateway["keys"]["renewed"]["client_id"]))
    renewed = time.monotonic()  # the renew committed before this
    statuses, others = [], []
    # Asking all along, for the bound and a second past it (gunicorn's own clock, not movable).
    while time.monotonic() < renewed + CACHE_SECONDS + 1:
        after = time.monotonic() - renewed
        statuses.append((after, call(gateway, "GET", "/customer/edge/customers", token).status))
        others.append((after, call(gateway, "GET", "/customer/edge/customers", other).status))
        time.sleep(0.1)  # the poll interval: some ten rounds a second
    late = [(after, status) for after, status in statuses if after > CACHE_SECONDS + 0.2]
    assert late and all(status == 401 for _, status in late), statuses
    assert {status for _, status in statuses} <= {200, 401}
    # The other key's token, verified again once its entries expired, still opens the route.
    assert any(after > CACHE_SECONDS + 0.2 for after, _ in others)
    assert all(status == 200 for _, status in others), others


TRICKS = [
    "/price/edge/prices/../../customer/edge/customers",
    "/customer/edge/customers/C1/../../customers",
    "/customer/edge/customers/%2e%2e/x",
    "/customer/edge%2Fcustomers",
    "/customer/edge/customers%2FC1",
    "/customer/edge/customers%5CC1",
    "/customer/edge/customers/",
    "//customer/edge/customers",
    "/customer//edge/customers",
    "/Customer/edge/customers",
    "/CUSTOMER/EDGE/CUSTOMERS/C1",
    "/cust%6Fmer/edge/customers",
    "/customer/edge/customers;x=1",
]


@pytest.mark.parametrize("target", TRICKS)
def test_paths_that_only_look_like_a_route_never_reach_the_api(gateway, api, target):
    # The Emporix key holds every scope: only the path can make the gateway refuse.
    answer = call(gateway, "DELETE", target, mint(gateway, "emporix"))
    assert answer.status in (400, 404), (target, answer.status, answer.body)
    assert not reached(api, target)


def test_a_route_that_needs_no_token_passes_without_one_and_without_forged_headers(gateway):
    answer = call(gateway, "GET", "/category/edge/categories", **{"X-Portal-Tenant": "edge", "X-Portal-Scopes": "x"})
    assert answer.status == 200
    headers = answer.json()["headers"]
    assert "X-Portal-Tenant" not in headers and "X-Portal-Scopes" not in headers
    assert headers["X-Portal-Operation"] == "GET-category-tree-list-categories"


def test_the_clients_own_original_uri_header_is_overwritten(gateway, api):
    answer = call(
        gateway,
        "DELETE",
        "/customer/edge/customers/C2",
        mint(gateway, "reader"),
        **{"X-Original-Method": "GET", "X-Original-URI": "/customer/edge/customers"},
    )
    assert answer.status == 403
    assert not reached(api, "/customer/edge/customers/C2")


def test_the_access_log_names_the_caller_and_not_the_query(gateway):
    call(gateway, "GET", "/customer/edge/customers?logged=no", mint(gateway, "reader"))
    log = gateway["tmp"] / "access.log"
    expected = f"tenant=edge client={gateway['keys']['reader']['client_id']} check=200"
    wait_until(lambda: expected in log.read_text(), 5, what="the access log line")
    text = log.read_text()
    assert "logged=no" not in text
    assert any('"GET /customer/edge/customers ' in line and expected in line for line in text.splitlines())


# Issue 18: with the old default (unknown routes open to any valid token), tenant alpha's token
# got 200 for these on tenant bravo's paths, and a storefront token without a tax scope for
# DELETE /tax/alpha/taxes. Here alpha is edge, bravo is other, and the token is the Emporix
# key's (every scope), so that only the route and the tenant can refuse.
FINDINGS_PROBES = [
    ("DELETE", "/tax/other/taxes"),
    ("PATCH", "/tax/other/taxes/DE"),
    ("GET", "/tax/other/taxes.json"),
]


@pytest.mark.parametrize(("method", "target"), FINDINGS_PROBES)
def test_the_findings_probes_on_another_tenant_never_reach_the_api(gateway, api, method, target):
    answer = call(gateway, method, target, mint(gateway, "emporix"))
    assert answer.status == 404, (method, target, answer.status, answer.body)
    assert answer.json() == {"error": "unknown_route"}
    assert not reached(api, target)


def test_a_storefront_token_cannot_delete_taxes(gateway, api):
    token = mint(gateway, "storefront")
    answer = call(gateway, "DELETE", "/tax/edge/taxes", token)
    assert answer.status == 404, answer.body
    assert not reached(api, "/tax/edge/taxes")
    # The route the table knows on that path is refused for its scope.
    answer = call(gateway, "GET", "/tax/edge/taxes?storefront=1", token)
    assert answer.status == 403
    assert 'scope="tax.tax_read"' in answer.headers["WWW-Authenticate"]
    assert not reached(api, "/tax/edge/taxes?storefront=1")


@pytest.mark.parametrize("target", ["/tax/edge/taxes.json", "/price/edge/prices.json", "/price/edge/Prices.xml"])
def test_a_route_with_a_format_suffix_never_reaches_the_api(gateway, api, target):
    answer = call(gateway, "GET", target, mint(gateway, "emporix"))
    assert answer.status == 404, (target, answer.status)
    assert not reached(api, target)


def test_an_unknown_route_outside_the_passthrough_prefixes_is_404(gateway, api):
    token = mint(gateway, "emporix")
    for target in ("/customer/edge/new-endpoint", "/my-own-apix/things", "/tax/edge/rates"):
        answer = call(gateway, "GET", target, token)
        assert answer.status == 404, (target, answer.status)
        assert not reached(api, target)


def test_an_unknown_route_under_a_passthrough_prefix_needs_a_token_of_the_paths_tenant(gateway, api):
    token = mint(gateway, "reader")
    answer = call(gateway, "GET", "/my-own-api/things", token)
    assert answer.status == 200, answer.body
    assert answer.json()["headers"]["X-Portal-Tenant"] == "edge"
    assert "X-Portal-Operation" not in answer.json()["headers"]
    assert call(gateway, "GET", "/my-own-api/things?anonymous=1").status == 401
    assert not reached(api, "/my-own-api/things?anonymous=1")
    answer = call(gateway, "GET", "/price/edge/new-endpoint", token)
    assert answer.status == 200, answer.body
    answer = call(gateway, "GET", "/price/other/new-endpoint", token)
    assert answer.status == 403
    assert "another tenant" in answer.headers["WWW-Authenticate"]
    assert not reached(api, "/price/other/new-endpoint")

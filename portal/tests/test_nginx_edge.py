"""The production edge: Debian's nginx with deploy/nginx/api-key-portal.conf (on loopback ports,
with a self-signed certificate) in front of gunicorn started as deploy/systemd starts it (its
unix socket handed over by socket activation). nginx holds slow clients and passes gunicorn
whole requests; TLS, the HTTP redirect, HSTS, the body limit and the proxy headers work."""

import re
import shutil
import socket
import tempfile
from pathlib import Path

import pytest

from conftest import wait_until
from portal.tests.serving import (
    ROOT,
    assert_token_while_slow_clients,
    free_port,
    gunicorn,
    insecure_tls,
    nginx,
    nginx_binary,
    render_config,
    request,
    self_signed_certificate,
    slow_body,
    slow_headers,
    token_request,
)

pytestmark = pytest.mark.outside  # nginx, gunicorn

SITE = ROOT / "deploy" / "nginx" / "api-key-portal.conf"
HOST = "portal.example.com"
METRICS_TOKEN = "edge-metrics-token-0123456789abcdef"


def render_site(tmp: Path, http_port: int, https_port: int) -> str:
    """The shipped site with loopback ports, the test's certificate, socket and log files."""
    return render_config(
        SITE,
        {
            "listen 80;": f"listen 127.0.0.1:{http_port};",
            "listen [::]:80;": "",
            "listen 443 ssl http2;": f"listen 127.0.0.1:{https_port} ssl http2;",
            "listen [::]:443 ssl http2;": "",
            "/etc/letsencrypt/live/portal.example.com/fullchain.pem": str(tmp / "cert.pem"),
            "/etc/letsencrypt/live/portal.example.com/privkey.pem": str(tmp / "key.pem"),
            "unix:/run/api-key-portal/gunicorn.sock": f"unix:{tmp / 'gunicorn.sock'}",
            "/var/log/nginx/api-key-portal.access.log": str(tmp / "access.log"),
            "/var/log/nginx/api-key-portal.error.log": str(tmp / "error.log"),
            "/srv/api-key-portal/staticfiles/": f"{ROOT / 'static'}/",
        },
    )


@pytest.fixture(scope="module")
def edge(served):
    nginx_binary()
    env, client_id, secret = served
    env = {
        **env,
        "ALLOWED_HOSTS": HOST,
        "SECURE_PROXY_SSL_HEADER": "HTTP_X_FORWARDED_PROTO",
        "TRUSTED_PROXY_HEADER": "X-Forwarded-For",
        "TRUSTED_PROXY_COUNT": "1",
        "SECURE_COOKIES": "on",
        "SECURE_SSL_REDIRECT": "on",  # as deploy/portal.env.example: no loop behind nginx
        "SECURE_HSTS_SECONDS": "600",
        "METRICS_TOKEN": METRICS_TOKEN,
    }
    # A short path: unix socket paths are limited to about 100 bytes.
    tmp = Path(tempfile.mkdtemp(prefix="portal-edge-"))
    try:
        self_signed_certificate(tmp, HOST)
        http_port, https_port = free_port(), free_port()
        base = f"https://127.0.0.1:{https_port}"
        with (
            gunicorn(env, tmp / "gunicorn.log", unix_socket=tmp / "gunicorn.sock"),
            nginx(tmp, render_site(tmp, http_port, https_port), f"{base}/.well-known/oauth-authorization-server", HOST),
        ):
            for _ in range(4):  # both workers have loaded the views and opened their pools
                assert token_request(base, client_id, secret, host=HOST).status == 200
            yield {
                "base": base,
                "http_port": http_port,
                "https_port": https_port,
                "tmp": tmp,
                "key": (client_id, secret),
            }
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def tls_connect(port: int):
    def connect():
        sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        return insecure_tls().wrap_socket(sock, server_hostname=HOST)

    return connect


def token(edge):
    return token_request(edge["base"], *edge["key"], host=HOST)


def test_it_issues_a_token_over_https_with_one_hsts_header(edge):
    answer = token(edge)
    assert answer.status == 200
    assert answer.json()["token_type"] == "Bearer"
    assert answer.headers.get_all("Strict-Transport-Security") == ["max-age=31536000; includeSubDomains"]


def test_the_portal_sees_https_through_x_forwarded_proto(edge):
    # A client's own X-Forwarded-Proto is overwritten with the scheme nginx saw: the portal
    # treats the request as HTTPS, so it answers with HSTS (Django's SecurityMiddleware sends it
    # on secure requests only). The metadata's URLs no longer show it: they come from PORTAL_URL.
    answer = request(
        f"{edge['base']}/.well-known/oauth-authorization-server", headers={"Host": HOST, "X-Forwarded-Proto": "http"}
    )
    assert answer.status == 200
    assert answer.headers.get_all("Strict-Transport-Security") == ["max-age=31536000; includeSubDomains"]


def test_metrics_through_the_edge_need_the_token(edge):
    """nginx passes /metrics on; nginx is the portal's peer, but a request it relays (with
    X-Forwarded-For) is not a loopback client's: 404 without the token, the metrics with it
    over HTTPS (docs/metrics.md)."""
    url = f"{edge['base']}/metrics"
    assert request(url, headers={"Host": HOST}).status == 404
    assert request(url, headers={"Host": HOST, "Authorization": "Bearer wrong"}).status == 404
    answer = request(url, headers={"Host": HOST, "Authorization": f"Bearer {METRICS_TOKEN}"})
    assert answer.status == 200
    assert b"portal_http_requests_total" in answer.body


def test_it_redirects_http_to_https(edge):
    answer = request(f"http://127.0.0.1:{edge['http_port']}/accounts/login/?x=1", headers={"Host": HOST})
    assert answer.status == 301
    assert answer.headers["Location"] == f"https://{HOST}/accounts/login/?x=1"


def test_credentials_over_plain_http_are_refused_never_redirected(edge):
    # Issue 18: /oauth/token over HTTP got a 301 that a client follows without noticing.
    http = f"http://127.0.0.1:{edge['http_port']}"
    client_id, secret = edge["key"]
    answer = request(
        f"{http}/oauth/token",
        "POST",
        f"grant_type=client_credentials&client_id={client_id}&client_secret={secret}".encode(),
        {"Host": HOST, "Content-Type": "application/x-www-form-urlencoded"},
    )
    assert answer.status == 400, answer.body[:300]
    assert "Location" not in answer.headers
    assert answer.json() == {"error": "invalid_request", "error_description": "HTTPS is required"}
    api = request(f"{http}/api/v1/keys/", headers={"Host": HOST, "Authorization": "Bearer akpt_x"})
    assert api.status == 403 and api.json()["type"] == "urn:api-key-portal:problem:https-required"
    gateway = request(
        f"{http}/gateway/nginx",
        headers={"Host": HOST, "X-Original-Method": "GET", "X-Original-URI": "/customer/edge/customers"},
    )
    assert gateway.status == 400 and "Location" not in gateway.headers
    # The API's documentation is a page: it redirects.
    assert request(f"{http}/api/v1/docs/", headers={"Host": HOST}).status == 301
    # The same call over HTTPS works.
    assert token(edge).status == 200


@pytest.mark.parametrize("scheme", ["http", "https"])
def test_load_balancer_probes_get_the_health_answers_whatever_their_host(edge, scheme):
    # A balancer probes each host by its address, over plain HTTP or HTTPS, without the site's name.
    port = edge["http_port"] if scheme == "http" else edge["https_port"]
    for path, body in (("/healthz", {"status": "ok"}), ("/readyz", None)):
        answer = request(f"{scheme}://127.0.0.1:{port}{path}", headers={"Host": "10.0.0.5"})
        assert answer.status == 200, (path, answer.status, answer.body[:200])
        assert answer.headers["Cache-Control"].startswith("max-age=0, no-cache, no-store")
        assert answer.json()["status"] == "ok" and (body is None or answer.json() == body)
    # Everything else on plain HTTP still only redirects.
    assert request(f"http://127.0.0.1:{edge['http_port']}/readyz/x", headers={"Host": HOST}).status == 301


def test_it_refuses_a_body_over_the_limit_without_reading_it(edge):
    with tls_connect(edge["https_port"])() as sock:
        sock.sendall(
            f"POST /oauth/token HTTP/1.1\r\nHost: {HOST}\r\nContent-Length: 2000000\r\n"
            "Content-Type: application/x-www-form-urlencoded\r\n\r\n".encode()
        )
        assert sock.recv(12).startswith(b"HTTP/1.1 413")


def test_it_issues_a_token_while_50_clients_send_headers_slowly(edge):
    assert_token_while_slow_clients(
        tls_connect(edge["https_port"]), edge["https_port"], slow_headers(HOST), lambda: token(edge)
    )


def test_it_issues_a_token_while_50_clients_send_bodies_slowly(edge):
    assert_token_while_slow_clients(
        tls_connect(edge["https_port"]), edge["https_port"], slow_body(HOST), lambda: token(edge)
    )


def test_its_access_log_has_no_query_string_and_a_request_id(edge):
    marker = "akpr_" + "x" * 20
    request(f"{edge['base']}/customerlogin/auth/anonymous/refresh?refresh_token={marker}", headers={"Host": HOST})
    log = edge["tmp"] / "access.log"
    wait_until(lambda: "/customerlogin/auth/anonymous/refresh" in log.read_text(), 5, what="the access log line")
    text = log.read_text()
    line = next(line for line in text.splitlines() if "/customerlogin/auth/anonymous/refresh" in line)
    assert marker not in text
    assert re.search(r"rid=[0-9a-f]{32}$", line)


def test_its_access_log_hides_password_reset_keys(edge):
    # nginx logs the path whatever the portal answers, so any key shows how it is written.
    key = "diq7r7-8c64a3d9f931f465fe1d498f9d87525c"
    paths = {
        f"/accounts/password/reset/key/1-{key}/": "/accounts/password/reset/key/1-[hidden]/",
        f"/accounts/password/reset/MQ/{key}/": "/accounts/password/reset/MQ/[hidden]/",
        "/accounts/password/reset/key/1-set-password/": "/accounts/password/reset/key/1-set-password/",
        "/accounts/password/reset/done/": "/accounts/password/reset/done/",
    }
    for path in paths:
        request(f"{edge['base']}{path}", headers={"Host": HOST})
    log = edge["tmp"] / "access.log"
    wait_until(lambda: "/accounts/password/reset/done/" in log.read_text(), 5, what="the access log lines")
    text = log.read_text()
    assert key not in text
    for logged in paths.values():
        assert f'"GET {logged} HTTP/1.1"' in text, text[-2000:]

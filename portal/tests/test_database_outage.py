"""A real PostgreSQL outage: the tests' own cluster is stopped while gunicorn serves the portal
against it. Everything that needs the database answers 503 (JSON with Retry-After for the
token service, the styled page for the portal), /readyz says so, /healthz does not care, the
log has one line per kind of failure and process instead of a traceback per request, and when
the cluster is back everything works again without restarting the portal."""

import json
import re
import time
from collections import Counter

import pytest
import requests

from .conftest import WORKERS

pytestmark = pytest.mark.outside  # its own PostgreSQL cluster, gunicorn


def _timed(call):
    started = time.monotonic()
    response = call()
    return response, time.monotonic() - started


def _token_service_calls(portal):
    emporix, storefront = portal.keys["emporix"], portal.keys["storefront"]
    auth = (emporix["client_id"], emporix["secret"])
    return {
        "token": lambda: portal.token(),
        "introspect": lambda: requests.post(portal.url + "/oauth/introspect", {"token": "x"}, auth=auth, timeout=30),
        "revoke": lambda: requests.post(portal.url + "/oauth/revoke", {"token": "x"}, auth=auth, timeout=30),
        "anonymous login": lambda: requests.get(
            portal.url + "/customerlogin/auth/anonymous/login",
            params={"tenant": "acme", "client_id": storefront["client_id"]},
            timeout=30,
        ),
        # The JWK Set, unlike the RFC 8414 metadata, reads the signing keys from the database.
        "jwks": lambda: requests.get(portal.url + "/.well-known/jwks.json", timeout=30),
    }


def test_an_outage_is_answered_with_503_and_the_portal_recovers_by_itself(portal, cluster_up):
    alice = portal.login()  # a session from before the outage
    keys_page = portal.url + "/tenants/acme/api-keys/"
    assert alice.get(keys_page, timeout=5).status_code == 200
    assert portal.token().status_code == 200
    calls = _token_service_calls(portal)
    mark = portal.log_mark()

    cluster_up.stop()
    slowest = 0.0
    for _ in range(3):  # each worker meets the outage more than once
        for name, call in calls.items():
            response, seconds = _timed(call)
            slowest = max(slowest, seconds)
            assert response.status_code == 503, (name, response.text)
            assert response.json()["error"] == "temporarily_unavailable"
            assert response.json()["error_description"]
            assert response.headers["Retry-After"] == "5"
            assert response.headers["Cache-Control"] == "no-store"

        page, seconds = _timed(lambda: alice.get(keys_page, timeout=30))
        slowest = max(slowest, seconds)
        assert page.status_code == 503
        assert page.headers["Content-Type"].startswith("text/html")
        assert page.headers["Retry-After"] == "5"
        assert "Temporarily unavailable" in page.text and "/static/css/portal.css" in page.text
        # The strict CSP holds: scripts only from files, no inline script or style.
        assert not re.search(r"<script(?![^>]*\bsrc=)", page.text) and "style=" not in page.text

        ready = requests.get(portal.url + "/readyz", timeout=30)
        assert ready.status_code == 503 and ready.headers["Retry-After"] == "5"
        assert ready.json() == {
            "status": "unavailable",
            "checks": {
                "database": "unavailable",
                "cache": "ok",
                "encryption_keys": "unknown",
                "jwt_signing_key": "unknown",
            },
        }
        assert requests.get(portal.url + "/healthz", timeout=5).json() == {"status": "ok"}
    # RFC 8414 metadata asks no database: it keeps answering.
    assert requests.get(portal.url + "/.well-known/oauth-authorization-server", timeout=5).status_code == 200
    assert slowest < 1.0, slowest

    cluster_up.start()  # the portal is not restarted
    for _ in range(2 * WORKERS):
        assert portal.token().status_code == 200
        assert alice.get(keys_page, timeout=5).status_code == 200
        ready = requests.get(portal.url + "/readyz", timeout=5)
        assert ready.status_code == 200 and ready.json()["status"] == "ok"
    for name, call in calls.items():
        assert call().status_code == 200, name

    lines = portal.log_since(mark)
    text = "\n".join(lines)
    assert "Traceback" not in text and "Internal Server Error" not in text and "Service Unavailable" not in text
    records = [json.loads(line) for line in lines if line.startswith("{")]
    reports = Counter(r["message"].split(" (")[0] for r in records if "unavailable: " in r["message"])
    assert reports, text
    # One line per kind of failure and process (the interval is 60 s), not one per request.
    assert all(count <= WORKERS for count in reports.values()), reports
    assert sum(reports.values()) <= 3 * WORKERS, reports
    assert all(message.startswith("database unavailable: ") for message in reports), reports
    requests_logged = [r for r in records if r["logger"] == "portal.request"]
    assert sum(r["status"] == 503 for r in requests_logged) >= 15
    assert all({"request_id", "method", "path", "status", "duration_ms"} <= set(r) for r in requests_logged)
    # No secret, token or query string (the anonymous login's is tenant=&client_id=).
    assert portal.keys["emporix"]["secret"] not in text
    assert "akps_" not in text and "akpt_" not in text and "client_id=" not in text and "?" not in text

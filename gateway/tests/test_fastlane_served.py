"""The fast lane under gunicorn as `make run` starts it (portal.wsgi): a cached allow over HTTP
is the same 200, with the same headers, as the uncached check Django answered before it."""

import pytest

from portal.tests.serving import free_port, gunicorn, request, served_database, token_request

pytestmark = pytest.mark.outside  # gunicorn

ROUTE = "/customer/edge/customers"


def test_a_cached_allow_over_http_is_the_200_django_gave(tmp_path):
    # One worker, so that the second check finds the token the first one verified.
    with served_database(tmp_path, "fastlane", WEB_CONCURRENCY="1", WEB_THREADS="1") as (env, client_id, secret):
        port = free_port()
        with gunicorn(env, tmp_path / "gunicorn.log", port=port):
            base = f"http://127.0.0.1:{port}"
            token = token_request(base, client_id, secret).json()["access_token"]
            headers = {"Authorization": f"Bearer {token}", "X-Original-Method": "GET", "X-Original-URI": ROUTE}
            answers = [request(f"{base}/gateway/nginx", headers=headers) for _ in range(3)]
    first, *cached = answers
    assert [answer.status for answer in answers] == [200, 200, 200]
    assert first.headers["X-Portal-Tenant"] == "edge"
    assert first.headers["X-Portal-Operation"]
    for answer in cached:
        assert answer.body == first.body == b""
        same = [(n, v) for n, v in answer.headers.items() if n not in ("Date", "X-Request-ID")]
        assert same == [(n, v) for n, v in first.headers.items() if n not in ("Date", "X-Request-ID")]
        assert answer.headers["X-Request-ID"] != first.headers["X-Request-ID"]

"""The token endpoint's fast lane under gunicorn as `make run` starts it (portal.wsgi): over
real HTTP, each request gets from a server with the lane the answer a server without it gives
(TOKEN_FAST_LANE=off), on the same database: status, headers but Date and X-Request-ID, and the
body but the token itself. A chunked body, which has no Content-Length, goes to Django (which
reads no body without one: grant_type is missing, as it was before the lane)."""

import base64
import http.client
import json

import pytest

from portal.tests.serving import free_port, gunicorn, request, served_database

pytestmark = pytest.mark.outside  # gunicorn

FORM = "application/x-www-form-urlencoded"


def asked(client_id: str, secret: str) -> list[tuple[bytes, dict[str, str]]]:
    def basic(secret_: str) -> dict[str, str]:
        credentials = base64.b64encode(f"{client_id}:{secret_}".encode()).decode()
        return {"Host": "127.0.0.1", "Authorization": f"Basic {credentials}", "Content-Type": FORM}

    plain = b"grant_type=client_credentials"
    return [
        (plain, basic(secret)),
        (plain, basic(secret)),
        (plain + b"&scope=tenant%3Dedge", basic(secret)),
        (plain, basic("akps_" + "x" * 51)),
        (b"grant_type=password", basic(secret)),
        (plain, {**basic(secret), "Origin": "https://shop.example.com"}),
    ]


def chunked(base: str, headers: dict[str, str]) -> tuple[int, list[tuple[str, str]], bytes]:
    host, port = base.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=10)
    try:
        conn.request(
            "POST", "/oauth/token", iter([b"grant_type=", b"client_credentials"]), headers, encode_chunked=True
        )
        response = conn.getresponse()
        return response.status, response.getheaders(), response.read()
    finally:
        conn.close()


def shown(status: int, headers, body: bytes) -> tuple:
    answer = json.loads(body)
    if "access_token" in answer:
        answer["access_token"] = (len(answer["access_token"]), answer["access_token"][:5])
    return status, [(n, v) for n, v in headers if n not in ("Date", "X-Request-ID")], answer


def test_over_http_the_lane_answers_as_django_does(tmp_path):
    with served_database(tmp_path, "tokenlane", WEB_CONCURRENCY="1") as (env, client_id, secret):
        on_port, off_port = free_port(), free_port()
        with (
            gunicorn(env, tmp_path / "on.log", port=on_port),
            gunicorn({**env, "TOKEN_FAST_LANE": "off"}, tmp_path / "off.log", port=off_port),
        ):
            answers = {}
            for name, port in (("on", on_port), ("off", off_port)):
                base = f"http://127.0.0.1:{port}"
                answers[name] = [
                    shown(a.status, a.headers.items(), a.body)
                    for a in (
                        request(f"{base}/oauth/token", "POST", body, headers)
                        for body, headers in asked(client_id, secret)
                    )
                ]
                answers[name].append(shown(*chunked(base, asked(client_id, secret)[0][1])))
    assert answers["on"] == answers["off"]
    assert [answer[0] for answer in answers["on"]] == [200, 200, 200, 401, 400, 401, 400]

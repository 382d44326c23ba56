"""`make run`'s server (gunicorn with gunicorn.conf.py, started the same way) goes on issuing
tokens, each in under a second, while 50 clients send their headers or bodies a byte a second;
and its request log escapes control characters, so a request path cannot forge a log line."""

import socket

import pytest

from conftest import wait_until
from portal.tests.serving import (
    assert_token_while_slow_clients,
    free_port,
    gunicorn,
    slow_body,
    slow_headers,
    token_request,
)

pytestmark = pytest.mark.outside  # gunicorn


@pytest.fixture(scope="module")
def server(served, tmp_path_factory):
    env, client_id, secret = served
    log = tmp_path_factory.mktemp("make-run") / "gunicorn.log"
    port = free_port()
    with gunicorn(env, log, port=port):
        base = f"http://127.0.0.1:{port}"
        for _ in range(4):  # both workers have loaded the views and opened their pools
            assert token_request(base, client_id, secret).status == 200
        yield base, port, client_id, secret, log


def connect(port: int):
    return lambda: socket.create_connection(("127.0.0.1", port), timeout=5)


def test_it_issues_a_token_while_50_clients_send_headers_slowly(server):
    base, port, client_id, secret, _ = server
    assert_token_while_slow_clients(
        connect(port), port, slow_headers("127.0.0.1"), lambda: token_request(base, client_id, secret)
    )


def test_it_issues_a_token_while_50_clients_send_bodies_slowly(server):
    base, port, client_id, secret, _ = server
    assert_token_while_slow_clients(
        connect(port), port, slow_body("127.0.0.1"), lambda: token_request(base, client_id, secret)
    )


def test_its_request_log_escapes_control_characters(server):
    _, port, _, _, log = server
    # CR LF, ESC and a C1 control (NEL), percent-encoded: gunicorn decodes them into PATH_INFO.
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(
            b"GET /edge-probe%0d%0a127.0.0.1%20%22GET%20/forged%22%20200%1b[31m%c2%85 HTTP/1.1\r\n"
            b"Host: 127.0.0.1\r\nConnection: close\r\n\r\n"
        )
        assert sock.recv(12).startswith(b"HTTP/1.1 404")
    # Raw control bytes in the request line: refused, and logged escaped.
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(b"GET /edge-raw\x1b[2J\x01 HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        assert sock.recv(12).startswith(b"HTTP/1.1 400")

    # The portal's request line (plain or JSON, by LOG_FORMAT) is written after the answer.
    lines = wait_for_line(log, "/edge-probe")
    text = log.read_bytes().decode()
    for control in "\r\x1b\x01\x85":
        assert control not in text
    probe = [line for line in lines if "/edge-probe" in line]
    assert probe  # the request line, and Django's "Not Found" line
    # The CR LF in the path started no line of its own: "forged" is only ever inside a probe line.
    assert [line for line in lines if "forged" in line] == probe
    assert all("\\r" in line and "\\n" in line for line in probe)  # escaped, in plain text or in JSON
    assert "edge-raw" not in text or all("\x1b" not in line for line in lines)


def test_gunicorns_own_warnings_hold_no_query_string(server):
    # gunicorn logs a request line it cannot parse, whole: a refresh token in its query string
    # (anonymous-login refresh) would land in its error log.
    _, port, _, _, log = server
    marker = "akpr_" + "q" * 20
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(f"GET\t/edge-bad-line?refresh_token={marker} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())
        assert sock.recv(12).startswith(b"HTTP/1.1 400")
    lines = wait_for_line(log, "/edge-bad-line")
    warning = next(line for line in lines if "/edge-bad-line" in line)
    assert "Invalid request" in warning and "/edge-bad-line?[hidden]" in warning
    assert marker not in log.read_text()


def wait_for_line(log, start: str) -> list[str]:
    """The log's lines, once one of them holds `start`."""
    wait_until(lambda: start in log.read_bytes().decode(), 5, what=f"a log line with {start!r}")
    return log.read_bytes().decode().split("\n")

"""The request log and LOG_FORMAT: one JSON object per line with the request's fields, a
request id on every line of a request (the proxy's only when trusted), and never a secret,
token, password or query string."""

import io
import json
import logging
import os
import pty
import re
import subprocess
import sys

import pytest
from django.contrib.auth.tokens import default_token_generator
from django.core import mail
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from kernel import background
from kernel.logescape import EscapingGunicornLogger
from kernel.logs import JsonFormatter, PlainFormatter, RequestIdFilter

from .conftest import ROOT

LEAK = re.compile(r"akps_|akpt_|akpr_")
PASSWORD_TRIED = "Tr0ub4dor&3-wrong"


@pytest.fixture
def json_log():
    """Everything logged during the test, as the JSON handler writes it."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RequestIdFilter())
    root = logging.getLogger()
    root.addHandler(handler)
    yield stream
    root.removeHandler(handler)


@pytest.mark.django_db
def test_json_lines_hold_the_request_fields_and_nothing_secret(client, alice, acme_secrets, json_log):
    key, secret = acme_secrets["emporix"]
    storefront, _ = acme_secrets["storefront"]
    form = "application/x-www-form-urlencoded"
    grant = f"grant_type=client_credentials&client_id={key.client_id}&client_secret={secret}"
    token = client.post("/oauth/token", grant, content_type=form).json()["access_token"]
    client.post(f"/oauth/token?client_secret={secret}", "grant_type=client_credentials", content_type=form)
    client.post(
        "/oauth/introspect", f"token={token}&client_id={key.client_id}&client_secret={secret}", content_type=form
    )
    assert client.get("/oauth/tokeninfo", HTTP_AUTHORIZATION=f"Bearer {token}").status_code == 200
    session = client.get(
        "/customerlogin/auth/anonymous/login", {"tenant": "acme", "client_id": storefront.client_id}
    ).json()
    client.get(
        "/customerlogin/auth/anonymous/refresh",
        {"tenant": "acme", "client_id": storefront.client_id, "refresh_token": session["refresh_token"]},
    )
    client.post("/accounts/login/", {"username": alice.email, "password": PASSWORD_TRIED})
    client.force_login(alice)
    assert client.get("/tenants/acme/api-keys/?created=x").status_code == 200
    assert client.get("/no/such/page?x=1").status_code == 404

    text = json_log.getvalue()
    records = [json.loads(line) for line in text.splitlines()]  # every line is one JSON object
    assert not LEAK.search(text) and secret not in text and token not in text
    assert PASSWORD_TRIED not in text and "?" not in text and "client_secret" not in text
    lines = [r for r in records if r["logger"] == "portal.request"]
    assert len(lines) == 9
    for line in lines:
        assert set(line) == {
            "time",
            "level",
            "logger",
            "message",
            "request_id",
            "method",
            "path",
            "status",
            "duration_ms",
        } | ({"tenant"} if "tenant" in line else set())
        assert line["level"] == "INFO" and re.fullmatch(r"[0-9a-f]{32}", line["request_id"])
        assert line["time"].endswith("+00:00") and line["duration_ms"] >= 0
    page = next(r for r in lines if r["path"] == "/tenants/acme/api-keys/")
    assert page["tenant"] == "acme" and page["status"] == 200 and page["method"] == "GET"
    # The token service's URLs name no tenant: its line has the authenticated client's.
    tenants = [(r["path"], r["status"], r.get("tenant")) for r in lines if not r["path"].startswith("/tenants/")]
    assert tenants == [
        ("/oauth/token", 200, "acme"),
        ("/oauth/token", 400, None),  # refused before any client was authenticated
        ("/oauth/introspect", 200, "acme"),
        ("/oauth/tokeninfo", 200, "acme"),
        ("/customerlogin/auth/anonymous/login", 200, "acme"),
        ("/customerlogin/auth/anonymous/refresh", 200, "acme"),
        ("/accounts/login/", 200, None),
        ("/no/such/page", 404, None),
    ]
    refresh = next(r for r in lines if r["path"] == "/customerlogin/auth/anonymous/refresh")
    assert refresh["message"] == f"GET /customerlogin/auth/anonymous/refresh 200 {refresh['duration_ms']}ms tenant=acme"
    # Django's own line about the 404 carries the id of the request it belongs to.
    not_found = next(r for r in records if r["logger"] == "django.request" and "/no/such/page" in r["message"])
    assert not_found["request_id"] == next(r for r in lines if r["path"] == "/no/such/page")["request_id"]
    assert len({r["request_id"] for r in lines}) == len(lines)


@pytest.mark.django_db
def test_the_request_id_comes_from_a_trusted_proxy_only(client, settings):
    sent = "3f2c1a0e9b8d7c6f5a4b3c2d1e0f9a8b"
    own = client.get("/healthz", HTTP_X_REQUEST_ID=sent)["X-Request-ID"]
    assert own != sent and re.fullmatch(r"[0-9a-f]{32}", own)

    settings.TRUSTED_PROXY_HEADER = "X-Forwarded-For"
    assert client.get("/healthz", HTTP_X_REQUEST_ID=sent)["X-Request-ID"] == sent
    for forged in ("two words", "x" * 129, "id\r\nforged"):
        assert client.get("/healthz", HTTP_X_REQUEST_ID=forged)["X-Request-ID"] != forged
    assert client.get("/healthz")["X-Request-ID"]  # without the header: a fresh one


@pytest.mark.django_db
def test_password_reset_keys_in_the_path_are_hidden(client, alice, json_log):
    # A reset mail's link (allauth's key) and a welcome mail's (Django's token), followed as a
    # browser follows them: each view redirects to its "set-password" path, which is kept.
    client.post("/accounts/password/reset/", {"email": alice.email})
    assert background.drain()  # the mail is sent after the response
    mail_link = next(line for line in mail.outbox[0].body.splitlines() if "/password/reset/key/" in line).strip()
    mail_path = mail_link[mail_link.index("/accounts/") :]
    uid, token = urlsafe_base64_encode(force_bytes(alice.pk)), default_token_generator.make_token(alice)
    welcome_path = f"/accounts/password/reset/{uid}/{token}/"
    for path in (mail_path, welcome_path):
        followed = client.get(path)
        assert followed.status_code == 302 and followed["Location"].endswith("set-password/")
        assert client.get(followed["Location"]).status_code == 200  # the key was valid

    text = json_log.getvalue()
    key = mail_path.removeprefix("/accounts/password/reset/key/").rstrip("/").split("-", 1)[1]
    assert key not in text and token not in text
    paths = [json.loads(line)["path"] for line in text.splitlines() if '"portal.request"' in line]
    assert "/accounts/password/reset/key/" + mail_path.split("/")[-2].split("-")[0] + "-[hidden]/" in paths
    assert f"/accounts/password/reset/{uid}/[hidden]/" in paths
    assert f"/accounts/password/reset/{uid}/set-password/" in paths
    # gunicorn's access log, when turned on, hides them too.
    atoms = EscapingGunicornLogger.atoms_wrapper_class({"U": welcome_path})
    assert atoms["U"] == f"/accounts/password/reset/{uid}/[hidden]/"


def test_plain_lines_escape_control_characters():
    record = logging.LogRecord("portal.request", logging.INFO, __file__, 1, "GET %s 404", ("/x\r\nforged 200",), None)
    RequestIdFilter().filter(record)
    line = PlainFormatter().format(record)
    assert "\n" not in line and "\r" not in line
    assert line.endswith("INFO portal.request [-] GET /x\\r\\nforged 200 404")


PRINT_FORMAT = "import django; django.setup(); from django.conf import settings; print(settings.LOG_FORMAT)"


def _log_format(environ: dict, stderr=subprocess.PIPE) -> subprocess.CompletedProcess:
    inherited = {name: value for name, value in os.environ.items() if name != "LOG_FORMAT"}
    env = {**inherited, "DJANGO_SETTINGS_MODULE": "portal.settings", **environ}
    return subprocess.run(
        [sys.executable, "-c", PRINT_FORMAT], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=stderr, text=True
    )


def test_log_format_is_plain_on_a_terminal_and_json_elsewhere():
    assert _log_format({}).stdout.strip() == "json"  # stderr is a pipe, as under systemd
    primary, replica = pty.openpty()
    try:
        assert _log_format({}, stderr=replica).stdout.strip() == "plain"
    finally:
        os.close(primary)
        os.close(replica)
    assert _log_format({"LOG_FORMAT": "plain"}).stdout.strip() == "plain"
    refused = _log_format({"LOG_FORMAT": "yaml"})
    assert refused.returncode != 0 and "LOG_FORMAT must be plain or json" in refused.stderr

"""The machine lane (kernel/lanes.py): the token service's and the gateway check's paths are
served by a Django handler without the middleware that do nothing on them. Each request below is
served by the lean handler and by the full one, and both give the same status, headers (but a
generated X-Request-ID) and body (but the tokens they mint). The lane must also really be
taken: the lean handler serves these paths, and the full one the others."""

import json
import re
from collections.abc import Callable
from urllib.parse import urlencode

import pytest
from django.conf import settings
from django.core.handlers.wsgi import WSGIHandler
from django.test import RequestFactory

from kernel.lanes import Lanes, application_with_lanes

pytestmark = pytest.mark.django_db

RANDOM = {"access_token", "refresh_token", "sessionId"}  # minted anew on every request


@pytest.fixture
def lanes(no_connection_closing):
    return Lanes(WSGIHandler())


def served(app, environ: dict) -> tuple[str, list[tuple[str, str]], bytes]:
    answered = {}

    def start_response(status, headers, exc_info=None):
        answered["status"], answered["headers"] = status, headers

    body = b"".join(app(dict(environ), start_response))
    headers = [
        (name, "<id>" if name == "X-Request-ID" else re.sub(r"^ csrftoken=\w+;", " csrftoken=<new>;", value))
        for name, value in answered["headers"]
    ]
    if body.startswith(b"{"):
        data = json.loads(body)
        if isinstance(data, dict):
            # Members in any order: the signing key's first answer lists them as it made them.
            body = json.dumps({k: "<minted>" if k in RANDOM else v for k, v in data.items()}, sort_keys=True).encode()
    return answered["status"], headers, body


def _cases(acme_secrets, storefront_origin: str) -> dict[str, Callable[[], dict]]:
    key, secret = acme_secrets["emporix"]
    front, _ = acme_secrets["storefront"]
    factory = RequestFactory()
    form = "application/x-www-form-urlencoded"
    grant = urlencode({"grant_type": "client_credentials", "client_id": key.client_id, "client_secret": secret})
    wrong = urlencode({"grant_type": "client_credentials", "client_id": key.client_id, "client_secret": "x" + secret})
    return {
        "token": lambda: factory.post("/oauth/token", grant, content_type=form).environ,
        "token, German browser with a session cookie": lambda: (
            factory.post(
                "/oauth/token",
                grant,
                content_type=form,
                HTTP_ACCEPT_LANGUAGE="de",
                HTTP_COOKIE="sessionid=abc; csrftoken=def",
            ).environ
        ),
        "wrong secret": lambda: factory.post("/oauth/token", wrong, content_type=form).environ,
        "no grant type": lambda: factory.post("/oauth/token", "", content_type=form).environ,
        "GET of the token endpoint": lambda: factory.get("/oauth/token").environ,
        "token with a trailing slash": lambda: factory.post("/oauth/token/", grant, content_type=form).environ,
        "unknown path": lambda: factory.get("/oauth/nothing-here").environ,
        "unknown path, HTML": lambda: factory.get("/oauth/nothing-here", HTTP_ACCEPT="text/html").environ,
        "metadata": lambda: factory.get("/.well-known/oauth-authorization-server").environ,
        "keys": lambda: factory.get("/.well-known/jwks.json").environ,
        "preflight": lambda: (
            factory.options(
                "/oauth/token",
                HTTP_ORIGIN=storefront_origin,
                HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST",
            ).environ
        ),
        "anonymous login": lambda: (
            factory.get("/customerlogin/auth/anonymous/login", {"tenant": "acme", "client_id": front.client_id}).environ
        ),
        "gateway without a token": lambda: (
            factory.get(
                "/gateway/nginx", HTTP_X_ORIGINAL_METHOD="GET", HTTP_X_ORIGINAL_URI="/customer/acme/customers"
            ).environ
        ),
        "a host not allowed": lambda: (
            factory.get("/.well-known/oauth-authorization-server", HTTP_HOST="evil.example").environ
        ),
    }


def test_the_lean_handler_answers_as_the_full_one(lanes, acme_secrets):
    for name, environ in _cases(acme_secrets, "https://shop.example").items():
        lean, full = served(lanes.lean, environ()), served(lanes.full, environ())
        assert lean == full, (name, set(lean[1]) ^ set(full[1]))


def test_the_lane_is_taken_for_the_machine_paths_only(lanes, monkeypatch):
    taken = []
    monkeypatch.setattr(lanes, "lean", lambda environ, start: taken.append(("lean", environ["PATH_INFO"])) or [])
    monkeypatch.setattr(lanes, "full", lambda environ, start: taken.append(("full", environ["PATH_INFO"])) or [])
    for path in ["/oauth/token", "/customerlogin/auth/anonymous/login", "/.well-known/jwks.json", "/gateway/nginx"]:
        lanes({"PATH_INFO": path}, None)
    for path in ["/", "/api/v1/keys/", "/accounts/login/", "/tenants/acme/api-keys/", "/metrics", "/oauthx"]:
        lanes({"PATH_INFO": path}, None)
    assert [lane for lane, _ in taken] == ["lean"] * 4 + ["full"] * 6


def test_the_lean_handler_leaves_out_the_page_only_middleware(lanes):
    assert set(settings.PAGE_ONLY_MIDDLEWARE) <= set(settings.MIDDLEWARE)
    assert lanes.lean._middleware == [m for m in settings.MIDDLEWARE if m not in settings.PAGE_ONLY_MIDDLEWARE]
    assert len(lanes.lean._middleware) == len(settings.MIDDLEWARE) - len(settings.PAGE_ONLY_MIDDLEWARE)


def test_it_can_be_turned_off(settings):
    full = WSGIHandler()
    settings.MACHINE_LANE = False
    assert application_with_lanes(full) is full
    settings.MACHINE_LANE = True
    assert isinstance(application_with_lanes(full), Lanes)


def test_a_page_only_middleware_that_is_not_installed_is_refused(settings):
    settings.PAGE_ONLY_MIDDLEWARE = [*settings.PAGE_ONLY_MIDDLEWARE, "no.such.Middleware"]
    with pytest.raises(ValueError, match=r"no\.such\.Middleware"):
        Lanes(WSGIHandler())

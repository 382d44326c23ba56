"""The token endpoint's fast lane (oauth/fastlane.py) answers exactly what Django answers: every
request of a matrix is served by the WSGI application with the lane on and with it off, each
time from the same fresh state (no rate-limit counts, usage or kept keys), and the two give the
same status, headers (but a generated X-Request-ID) and body (but the token itself, which is new
each time: its length and prefix are compared), the same usage counts, metrics and log records.
The lane must also really serve the plain requests itself, and leave every other to Django."""

import json
import logging
import re
from dataclasses import dataclass, field

import pytest
from django.core.cache import cache
from django.core.handlers.wsgi import WSGIHandler
from django.db import OperationalError
from django.test import RequestFactory
from django.utils import timezone

from apikeys.auth import kept_clear
from apikeys.services import key_rate_limit_set
from kernel import outages, ratelimit, usage
from kernel.lanes import application_with_lanes
from kernel.tests.lanes import Records, Served, environ_with, metric_samples, serve
from oauth import fastlane, services

from .conftest import basic

pytestmark = pytest.mark.django_db

METRICS = ("portal_http_requests", "portal_http_request_duration_seconds")
FORM = "application/x-www-form-urlencoded"
PLAIN = "grant_type=client_credentials"


@dataclass
class Ask:
    """One token request: whose credentials (a key of the test's, or None), the body, a literal
    Authorization header instead of the key's Basic one, more environ (None: no such key)."""

    key: str | None = "custom"
    secret: str | None = None  # instead of the key's
    body: str = PLAIN
    authorization: str | None = None
    environ: dict = field(default_factory=dict)
    laned: bool = False  # the lane (on) serves it without Django


class Unreadable:
    """A request body whose client went away."""

    def read(self, *_: object) -> bytes:
        raise OSError("the client closed the connection")

    readline = read


@pytest.fixture
def keys(custom, emporix, jwt_custom):
    return {"custom": custom, "emporix": emporix, "jwt": jwt_custom}


def lane_over_django() -> fastlane.TokenLane:
    """The lane over Django's handlers as portal/wsgi.py builds them, built now: the middleware
    read the settings once."""
    return fastlane.TokenLane(application_with_lanes(WSGIHandler()))


def environ_of(ask: Ask, keys_: dict) -> dict:
    headers = {"HTTP_HOST": "testserver"}
    if ask.authorization is not None:
        headers["HTTP_AUTHORIZATION"] = ask.authorization
    elif ask.key is not None:
        key, secret = keys_[ask.key]
        headers["HTTP_AUTHORIZATION"] = basic(key.client_id, ask.secret or secret)
    environ = RequestFactory().generic("POST", "/oauth/token", ask.body.encode(), content_type=FORM, **headers).environ
    return environ_with(environ, ask.environ)


@dataclass
class Run:
    served: list[Served]
    laned: list[bool]
    counts: dict[tuple, int]
    metrics: dict[tuple, float]
    records: list[tuple]


def run(asks: list[Ask], keys_: dict, settings, *, lane: bool) -> Run:
    """Serve `asks` in order from a fresh state, with the lane on or off; what came of it."""
    settings.TOKEN_FAST_LANE = lane
    cache.clear()
    ratelimit.forget()
    usage.forget()
    kept_clear()
    outages.report.reset()
    application = lane_over_django()
    before = metric_samples(METRICS)
    served, laned = [], []
    with Records() as handler:
        for ask in asks:
            environ = environ_of(ask, keys_)
            served.append(serve(application, environ))
            laned.append(environ.get(fastlane.ANSWERED_ENVIRON_KEY, False))
    after = metric_samples(METRICS)
    counts_, _ = usage.drain()
    counts: dict[tuple, int] = {}
    for counted, calls in counts_.items():  # the minute left out: a run may cross one
        counts[counted[1:]] = counts.get(counted[1:], 0) + calls
    return Run(
        served,
        laned,
        counts,
        {name: value - before.get(name, 0) for name, value in after.items() if value != before.get(name, 0)},
        handler.compared(),
    )


def shape(body: bytes) -> object:
    """The answer's JSON with its token replaced by the token's length and prefix."""
    try:
        answer = json.loads(body)
    except ValueError:
        return body
    if isinstance(answer, dict) and "access_token" in answer:
        token = answer["access_token"]
        answer["access_token"] = (len(token), token[:5])
    return answer


def header(name: str, value: str, id_given: bool) -> tuple[str, str]:
    """A header as compared: a generated request id, a new cookie's value and the seconds a
    refusal says to wait left out."""
    if name == "X-Request-ID" and not id_given:
        return name, "<generated>"
    if name == "Set-Cookie":
        return name, re.sub(r"=[^;]*", "=<value>", value, count=1)
    if name == "Retry-After":  # the seconds left of the window: the second run starts later
        assert 0 < int(value) <= 3600
        return name, "<seconds>"
    return name, value


def compared(run_: Run, id_given: bool) -> list[tuple]:
    return [
        (served.status, [header(n, v, id_given) for n, v in served.headers], shape(served.body))
        for served in run_.served
    ]


def assert_same(asks: list[Ask], keys_: dict, settings, *, id_given: bool = False) -> Run:
    on = run(asks, keys_, settings, lane=True)
    off = run(asks, keys_, settings, lane=False)
    assert compared(on, id_given) == compared(off, id_given)
    assert on.counts == off.counts
    assert on.metrics == off.metrics
    for each in (on, off):
        ids = [dict(s.headers).get("X-Request-ID") for s in each.served]
        assert {record[-1] for record in each.records} <= set(ids)
        assert len([r for r in each.records if r[0] == "portal.request"]) == len(asks)
    assert [record[:-1] for record in on.records] == [record[:-1] for record in off.records]
    # Which requests the lane served, and that with it off Django served every one.
    assert on.laned == [ask.laned for ask in asks]
    assert not any(off.laned)
    assert all(served.started == 1 for served in [*on.served, *off.served])
    return on


CASES = {
    "a custom key, full check then kept": [Ask(laned=True), Ask(laned=True)],
    "the Emporix API key": [Ask(key="emporix", laned=True), Ask(key="emporix", laned=True)],
    "a JWT key": [Ask(key="jwt", laned=True), Ask(key="jwt", laned=True)],
    "a scope asked for, with the tenant": [Ask(body=PLAIN + "&scope=tenant%3Dacme", laned=True)],
    "a scope the key lacks": [Ask(body=PLAIN + "&scope=nosuch.scope_read", laned=True)],
    "an empty scope": [Ask(body=PLAIN + "&scope=", laned=True)],
    "a wrong secret": [Ask(laned=True), Ask(secret="akps_" + "x" * 51, laned=True)],
    "an unknown Client ID": [Ask(authorization=basic("n" * 32, "akps_" + "x" * 51), laned=True)],
    "no grant_type": [Ask(body="scope=tenant%3Dacme", laned=True)],
    "another grant_type": [Ask(body="grant_type=password", laned=True)],
    "an empty body": [Ask(body="")],
    "malformed Basic": [Ask(authorization="Basic !!!")],
    "Basic without a secret": [Ask(authorization=basic("n" * 32, "")[:-2] + "==")],
    "another scheme": [Ask(authorization="Bearer abc")],
    "credentials in the body": [Ask(key=None, body=PLAIN + "&client_id=abc&client_secret=def")],
    "credentials in both": [Ask(body=PLAIN + "&client_secret=def")],
    "a repeated parameter": [Ask(body=PLAIN + "&grant_type=client_credentials")],
    "another parameter": [Ask(body=PLAIN + "&audience=x")],
    "a body that is not ASCII": [Ask(body=PLAIN + "&scope=caf\u00e9")],
    "an Origin": [Ask(environ={"HTTP_ORIGIN": "https://shop.example.com"})],
    "a cookie": [Ask(environ={"HTTP_COOKIE": "csrftoken=bad"})],
    "a query string": [Ask(environ={"QUERY_STRING": "client_id=abc"})],
    "a charset on the content type": [Ask(environ={"CONTENT_TYPE": FORM + "; charset=utf-8"})],
    "JSON": [Ask(environ={"CONTENT_TYPE": "application/json"})],
    "a Host not allowed": [Ask(environ={"HTTP_HOST": "evil.example.com"})],
    "no Host header": [Ask(environ={"HTTP_HOST": None}, laned=True)],
    "the trailing-slash alias": [Ask(environ={"PATH_INFO": "/oauth/token/"})],
    "GET": [Ask(environ={"REQUEST_METHOD": "GET"})],
    "a path under the script prefix": [Ask(environ={"SCRIPT_NAME": "/portal"})],
    "a body that cannot be read": [Ask(environ={"wsgi.input": Unreadable()})],
}


@pytest.mark.parametrize("case", CASES)
def test_the_lane_answers_as_django_does(case, keys, settings, no_connection_closing):
    assert_same(CASES[case], keys, settings)


def test_a_key_past_its_rate_limit_gets_the_same_429(keys, custom, settings, no_connection_closing):
    key_rate_limit_set(key=custom[0], limit=2, period="minute")
    on = assert_same([Ask(laned=True)] * 4, keys, settings)
    assert [served.status for served in on.served] == ["200 OK", "200 OK", *["429 Too Many Requests"] * 2]
    assert "Retry-After" in dict(on.served[2].headers)


def test_a_disabled_key_is_refused_alike(keys, custom, settings, no_connection_closing):
    key = custom[0]
    key.disabled_at = timezone.now()
    key.save(update_fields=["disabled_at"])
    on = assert_same([Ask(laned=True)], keys, settings)
    assert on.served[0].status.startswith("401")


def test_a_trusted_request_id_and_client_address_are_the_proxys(keys, settings, no_connection_closing):
    settings.TRUSTED_PROXY_HEADER = "X-Forwarded-For"
    given = {"HTTP_X_REQUEST_ID": "0123456789abcdef", "HTTP_X_FORWARDED_FOR": "198.51.100.7, 203.0.113.9"}
    on = assert_same([Ask(environ=given, laned=True)], keys, settings, id_given=True)
    assert dict(on.served[0].headers)["X-Request-ID"] == "0123456789abcdef"


def test_https_behind_a_proxy_with_hsts(keys, settings, no_connection_closing):
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    settings.SECURE_HSTS_SECONDS = 31536000
    on = assert_same(
        [Ask(environ={"HTTP_X_FORWARDED_PROTO": "https"}, laned=True), Ask(environ={"HTTP_X_FORWARDED_PROTO": "http"})],
        keys,
        settings,
    )
    assert dict(on.served[0].headers)["Strict-Transport-Security"] == "max-age=31536000"
    assert on.served[1].status.startswith("400")


def test_an_error_of_the_service_is_djangos_to_answer_and_the_service_runs_once(
    keys, settings, monkeypatch, no_connection_closing
):
    """The database fails under the lane: the view raises the lane's error where it would have
    met its own, so the answer is the same 503, and the service was called once."""
    calls = []

    def down(**_: object):
        calls.append(1)
        raise OperationalError("the database is down")

    monkeypatch.setattr(services, "client_authenticate", down)
    on = run([Ask()], keys, settings, lane=True)
    assert len(calls) == 1
    off = run([Ask()], keys, settings, lane=False)
    assert compared(on, False) == compared(off, False)
    assert on.served[0].status.startswith("503")
    assert on.laned == [False]
    assert [record[:-1] for record in on.records] == [record[:-1] for record in off.records]
    assert on.metrics == off.metrics
    # The lane's request_started, then Django's: the request kept its id.
    assert on.served[0].started == 2
    assert {record[-1] for record in on.records} == {dict(on.served[0].headers)["X-Request-ID"]}


def test_off_every_request_goes_through_django(keys, settings, no_connection_closing):
    settings.TOKEN_FAST_LANE = False
    environ = environ_of(Ask(), keys)
    served = serve(lane_over_django(), environ)
    assert served.status == "200 OK" and fastlane.ANSWERED_ENVIRON_KEY not in environ


def test_another_middleware_list_turns_the_lane_off(keys, settings, no_connection_closing):
    settings.MIDDLEWARE = [*settings.MIDDLEWARE, "django.middleware.gzip.GZipMiddleware"]
    environ = environ_of(Ask(), keys)
    served = serve(lane_over_django(), environ)
    assert served.status == "200 OK" and fastlane.ANSWERED_ENVIRON_KEY not in environ


def test_the_served_application_has_the_lane():
    from portal.wsgi import application

    assert isinstance(application.application, fastlane.TokenLane)


def test_no_secret_or_token_reaches_a_log_line(keys, custom, settings, no_connection_closing, caplog):
    environ = environ_of(Ask(), keys)
    with caplog.at_level(logging.DEBUG):
        served = serve(lane_over_django(), environ)
    assert environ[fastlane.ANSWERED_ENVIRON_KEY]
    assert caplog.records
    assert custom[1] not in caplog.text
    assert json.loads(served.body)["access_token"] not in caplog.text

"""The gateway check's fast lane (gateway/fastlane.py) answers exactly what Django answers:
every request of a matrix is served by the WSGI application with the lane on and with it off,
each time from the same fresh state, and the two give the same status, body and headers (but a
generated X-Request-ID), the same usage counts, metrics and log records. The lane must also
really answer the cached allows itself: Django's request_started is counted."""

import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from urllib.parse import quote

import pytest
from django.core.cache import cache
from django.core.handlers.wsgi import WSGIHandler
from django.test import RequestFactory

from apikeys.services import key_rate_limit_set
from gateway import fastlane
from gateway.decisions import grant_for, tokens
from kernel import ratelimit, usage
from kernel.tests.lanes import Records, Served, environ_with, metric_samples, serve

pytestmark = pytest.mark.django_db

ROUTE = "/customer/acme/customers"
METRICS = ("portal_http_requests", "portal_gateway_decisions", "portal_http_request_duration_seconds")


@dataclass
class Ask:
    """One request: the gateway endpoint, the original method and URI, the token, more environ."""

    uri: str = ROUTE
    method: str = "GET"
    token: str | None = "reader"  # a name of the test's tokens, or a literal Authorization value
    endpoint: str = "nginx"
    cached: bool = True  # the token's grant is put in the cache before the case starts
    environ: dict = field(default_factory=dict)
    laned: bool = False  # the lane (on) answers it without Django


@pytest.fixture
def tokens_of(mint, reader):
    key, secret = reader
    return {"reader": mint(key, secret)}


def environ_of(ask: Ask, tokens_by_name: dict[str, str]) -> dict:
    headers = {"HTTP_HOST": "testserver"}
    if ask.token is not None:
        token = tokens_by_name.get(ask.token, ask.token)
        headers["HTTP_AUTHORIZATION"] = token if token.startswith("Bearer ") else f"Bearer {token}"
    if ask.endpoint == "nginx":
        path = "/gateway/nginx"
        headers.update(HTTP_X_ORIGINAL_METHOD=ask.method, HTTP_X_ORIGINAL_URI=ask.uri)
        method = "GET"
    elif ask.endpoint == "traefik":
        path = "/gateway/traefik"
        headers.update(HTTP_X_FORWARDED_METHOD=ask.method, HTTP_X_FORWARDED_URI=ask.uri)
        method = "GET"
    else:
        path = "/gateway/envoy" + ask.uri
        method = ask.method
    environ = RequestFactory().generic(method, quote(path, safe="/%"), **headers).environ
    if ask.endpoint == "envoy":
        environ["RAW_URI"] = "/gateway/envoy" + ask.uri
    return environ_with(environ, ask.environ)


@dataclass
class Run:
    served: list[Served]
    counts: dict[tuple, int]
    seen: dict[int, str]
    metrics: dict[tuple, float]
    records: list[tuple]


def run(asks: list[Ask], tokens_by_name: dict[str, str], settings, *, lane: bool) -> Run:
    """Serve `asks` in order from a fresh state (no cached grant but the asks', no rate-limit
    counts, no usage), with the lane on or off; what came of it."""
    settings.GATEWAY_FAST_LANE = lane
    tokens.clear()
    cache.clear()
    ratelimit.forget()
    usage.forget()
    firsts = {}
    for ask in asks:  # a token's first ask says whether its grant is cached at the start
        firsts.setdefault(ask.token, ask)
    for name, first in firsts.items():
        if first.cached and name in tokens_by_name:
            assert grant_for(tokens_by_name[name]) is not None
    application = fastlane.FastLane(WSGIHandler())  # built now: middleware read settings once
    before = metric_samples(METRICS)
    with Records() as handler:
        served = [serve(application, environ_of(ask, tokens_by_name)) for ask in asks]
    after = metric_samples(METRICS)
    counts_, seen_ = usage.drain()
    counts: dict[tuple, int] = {}
    for counted, calls in counts_.items():  # the minute left out: a run may cross one
        counts[counted[1:]] = counts.get(counted[1:], 0) + calls
    records = handler.compared()
    return Run(
        served,
        counts,
        {key_id: seen.network for key_id, seen in seen_.items()},
        {name: value - before.get(name, 0) for name, value in after.items() if value != before.get(name, 0)},
        records,
    )


def without_generated_ids(run_: Run, given: bool) -> Iterator[tuple]:
    for served in run_.served:
        # A generated request id, and the seconds left of a rate-limit window (the second run
        # starts later), are left out.
        headers = [
            (n, "<generated>" if n == "X-Request-ID" and not given else "<seconds>" if n == "Retry-After" else v)
            for n, v in served.headers
        ]
        yield served.status, headers, served.body


def assert_same(asks: list[Ask], tokens_by_name: dict[str, str], settings, *, id_given: bool = False) -> Run:
    on = run(asks, tokens_by_name, settings, lane=True)
    off = run(asks, tokens_by_name, settings, lane=False)
    assert list(without_generated_ids(on, id_given)) == list(without_generated_ids(off, id_given))
    assert on.counts == off.counts
    assert on.seen == off.seen
    assert on.metrics == off.metrics
    # The request ids the records carry are each request's own (X-Request-ID) in both runs.
    for each in (on, off):
        ids = [dict(s.headers).get("X-Request-ID") for s in each.served]
        assert {record[-1] for record in each.records} <= set(ids)
        assert len([r for r in each.records if r[0] == "portal.request"]) == len(asks)
    strip = [record[:-1] for record in on.records], [record[:-1] for record in off.records]
    assert strip[0] == strip[1]
    # Which requests the lane answered without Django, and that Django served every one when off.
    assert [served.started == 0 for served in on.served] == [ask.laned for ask in asks]
    assert all(served.started == 1 for served in off.served)
    return on


CASES = {
    "cached allow, nginx": [Ask(laned=True)],
    "cached allow, traefik": [Ask(endpoint="traefik", laned=True)],
    "cached allow, envoy": [Ask(endpoint="envoy", laned=True)],
    "cached allow, HEAD asked of the check": [Ask(laned=True, environ={"REQUEST_METHOD": "HEAD"})],
    "cache miss first, then cached": [Ask(cached=False), Ask(laned=True)],
    "another tenant's path": [Ask(uri="/customer/globex/customers")],
    "a missing scope": [Ask(method="POST")],
    "an unknown route": [Ask(uri="/nothing/here")],
    "a disguised route": [Ask(uri="/Customer/acme/customers")],
    "no token": [Ask(token=None)],
    "a bad token": [Ask(token="akpt_" + "x" * 43)],
    "a malformed Authorization header": [Ask(token="Bearer two words")],
    "another scheme": [Ask(token="Basic dXNlcjpwYXNz")],
    "no original URI": [Ask(environ={"HTTP_X_ORIGINAL_URI": ""})],
    "a Host not allowed": [Ask(environ={"HTTP_HOST": "evil.example.com"})],
    "a Host with a port": [Ask(environ={"HTTP_HOST": "testserver:8000"}, laned=True)],
    "no Host header": [Ask(environ={"HTTP_HOST": None}, laned=True)],
    "no Host header, a server name not allowed": [Ask(environ={"HTTP_HOST": None, "SERVER_NAME": "evil.example.com"})],
    "a control character in Envoy's path": [Ask(endpoint="envoy", uri="/customer/acme/%00")],
    "Envoy's path with a query": [Ask(endpoint="envoy", uri=ROUTE + "?page=2", laned=True)],
    "a path under the script prefix": [Ask(environ={"SCRIPT_NAME": "/portal"})],
    "a longer path than the check's": [Ask(environ={"PATH_INFO": "/gateway/nginx/x"})],
}


@pytest.mark.parametrize("case", CASES)
def test_the_lane_answers_as_django_does(case, tokens_of, settings, no_connection_closing):
    assert_same(CASES[case], tokens_of, settings)


def test_a_key_past_its_rate_limit_gets_the_same_429_once_counted(tokens_of, reader, settings, no_connection_closing):
    key, _ = reader
    key_rate_limit_set(key=key, limit=2, period="minute")
    # The cached grant carries the limit its token was verified with: grant_for runs per run.
    on = assert_same([Ask(laned=True), Ask(laned=True), Ask(), Ask()], tokens_of, settings)
    assert [served.status for served in on.served] == ["200 OK", "200 OK", *["429 Too Many Requests"] * 2]
    # The 429 Django answered carries the id the lane gave the request, in its header and log.
    assert on.records[2][-1] == dict(on.served[2].headers)["X-Request-ID"]


def test_a_trusted_request_id_and_client_address_are_the_proxys(tokens_of, settings, no_connection_closing):
    settings.TRUSTED_PROXY_HEADER = "X-Forwarded-For"
    given = {"HTTP_X_REQUEST_ID": "0123456789abcdef", "HTTP_X_FORWARDED_FOR": "198.51.100.7, 203.0.113.9"}
    on = assert_same([Ask(environ=given, laned=True)], tokens_of, settings, id_given=True)
    assert dict(on.served[0].headers)["X-Request-ID"] == "0123456789abcdef"
    assert list(on.seen.values()) == ["203.0.113.0/24"]


def test_a_path_under_a_passthrough_prefix(tokens_of, settings, no_connection_closing):
    settings.GATEWAY_PASSTHROUGH_PREFIXES = ("/my-api",)
    assert_same(
        [Ask(uri="/my-api/anything", laned=True), Ask(uri="/my-api", method="DELETE", laned=True)],
        tokens_of,
        settings,
    )


def test_plain_http_where_https_is_required_is_left_to_django(tokens_of, settings, no_connection_closing):
    settings.SECURE_SSL_REDIRECT = True
    on = assert_same([Ask()], tokens_of, settings)
    assert on.served[0].status.startswith("400")


def test_https_behind_a_proxy_with_hsts(tokens_of, settings, no_connection_closing):
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    settings.SECURE_HSTS_SECONDS = 31536000
    settings.SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    on = assert_same(
        [Ask(environ={"HTTP_X_FORWARDED_PROTO": "https"}, laned=True), Ask(environ={"HTTP_X_FORWARDED_PROTO": "http"})],
        tokens_of,
        settings,
    )
    assert dict(on.served[0].headers)["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"


def test_off_every_check_goes_through_django(tokens_of, settings, no_connection_closing):
    settings.GATEWAY_FAST_LANE = False
    grant_for(tokens_of["reader"])
    served = serve(fastlane.FastLane(WSGIHandler()), environ_of(Ask(), tokens_of))
    assert served.status == "200 OK" and served.started == 1


def test_another_middleware_list_turns_the_lane_off(tokens_of, settings, no_connection_closing):
    settings.MIDDLEWARE = [*settings.MIDDLEWARE, "django.middleware.gzip.GZipMiddleware"]
    grant_for(tokens_of["reader"])
    served = serve(fastlane.FastLane(WSGIHandler()), environ_of(Ask(), tokens_of))
    assert served.status == "200 OK" and served.started == 1


def test_the_served_application_has_the_lane():
    from portal.wsgi import application

    assert isinstance(application, fastlane.FastLane)


def test_the_token_never_reaches_a_log_line(tokens_of, settings, no_connection_closing, caplog):
    grant_for(tokens_of["reader"])
    with caplog.at_level(logging.DEBUG):
        serve(fastlane.FastLane(WSGIHandler()), environ_of(Ask(), tokens_of))
    assert caplog.records
    assert tokens_of["reader"] not in caplog.text

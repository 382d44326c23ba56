"""The operators' /metrics (kernel/metrics.py, docs/metrics.md), in this process: who may read
it, that its counters move with real token requests, gateway checks and API calls, that no
series is made per key or tenant, and what a scrape costs. The multiprocess mode under gunicorn
and a real Prometheus: test_metrics_served.py."""

import os
from pathlib import Path
from urllib.parse import urlencode

import pytest
from prometheus_client.parser import text_string_to_metric_families

from apikeys.services import key_create
from kernel import metricsdir
from scopes.models import Scope
from tenants.services import tenant_create

pytestmark = pytest.mark.django_db

TOKEN = "metrics-test-token-0123456789abcdef"


def scrape(client, **extra) -> dict[tuple[str, tuple], float]:
    """{(sample name, sorted labels): value} of one loopback scrape."""
    response = client.get("/metrics", **extra)
    assert response.status_code == 200, response.status_code
    assert response["Content-Type"].startswith("text/plain; version=")
    return samples(response.content.decode())


def samples(text: str) -> dict[tuple[str, tuple], float]:
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(scraped: dict, name: str, **labels: str) -> float:
    return scraped.get((name, tuple(sorted(labels.items()))), 0.0)


def token_request(client, key, secret: str):
    body = urlencode({"grant_type": "client_credentials", "client_id": key.client_id, "client_secret": secret})
    return client.post("/oauth/token", body, content_type="application/x-www-form-urlencoded")


def gateway_check(client, uri: str, token: str | None = None):
    headers = {"HTTP_X_ORIGINAL_METHOD": "GET", "HTTP_X_ORIGINAL_URI": uri}
    if token is not None:
        headers["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    return client.get("/gateway/nginx", **headers)


# --- Access -----------------------------------------------------------------------------------


def test_a_loopback_client_reads_it_without_logging_in_and_gets_no_session(client):
    response = client.get("/metrics", REMOTE_ADDR="127.0.0.1")
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    assert not response.cookies  # no session, no CSRF cookie
    assert b"# TYPE portal_http_requests_total counter" in response.content


@pytest.mark.parametrize("address", ["127.0.0.2", "::1", "::ffff:127.0.0.1"])
def test_every_loopback_address_is_let_in(client, address):
    assert client.get("/metrics", REMOTE_ADDR=address).status_code == 200


@pytest.mark.parametrize("address", ["192.0.2.7", "10.0.0.1", "fd00::2", "::ffff:192.0.2.7", ""])
def test_another_address_gets_the_portals_404(client, address):
    response = client.get("/metrics", REMOTE_ADDR=address)
    assert response.status_code == 404
    assert b"portal_" not in response.content
    assert response.content == client.get("/no-such-page").content  # as for a page that does not exist


@pytest.mark.parametrize("header", ["HTTP_X_FORWARDED_FOR", "HTTP_X_REAL_IP", "HTTP_FORWARDED"])
def test_a_request_a_proxy_relayed_is_not_a_loopback_client(client, header):
    """nginx on this host is the peer of everything it relays (deploy/nginx/ adds X-Forwarded-For)."""
    assert client.get("/metrics", REMOTE_ADDR="127.0.0.1", **{header: "192.0.2.7"}).status_code == 404


def test_the_trusted_proxy_header_counts_as_relayed_too(client, settings):
    settings.TRUSTED_PROXY_HEADER = "X-Client-Address"
    assert client.get("/metrics", REMOTE_ADDR="127.0.0.1", HTTP_X_CLIENT_ADDRESS="192.0.2.7").status_code == 404


def test_the_bearer_token_lets_in_any_address(client, settings):
    settings.METRICS_TOKEN = TOKEN
    response = client.get("/metrics", REMOTE_ADDR="192.0.2.7", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert response.status_code == 200
    assert b"portal_http_requests_total" in response.content


@pytest.mark.parametrize(
    "authorization",
    [
        f"Bearer {TOKEN}x",
        f"Bearer {TOKEN[:-1]}",
        "Bearer ",
        "Bearer",
        f"Basic {TOKEN}",
        TOKEN,
        f"Bearer {TOKEN.upper()}",
    ],
)
def test_a_wrong_token_is_refused_even_from_loopback(client, settings, authorization):
    settings.METRICS_TOKEN = TOKEN
    assert client.get("/metrics", REMOTE_ADDR="192.0.2.7", HTTP_AUTHORIZATION=authorization).status_code == 404
    assert client.get("/metrics", REMOTE_ADDR="127.0.0.1", HTTP_AUTHORIZATION=authorization).status_code == 404


def test_without_a_token_configured_no_token_opens_it(client, settings):
    settings.METRICS_TOKEN = ""
    assert client.get("/metrics", REMOTE_ADDR="192.0.2.7", HTTP_AUTHORIZATION="Bearer ").status_code == 404
    assert client.get("/metrics", REMOTE_ADDR="192.0.2.7", HTTP_AUTHORIZATION="Bearer x").status_code == 404


def test_where_https_is_required_the_token_counts_only_over_https(client, settings):
    settings.SECURE_SSL_REDIRECT = True
    settings.METRICS_TOKEN = TOKEN
    bearer = {"REMOTE_ADDR": "192.0.2.7", "HTTP_AUTHORIZATION": f"Bearer {TOKEN}"}
    assert client.get("/metrics", **bearer).status_code == 404  # the token crossed in clear
    assert client.get("/metrics", secure=True, **bearer).status_code == 200
    # Prometheus on this host scrapes over plain HTTP: not redirected.
    assert client.get("/metrics", REMOTE_ADDR="127.0.0.1").status_code == 200


def test_only_get_and_head(client):
    assert client.head("/metrics", REMOTE_ADDR="127.0.0.1").status_code == 200
    assert client.post("/metrics", REMOTE_ADDR="127.0.0.1").status_code == 405
    assert client.post("/metrics", REMOTE_ADDR="192.0.2.7").status_code == 404  # nothing revealed


def test_the_request_log_has_no_token_and_scrapes_are_debug(client, settings, caplog):
    settings.METRICS_TOKEN = TOKEN
    with caplog.at_level("DEBUG", logger="portal.request"):
        client.get("/metrics", REMOTE_ADDR="192.0.2.7", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    (record,) = [r for r in caplog.records if r.name == "portal.request"]
    assert record.levelname == "DEBUG"
    assert TOKEN not in caplog.text


# --- What is counted --------------------------------------------------------------------------


def test_token_requests_gateway_decisions_and_api_calls_move_the_counters(client, acme_secrets, catalogue):
    key, secret = acme_secrets["emporix"]
    before = scrape(client)
    issued = [token_request(client, key, secret) for _ in range(3)]
    assert all(response.status_code == 200 for response in issued)
    assert token_request(client, key, "wrong").status_code == 401
    token = issued[0].json()["access_token"]
    assert gateway_check(client, "/customer/acme/customers", token).status_code == 200
    assert gateway_check(client, "/customer/acme/customers", token).status_code == 200
    assert gateway_check(client, "/customer/acme/customers").status_code == 401
    assert gateway_check(client, "/customer/globex/customers", token).status_code == 403
    assert gateway_check(client, "/no/such/api", token).status_code == 404
    assert client.get("/api/v1/keys/", HTTP_AUTHORIZATION="Bearer nope").status_code == 401
    after = scrape(client)

    def grew(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    token_route = {"component": "token", "route": "oauth:token"}
    assert grew("portal_http_requests_total", **token_route, status="200") == 3
    assert grew("portal_http_requests_total", **token_route, status="401") == 1
    assert grew("portal_http_request_duration_seconds_count", **token_route) == 4
    assert grew("portal_http_request_duration_seconds_sum", **token_route) > 0
    assert grew("portal_http_request_duration_seconds_bucket", **token_route, le="+Inf") == 4
    nginx = {"component": "gateway", "route": "gateway:nginx"}
    assert grew("portal_http_requests_total", **nginx, status="200") == 2
    assert grew("portal_gateway_decisions_total", outcome="allowed") == 2
    assert grew("portal_gateway_decisions_total", outcome="unauthenticated") == 1
    assert grew("portal_gateway_decisions_total", outcome="forbidden") == 1
    assert grew("portal_gateway_decisions_total", outcome="unknown_route") == 1
    assert grew("portal_http_requests_total", component="api", route="api:keys", status="401") == 1


def test_a_trailing_slash_alias_counts_with_its_named_route_and_an_unknown_path_as_unmatched(client):
    before = scrape(client)
    client.post("/oauth/token/", "grant_type=nothing", content_type="application/x-www-form-urlencoded")
    client.get("/api/v1/no-such-thing/")
    after = scrape(client)
    labels = {"component": "token", "route": "oauth:token", "status": "400"}
    assert (
        value(after, "portal_http_requests_total", **labels) - value(before, "portal_http_requests_total", **labels)
        == 1
    )
    catch_all = {"component": "api", "route": "api:not_found", "status": "404"}
    assert (
        value(after, "portal_http_requests_total", **catch_all)
        == value(before, "portal_http_requests_total", **catch_all) + 1
    )


def test_the_database_pool_is_reported(client, settings):
    scraped = scrape(client)
    if "pool" not in settings.DATABASES["default"].get("OPTIONS", {}):
        pytest.skip("no connection pool on this database (SQLite, or DATABASE_POOL_MAX_SIZE=0)")
    assert value(scraped, "portal_db_pool_max_connections", alias="default") == settings.DATABASE_POOL_MAX_SIZE
    assert value(scraped, "portal_db_pool_connections", alias="default") >= 1
    assert value(scraped, "portal_db_pool_requests_total", alias="default") >= 1


def test_the_series_do_not_grow_with_keys_and_tenants(client, acme, acme_secrets, charlie, catalogue):
    """The same traffic from more keys of more tenants makes no new series: no label holds a
    key, a client id, a token or a tenant."""

    def traffic(key, secret: str, tenant: str) -> list[str]:
        response = token_request(client, key, secret)
        assert response.status_code == 200
        token = response.json()["access_token"]
        assert token_request(client, key, secret + "x").status_code == 401
        assert gateway_check(client, f"/customer/{tenant}/customers", token).status_code == 200
        assert gateway_check(client, "/customer/zzother/customers", token).status_code == 403
        assert client.get("/api/v1/keys/", HTTP_AUTHORIZATION=f"Bearer {token}").status_code in (401, 403)
        return [key.client_id, token, secret, tenant]

    emporix, secret = acme_secrets["emporix"]
    said = traffic(emporix, secret, "acme")
    series = set(scrape(client))
    globex, keys = tenant_create(code="globex", name="Globex", creator=charlie)
    reader = Scope.objects.filter(name="customer.customer_read")
    others = [
        *[(key, secret, "globex") for key, secret in keys if key.kind == "emporix"],
        *[(*key_create(tenant=acme, kind="custom", name=f"Reader {n}", scopes=reader), "acme") for n in range(3)],
        *[(*key_create(tenant=globex, kind="custom", name=f"Reader {n}", scopes=reader), "globex") for n in range(3)],
    ]
    for key, secret, tenant in others:
        said += traffic(key, secret, tenant)
    text = client.get("/metrics").content.decode()
    assert set(samples(text)) == series
    for word in said:
        assert word not in text


def test_a_scrape_costs_the_webhook_queues_two_queries(client, django_assert_num_queries):
    client.get("/metrics")  # the pool, if any, opened
    with django_assert_num_queries(2):
        scrape(client)


# --- The workers' directory (gunicorn.conf.py) --------------------------------------------------


def test_each_server_start_gets_a_fresh_directory_removed_at_exit(monkeypatch):
    monkeypatch.setenv(metricsdir.VARIABLE, "")  # so that the variable prepare() sets goes afterwards
    monkeypatch.delenv(metricsdir.VARIABLE)
    made = metricsdir.prepare()
    assert made is not None and os.environ[metricsdir.VARIABLE] == made
    assert Path(made).is_dir() and not any(Path(made).iterdir())
    metricsdir.remove(made)
    assert not Path(made).exists()


def test_the_operators_directory_is_emptied_of_an_earlier_runs_values_and_kept(monkeypatch, tmp_path):
    (tmp_path / "counter_4242.db").write_bytes(b"an earlier run")
    (tmp_path / "README").write_text("not ours")
    monkeypatch.setenv(metricsdir.VARIABLE, str(tmp_path))
    assert metricsdir.prepare() is None
    assert sorted(path.name for path in tmp_path.iterdir()) == ["README"]

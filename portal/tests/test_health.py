"""/healthz and /readyz in each state but the database being down (that one is in
test_database_outage.py, with a real outage): public, JSON, never cached, cheap, and logged at
most once per interval when something is wrong."""

import logging
import re

import pytest

from kernel import health, outages

from .conftest import free_port

OTHER_MATERIAL = "test1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="
UNRELATED_KEY = "other:9Nf0cS4aYV9V7lQ4w3bq0wqvEx0nq2Ff8a3sOq0kq7M="


@pytest.fixture(autouse=True)
def _fresh_verdicts():
    health.keys_verdict_forget()
    outages.report.reset()
    yield
    health.keys_verdict_forget()
    outages.report.reset()


def _no_store(response) -> bool:
    return "no-store" in response["Cache-Control"]


def test_healthz_answers_without_login_or_database(client):
    # No django_db mark: a query would raise.
    response = client.get("/healthz")
    assert response.status_code == 200 and response.json() == {"status": "ok"}
    assert _no_store(response)
    assert client.head("/healthz").status_code == 200
    assert client.post("/healthz").status_code == 405


@pytest.mark.django_db
def test_readyz_is_ok_with_database_cache_and_keys(
    client, acme, django_assert_max_num_queries, django_assert_num_queries
):
    with django_assert_max_num_queries(4):  # SELECT 1, then the canaries (once a minute)
        response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": {"database": "ok", "cache": "ok", "encryption_keys": "ok"}}
    assert _no_store(response)
    for _ in range(30):  # probes are not rate limited
        with django_assert_num_queries(1):  # SELECT 1: the keys' verdict is kept
            assert client.get("/readyz").status_code == 200


@pytest.mark.django_db
def test_readyz_is_degraded_but_200_while_the_cache_is_down(client, acme, settings, caplog):
    # Nothing listens on that port: every cache call fails, as with Redis stopped.
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{free_port()}/0",
        }
    }
    caplog.set_level(logging.INFO)
    for _ in range(3):
        response = client.get("/readyz")
        assert response.status_code == 200
        assert response.json() == {
            "status": "degraded",
            "checks": {"database": "ok", "cache": "unavailable", "encryption_keys": "ok"},
        }
    # One report for the three probes, naming the cache as what failed and why. Not the exception
    # class: that is the Redis client's to choose (redis-py 8 says ConnectionRefusedError where 5
    # said ConnectionError).
    reports = [r.getMessage() for r in caplog.records if r.name == "kernel.outages"]
    assert len(reports) == 1 and re.match(r"cache unavailable: \w+: \S", reports[0]), reports
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR and r.name != "kernel.outages"]


@pytest.mark.django_db
@pytest.mark.parametrize("keys", [OTHER_MATERIAL, UNRELATED_KEY], ids=["wrong material", "unrelated key"])
def test_readyz_is_503_while_the_encryption_key_is_wrong(client, acme, settings, caplog, keys):
    settings.PORTAL_ENCRYPTION_KEYS = keys
    response = client.get("/readyz")
    assert response.status_code == 503 and response["Retry-After"]
    assert response.json() == {
        "status": "unavailable",
        "checks": {"database": "ok", "cache": "ok", "encryption_keys": "wrong"},
    }
    assert _no_store(response)
    assert not [r for r in caplog.records if r.name == "django.request"]  # no error line per probe

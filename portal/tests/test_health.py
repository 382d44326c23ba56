"""/healthz and /readyz in each state but the database being down (that one is in
test_database_outage.py, with a real outage): public, JSON, never cached, cheap, and logged at
most once per interval when something is wrong."""

import base64
import logging
import re

import pytest
from django.utils import timezone

from conftest import give_totp
from kernel import canary, health, outages
from oauth.signing import signing_key_active, signing_keys_rotate
from webhooks.services import endpoint_create

from .conftest import free_port

OTHER_MATERIAL = "test1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="
UNRELATED_KEY = "other:9Nf0cS4aYV9V7lQ4w3bq0wqvEx0nq2Ff8a3sOq0kq7M="
READY = {"database": "ok", "cache": "ok", "encryption_keys": "ok", "jwt_signing_key": "ok"}


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
    # SELECT 1, then once a minute the canaries, each sealed store's count per key id (client
    # secrets, second factors, JWT signing keys, webhook secrets, SSO client secrets), and the
    # active JWT signing key: a query each, however much is stored.
    with django_assert_max_num_queries(8):
        response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": READY}
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
            "checks": {**READY, "cache": "unavailable"},
        }
    # One report for the three probes, naming the cache as what failed and why. Not the exception
    # class: that is the Redis client's to choose (redis-py 8 says ConnectionRefusedError where 5
    # said ConnectionError).
    reports = [r.getMessage() for r in caplog.records if r.name == "kernel.outages"]
    assert len(reports) == 1 and re.match(r"cache unavailable: \w+: \S", reports[0]), reports
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR and r.name != "kernel.outages"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("keys", "reason"),
    [
        (OTHER_MATERIAL, "encryption key 'test1' is not the key this database knows by that id"),
        (UNRELATED_KEY, "encryption key 'test1' is not configured here; stored under it: 2 client secret(s)"),
    ],
    ids=["wrong material", "unrelated key"],
)
def test_readyz_is_503_while_the_encryption_key_is_wrong(client, acme, settings, caplog, keys, reason):
    settings.PORTAL_ENCRYPTION_KEYS = keys
    response = client.get("/readyz")
    assert response.status_code == 503 and response["Retry-After"]
    assert response.json() == {
        "status": "unavailable",
        "checks": {**READY, "encryption_keys": "wrong"},
        "reasons": [reason, "none of the configured encryption keys opens what this database stores"],
    }
    assert _no_store(response)
    assert not [r for r in caplog.records if r.name == "django.request"]  # no error line per probe


# --- Readiness means ready: what is stored can be read here -----------------------------------

TEST_KEY = "test1:9Nf0cS4aYV9V7lQ4w3bq0wqvEx0nq2Ff8a3sOq0kq7M="
NEW_KEY = "new2:" + base64.b64encode(b"N" * 32).decode()
OTHER_MATERIAL_BYTES = base64.b64encode(b"W" * 32).decode()


@pytest.fixture
def sealed_everywhere(acme, alice):
    """A value in every sealed store, under the tests' key test1: acme's client secrets, a
    webhook signing secret, alice's authenticator app and the active JWT signing key."""
    endpoint_create(tenant=acme, url="https://hooks.example.com/portal", event_types=["key.renewed"])
    give_totp(alice)
    return signing_key_active(timezone.now())


@pytest.mark.django_db
def test_readyz_is_ok_when_every_store_is_readable(client, sealed_everywhere):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": READY}


@pytest.mark.django_db
def test_readyz_is_503_naming_a_key_that_stored_values_need(client, settings, sealed_everywhere):
    # The new key is known to the database (it has its canary), but the instance was given it
    # alone: everything stored under test1 is out of its reach, and a reveal would fail.
    settings.PORTAL_ENCRYPTION_KEYS = f"{TEST_KEY},{NEW_KEY}"
    canary.canaries_ensure()
    settings.PORTAL_ENCRYPTION_KEYS = NEW_KEY
    response = client.get("/readyz")
    assert response.status_code == 503 and response["Retry-After"] == "5"
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["checks"] == {**READY, "encryption_keys": "wrong", "jwt_signing_key": "failed"}
    kid = sealed_everywhere.kid
    assert body["reasons"] == [
        "encryption key 'test1' is not configured here; stored under it: 2 client secret(s), "
        "1 second factor(s), 1 signing key(s), 1 webhook signing secret(s)",
        f"the JWT signing key {kid!r} cannot be decrypted here (it is sealed under encryption key 'test1')",
    ]
    assert TEST_KEY.split(":")[1] not in response.content.decode()  # never the material


@pytest.mark.django_db
def test_readyz_is_503_when_the_jwt_signing_key_does_not_decrypt_here(client, settings, acme):
    # Sealed under an id this instance has, with other material (another deployment's key of
    # the same name): the canary and the client secrets open, the signing key does not.
    settings.PORTAL_ENCRYPTION_KEYS = f"test1:{OTHER_MATERIAL_BYTES}"
    kid = signing_key_active(timezone.now()).kid
    settings.PORTAL_ENCRYPTION_KEYS = TEST_KEY
    response = client.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["checks"] == {**READY, "jwt_signing_key": "failed"}
    assert body["reasons"] == [
        f"the JWT signing key {kid!r} cannot be decrypted here (it is sealed under encryption key 'test1')"
    ]
    assert OTHER_MATERIAL_BYTES not in response.content.decode()
    # Readable again (the key rotated to one sealed here): ready at the next recheck.
    signing_keys_rotate(now=timezone.now(), force=True)
    health.keys_verdict_forget()
    assert client.get("/readyz").json() == {"status": "ok", "checks": READY}


@pytest.mark.django_db
def test_a_registered_check_that_breaks_is_not_ready(client, acme, monkeypatch, caplog):
    def broken() -> str | None:
        raise RuntimeError("no")

    monkeypatch.setitem(health._readiness_checks, "broken", broken)
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["broken"] == "failed"
    assert response.json()["reasons"] == ["the broken check failed (RuntimeError)"]

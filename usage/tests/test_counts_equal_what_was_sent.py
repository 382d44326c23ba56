"""What the roll-ups hold equals what was sent: token requests (issued, and refused for each
reason), anonymous logins and refreshes, and gateway checks across operations and outcomes, all
through the real endpoints, then handed on and flushed. Through the sink (no shared cache, as
under `make run`) and through Redis and `usage_flush` alike. Counting itself writes nothing to
the database on a request."""

from datetime import timedelta
from urllib.parse import urlencode

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from apikeys.services import key_create, key_disable, key_networks_set, key_origins_set
from gateway.decisions import tokens
from gateway.paths import lookup
from kernel import usage
from scopes.models import Scope
from usage.flush import Flusher
from usage.models import DayUsage, FlushedBatch, HourUsage, LastUse, MinuteUsage

from .conftest import counted, rollups

pytestmark = pytest.mark.django_db
FORM = "application/x-www-form-urlencoded"


def operation(method: str, path: str) -> str:
    return lookup(method, path).match.route.operation_id


@pytest.fixture(autouse=True)
def _no_shared_cache(settings):
    # The processes' own memory as the cache (as under `make run`): counts go through the sink,
    # unless a test puts Redis there (on_redis).
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}


@pytest.fixture
def token_request(client):
    def post(key, secret, **extra):
        body = urlencode({"grant_type": "client_credentials", "client_id": key.client_id, "client_secret": secret})
        return client.post("/oauth/token", body, content_type=FORM, **extra)

    return post


@pytest.fixture
def check(client):
    def ask(method: str, uri: str, token: str | None = None, **extra):
        if token is not None:
            extra["HTTP_AUTHORIZATION"] = f"Bearer {token}"
        return client.get("/gateway/nginx", HTTP_X_ORIGINAL_METHOD=method, HTTP_X_ORIGINAL_URI=uri, **extra)

    return ask


@pytest.fixture
def reader(acme):
    tokens.clear()
    return key_create(
        tenant=acme, kind="custom", name="Reader", scopes=Scope.objects.filter(name="customer.customer_read")
    )


def send(token_request, check, reader) -> dict[tuple, int]:
    """7 token requests of which 2 with a wrong secret, 8 gateway checks across operations
    and outcomes; what each roll-up must then hold."""
    key, secret = reader
    secret_id = key.secrets.get().pk
    issued = [token_request(key, secret, REMOTE_ADDR="198.51.100.7") for _ in range(5)]
    assert [r.status_code for r in issued] == [200] * 5
    assert [token_request(key, "akps_" + "x" * 40).status_code for _ in range(2)] == [401, 401]
    token = issued[0].json()["access_token"]
    answers = [
        check("GET", "/customer/acme/customers", token, REMOTE_ADDR="198.51.100.9"),
        check("GET", "/customer/acme/customers?pageSize=5", token),
        check("GET", "/customer/acme/customers", token),
        check("POST", "/customer/acme/customers", token),
        check("DELETE", "/customer/acme/customers/C1", token),
        check("GET", "/customer/globex/customers", token),
        check("GET", "/nothing/here", token),
        check("GET", "/customer/acme/customers", "akpt_" + "y" * 40),
    ]
    assert [a.status_code for a in answers] == [200, 200, 200, 403, 403, 403, 404, 401]
    read, create = operation("GET", "/customer/acme/customers"), operation("POST", "/customer/acme/customers")
    delete = operation("DELETE", "/customer/acme/customers/C1")
    return {
        (key.pk, secret_id, usage.OPERATION_TOKEN, usage.ISSUED): 5,
        (key.pk, None, usage.OPERATION_TOKEN, usage.WRONG_SECRET): 2,
        (key.pk, secret_id, read, usage.ALLOWED): 3,
        (key.pk, secret_id, create, usage.INSUFFICIENT_SCOPE): 1,
        (key.pk, secret_id, delete, usage.INSUFFICIENT_SCOPE): 1,
        (key.pk, secret_id, read, usage.OTHER_TENANT): 1,
        (None, None, usage.OPERATION_UNKNOWN, usage.UNKNOWN_ROUTE): 1,
        (None, None, read, usage.INVALID_TOKEN): 1,
    }


def test_through_the_sink_the_rollups_hold_exactly_what_was_sent(token_request, check, reader):
    expected = send(token_request, check, reader)
    assert not MinuteUsage.objects.exists()  # nothing was written on the requests' path
    assert usage.push()
    assert rollups() == [expected, expected, expected]
    # The last use: the newest successful one, as its network only.
    assert LastUse.objects.get(key=reader[0]).network == "127.0.0.0/24"
    assert {row.bucket.second for row in MinuteUsage.objects.all()} == {0}


@pytest.mark.outside  # redis-server
def test_through_redis_and_the_flush_the_rollups_hold_exactly_what_was_sent(token_request, check, reader, on_redis):
    expected = send(token_request, check, reader)
    assert usage.push()
    assert on_redis.client.keys("*usage:m:*")  # in Redis, not yet in the database
    assert not MinuteUsage.objects.exists()
    Flusher().flush()
    assert rollups() == [expected, expected, expected]
    assert not on_redis.client.keys("*usage:m:*") and not on_redis.client.keys("*usage:batch*")
    assert FlushedBatch.objects.count() >= 2  # a minute's counts and the last uses, at least
    # A second flush finds nothing more.
    Flusher().flush()
    assert rollups() == [expected, expected, expected]


def test_a_large_hand_on_goes_to_redis_in_short_scripts_each_counted_once(
    token_request, check, reader, on_redis, monkeypatch
):
    """Redis runs a script alone: more counters than PUSH_CHUNK go as several scripts (here one
    per counter and one for the last uses), and the roll-ups hold exactly what was sent."""
    monkeypatch.setattr(usage, "PUSH_CHUNK", 1)
    expected = send(token_request, check, reader)
    counters = len(usage._counts)  # per minute: as many as `expected` has, or more across a minute
    scripts, original = [], usage._redis_push
    monkeypatch.setattr(
        usage, "_redis_push", lambda backend, pending: scripts.append(pending) or original(backend, pending)
    )
    assert usage.push()
    assert len(scripts) == counters + 1 and all(len(pending.counts) <= 1 for pending in scripts)
    Flusher().flush()
    assert rollups() == [expected, expected, expected]


def test_counting_adds_no_query_to_a_token_request_or_a_check(token_request, check, reader, settings):
    key, secret = reader
    token = token_request(key, secret).json()["access_token"]

    def queries(work) -> list[str]:
        """The statements `work` sent, by their first words (their values differ)."""
        with CaptureQueriesContext(connection) as captured:
            work()
        assert not any("usage_" in query["sql"] for query in captured.captured_queries)
        return [" ".join(query["sql"].split()[:4]) for query in captured.captured_queries]

    sent = {}
    for counting in (False, True):
        settings.USAGE_COUNTING = counting
        tokens.clear()
        sent[counting] = (
            queries(lambda: token_request(key, secret)),
            queries(lambda: check("GET", "/customer/acme/customers", token)),
        )
    assert sent[True] == sent[False]
    assert counted()[(key.pk, key.secrets.get().pk, usage.OPERATION_TOKEN, usage.ISSUED)] == 2


def test_each_refusal_of_the_token_endpoint_is_counted_with_its_reason(token_request, acme_secrets, reader, settings):
    settings.AUTH_FAILURE_LIMIT_PER_CLIENT = 3
    emporix, secret = acme_secrets["emporix"]
    key, reader_secret = reader
    # A network the key does not allow.
    key_networks_set(key=key, allowed_networks="203.0.113.0/24")
    assert token_request(key, reader_secret, REMOTE_ADDR="198.51.100.1").status_code == 401
    # An origin the key does not allow (a Storefront key's secret at the token endpoint).
    storefront, storefront_secret = acme_secrets["storefront"]
    key_origins_set(key=storefront, allowed_origins="https://shop.example.com")
    assert token_request(storefront, storefront_secret, HTTP_ORIGIN="https://evil.example.com").status_code == 401
    # An expired key, then a disabled one.
    type(emporix).objects.filter(pk=emporix.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert token_request(emporix, secret, REMOTE_ADDR="10.0.0.1").status_code == 401
    key_disable(key=storefront)
    assert token_request(storefront, storefront_secret, REMOTE_ADDR="10.0.0.2").status_code == 401
    # Past the failure limit of (Client ID, address): rate limited.
    answers = [token_request(key, "akps_" + "w" * 40, REMOTE_ADDR="203.0.113.5").status_code for _ in range(4)]
    assert answers == [401, 401, 401, 429]
    assert counted() == {
        (key.pk, key.secrets.get().pk, usage.OPERATION_TOKEN, usage.NETWORK_REFUSED): 1,
        (storefront.pk, None, usage.OPERATION_TOKEN, usage.ORIGIN_REFUSED): 1,
        (emporix.pk, None, usage.OPERATION_TOKEN, usage.KEY_EXPIRED): 1,
        (storefront.pk, None, usage.OPERATION_TOKEN, usage.KEY_DISABLED): 1,
        (key.pk, None, usage.OPERATION_TOKEN, usage.WRONG_SECRET): 3,
        (key.pk, None, usage.OPERATION_TOKEN, usage.RATE_LIMITED): 1,
    }


def test_an_unknown_client_id_and_a_malformed_request_are_counted_without_a_key(client):
    form = {"grant_type": "client_credentials", "client_id": "c" * 32, "client_secret": "s"}
    assert client.post("/oauth/token", urlencode(form), content_type=FORM).status_code == 401
    assert client.post("/oauth/token", "{}", content_type="application/json").status_code == 400
    assert counted() == {
        (None, None, usage.OPERATION_TOKEN, usage.UNKNOWN_CLIENT): 1,
        (None, None, usage.OPERATION_TOKEN, usage.BAD_REQUEST): 1,
    }


def test_anonymous_logins_and_refreshes_are_counted(client, acme_secrets):
    key, _ = acme_secrets["storefront"]
    secret_id = key.secrets.get().pk
    login = "/customerlogin/auth/anonymous/login"
    first = client.get(login, {"tenant": "acme", "client_id": key.client_id}, REMOTE_ADDR="2001:db8:5:6::1")
    assert first.status_code == 200
    assert client.get(login, {"tenant": "globex", "client_id": key.client_id}).status_code == 401
    assert client.get(f"{login}?tenant=acme&tenant=acme&client_id={key.client_id}").status_code == 400
    refresh = "/customerlogin/auth/anonymous/refresh"
    query = {"tenant": "acme", "client_id": key.client_id, "refresh_token": first.json()["refresh_token"]}
    assert client.get(refresh, query).status_code == 200
    assert client.get(refresh, query).status_code == 400  # used already
    assert counted() == {
        (key.pk, secret_id, usage.OPERATION_ANONYMOUS_LOGIN, usage.ISSUED): 1,
        (None, None, usage.OPERATION_ANONYMOUS_LOGIN, usage.UNKNOWN_CLIENT): 1,
        (None, None, usage.OPERATION_ANONYMOUS_LOGIN, usage.BAD_REQUEST): 1,
        (key.pk, secret_id, usage.OPERATION_ANONYMOUS_REFRESH, usage.ISSUED): 1,
        (key.pk, secret_id, usage.OPERATION_ANONYMOUS_REFRESH, usage.INVALID_TOKEN): 1,
    }
    _, seen = usage.drain()
    assert seen[key.pk].network == "127.0.0.0/24"  # the refresh came last, from the test client


def test_counts_of_a_key_deleted_before_the_flush_are_dropped(token_request, reader):
    key, secret = reader
    token_request(key, secret)
    key.delete()
    assert usage.push()
    assert not MinuteUsage.objects.exists() and not HourUsage.objects.exists() and not DayUsage.objects.exists()
    assert not LastUse.objects.exists()


def test_a_path_passed_through_and_a_malformed_check_are_counted(token_request, check, reader, settings):
    settings.GATEWAY_PASSTHROUGH_PREFIXES = ("/my-own-api",)
    key, secret = reader
    token = token_request(key, secret).json()["access_token"]
    usage.forget()
    assert check("GET", "/my-own-api/widgets", token).status_code == 200
    assert check("GET", "/customer/acme/customers", HTTP_AUTHORIZATION="Bearer").status_code == 400
    assert counted() == {
        (key.pk, key.secrets.get().pk, usage.OPERATION_PASSTHROUGH, usage.ALLOWED): 1,
        (None, None, usage.OPERATION_UNKNOWN, usage.BAD_REQUEST): 1,
    }

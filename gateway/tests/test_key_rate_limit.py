"""A key's own rate limit at the gateway check (apikeys.limits): an otherwise allowed call past
it is answered 429 with the gateway's JSON body and Retry-After, until the second or minute
ends; refusals of other kinds are not counted against it. The limit comes with the verified
token (opaque or JWT), so it costs no query, cached or not. The clock is moved, never waited
for."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core.cache import cache

from apikeys import limits
from apikeys.services import key_create, key_rate_limit_set
from conftest import counted_in_memory
from kernel import ratelimit, usage
from scopes.models import Scope

pytestmark = pytest.mark.django_db

ROUTE = "/customer/acme/customers"
OPERATION = "GET-customer-tenant-list-customers"  # the route table's operation id of GET ROUTE
START = datetime(2026, 12, 7, 9, 30, 10, 250_000, tzinfo=UTC)


def limited_calls(key_id: int) -> dict[str, int]:
    """KEY_RATE_LIMITED counts of the key so far, by operation (taken from this process)."""
    return counted_in_memory(key_id, usage.KEY_RATE_LIMITED)


def statuses(check, token, times: int, route: str = ROUTE) -> list[int]:
    return [check("GET", route, token).status_code for _ in range(times)]


def test_a_limit_per_minute_answers_429_with_retry_after(check, mint, reader):
    key, secret = reader
    key_rate_limit_set(key=key, limit=3, period="minute")
    with time_machine.travel(START, tick=False) as clock:
        token = mint(key, secret)  # a token request has a counter of its own
        assert statuses(check, token, 3) == [200, 200, 200]
        refused = check("GET", ROUTE, token)
        assert refused.status_code == 429
        assert refused.json() == {
            "error": "slow_down",
            "error_description": "The rate limit of the access token's key is reached; wait Retry-After seconds.",
        }
        assert refused["Retry-After"] == "50"
        assert refused["Cache-Control"] == "no-store"
        assert "WWW-Authenticate" not in refused  # the token is fine: no challenge
        assert "X-Portal-Tenant" not in refused  # nothing for the upstream
        clock.shift(timedelta(seconds=50))
        assert statuses(check, token, 4) == [200, 200, 200, 429]
    assert limited_calls(key.pk) == {OPERATION: 2}


def test_a_limit_per_second(check, mint, reader):
    key, secret = reader
    key_rate_limit_set(key=key, limit=2, period="second")
    with time_machine.travel(START, tick=False) as clock:
        token = mint(key, secret)
        assert statuses(check, token, 3) == [200, 200, 429]
        assert check("GET", ROUTE, token)["Retry-After"] == "1"
        clock.shift(timedelta(seconds=1))
        assert statuses(check, token, 3) == [200, 200, 429]


def test_every_token_of_the_key_shares_its_limit(check, mint, reader):
    key, secret = reader
    key_rate_limit_set(key=key, limit=2, period="minute")
    with time_machine.travel(START, tick=False):
        first, second = mint(key, secret), mint(key, secret)
        assert statuses(check, first, 1) + statuses(check, second, 2) == [200, 200, 429]


def test_refusals_of_other_kinds_come_first_and_do_not_use_the_limit(check, mint, reader):
    key, secret = reader
    key_rate_limit_set(key=key, limit=2, period="minute")
    with time_machine.travel(START, tick=False):
        token = mint(key, secret)
        assert check("POST", ROUTE, token).status_code == 403  # a scope it does not hold
        assert check("GET", "/customer/globex/customers", token).status_code == 403  # another tenant
        assert check("GET", "/no/such/route", token).status_code == 404
        assert statuses(check, token, 3) == [200, 200, 429]


def in_cache(key_id: int) -> int | None:
    """The key's gateway counter in the cache for START's minute (None: no counter)."""
    counter = ratelimit.Counter(limits.GATEWAY, (str(key_id),), 1)
    (name,) = ratelimit._keys([counter], int(START.timestamp()) // 60 * 60)
    return cache.get(name)


def test_a_key_without_a_limit_is_not_limited_nor_counted(check, mint, reader, emporix_key):
    key, _ = reader  # another key of the tenant has a limit
    key_rate_limit_set(key=key, limit=1, period="minute")
    with time_machine.travel(START, tick=False):
        unlimited = mint(*emporix_key)
        assert statuses(check, unlimited, 50) == [200] * 50
        assert statuses(check, mint(*reader), 2) == [200, 429]
        assert in_cache(emporix_key[0].pk) is None  # no cache call for a key without a limit
        assert in_cache(key.pk) == 2  # where a limited key's counter is
    assert limited_calls(emporix_key[0].pk) == {}


def test_the_limit_costs_no_query(check, mint, reader, django_assert_num_queries):
    key, secret = reader
    key_rate_limit_set(key=key, limit=2, period="minute")
    with time_machine.travel(START, tick=False):
        token = mint(key, secret)
        with django_assert_num_queries(1):  # the token's verification, which brings the limit
            assert check("GET", ROUTE, token).status_code == 200
        with django_assert_num_queries(0):  # cached
            assert statuses(check, token, 2) == [200, 429]


def test_a_jwt_carries_its_keys_limit(check, mint, acme):
    key, secret = key_create(
        tenant=acme,
        kind="custom",
        name="JWT reader",
        scopes=Scope.objects.filter(name="customer.customer_read"),
        token_format="jwt",
    )
    key_rate_limit_set(key=key, limit=2, period="minute")
    with time_machine.travel(START, tick=False):
        token = mint(key, secret)
        assert token.count(".") == 2
        assert statuses(check, token, 3) == [200, 200, 429]
    assert limited_calls(key.pk) == {OPERATION: 1}


def test_a_passthrough_call_is_limited_and_counted_as_passthrough(check, mint, reader, settings):
    settings.GATEWAY_PASSTHROUGH_PREFIXES = ("/my-api",)
    key, secret = reader
    key_rate_limit_set(key=key, limit=1, period="minute")
    with time_machine.travel(START, tick=False):
        token = mint(key, secret)
        assert statuses(check, token, 2, route="/my-api/orders") == [200, 429]
    assert limited_calls(key.pk) == {usage.OPERATION_PASSTHROUGH: 1}


@pytest.mark.parametrize("proxy", ["traefik", "envoy"])
def test_each_proxy_convention_gets_the_429(client, mint, reader, proxy):
    key, secret = reader
    key_rate_limit_set(key=key, limit=1, period="minute")
    with time_machine.travel(START, tick=False):
        token = mint(key, secret)
        auth = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
        if proxy == "traefik":
            ask = lambda: client.get(  # noqa: E731
                "/gateway/traefik", HTTP_X_FORWARDED_METHOD="GET", HTTP_X_FORWARDED_URI=ROUTE, **auth
            )
        else:
            ask = lambda: client.get(f"/gateway/envoy{ROUTE}", RAW_URI=f"/gateway/envoy{ROUTE}", **auth)  # noqa: E731
        assert ask().status_code == 200
        refused = ask()
        assert refused.status_code == 429 and refused["Retry-After"] == "50"
        assert refused.json()["error"] == "slow_down"

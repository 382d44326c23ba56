"""A key's own rate limit at the token service (apikeys.limits): token requests, the Storefront
anonymous login and its refresh. Past the limit: 429 `slow_down` with Retry-After in RFC 6749's
JSON, until the second or minute ends; each refusal is counted as KEY_RATE_LIMITED. A key
without a limit is never counted, and a limit costs no query. The clock is moved, never waited
for."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core.cache import cache

from apikeys import limits
from apikeys.services import key_rate_limit_set
from conftest import counted_in_memory
from kernel import ratelimit, usage

GRANT = {"grant_type": "client_credentials"}
LOGIN = "/customerlogin/auth/anonymous/login"
REFRESH = "/customerlogin/auth/anonymous/refresh"
# Ten seconds into a minute, a quarter into its second: no window ends during a burst.
START = datetime(2026, 12, 7, 9, 30, 10, 250_000, tzinfo=UTC)

pytestmark = pytest.mark.django_db


def limited_calls(key_id: int) -> dict[str, int]:
    """KEY_RATE_LIMITED counts of the key so far, by operation (taken from this process)."""
    return counted_in_memory(key_id, usage.KEY_RATE_LIMITED)


def token_request(post_token, key, secret):
    return post_token({**GRANT, "client_id": key.client_id, "client_secret": secret})


def test_a_limit_per_minute_refuses_with_429_until_the_minute_ends(post_token, custom):
    key, secret = custom
    key_rate_limit_set(key=key, limit=3, period="minute")
    with time_machine.travel(START, tick=False) as clock:
        assert [token_request(post_token, key, secret).status_code for _ in range(3)] == [200, 200, 200]
        refused = token_request(post_token, key, secret)
        assert refused.status_code == 429
        assert refused.json() == {
            "error": "slow_down",
            "error_description": "This key's rate limit is reached; wait Retry-After seconds.",
        }
        assert refused["Retry-After"] == "50"  # 10.25 s into the minute
        assert refused["Cache-Control"] == "no-store"
        assert "access_token" not in refused.json()
        clock.shift(timedelta(seconds=49))
        assert token_request(post_token, key, secret)["Retry-After"] == "1"
        clock.shift(timedelta(seconds=1))  # the next minute
        assert token_request(post_token, key, secret).status_code == 200
    assert limited_calls(key.pk) == {usage.OPERATION_TOKEN: 2}


def test_a_limit_per_second_lets_the_limit_through_each_second(post_token, custom):
    key, secret = custom
    key_rate_limit_set(key=key, limit=2, period="second")
    with time_machine.travel(START, tick=False) as clock:
        assert [token_request(post_token, key, secret).status_code for _ in range(4)] == [200, 200, 429, 429]
        assert token_request(post_token, key, secret)["Retry-After"] == "1"
        clock.shift(timedelta(seconds=1))
        assert [token_request(post_token, key, secret).status_code for _ in range(3)] == [200, 200, 429]
    assert limited_calls(key.pk) == {usage.OPERATION_TOKEN: 4}


def test_a_wrong_secret_is_still_401_and_does_not_use_the_limit(post_token, custom):
    """The limit counts authenticated requests: a stranger who knows the Client ID cannot use
    the key's quota up."""
    key, secret = custom
    key_rate_limit_set(key=key, limit=2, period="minute")
    with time_machine.travel(START, tick=False):
        assert [token_request(post_token, key, "wrong").status_code for _ in range(2)] == [401, 401]
        assert [token_request(post_token, key, secret).status_code for _ in range(3)] == [200, 200, 429]


def test_keys_are_limited_each_on_its_own(post_token, custom, emporix):
    key, secret = custom
    key_rate_limit_set(key=key, limit=1, period="minute")
    with time_machine.travel(START, tick=False):
        assert token_request(post_token, key, secret).status_code == 200
        assert token_request(post_token, key, secret).status_code == 429
        assert all(token_request(post_token, *emporix).status_code == 200 for _ in range(5))


def in_cache(key_id: int, window: int) -> int | None:
    """The key's token counter in the cache for START's window (None: no counter)."""
    (name,) = ratelimit._keys(
        [ratelimit.Counter(limits.TOKEN, (str(key_id),), 1)], int(START.timestamp()) // window * window
    )
    return cache.get(name)


def test_a_key_without_a_limit_is_never_counted(post_token, custom):
    key, secret = custom
    with time_machine.travel(START, tick=False):
        assert all(token_request(post_token, key, secret).status_code == 200 for _ in range(30))
        # No counter of the key was made in the cache: a key without a limit costs no cache call.
        assert in_cache(key.pk, 60) is None
        key_rate_limit_set(key=key, limit=100, period="minute")
        assert all(token_request(post_token, key, secret).status_code == 200 for _ in range(3))
        assert in_cache(key.pk, 60) == 3  # where a limit's counter is
    assert limited_calls(key.pk) == {}


def test_a_limit_costs_no_query(post_token, custom, django_assert_num_queries):
    """The limit comes with the key: with its verification query, or kept in the process with
    the key (apikeys.auth.key_kept), refused or not."""
    key, secret = custom
    key_rate_limit_set(key=key, limit=2, period="minute")
    with time_machine.travel(START, tick=False):
        token_request(post_token, key, secret)  # the first use this minute writes last_used
        with django_assert_num_queries(1):  # the kept key's guarded token INSERT
            assert token_request(post_token, key, secret).status_code == 200
        with django_assert_num_queries(0):  # nothing is read or written
            assert token_request(post_token, key, secret).status_code == 429
        with django_assert_num_queries(1):  # a refusal forgets the kept key: the verification
            assert token_request(post_token, key, secret).status_code == 429


def test_a_changed_limit_applies_to_the_next_request(post_token, custom):
    key, secret = custom
    key_rate_limit_set(key=key, limit=1, period="minute")
    with time_machine.travel(START, tick=False):
        assert [token_request(post_token, key, secret).status_code for _ in range(2)] == [200, 429]
        key_rate_limit_set(key=key, limit=None, period="minute")
        assert token_request(post_token, key, secret).status_code == 200


def test_the_anonymous_login_and_refresh_share_the_storefront_keys_limit(client, storefront, settings):
    settings.ANONYMOUS_LOGIN_LIMIT_PER_ADDRESS = 1000
    key, _ = storefront
    key_rate_limit_set(key=key, limit=2, period="minute")
    query = {"tenant": "acme", "client_id": key.client_id}
    with time_machine.travel(START, tick=False) as clock:
        first = client.get(LOGIN, query)
        assert first.status_code == 200
        refreshed = client.get(REFRESH, {**query, "refresh_token": first.json()["refresh_token"]})
        assert refreshed.status_code == 200
        refused = client.get(LOGIN, query)
        assert refused.status_code == 429
        assert refused.json()["error"] == "slow_down"
        assert refused["Retry-After"] == "50"
        assert refused["Cache-Control"] == "no-store"
        again = client.get(REFRESH, {**query, "refresh_token": refreshed.json()["refresh_token"]})
        assert again.status_code == 429 and again["Retry-After"] == "50"
        clock.shift(timedelta(seconds=50))
        # The refresh token refused above was not used up: it works in the next window.
        assert client.get(REFRESH, {**query, "refresh_token": refreshed.json()["refresh_token"]}).status_code == 200
    assert limited_calls(key.pk) == {usage.OPERATION_ANONYMOUS_LOGIN: 1, usage.OPERATION_ANONYMOUS_REFRESH: 1}


def test_an_unknown_storefront_client_is_401_not_429(client, storefront):
    key, _ = storefront
    key_rate_limit_set(key=key, limit=1, period="minute")
    with time_machine.travel(START, tick=False):
        assert client.get(LOGIN, {"tenant": "acme", "client_id": key.client_id}).status_code == 200
        assert client.get(LOGIN, {"tenant": "acme", "client_id": "Z" * 32}).status_code == 401
        assert client.get(LOGIN, {"tenant": "globex", "client_id": key.client_id}).status_code == 401

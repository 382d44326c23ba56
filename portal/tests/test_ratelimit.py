"""kernel.ratelimit: fixed windows counted in the configured cache (locmem, or Redis when the
suite runs with CACHE_URL=redis://...), deciding on the incremented value; when the cache
fails, counting goes on in process memory with one warning per interval."""

import logging
import time

import pytest

from conftest import MovedClock, all_at_once, free_port
from kernel import ratelimit
from portal.settings import cache_config

WINDOW = 60


def counters(limit: int, who: str = "203.0.113.1") -> list[ratelimit.Counter]:
    return [ratelimit.Counter("test:hits", (who,), limit)]


def test_hits_past_the_limit_get_the_seconds_to_the_windows_end():
    start = (time.time() // WINDOW + 1) * WINDOW  # a fresh window, 10.5 s in
    now = start + 10.5
    assert [ratelimit.hit(counters(2), window=WINDOW, now=now) for _ in range(3)] == [None, None, 50]
    assert ratelimit.hit(counters(2, "203.0.113.2"), window=WINDOW, now=now) is None
    assert ratelimit.hit(counters(2), window=WINDOW, now=start + WINDOW) is None  # the next window


def test_an_empty_value_is_not_counted():
    empty = [ratelimit.Counter("test:hits", ("", "203.0.113.1"), 0)]
    assert ratelimit.hit(empty, window=WINDOW, now=time.time()) is None


def test_a_refund_takes_back_a_hit():
    now = time.time()
    assert ratelimit.hit(counters(1), window=WINDOW, now=now) is None
    ratelimit.refund(counters(1), window=WINDOW, now=now)
    assert ratelimit.hit(counters(1), window=WINDOW, now=now) is None
    assert ratelimit.hit(counters(1), window=WINDOW, now=now) is not None


def concurrent_hits(threads: int, limit: int) -> list[int | None]:
    now = time.time()
    return all_at_once(threads, lambda: ratelimit.hit(counters(limit), window=WINDOW, now=now))


def test_concurrent_hits_never_get_past_the_limit():
    results = concurrent_hits(40, 10)
    assert len(results) == 40
    assert results.count(None) == 10


@pytest.fixture
def dead_cache(settings):
    """The cache pointed at a Redis port where nothing listens: every call is refused."""
    settings.CACHES = {"default": cache_config(f"redis://127.0.0.1:{free_port()}/0")}


def warnings_in(caplog) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "kernel.ratelimit" and r.levelno == logging.WARNING]


def test_a_failing_cache_falls_back_to_process_memory_with_one_warning_per_interval(dead_cache, caplog, monkeypatch):
    caplog.set_level(logging.INFO, logger="kernel.ratelimit")
    monkeypatch.setattr(ratelimit, "CACHE_RETRY_SECONDS", 0)  # try the cache on every call
    clock = MovedClock()
    monkeypatch.setattr(ratelimit, "monotonic", clock)
    now = time.time()
    began = time.monotonic()
    results = [ratelimit.hit(counters(3), window=WINDOW, now=now) for _ in range(20)]
    assert time.monotonic() - began < 2
    assert results[:3] == [None] * 3 and all(results[3:])  # the limit holds in memory
    assert len(warnings_in(caplog)) == 1
    # The next interval logs again, once.
    clock.advance(ratelimit.WARNING_INTERVAL_SECONDS)
    for _ in range(5):
        ratelimit.hit(counters(3), window=WINDOW, now=now)
    assert len(warnings_in(caplog)) == 2
    assert "ConnectionError" in warnings_in(caplog)[0].getMessage()


def test_concurrent_hits_in_process_memory_never_get_past_the_limit(dead_cache):
    assert concurrent_hits(40, 10).count(None) == 10


def test_the_redis_client_gets_short_timeouts(settings):
    config = cache_config("redis://127.0.0.1:6379/0")
    assert config["BACKEND"] == "django.core.cache.backends.redis.RedisCache"
    assert config["OPTIONS"] == {
        "socket_connect_timeout": settings.CACHE_TIMEOUT_MS / 1000,
        "socket_timeout": settings.CACHE_TIMEOUT_MS / 1000,
    }
    assert 0.1 <= settings.CACHE_TIMEOUT_MS / 1000 <= 0.25


def test_sessions_do_not_live_in_the_cache(settings):
    assert settings.SESSION_ENGINE == "django.contrib.sessions.backends.db"


@pytest.fixture
def redis_cache(settings):
    """The cache on the Redis the suite was given (CACHE_URL=redis://...), else skipped."""
    import os

    url = os.environ.get("CACHE_URL", "")
    if not url.startswith("redis://"):
        pytest.skip("needs CACHE_URL=redis://...")
    settings.CACHES = {"default": cache_config(url)}
    from django.core.cache import caches

    yield caches["default"]
    caches["default"].clear()


def round_trips(backend, monkeypatch) -> list[int]:
    """A list that grows by one for every request redis-py sends for the cache (a pipeline's
    commands go as one)."""
    sent: list[int] = []
    connection_class = backend._cache._pool_class().connection_class
    original = connection_class.send_packed_command

    def counting(self, command, check_health=True):
        sent.append(1)
        return original(self, command, check_health)

    monkeypatch.setattr(connection_class, "send_packed_command", counting)
    return sent


def test_on_redis_a_new_and_an_existing_counter_cost_one_round_trip_each(redis_cache, monkeypatch):
    """Issue 18: Django's add-then-incr cost one round trip for a new counter and three for
    an existing one, so a failed token request with a Client ID that had failed before took
    measurably longer than one with a fresh (unknown) Client ID."""
    sent = round_trips(redis_cache, monkeypatch)
    now = time.time()
    ratelimit.hit(counters(5, "198.51.100.7"), window=WINDOW, now=now)  # warm: a connection exists
    for who in ("198.51.100.8", "198.51.100.7"):  # a new counter, then an existing one
        before = len(sent)
        ratelimit.hit(counters(5, who), window=WINDOW, now=now)
        assert len(sent) - before == 1, who


def test_on_redis_counters_count_and_expire_with_their_window(redis_cache):
    start = (time.time() // WINDOW + 1) * WINDOW
    now = start + 10.5
    assert [ratelimit.hit(counters(2, "198.51.100.9"), window=WINDOW, now=now) for _ in range(3)] == [None, None, 50]
    (key,) = ratelimit._keys(counters(2, "198.51.100.9"), int(start))
    assert redis_cache.get(key) == 3  # a plain integer, as Django stores ints
    client = redis_cache._cache.get_client(key)
    ttl = client.ttl(redis_cache.make_and_validate_key(key))
    # Window's end (49.5 s after now, whole seconds) plus EXPIRY_MARGIN, give or take the clock.
    assert 0 < ttl <= WINDOW - 10 + ratelimit.EXPIRY_MARGIN

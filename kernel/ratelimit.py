"""Fixed-window counters in Django's cache (local memory, or Redis shared by every instance),
used by the token service, the portal's login forms, the secret endpoint and each key's own
rate limit (apikeys.limits).

`hit` counts one event and decides on the value the increment returned (cache.add, then the
cache's atomic incr), so concurrent events never get past a limit together. A counter
belongs to one window and expires with it, so nobody is limited for longer than a window.
Counted values (Client IDs, e-mail addresses, client addresses, users) appear in cache keys
only as digests.

The cache is an accelerator, not a dependency: when it fails (refused, timed out), counting
goes on in this process's memory with the same windows, the cache is tried again after
CACHE_RETRY_SECONDS, and one warning is logged per WARNING_INTERVAL_SECONDS, not per request."""

import contextlib
import json
import logging
import math
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import partial
from typing import TypeVar

from django.core.cache import cache, caches
from django.core.cache.backends.redis import RedisCache

from kernel import crypto

logger = logging.getLogger(__name__)

# While the cache is failing, it is tried again this often (seconds) per process; in between,
# requests count locally and never wait for it.
CACHE_RETRY_SECONDS = 5.0
WARNING_INTERVAL_SECONDS = 60.0
# A counter outlives its window by this much, so that it never expires while still counted.
EXPIRY_MARGIN = 5
# The clock of CACHE_RETRY_SECONDS and WARNING_INTERVAL_SECONDS; tests replace it to move past
# an interval at once.
monotonic: Callable[[], float] = time.monotonic

T = TypeVar("T")


@dataclass(frozen=True)
class Counter:
    prefix: str  # e.g. "oauth:fail:ca"
    value: tuple[str, ...]  # what is counted, e.g. (client_id, address); any empty part: not counted
    limit: int  # events allowed per window


def _window_start(now: float, window: int) -> int:
    return int(now // window) * window


def _keys(counters: Iterable[Counter], start: int) -> dict[str, int]:
    return {
        f"{c.prefix}:{crypto.digest(json.dumps(c.value)).hex()[:32]}:{start}": c.limit for c in counters if all(c.value)
    }


class _LocalCounters:
    """This process's counters, used while the cache fails: the same keys and windows."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: dict[str, tuple[int, float]] = {}  # key -> (count, window end)
        self._next_sweep = 0.0

    def incr(self, key: str, ends: float, now: float) -> int:
        with self._lock:
            if now >= self._next_sweep:  # drop finished windows, at most once a minute
                self._counts = {k: v for k, v in self._counts.items() if v[1] > now}
                self._next_sweep = now + 60
            count = self._counts.get(key, (0, ends))[0] + 1
            self._counts[key] = (count, ends)
            return count

    def decr(self, key: str) -> None:
        with self._lock:
            if key in self._counts:
                count, ends = self._counts[key]
                self._counts[key] = (count - 1, ends)

    def clear(self) -> None:
        with self._lock:
            self._counts.clear()


_local = _LocalCounters()
_cache_down_until = 0.0  # monotonic() before which the cache is not tried
_last_warning = -math.inf


def _with_cache(operation: Callable[[], T], fallback: Callable[[], T]) -> T:
    """Run `operation` against the cache; if the cache fails, or failed less than
    CACHE_RETRY_SECONDS ago, run `fallback` (this process's counters) instead."""
    global _cache_down_until, _last_warning
    if monotonic() < _cache_down_until:
        return fallback()
    try:
        result = operation()
    except Exception as error:  # any backend failure: connection refused, timeout, ...
        moment = monotonic()
        _cache_down_until = moment + CACHE_RETRY_SECONDS
        if moment - _last_warning >= WARNING_INTERVAL_SECONDS:
            _last_warning = moment
            logger.warning(
                "Rate-limit cache unavailable (%s); counting in this process's memory, retrying every %ss",
                type(error).__name__,
                CACHE_RETRY_SECONDS,
            )
        return fallback()
    if _cache_down_until:
        _cache_down_until = 0.0
        logger.info("Rate-limit cache answers again; counting there")
    return result


def _redis_incr(backend: RedisCache, key: str, timeout: int) -> int:
    """Count on Redis in one round trip, whether or not the counter exists yet: SET NX EX
    creates it at 0 with its window's expiry, INCR counts, in one MULTI/EXEC. Django's add
    then incr costs one round trip for a new counter and three (add, exists, incr) for one
    that exists, so a failed token request took longer when its (Client ID, address) had
    failed before in the window: a known Client ID, retried, answered measurably slower than
    a fresh unknown one (issue 18). The value is a plain integer, as Django stores ints."""
    redis_key = backend.make_and_validate_key(key)
    # Django's client for the key (the same connection pool as its own calls); no public API
    # hands out the redis-py client.
    client = backend._cache.get_client(redis_key, write=True)
    with client.pipeline(transaction=True) as pipe:
        pipe.set(redis_key, 0, nx=True, ex=timeout)
        pipe.incr(redis_key)
        _, count = pipe.execute()
    return int(count)


def _cache_incr(key: str, timeout: int) -> int:
    backend = caches["default"]
    if isinstance(backend, RedisCache):
        return _redis_incr(backend, key, timeout)
    # add is atomic and so is incr; the count decided on is the one incr returned, so two
    # concurrent events never both see the same count.
    if cache.add(key, 1, timeout=timeout):
        return 1
    try:
        return cache.incr(key)
    except ValueError:  # expired since add: cannot happen within the window
        cache.add(key, 1, timeout=timeout)
        return 1


def _cache_decr(key: str) -> None:
    with contextlib.suppress(ValueError):  # already expired: nothing to take back
        cache.decr(key)


def hit(counters: Iterable[Counter], *, window: int, now: float) -> int | None:
    """Count one event on each counter. Returns the seconds to the end of the window
    (Retry-After, at least 1) if that event took any counter past its limit, else None."""
    start = _window_start(now, window)
    ends = start + window
    over = False
    for key, limit in _keys(counters, start).items():
        count = _with_cache(
            partial(_cache_incr, key, timeout=ends - int(now) + EXPIRY_MARGIN),
            partial(_local.incr, key, ends, now),
        )
        over = over or count > limit
    return max(1, math.ceil(ends - now)) if over else None


def hit_count(counter: Counter, *, window: int, now: float) -> tuple[int, int]:
    """Count one event on `counter`; (the count in this window, seconds to the window's end),
    for answers that tell the client its remaining quota (RateLimit headers)."""
    start = _window_start(now, window)
    ends = start + window
    (key,) = _keys([counter], start)
    count = _with_cache(
        partial(_cache_incr, key, timeout=ends - int(now) + EXPIRY_MARGIN),
        partial(_local.incr, key, ends, now),
    )
    return count, max(1, math.ceil(ends - now))


def refund(counters: Iterable[Counter], *, window: int, now: float) -> None:
    """Take back an event counted by `hit` in the same window (a login that succeeded)."""
    for key in _keys(counters, _window_start(now, window)):
        _with_cache(partial(_cache_decr, key), partial(_local.decr, key))


def forget() -> None:
    """Drop this process's counters and its memory of a failing cache (tests)."""
    global _cache_down_until, _last_warning
    _local.clear()
    _cache_down_until = 0.0
    _last_warning = -math.inf
